import { useState } from 'react';
import { api } from '../api.ts';
import type { MedicationRequest, Patient } from '../fhirTypes.ts';
import { conceptText, formatDate, localIsoDate } from '../format.ts';
import { Section } from '../record/Section.tsx';
import type { PatientRecordData } from '../record/usePatientRecord.ts';
import { ErrorSummary, failureOf, type FormFailure } from '../admin/FormError.tsx';
import { medicationsView, stoppedBody, type RepeatView } from './view.ts';
import { PrescribedNotice, PrescribeForm, type Prescribed } from './Prescribe.tsx';
import { RepeatActions } from './RepeatActions.tsx';
import { useNotice } from './notices.ts';

const dose = (m: MedicationRequest) => m.dosageInstruction?.[0]?.text ?? '';
const quantity = (m: MedicationRequest) => {
  const q = m.dispenseRequest?.quantity;
  return q?.value !== undefined ? `${q.value} ${q.unit ?? ''}`.trim() : '';
};

function ItemText({ m }: { m: MedicationRequest }) {
  return (
    <>
      <strong>{conceptText(m.medicationCodeableConcept)}</strong>
      {dose(m) ? ` — ${dose(m)}` : ''}
      {quantity(m) ? <span className="nhsuk-body-s"> ({quantity(m)})</span> : null}
      {m.status === 'on-hold' ? ' (on hold)' : ''}
    </>
  );
}

/** Stop one item: a reason is required, and the write names the version it was read at (If-Match). */
function StopItem({ m, onStopped }: { m: MedicationRequest; onStopped: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [failure, setFailure] = useState<FormFailure | undefined>();
  const [busy, setBusy] = useState(false);
  const name = conceptText(m.medicationCodeableConcept);
  const field = `stop-reason-${m.id}`;
  if (!open)
    return (
      <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setOpen(true)} data-testid="stop-open">
        Stop<span className="nhsuk-u-visually-hidden"> {name}</span>
      </button>
    );
  const stop = async () => {
    if (!reason.trim()) {
      setFailure({ text: `Enter why ${name} is being stopped`, field });
      return;
    }
    setBusy(true);
    try {
      await api(`/fhir/R4/MedicationRequest/${encodeURIComponent(m.id!)}`, { method: 'PUT', json: stoppedBody(m, reason), headers: { 'if-match': `W/"${m.meta?.versionId ?? ''}"` } });
      onStopped();
    } catch (err) {
      const f = failureOf(err);
      setFailure({ ...f, text: (err as { status?: number }).status === 412 ? `${name} was changed by someone else since this screen was loaded: reload the record and check it before stopping` : `${name} was not stopped: ${f.text}` });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="nhsuk-u-margin-top-2" data-testid="stop-form" aria-busy={busy}>
      <ErrorSummary failure={failure} testId="stop-problems" />
      <div className={`nhsuk-form-group${failure?.field ? ' nhsuk-form-group--error' : ''}`}>
        <label className="nhsuk-label" htmlFor={field}>
          Why is {name} being stopped?
        </label>
        {failure?.field ? (
          <span className="nhsuk-error-message" id={`${field}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {failure.text}
          </span>
        ) : null}
        <input className={`nhsuk-input${failure?.field ? ' nhsuk-input--error' : ''}`} id={field} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={failure?.field ? `${field}-error` : undefined} />
      </div>
      <button type="button" className="nhsuk-button nhsuk-button--warning sf-small-button" onClick={() => void stop()} disabled={busy} data-testid="stop-confirm">
        Stop {name}
      </button>{' '}
      <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => (setOpen(false), setFailure(undefined))}>
        Cancel
      </button>
    </div>
  );
}

function Repeats({ repeats, prescriber, onChanged }: { repeats: RepeatView[]; prescriber: boolean; onChanged: () => void }) {
  if (!repeats.length) return <p>No repeat medication.</p>;
  return (
    <table className="nhsuk-table" data-testid="repeat-templates">
      <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Repeat medication</caption>
      <thead className="nhsuk-table__head">
        <tr className="nhsuk-table__row">
          <th className="nhsuk-table__header" scope="col">Medicine and dose</th>
          <th className="nhsuk-table__header" scope="col">Issues left</th>
          <th className="nhsuk-table__header" scope="col">Review date</th>
          <th className="nhsuk-table__header" scope="col">Last issued</th>
          {prescriber ? <th className="nhsuk-table__header" scope="col"><span className="nhsuk-u-visually-hidden">Actions</span></th> : null}
        </tr>
      </thead>
      <tbody className="nhsuk-table__body">
        {repeats.map((r) => (
          <tr className="nhsuk-table__row" key={r.template.id} data-testid="repeat-row">
            <td className="nhsuk-table__cell">
              <ItemText m={r.template} />
            </td>
            <td className="nhsuk-table__cell" data-testid="issues-left">
              {r.issuesLeft === undefined ? 'not set' : `${r.issuesLeft} of ${r.authorised}`}
            </td>
            <td className="nhsuk-table__cell" data-testid="review-date">
              {formatDate(r.reviewDate) || 'not set'}
              {r.reviewDue ? <strong className="sf-abnormal"> Review due</strong> : null}
            </td>
            <td className="nhsuk-table__cell">{formatDate(r.issues[0]?.authoredOn) || 'never'}</td>
            {prescriber ? (
              <td className="nhsuk-table__cell">
                <RepeatActions r={r} onChanged={onChanged} /> <StopItem m={r.template} onStopped={onChanged} />
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Prescribing from a screen that has the patient's allergies and medication loaded (the record's tab,
 * the consultation): the Prescribe button, the form, then what was prescribed and how it goes out.
 */
export function PrescribePanel({ patientId, allergies, medications, encounterId, onChanged }: { patientId: string; allergies: PatientRecordData['allergies']; medications: PatientRecordData['medications']; encounterId?: string; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const [prescribed, setPrescribed] = useNotice<Prescribed>(`prescribed:${patientId}`);
  // The checks need both lists; until they are loaded (or when one cannot be) there is no form to fill.
  const notReady = allergies.state !== 'ok' ? 'allergies' : medications.state !== 'ok' ? 'current medication' : undefined;
  return (
    <div data-testid="prescribe-panel">
      {prescribed ? <PrescribedNotice prescribed={prescribed} onDismiss={() => setPrescribed(undefined)} /> : null}
      {open && !notReady && allergies.state === 'ok' && medications.state === 'ok' ? (
        <PrescribeForm
          patientId={patientId}
          allergies={allergies.value}
          medications={medications.value}
          {...(encounterId ? { encounterId } : {})}
          onPrescribed={(p) => (setPrescribed(p), setOpen(false), onChanged())}
          onCancel={() => setOpen(false)}
        />
      ) : (
        <>
          <button type="button" className="nhsuk-button" onClick={() => (setOpen(true), setPrescribed(undefined))} disabled={Boolean(notReady)} data-testid="prescribe-open" aria-describedby={notReady ? 'prescribe-not-ready' : undefined}>
            Prescribe
          </button>
          {notReady ? (
            <p className="nhsuk-body-s" id="prescribe-not-ready">
              {allergies.state === 'error' || medications.state === 'error' ? `The patient's ${notReady} could not be loaded, so the safety checks cannot run: reload the record before prescribing.` : `Loading the patient's ${notReady} for the safety checks.`}
            </p>
          ) : null}
        </>
      )}
    </div>
  );
}

/**
 * The record's Medications tab: prescribing, current acute items, repeat templates (issues left,
 * review date; issue and re-authorise), past and stopped items with the reason, and the issue history.
 * Stopping needs a reason.
 */
export function Medications({ data, patient, prescriber, onChanged }: { data: PatientRecordData; patient: Patient; prescriber: boolean; onChanged: () => void }) {
  return (
    <>
    {prescriber ? <PrescribePanel patientId={patient.id!} allergies={data.allergies} medications={data.medications} onChanged={onChanged} /> : null}
    <Section data={data.medications} what="medication">
      {(list) => {
        const v = medicationsView(list, localIsoDate(new Date()));
        return (
          <div data-testid="medications">
            <h2 className="nhsuk-heading-m">Current acute medication</h2>
            {v.acute.length ? (
              <ul data-testid="acute-items">
                {v.acute.map((m) => (
                  <li key={m.id}>
                    <ItemText m={m} /> <span className="nhsuk-body-s">{formatDate(m.authoredOn)}</span> {prescriber ? <StopItem m={m} onStopped={onChanged} /> : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p>No current acute medication.</p>
            )}
            <h2 className="nhsuk-heading-m">Repeat medication</h2>
            <Repeats repeats={v.repeats} prescriber={prescriber} onChanged={onChanged} />
            <h2 className="nhsuk-heading-m">Past and stopped medication</h2>
            {v.past.length ? (
              <ul data-testid="past-items">
                {v.past.map((m) => (
                  <li key={m.id}>
                    <ItemText m={m} /> <span className="nhsuk-body-s">({m.status}{m.statusReason ? `: ${conceptText(m.statusReason)}` : ''})</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p>No past medication.</p>
            )}
            <h2 className="nhsuk-heading-m">Issue history</h2>
            {v.history.length ? (
              <ul className="nhsuk-list" data-testid="issue-history">
                {v.history.map((m) => (
                  <li key={m.id}>
                    <strong>{formatDate(m.authoredOn) || 'undated'}</strong> <ItemText m={m} />
                  </li>
                ))}
              </ul>
            ) : (
              <p>Nothing issued.</p>
            )}
          </div>
        );
      }}
    </Section>
    </>
  );
}
