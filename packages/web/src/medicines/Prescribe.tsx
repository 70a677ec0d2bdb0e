import { useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import type { AllergyIntolerance, MedicationRequest } from '../fhirTypes.ts';
import { localIsoDate } from '../format.ts';
import type { MedicineAlert, PrescribeResponse } from '@steadfast/domain/api/medicines';
import { AlertList, ProblemSummary } from './Alerts.tsx';
import { ProductSearch } from './ProductSearch.tsx';
import { runChecks, useRules } from './checks.ts';
import { alertsOfOutcome, candidateOf, emptyPrescribeDraft, MAX_ISSUES, pickDosage, pickProduct, prescribeProblems, prescribeRequest, submitFailure, type PrescribeDraft, type Problem } from './prescribe.ts';
import { PrescriptionOut } from './PrescriptionOut.tsx';
import { describedBy, Field as FormField } from '../messaging/forms.tsx';

export interface Prescribed {
  name: string;
  response: PrescribeResponse;
}

/** Merge the browser's alerts with the node's (a 409 may name one the browser did not see). */
function mergeAlerts(local: MedicineAlert[], server: MedicineAlert[]): MedicineAlert[] {
  const seen = new Set(local.map((a) => a.id));
  return [...local, ...server.filter((a) => !seen.has(a.id))];
}

/** messaging's NHS.UK form group, with the input's aria-describedby and error state handed to it. */
function Field({ id, label, hint, problem, children }: { id: string; label: string; hint?: string; problem: Problem | undefined; children: (describedBy: string | undefined, invalid: boolean) => React.ReactNode }) {
  return (
    <FormField id={id} label={label} hint={hint} error={problem?.text}>
      {children(describedBy(id, Boolean(hint), problem?.text), Boolean(problem))}
    </FormField>
  );
}

/**
 * Prescribe one item: dm+d search, a standard or free dosage, quantity and days, acute or repeat. The
 * safety checks run in the browser (checkPrescription of `@steadfast/domain/medicines`) on every change;
 * the node re-runs them on submit and refuses (409) an alert without a reason, shown as an error summary.
 * One idempotency key per item, kept across retries, so a retried submit issues once. While the
 * outcome of a submit is unknown (a 5xx or no answer) the key is kept and the form is locked, so a
 * retry sends exactly what may already have been prescribed; a new key only after a 4xx answer
 * (nothing written). See submitFailure in prescribe.ts.
 */
export function PrescribeForm({ patientId, allergies, medications, encounterId, onPrescribed, onCancel }: { patientId: string; allergies: AllergyIntolerance[]; medications: MedicationRequest[]; encounterId?: string; onPrescribed: (p: Prescribed) => void; onCancel: () => void }) {
  const rules = useRules();
  const [draft, setDraft] = useState<PrescribeDraft>(emptyPrescribeDraft);
  const [serverAlerts, setServerAlerts] = useState<MedicineAlert[]>([]);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [lead, setLead] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  /** A submit may have been written: the fields are locked until it is retried (same key) or the form is closed. */
  const [locked, setLocked] = useState(false);
  const key = useRef<string>(crypto.randomUUID());
  const today = localIsoDate(new Date());

  const candidate = useMemo(() => candidateOf(draft), [draft]);
  const localAlerts = useMemo(() => (candidate && rules.state === 'ok' ? runChecks(rules.value, candidate, allergies, medications) : []), [candidate, rules, allergies, medications]);
  const alerts = mergeAlerts(localAlerts, serverAlerts.filter((a) => a.vmp === draft.product?.vmp));
  const update = (next: PrescribeDraft) => setDraft(next);
  const problem = (field: string) => problems.find((p) => p.field === field);
  const unit = draft.product?.unitOfMeasure ?? 'unit';

  const submit = async () => {
    const found = prescribeProblems(draft, alerts, today);
    setProblems(found);
    setLead(undefined);
    if (found.length) return;
    setBusy(true);
    try {
      const response = await api<PrescribeResponse>(`/api/patients/${encodeURIComponent(patientId)}/prescriptions`, { method: 'POST', json: prescribeRequest(draft, alerts, key.current, encounterId) });
      key.current = crypto.randomUUID();
      onPrescribed({ name: draft.product!.name, response });
    } catch (err) {
      const failure = submitFailure(err instanceof ApiError ? err.status : undefined, err instanceof ApiError ? err.outcome : undefined);
      setLocked(failure !== 'nothing-written');
      if (failure === 'unknown') {
        // No answer, or the node failed part-way (5xx): it may have written it. The same key is kept, and the form locked, so pressing Prescribe again cannot issue twice or answer an edit with the earlier prescription.
        setLead(`No answer from the node${err instanceof ApiError ? ` (${err.message})` : ''}, so it is not known whether ${draft.product!.name} was prescribed: press Prescribe again to retry exactly this (it will not be issued twice), or cancel and check the Medications tab. The form is locked until then.`);
      } else if (failure === 'key-used') {
        setLead(`A prescription was already made from this form (${err instanceof Error ? err.message : 'key used'}): cancel and check the Medications tab before prescribing again.`);
      } else if (err instanceof ApiError && err.status === 409) {
        // Nothing was written: the node's checks found alerts without a reason. A new key for the resubmit.
        key.current = crypto.randomUUID();
        const found409 = alertsOfOutcome(err.outcome);
        setServerAlerts(found409);
        const all = mergeAlerts(localAlerts, found409);
        setProblems(prescribeProblems(draft, all, today));
        setLead(`The node's safety checks stopped this prescription (nothing was written): ${err.message}`);
      } else {
        // A 4xx answer: the node wrote nothing. A new key for the resubmit.
        key.current = crypto.randomUUID();
        const field = err instanceof ApiError ? err.outcome?.issue?.[0]?.expression?.[0] : undefined;
        const message = err instanceof Error ? err.message : String(err);
        setLead(`${draft.product!.name} was not prescribed: ${message}`);
        setProblems(field ? [{ field: `rx-${field}`, text: message }] : []);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="nhsuk-u-margin-bottom-5" aria-labelledby="rx-title" data-testid="prescribe-form" aria-busy={busy}>
      <h2 className="nhsuk-heading-m" id="rx-title">
        Prescribe
      </h2>
      <ProblemSummary problems={problems} lead={lead} testId="rx-problems" />
      <fieldset className="sf-plain-fieldset" disabled={locked} data-testid="rx-fields">
      {rules.state === 'error' ? (
        <div className="nhsuk-warning-callout" data-testid="rx-checks-unavailable">
          <h3 className="nhsuk-warning-callout__label">Safety checks not shown</h3>
          <p>The check rules could not be loaded ({rules.message}). The node still checks every prescription when you press Prescribe.</p>
        </div>
      ) : null}
      {draft.product ? (
        <p data-testid="rx-chosen">
          <strong>{draft.product.name}</strong> <span className="nhsuk-body-s">dm+d {draft.product.vmp}</span>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => (update(emptyPrescribeDraft()), setServerAlerts([]))}>
            Change medicine
          </button>
        </p>
      ) : (
        <ProductSearch onPick={(p) => (update(pickProduct(draft, p)), setServerAlerts([]), setProblems([]))} invalid={problem('rx-search')?.text} />
      )}
      {draft.product ? (
        <>
          {draft.product.amps.length ? (
            <Field id="rx-amp" label="Brand (optional)" problem={problem('rx-amp')}>
              {(d) => (
                <select className="nhsuk-select" id="rx-amp" value={draft.amp} onChange={(e) => update({ ...draft, amp: e.target.value })} aria-describedby={d}>
                  <option value="">Generic (any supplier)</option>
                  {draft.product!.amps.map((a) => (
                    <option key={a.amp} value={a.amp}>
                      {a.name} ({a.supplier})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          <div className="nhsuk-form-group">
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Dosage</legend>
              <div className="nhsuk-radios nhsuk-radios--small">
                {[...draft.product.standardDosages.map((s, i) => ({ value: String(i), text: s.text })), { value: 'free', text: 'Other dosage (type it)' }].map((o) => (
                  <div className="nhsuk-radios__item" key={o.value}>
                    <input className="nhsuk-radios__input" id={`rx-dosage-${o.value}`} type="radio" name="rx-dosage" checked={draft.dosage === o.value} onChange={() => update(pickDosage(draft, o.value))} />
                    <label className="nhsuk-label nhsuk-radios__label" htmlFor={`rx-dosage-${o.value}`}>
                      {o.text}
                    </label>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
          {draft.dosage === 'free' ? (
            <>
              <Field id="rx-dosage-text" label="Dosage instructions" hint="As the label should read, like: One tablet twice a day" problem={problem('rx-dosage-text')}>
                {(d, bad) => <input className={`nhsuk-input${bad ? ' nhsuk-input--error' : ''}`} id="rx-dosage-text" value={draft.dosageText} onChange={(e) => update({ ...draft, dosageText: e.target.value })} aria-describedby={d} autoComplete="off" />}
              </Field>
              <div className="sf-inline-fields">
                <Field id="rx-dose" label={`Dose (${unit}s each time)`} hint="For the dose check" problem={problem('rx-dose')}>
                  {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-4${bad ? ' nhsuk-input--error' : ''}`} id="rx-dose" inputMode="decimal" value={draft.dosePerAdministration} onChange={(e) => update({ ...draft, dosePerAdministration: e.target.value })} aria-describedby={d} />}
                </Field>
                <Field id="rx-frequency" label="Times a day" hint="For the dose check" problem={problem('rx-frequency')}>
                  {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-4${bad ? ' nhsuk-input--error' : ''}`} id="rx-frequency" inputMode="decimal" value={draft.frequencyPerDay} onChange={(e) => update({ ...draft, frequencyPerDay: e.target.value })} aria-describedby={d} />}
                </Field>
              </div>
            </>
          ) : null}
          <div className="sf-inline-fields">
            <Field id="rx-days" label="Days" problem={problem('rx-days')}>
              {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-4${bad ? ' nhsuk-input--error' : ''}`} id="rx-days" inputMode="numeric" value={draft.days} onChange={(e) => update(draft.dosage === 'free' ? { ...draft, days: e.target.value } : pickDosage({ ...draft, days: e.target.value }, draft.dosage))} aria-describedby={d} />}
            </Field>
            <Field id="rx-quantity" label={`Quantity (${unit}s)`} problem={problem('rx-quantity')}>
              {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-4${bad ? ' nhsuk-input--error' : ''}`} id="rx-quantity" inputMode="decimal" value={draft.quantity} onChange={(e) => update({ ...draft, quantity: e.target.value })} aria-describedby={d} />}
            </Field>
          </div>
          <div className="nhsuk-form-group">
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Acute or repeat</legend>
              <div className="nhsuk-radios nhsuk-radios--inline nhsuk-radios--small">
                {(['acute', 'repeat'] as const).map((k) => (
                  <div className="nhsuk-radios__item" key={k}>
                    <input className="nhsuk-radios__input" id={`rx-kind-${k}`} type="radio" name="rx-kind" checked={draft.kind === k} onChange={() => update({ ...draft, kind: k })} />
                    <label className="nhsuk-label nhsuk-radios__label" htmlFor={`rx-kind-${k}`}>
                      {k === 'acute' ? 'Acute (this issue only)' : 'Repeat (authorise issues)'}
                    </label>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
          {draft.kind === 'repeat' ? (
            <div className="sf-inline-fields">
              <Field id="rx-issues" label="Authorised issues" hint={`1 to ${MAX_ISSUES}, this first issue included`} problem={problem('rx-issues')}>
                {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-4${bad ? ' nhsuk-input--error' : ''}`} id="rx-issues" inputMode="numeric" value={draft.authorisedIssues} onChange={(e) => update({ ...draft, authorisedIssues: e.target.value })} aria-describedby={d} />}
              </Field>
              <Field id="rx-review" label="Review date" problem={problem('rx-review')}>
                {(d, bad) => <input className={`nhsuk-input nhsuk-input--width-10${bad ? ' nhsuk-input--error' : ''}`} id="rx-review" type="date" min={today} value={draft.reviewDate} onChange={(e) => update({ ...draft, reviewDate: e.target.value })} aria-describedby={d} />}
              </Field>
            </div>
          ) : null}
          <AlertList alerts={alerts} reasons={draft.overrides} onReason={(id, reason) => update({ ...draft, overrides: { ...draft.overrides, [id]: reason } })} problems={problems} />
          {rules.state === 'ok' && !alerts.length ? (
            <p className="nhsuk-body-s" data-testid="rx-no-alerts">
              Safety checks: no allergy, duplicate, interaction or dose alerts.
            </p>
          ) : null}
        </>
      ) : null}
      </fieldset>
      <button type="button" className="nhsuk-button" onClick={() => void submit()} disabled={busy} data-testid="rx-submit">
        Prescribe
      </button>{' '}
      <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onCancel}>
        Cancel
      </button>
    </section>
  );
}

/** What was just prescribed: the prescription id, then how it leaves the practice (EPS or print). */
export function PrescribedNotice({ prescribed, onDismiss }: { prescribed: Prescribed; onDismiss: () => void }) {
  const { response } = prescribed;
  return (
    <div className="nhsuk-inset-text" data-testid="rx-prescribed" role="status">
      <p>
        <strong>{prescribed.name}</strong> {response.template ? 'authorised as a repeat and first issue made' : 'prescribed'}: prescription <span data-testid="rx-prescription-id">{response.issue.prescriptionId}</span>
        {response.alerts.length ? ` (${response.alerts.length} alert${response.alerts.length === 1 ? '' : 's'} overridden, reasons recorded)` : ''}.
        {response.duplicate ? <span data-testid="rx-duplicate"> The node had already made it from your earlier press, so it was not issued again.</span> : null}
      </p>
      <PrescriptionOut issueId={response.issue.id} />
      <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={onDismiss}>
        Done
      </button>
    </div>
  );
}
