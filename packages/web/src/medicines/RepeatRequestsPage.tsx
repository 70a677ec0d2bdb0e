import { useEffect, useRef, useState } from 'react';
import type { RepeatDecisionResponse, RepeatRequest, RepeatRequestsResponse } from '@steadfast/domain/api/prescriptions';
import { api, load, type Loaded } from '../api.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { NotAvailable, Section } from '../record/Section.tsx';
import { ProblemSummary } from './Alerts.tsx';
import { describedBy, Field } from '../messaging/forms.tsx';
import { MIN_REASON, type Problem } from './prescribe.ts';

/** Why one template cannot be issued from a request now, or undefined. */
function itemBlocked(i: RepeatRequest['items'][number], today: string): string | undefined {
  if (i.issuesLeft === 0) return 'no issues left: re-authorise on the record first';
  if (i.reviewDate && i.reviewDate < today) return `review was due ${formatDate(i.reviewDate)}: re-authorise on the record first`;
  return undefined;
}

function RequestRow({ r, onDecided }: { r: RepeatRequest; onDecided: (d: RepeatDecisionResponse) => void }) {
  const today = new Date().toISOString().slice(0, 10);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(r.items.filter((i) => i.matched && !itemBlocked(i, today)).map((i) => i.templateId)));
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [lead, setLead] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const key = useRef(crypto.randomUUID());
  const field = `reject-reason-${r.id}`;
  const reasonProblem = problems.find((p) => p.field === field);

  const decide = async (path: 'issue' | 'reject') => {
    const found: Problem[] = [];
    if (path === 'issue' && !chosen.size) found.push({ field: `request-items-${r.id}`, text: 'Choose at least one medicine to issue, or reject the request' });
    if (path === 'reject' && reason.trim().length < MIN_REASON) found.push({ field, text: `Enter why the request is rejected (at least ${MIN_REASON} characters)` });
    setProblems(found);
    setLead(undefined);
    if (found.length) return;
    setBusy(true);
    try {
      const body = path === 'issue' ? { templateIds: [...chosen], idempotencyKey: key.current } : { reason: reason.trim() };
      onDecided(await api<RepeatDecisionResponse>(`/api/medicines/repeat-requests/${encodeURIComponent(r.id)}/${path}`, { method: 'POST', json: body }));
    } catch (err) {
      setLead(`${r.patientName}'s request was not ${path === 'issue' ? 'issued' : 'rejected'}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="nhsuk-card" data-testid="repeat-request" aria-busy={busy}>
      <div className="nhsuk-card__content">
        <h2 className="nhsuk-card__heading nhsuk-heading-s">
          {r.patientId ? (
            <a href={`/patient/${r.patientId}`} onClick={onLinkClick(`/patient/${r.patientId}`)}>
              {r.patientName}
            </a>
          ) : (
            r.patientName
          )}{' '}
          <span className="nhsuk-body-s">asked {formatDateTime(r.requestedAt)} (online consultation {r.reference})</span>
        </h2>
        <ProblemSummary problems={problems} lead={lead} testId={`request-problems-${r.id}`} />
        <p>
          The patient wrote: <q>{r.requestedText}</q>
        </p>
        {!r.patientId ? (
          <p data-testid="request-unmatched">
            Not yet matched to a registered patient:{' '}
            <a href={`/online-consultations/${r.id}`} onClick={onLinkClick(`/online-consultations/${r.id}`)}>
              match them in the online consultation
            </a>{' '}
            before issuing.
          </p>
        ) : (
          <div className="nhsuk-form-group" id={`request-items-${r.id}`} tabIndex={-1}>
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Repeat medication to issue</legend>
              <div className="nhsuk-checkboxes nhsuk-checkboxes--small">
                {r.items.map((i) => {
                  const blocked = itemBlocked(i, today);
                  const id = `request-${r.id}-${i.templateId}`;
                  return (
                    <div className="nhsuk-checkboxes__item" key={i.templateId}>
                      <input className="nhsuk-checkboxes__input" id={id} type="checkbox" disabled={Boolean(blocked)} checked={chosen.has(i.templateId)} onChange={(e) => setChosen((s) => { const n = new Set(s); if (e.target.checked) n.add(i.templateId); else n.delete(i.templateId); return n; })} />
                      <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={id}>
                        {i.name}
                        {i.matched ? ' (named by the patient)' : ''}
                        {i.issuesLeft !== undefined ? ` — ${i.issuesLeft} issue${i.issuesLeft === 1 ? '' : 's'} left` : ''}
                        {blocked ? <strong className="sf-abnormal">: {blocked}</strong> : null}
                      </label>
                    </div>
                  );
                })}
              </div>
            </fieldset>
          </div>
        )}
        {rejecting ? (
          <Field id={field} label="Why is the request rejected? (recorded)" error={reasonProblem?.text}>
            <input className={`nhsuk-input${reasonProblem ? ' nhsuk-input--error' : ''}`} id={field} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={describedBy(field, false, reasonProblem?.text)} autoComplete="off" />
          </Field>
        ) : null}
        {r.patientId ? (
          <button type="button" className="nhsuk-button sf-small-button" onClick={() => void decide('issue')} disabled={busy} data-testid="request-issue">
            Issue selected<span className="nhsuk-u-visually-hidden"> for {r.patientName}</span>
          </button>
        ) : null}{' '}
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => (rejecting ? void decide('reject') : setRejecting(true))} disabled={busy} data-testid="request-reject">
          {rejecting ? 'Reject with this reason' : 'Reject'}
          <span className="nhsuk-u-visually-hidden"> {r.patientName}'s request</span>
        </button>
      </div>
    </li>
  );
}

/** The prescriber's queue of patients' repeat requests (online consultations), oldest first. */
export function RepeatRequestsPage() {
  const { user } = useSession();
  const [data, setData] = useState<Loaded<RepeatRequestsResponse>>({ state: 'loading' });
  const [done, setDone] = useState<string[]>([]);
  const [key, setKey] = useState(0);
  useEffect(() => {
    void load(() => api<RepeatRequestsResponse>('/api/medicines/repeat-requests?state=waiting')).then(setData);
  }, [key]);
  if (user.role !== 'clinician') return <NotAvailable what="repeat requests" />;
  const decided = (d: RepeatDecisionResponse) => {
    const what = d.request.state === 'issued' ? `issued ${d.issued?.map((i) => i.prescriptionId).join(', ') ?? ''}` : `rejected: ${d.request.reason ?? ''}`;
    setDone((x) => [`${d.request.patientName}: ${what}`, ...x]);
    setKey((k) => k + 1);
  };
  return (
    <>
      <h1>Repeat requests</h1>
      {done.length ? (
        <div className="nhsuk-inset-text" role="status" data-testid="request-decided">
          <ul className="nhsuk-list">
            {done.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <Section data={data} what="repeat requests">
        {(v) => (
          <>
            <p data-testid="request-count">
              {v.waiting} waiting{v.waitingUnmatched ? `, ${v.waitingUnmatched} not yet matched to a patient` : ''}. Oldest first.
            </p>
            {v.requests.length ? (
              <ul className="nhsuk-list" data-testid="repeat-requests">
                {v.requests.map((r) => (
                  <RequestRow key={r.id} r={r} onDecided={decided} />
                ))}
              </ul>
            ) : (
              <p>No repeat requests waiting.</p>
            )}
          </>
        )}
      </Section>
    </>
  );
}
