import { useEffect, useRef, useState } from 'react';
import { api, fhirRead, fhirSearch, load, type Loaded } from '../api.ts';
import type { AllergyIntolerance, Bundle, Flag, MedicationRequest, Patient } from '../fhirTypes.ts';
import { formatDateTime, patientName } from '../format.ts';
import { navigate, onLinkClick } from '../router.ts';
import { Banner } from '../record/Banner.tsx';
import { useSession, seesClinical } from '../session.ts';
import { NotAvailable, Section } from '../record/Section.tsx';
import { buildConsultationBundle, consultationProblems, consultationTypes, emptyDraft, isDraftEmpty, type ConsultationDraft } from './buildBundle.ts';
import { clearDraft, loadDraft, saveDraft } from './drafts.ts';
import { checkVitals, vitals, type VitalKey } from './observations.ts';
import { CodePicker } from './CodePicker.tsx';
import { PrescribePanel } from '../medicines/Medications.tsx';

export function ConsultationPage({ patientId }: { patientId: string }) {
  const { user } = useSession();
  const [patient, setPatient] = useState<Loaded<Patient>>({ state: 'loading' });
  useEffect(() => {
    void load(() => fhirRead<Patient>('Patient', patientId)).then(setPatient);
  }, [patientId]);
  if (!seesClinical(user.role)) return <NotAvailable what="consultations" />;
  return <Section data={patient} what="the patient">{(p) => <ConsultationForm patient={p} />}</Section>;
}

/** Allergies and alerts must be in view while writing and prescribing, not only on the record screen. */
function useWarnings(patientId: string) {
  const [allergies, setAllergies] = useState<Loaded<AllergyIntolerance[]>>({ state: 'loading' });
  const [flags, setFlags] = useState<Loaded<Flag[]>>({ state: 'loading' });
  useEffect(() => {
    const subject = { patient: `Patient/${patientId}`, _count: '200' };
    void load(() => fhirSearch<AllergyIntolerance>('AllergyIntolerance', subject)).then(setAllergies);
    void load(() => fhirSearch<Flag>('Flag', subject)).then(setFlags);
  }, [patientId]);
  return { allergies, flags };
}

function ConsultationForm({ patient }: { patient: Patient }) {
  const { user } = useSession();
  const patientId = patient.id!;
  const { allergies, flags } = useWarnings(patientId);
  const [medications, setMedications] = useState<Loaded<MedicationRequest[]>>({ state: 'loading' });
  const [medsKey, setMedsKey] = useState(0);
  useEffect(() => {
    // The prescribing checks compare with what the patient takes now, so reload after each prescription.
    void load(() => fhirSearch<MedicationRequest>('MedicationRequest', { patient: `Patient/${patientId}`, _count: '200' })).then(setMedications);
  }, [patientId, medsKey]);
  const gp: Loaded<string> = { state: 'ok', value: patient.generalPractitioner?.[0]?.display ?? 'see record' };
  const [draft, setDraft] = useState<ConsultationDraft>(() => loadDraft(localStorage, user.id, patientId) ?? emptyDraft(patientId, patientName(patient.name), user.id));
  const [restored] = useState(() => Boolean(loadDraft(localStorage, user.id, patientId)));
  const [draftWarning, setDraftWarning] = useState<string | undefined>();
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const errorRef = useRef<HTMLDivElement>(null);

  // Save the draft on every change (a few hundred bytes; cheap) so nothing is lost on reload or lock.
  useEffect(() => {
    if (isDraftEmpty(draft)) return;
    const ok = saveDraft(localStorage, draft);
    setDraftWarning(ok ? undefined : 'This browser would not keep a draft (storage full or disabled): save the consultation before leaving this screen.');
  }, [draft]);

  const update = (patch: Partial<ConsultationDraft>) => setDraft((d) => ({ ...d, ...patch, savedAt: new Date().toISOString() }));
  const checks = checkVitals(draft.vitals);

  const save = async () => {
    const found = consultationProblems(draft);
    setProblems(found);
    if (found.length) {
      setTimeout(() => errorRef.current?.focus(), 0);
      return;
    }
    setSaving(true);
    try {
      const bundle = buildConsultationBundle(draft, { author: { name: user.name }, now: new Date().toISOString(), uuid: () => crypto.randomUUID() });
      await api<Bundle>('/fhir/R4', { method: 'POST', json: bundle });
      clearDraft(localStorage, user.id, patientId);
      navigate(`/patient/${patientId}`);
    } catch (err) {
      // The draft stays in localStorage; nothing was written (the transaction is all or nothing).
      setProblems([`The consultation was not saved: ${(err as Error).message}. Your draft is kept on this computer.`]);
      setTimeout(() => errorRef.current?.focus(), 0);
    } finally {
      setSaving(false);
    }
  };

  const discard = () => {
    if (!confirm('Discard this draft consultation?')) return;
    clearDraft(localStorage, user.id, patientId);
    navigate(`/patient/${patientId}`);
  };

  const vitalField = (key: VitalKey) => {
    const c = checks[key];
    const def = vitals[key];
    return (
      <div className={`nhsuk-form-group${c?.error ? ' nhsuk-form-group--error' : ''}`} key={key} style={{ display: 'inline-block', marginRight: 16, verticalAlign: 'top' }}>
        <label className="nhsuk-label" htmlFor={`v-${key}`}>
          {def.label} ({def.unit})
        </label>
        {c?.error ? (
          <span className="nhsuk-error-message" id={`v-${key}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {c.error}
          </span>
        ) : null}
        <input
          className={`nhsuk-input nhsuk-input--width-4${c?.error ? ' nhsuk-input--error' : ''}`}
          id={`v-${key}`}
          inputMode="decimal"
          value={draft.vitals[key] ?? ''}
          aria-describedby={c?.error ? `v-${key}-error` : undefined}
          onChange={(e) => update({ vitals: { ...draft.vitals, [key]: e.target.value } })}
        />
        {c?.flag ? <strong className="sf-abnormal" data-testid={`flag-${key}`}> {c.flag === 'H' ? 'High' : 'Low'}</strong> : null}
      </div>
    );
  };

  return (
    <>
      <Banner patient={patient} gp={gp} allergies={allergies} flags={flags} />
      <p>
        <a href={`/patient/${patientId}`} onClick={onLinkClick(`/patient/${patientId}`)}>
          Back to the record
        </a>
      </p>
      <h1>New consultation</h1>
      {restored ? (
        <div className="nhsuk-inset-text" data-testid="draft-restored">
          Draft restored from {formatDateTime(draft.savedAt)} for {draft.patientName}.
        </div>
      ) : null}
      {draftWarning ? <div className="nhsuk-warning-callout"><p>{draftWarning}</p></div> : null}
      {problems.length ? (
        <div className="nhsuk-error-summary" role="alert" tabIndex={-1} ref={errorRef} data-testid="consultation-errors">
          <h2 className="nhsuk-error-summary__title">There is a problem</h2>
          <div className="nhsuk-error-summary__body">
            <ul className="nhsuk-list nhsuk-error-summary__list">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="c-type">Type</label>
        <select className="nhsuk-select" id="c-type" value={draft.type} onChange={(e) => update({ type: e.target.value })}>
          {consultationTypes.map((t) => (
            <option key={t.code} value={t.code}>
              {t.display}
            </option>
          ))}
        </select>
      </div>
      {(['history', 'examination', 'plan'] as const).map((k) => (
        <div className="nhsuk-form-group" key={k}>
          <label className="nhsuk-label nhsuk-label--s" htmlFor={`c-${k}`}>
            {k[0]!.toUpperCase() + k.slice(1)}
          </label>
          <textarea className="nhsuk-textarea" id={`c-${k}`} rows={k === 'history' ? 5 : 3} value={draft[k]} onChange={(e) => update({ [k]: e.target.value })} />
        </div>
      ))}
      <h2 className="nhsuk-heading-m">Problems and findings</h2>
      {draft.coded.length ? (
        <ul data-testid="coded-entries">
          {draft.coded.map((c, i) => (
            <li key={`${c.code}-${i}`}>
              {c.display} ({c.kind}) <span className="nhsuk-body-s">{c.code}</span>{' '}
              <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => update({ coded: draft.coded.filter((_, j) => j !== i) })}>
                Remove<span className="nhsuk-u-visually-hidden"> {c.display}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <CodePicker onPick={(c) => update({ coded: [...draft.coded, c] })} />
      <h2 className="nhsuk-heading-m">Observations</h2>
      <div>
        {vitalField('systolic')}
        {vitalField('diastolic')}
        {checks.bp?.error ? <p className="nhsuk-error-message">{checks.bp.error}</p> : null}
      </div>
      <div>
        {vitalField('pulse')}
        {vitalField('temperature')}
        {vitalField('spo2')}
      </div>
      <div>
        {vitalField('weight')}
        {vitalField('height')}
        <p data-testid="bmi">
          BMI: <strong>{checks.bmi?.value ?? '—'}</strong>
          {checks.bmi?.value !== undefined ? ' kg/m²' : ''}
          {checks.bmi?.flag ? <strong className="sf-abnormal"> {checks.bmi.flag === 'H' ? 'High' : 'Low'}</strong> : null}
          {checks.bmi?.error ? <span className="nhsuk-error-message">{checks.bmi.error}</span> : null}
        </p>
      </div>
      <h2 className="nhsuk-heading-m">Medication</h2>
      <p className="nhsuk-body-s">A prescription is written to the record when you press Prescribe, not when the consultation is saved.</p>
      <PrescribePanel patientId={patientId} allergies={allergies} medications={medications} onChanged={() => setMedsKey((k) => k + 1)} />
      <p className="sf-draft-note" aria-live="polite" data-testid="draft-status">
        {draft.savedAt && !draftWarning ? `Draft kept on this computer at ${formatDateTime(draft.savedAt)}` : ''}
      </p>
      <button className="nhsuk-button" type="button" onClick={() => void save()} disabled={saving}>
        Save consultation
      </button>{' '}
      <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={discard}>
        Discard draft
      </button>
    </>
  );
}
