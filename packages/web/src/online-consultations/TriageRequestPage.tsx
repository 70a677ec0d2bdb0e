import { useCallback, useEffect, useState } from 'react';
import type { RespondResult, TriageDetail, TriageOutcome, TriageUrgency } from '@steadfast/domain/api';
import { api } from '../api.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { ageText } from './TriageInboxPage.tsx';

const outcomes: TriageOutcome[] = ['advice-given', 'appointment-booked', 'consultation', 'prescription-issued', 'signposted', 'no-action', 'duplicate'];

/** One request: red flags, answers (as text), identity, photos; set urgency, reply, turn into a consultation, close. */
export function TriageRequestPage({ id }: { id: string }) {
  const [r, setR] = useState<TriageDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [reply, setReply] = useState('');
  const [outcome, setOutcome] = useState<TriageOutcome>('advice-given');
  const base = `/api/online-consultations/${encodeURIComponent(id)}`;

  const load = useCallback(async () => {
    try {
      setR(await api<TriageDetail>(base));
    } catch (err) {
      setError((err as Error).message);
    }
  }, [base]);
  useEffect(() => void load(), [load]);

  const act = async (path: string, json: unknown, done: (out: any) => string) => {
    try {
      const out = await api<any>(`${base}/${path}`, { method: 'POST', json });
      setNotice(done(out));
      setError(undefined);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!r) return error ? <p className="nhsuk-error-message" role="alert">{error}</p> : <p>Loading…</p>;
  return (
    <>
      <p><a href="/online-consultations" onClick={onLinkClick('/online-consultations')}>All requests</a></p>
      <h1>{r.reference}: {r.kind === 'medical' ? 'medical request' : 'admin request'}</h1>
      {error ? <p className="nhsuk-error-message" role="alert" data-testid="oc-error">{error}</p> : null}
      {notice ? <p role="status" data-testid="oc-notice">{notice}</p> : null}
      {r.redFlagAnswers.filter((f) => f.answer).map((f) => (
        <p key={f.linkId}><strong className="nhsuk-tag nhsuk-tag--red">Red flag ({f.advice === 'call-999' ? '999' : '111'})</strong> {f.question}</p>
      ))}
      <dl className="nhsuk-summary-list" data-testid="oc-detail">
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Received</dt><dd className="nhsuk-summary-list__value">{formatDateTime(r.receivedAt)} ({ageText(r.ageMinutes)} ago, via {r.receivedVia})</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Patient as given</dt><dd className="nhsuk-summary-list__value">{r.identity.givenName} {r.identity.familyName}, born {formatDate(r.identity.birthDate)}, {r.identity.postcode}{r.identity.nhsNumber ? `, NHS number ${r.identity.nhsNumber}` : ''}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Registered patient</dt><dd className="nhsuk-summary-list__value">{r.matchedPatient ? r.matchedPatient.name : 'Not matched yet'}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Reply by</dt><dd className="nhsuk-summary-list__value">{r.contactPreference === 'sms' ? `Text to ${r.identity.mobile ?? ''}` : `Email to ${r.identity.email ?? ''}`}</dd></div>
        {r.answers.map((a) => (
          <div className="nhsuk-summary-list__row" key={a.linkId}><dt className="nhsuk-summary-list__key">{a.question}</dt><dd className="nhsuk-summary-list__value" style={{ whiteSpace: 'pre-wrap' }}>{a.answer}</dd></div>
        ))}
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Photos</dt><dd className="nhsuk-summary-list__value">{r.photos.length ? r.photos.map((p) => <a key={p.id} href={`${base}/photos/${encodeURIComponent(p.id)}`}>{p.filename ?? p.id} </a>) : 'None'}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Status</dt><dd className="nhsuk-summary-list__value" data-testid="oc-status">{r.status}{r.urgency ? `, ${r.urgency}` : ''}{r.outcome ? `, ${r.outcome}` : ''}</dd></div>
      </dl>
      {r.status !== 'closed' ? (
        <>
          <h2>Urgency</h2>
          {(['urgent', 'soon', 'routine'] as TriageUrgency[]).map((u) => (
            <button key={u} type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-right-2" aria-pressed={r.urgency === u} onClick={() => void act('triage', { urgency: u, status: 'in-progress' }, () => `Marked ${u}`)}>{u}</button>
          ))}
          <h2>Reply to the patient</h2>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="oc-reply">Message ({r.contactPreference === 'sms' ? 'text message' : 'email'})</label>
            <textarea className="nhsuk-textarea" id="oc-reply" rows={4} value={reply} onChange={(e) => setReply(e.target.value)} />
          </div>
          <button type="button" className="nhsuk-button" disabled={!reply.trim()} onClick={() => void act('respond', { channel: r.contactPreference, body: reply.trim() }, (o: RespondResult) => `Reply queued to ${o.toMasked}`)}>Send reply</button>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act('consult', {}, (o: { encounterId: string }) => `Consultation started (${o.encounterId})`)}>Turn into a consultation</button>
          <h2>Close</h2>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="oc-outcome">Outcome</label>
            <select className="nhsuk-select" id="oc-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as TriageOutcome)}>
              {outcomes.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
          </div>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act('close', { outcome }, () => 'Closed')}>Close request</button>
        </>
      ) : null}
      <h2>History</h2>
      <ul>{r.history.map((h, i) => <li key={i}>{formatDateTime(h.at)} {h.by}: {h.action} {h.detail}</li>)}</ul>
    </>
  );
}
