import { useMemo, useState } from 'react';
import type { Loaded } from '../api.ts';
import { conceptText, formatDate } from '../format.ts';
import { abnormalFlag, abnormalText, consultationNote, isNoKnownAllergy, observationDate, observationValue } from './clinical.ts';
import { NotAvailable } from './Section.tsx';
import type { PatientRecordData } from './usePatientRecord.ts';

type Kind = 'consultation' | 'problem' | 'observation' | 'medication' | 'report' | 'document' | 'allergy' | 'appointment';

const kindLabel: Record<Kind, string> = {
  consultation: 'Consultations',
  problem: 'Problems',
  observation: 'Results and observations',
  medication: 'Medication',
  report: 'Reports',
  document: 'Documents',
  allergy: 'Allergies',
  appointment: 'Appointments',
};

interface Entry {
  key: string;
  kind: Kind;
  date: string | undefined;
  title: string;
  detail?: string;
  abnormal?: string;
}

function ok<T>(l: Loaded<T[]>): T[] {
  return l.state === 'ok' ? l.value : [];
}

/** Every entry in the record, newest first, filtered by kind and text. */
function buildTimeline(d: PatientRecordData): Entry[] {
  const out: Entry[] = [];
  for (const e of ok(d.encounters)) {
    const n = consultationNote(e);
    out.push({
      key: `e${e.id}`,
      kind: 'consultation',
      date: e.period?.start,
      title: `${conceptText(e.type?.[0]) || 'Consultation'}${e.participant?.[0]?.individual?.display ? ` — ${e.participant[0].individual.display}` : ''}`,
      detail: [n.history && `History: ${n.history}`, n.examination && `Examination: ${n.examination}`, n.plan && `Plan: ${n.plan}`].filter(Boolean).join('\n'),
    });
  }
  for (const c of ok(d.conditions)) out.push({ key: `c${c.id}`, kind: 'problem', date: c.onsetDateTime ?? c.recordedDate, title: conceptText(c.code), detail: c.clinicalStatus?.coding?.[0]?.code });
  for (const o of ok(d.observations)) {
    const flag = abnormalFlag(o);
    out.push({ key: `o${o.id}`, kind: 'observation', date: observationDate(o), title: `${conceptText(o.code)}: ${observationValue(o)}`, ...(flag ? { abnormal: abnormalText(flag) } : {}) });
  }
  for (const m of ok(d.medications)) out.push({ key: `m${m.id}`, kind: 'medication', date: m.authoredOn, title: conceptText(m.medicationCodeableConcept), detail: [m.dosageInstruction?.[0]?.text, m.status].filter(Boolean).join(' · ') });
  for (const r of ok(d.reports)) out.push({ key: `r${r.id}`, kind: 'report', date: r.effectiveDateTime ?? r.issued, title: conceptText(r.code), detail: r.conclusion ?? r.status });
  for (const doc of ok(d.documents)) out.push({ key: `d${doc.id}`, kind: 'document', date: doc.date, title: doc.description ?? conceptText(doc.type) });
  for (const a of ok(d.allergies)) out.push({ key: `a${a.id}`, kind: 'allergy', date: a.recordedDate ?? a.onsetDateTime, title: isNoKnownAllergy(a) ? conceptText(a.code) : `Allergy: ${conceptText(a.code)}` });
  for (const ap of ok(d.appointments)) out.push({ key: `p${ap.id}`, kind: 'appointment', date: ap.start, title: `Appointment${ap.description ? `: ${ap.description}` : ''}`, detail: ap.status });
  return out.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

export function Timeline({ data }: { data: PatientRecordData }) {
  const [hidden, setHidden] = useState<Set<Kind>>(new Set());
  const [text, setText] = useState('');
  const entries = useMemo(() => buildTimeline(data), [data]);
  const needle = text.trim().toLowerCase();
  const shown = entries.filter((e) => !hidden.has(e.kind) && (!needle || `${e.title} ${e.detail ?? ''}`.toLowerCase().includes(needle)));
  const clinicalRefused = data.encounters.state === 'forbidden';
  const toggle = (k: Kind) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });

  return (
    <>
      <h2 className="nhsuk-heading-m">Timeline</h2>
      {clinicalRefused ? <NotAvailable what="clinical entries" /> : null}
      <div className="nhsuk-form-group">
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Show</legend>
          <div className="nhsuk-checkboxes nhsuk-checkboxes--small" style={{ display: 'flex', flexWrap: 'wrap', gap: '0 16px' }}>
            {(Object.keys(kindLabel) as Kind[]).map((k) => (
              <div className="nhsuk-checkboxes__item" key={k}>
                <input className="nhsuk-checkboxes__input" id={`tl-${k}`} type="checkbox" checked={!hidden.has(k)} onChange={() => toggle(k)} />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`tl-${k}`}>
                  {kindLabel[k]}
                </label>
              </div>
            ))}
          </div>
        </fieldset>
      </div>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="tl-text">Containing</label>
        <input className="nhsuk-input nhsuk-input--width-20" id="tl-text" value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <p className="nhsuk-body-s">{shown.length} of {entries.length} entries</p>
      <table className="nhsuk-table" data-testid="timeline">
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Record entries, newest first</caption>
        <thead className="nhsuk-table__head">
          <tr className="nhsuk-table__row">
            <th className="nhsuk-table__header" scope="col">Date</th>
            <th className="nhsuk-table__header" scope="col">Type</th>
            <th className="nhsuk-table__header" scope="col">Entry</th>
          </tr>
        </thead>
        <tbody className="nhsuk-table__body">
          {shown.map((e) => (
            <tr className="nhsuk-table__row" key={e.key}>
              <td className="nhsuk-table__cell" style={{ whiteSpace: 'nowrap' }}>{formatDate(e.date)}</td>
              <td className="nhsuk-table__cell">{kindLabel[e.kind]}</td>
              <td className="nhsuk-table__cell">
                {e.title} {e.abnormal ? <strong className="sf-abnormal">{e.abnormal}</strong> : null}
                {e.detail ? <div className="nhsuk-body-s" style={{ whiteSpace: 'pre-line', marginBottom: 0 }}>{e.detail}</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
