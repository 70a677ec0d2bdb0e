import { useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { conceptText, formatDate, localIsoDate } from '../format.ts';
import type { MedicineAlert } from '@steadfast/domain/medicines';
import type { IssueResponse, ReauthoriseRequest, ReauthoriseResponse } from '@steadfast/domain/api/medicines';
import { AlertList, ProblemSummary } from './Alerts.tsx';
import { describedBy, Field } from '../messaging/forms.tsx';
import { alertsOfOutcome, MAX_ISSUES, overrideProblems, overridesOf, reviewDateProblem, type Problem } from './prescribe.ts';
import { PrescriptionOut } from './PrescriptionOut.tsx';
import type { RepeatView } from './view.ts';
import { useNotice } from './notices.ts';

/** Why the next issue cannot be made from this template, or undefined when it can. */
export function issueBlocked(r: RepeatView): string | undefined {
  if (r.template.status !== 'active') return `The repeat is ${r.template.status}: re-authorise it first`;
  if (r.issuesLeft === 0) return 'No issues left: re-authorise first';
  if (r.reviewDue) return `Review was due ${formatDate(r.reviewDate)}: re-authorise first`;
  return undefined;
}

/**
 * Issue the next repeat (one idempotency key per issue, kept across a retry with no answer) and
 * re-authorise (new authorised issues and review date). The node refuses an issue with no issues left,
 * a passed review date or a stopped template, and an alert raised since the template was made (409).
 */
export function RepeatActions({ r, onChanged }: { r: RepeatView; onChanged: () => void }) {
  const name = conceptText(r.template.medicationCodeableConcept);
  const id = r.template.id!;
  const blocked = issueBlocked(r);
  const [mode, setMode] = useState<'none' | 'issue' | 'reauthorise'>('none');
  const [alerts, setAlerts] = useState<MedicineAlert[]>([]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Problem[]>([]);
  const [lead, setLead] = useState<string | undefined>();
  const [issued, setIssued] = useNotice<IssueResponse>(`issued:${id}`);
  const [busy, setBusy] = useState(false);
  const [issues, setIssues] = useState(String(r.authorised ?? 6));
  const [review, setReview] = useState('');
  const key = useRef(crypto.randomUUID());
  const today = localIsoDate(new Date());

  const reset = () => (setMode('none'), setAlerts([]), setReasons({}), setProblems([]), setLead(undefined));

  const issue = async () => {
    const found = overrideProblems(reasons, alerts);
    setProblems(found);
    if (found.length) return;
    setBusy(true);
    setLead(undefined);
    try {
      const overrides = overridesOf(reasons, alerts);
      const response = await api<IssueResponse>(`/api/medication-requests/${encodeURIComponent(id)}/issue`, { method: 'POST', json: { idempotencyKey: key.current, ...(overrides.length ? { overrides } : {}) } });
      key.current = crypto.randomUUID();
      setIssued(response);
      reset();
      onChanged();
    } catch (err) {
      if (err instanceof ApiError) {
        key.current = crypto.randomUUID(); // refused: nothing written, a resubmit is a new request
        const found409 = err.status === 409 ? alertsOfOutcome(err.outcome) : [];
        setMode('issue');
        setAlerts(found409);
        setProblems(overrideProblems(reasons, found409));
        setLead(`${name} was not issued: ${err.message}`);
      } else setLead(`No answer from the node, so it is not known whether ${name} was issued: press Issue again (it will not be issued twice).`);
    } finally {
      setBusy(false);
    }
  };

  const reauthorise = async () => {
    const n = Number(issues);
    const found: Problem[] = [];
    if (!Number.isInteger(n) || n < 1 || n > MAX_ISSUES) found.push({ field: `reauth-issues-${id}`, text: `Enter the number of issues to authorise, a whole number from 1 to ${MAX_ISSUES}` });
    const bad = reviewDateProblem(review, today);
    if (bad) found.push({ field: `reauth-review-${id}`, text: bad });
    setProblems(found);
    setLead(undefined);
    if (found.length) return;
    setBusy(true);
    try {
      const body: ReauthoriseRequest = { authorisedIssues: n, reviewDate: review };
      await api<ReauthoriseResponse>(`/api/medication-requests/${encodeURIComponent(id)}/reauthorise`, { method: 'POST', json: body });
      reset();
      onChanged();
    } catch (err) {
      setLead(`${name} was not re-authorised: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const problem = (field: string) => problems.find((p) => p.field === field);
  const numberField = (field: string, label: string, value: string, set: (v: string) => void, type: 'text' | 'date') => {
    const error = problem(field)?.text;
    return (
      <Field id={field} label={label} error={error}>
        <input className={`nhsuk-input ${type === 'date' ? 'nhsuk-input--width-10' : 'nhsuk-input--width-4'}${error ? ' nhsuk-input--error' : ''}`} id={field} type={type} inputMode={type === 'text' ? 'numeric' : undefined} value={value} onChange={(e) => set(e.target.value)} aria-describedby={describedBy(field, false, error)} />
      </Field>
    );
  };

  return (
    <div data-testid="repeat-actions" aria-busy={busy}>
      {issued ? (
        <div className="nhsuk-inset-text" role="status" data-testid="repeat-issued">
          <p>
            Issued: prescription <span data-testid="rx-prescription-id">{issued.issue.prescriptionId}</span>, {issued.issuesLeft} issue{issued.issuesLeft === 1 ? '' : 's'} left.
          </p>
          <PrescriptionOut issueId={issued.issue.id} />
        </div>
      ) : null}
      <ProblemSummary problems={problems} lead={lead} testId={`repeat-problems-${id}`} />
      {mode === 'issue' && alerts.length ? <AlertList alerts={alerts} reasons={reasons} onReason={(a, v) => setReasons((x) => ({ ...x, [a]: v }))} problems={problems} /> : null}
      {mode === 'reauthorise' ? (
        <div data-testid="reauthorise-form">
          {numberField(`reauth-issues-${id}`, 'Issues to authorise from now', issues, setIssues, 'text')}
          {numberField(`reauth-review-${id}`, 'Next review date', review, setReview, 'date')}
          <button type="button" className="nhsuk-button sf-small-button" onClick={() => void reauthorise()} disabled={busy} data-testid="reauthorise-confirm">
            Re-authorise<span className="nhsuk-u-visually-hidden"> {name}</span>
          </button>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={reset}>
            Cancel
          </button>
        </div>
      ) : (
        <>
          <button type="button" className="nhsuk-button sf-small-button" onClick={() => void issue()} disabled={busy || Boolean(blocked)} aria-describedby={blocked ? `issue-blocked-${id}` : undefined} data-testid="issue-repeat">
            {mode === 'issue' && alerts.length ? 'Issue with these reasons' : 'Issue'}
            <span className="nhsuk-u-visually-hidden"> {name}</span>
          </button>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => (reset(), setMode('reauthorise'))} data-testid="reauthorise-open">
            Re-authorise<span className="nhsuk-u-visually-hidden"> {name}</span>
          </button>
          {blocked ? (
            <p className="nhsuk-body-s" id={`issue-blocked-${id}`} data-testid="issue-blocked">
              {blocked}
            </p>
          ) : null}
        </>
      )}
    </div>
  );
}
