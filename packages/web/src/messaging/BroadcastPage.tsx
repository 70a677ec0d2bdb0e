/**
 * Service disruption broadcast, for the practice manager: a date range and the reason patients will
 * read, a preview of who will be told (each patient once, preferences respected) and of who cannot
 * be reached (listed, to be told another way), an explicit confirm naming the number of texts, then
 * progress while the node queues them, and Stop.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Broadcast, BroadcastPreview, MessageTemplate } from '@steadfast/domain/api';
import { renderTemplate, SAMPLE_PERSONALISATION } from '@steadfast/domain/messaging';
import { api } from '../api.ts';
import { formatDate, formatDateTime, localIsoDate } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { describedBy, Field, ProblemSummary, problemFor, problemsOf, type Problem } from './forms.tsx';
import { SmsCount } from './SmsCount.tsx';
import { MessagingNav } from './MessagingNav.tsx';

const STATE_TEXT: Record<Broadcast['state'], string> = { queuing: 'Queuing', queued: 'All queued', stopped: 'Stopped', failed: 'Failed' };
const IDS = { from: 'broadcast-from', to: 'broadcast-to', reason: 'broadcast-reason' };

export function BroadcastPage() {
  const { user } = useSession();
  const today = localIsoDate(new Date());
  const [from, setFrom] = useState(today);
  const [to, setTo] = useState(today);
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [preview, setPreview] = useState<BroadcastPreview | undefined>();
  const [previewed, setPreviewed] = useState<{ from: string; to: string; reason: string } | undefined>();
  const [template, setTemplate] = useState<MessageTemplate | undefined>();
  const [current, setCurrent] = useState<(Broadcast & { cancelled?: number }) | undefined>();
  const [recent, setRecent] = useState<Broadcast[]>([]);
  const [busy, setBusy] = useState(false);

  const loadRecent = useCallback(() => api<Broadcast[]>('/api/messaging/broadcasts').then(setRecent).catch(() => undefined), []);
  useEffect(() => {
    void loadRecent();
    api<MessageTemplate[]>('/api/messaging/templates')
      .then((ts) => setTemplate(ts.find((t) => t.key === 'service-disruption')))
      .catch(() => undefined);
  }, [loadRecent]);

  // Follow a broadcast while it queues.
  useEffect(() => {
    if (!current || current.state !== 'queuing') return;
    const t = setInterval(() => {
      api<Broadcast>(`/api/messaging/broadcasts/${current.id}`)
        .then((b) => setCurrent((c) => (c && c.id === b.id ? { ...c, ...b } : c)))
        .catch(() => undefined);
    }, 500);
    return () => clearInterval(t);
  }, [current?.id, current?.state]);
  useEffect(() => {
    if (current && current.state !== 'queuing') void loadRecent();
  }, [current?.state, loadRecent]);

  if (user.role !== 'practice-admin') return <><h1>Service disruption broadcast</h1><p>Only the practice manager (practice administrator) sends a broadcast.</p></>;

  const localProblems = (): Problem[] => {
    const out: Problem[] = [];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) out.push({ field: 'from', message: 'Enter the first day affected' });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(to)) out.push({ field: 'to', message: 'Enter the last day affected' });
    else if (from && to < from) out.push({ field: 'to', message: 'The last day must be on or after the first day' });
    if (!reason.trim()) out.push({ field: 'reason', message: 'Enter the reason patients will read, for example: the surgery is closed because of a power cut' });
    return out;
  };

  const doPreview = async (e: FormEvent) => {
    e.preventDefault();
    const local = localProblems();
    setProblems(local);
    setPreview(undefined);
    if (local.length) return;
    setBusy(true);
    try {
      setPreview(await api<BroadcastPreview>('/api/messaging/broadcasts/preview', { method: 'POST', json: { from, to } }));
      setPreviewed({ from, to, reason: reason.trim() });
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!previewed) return;
    setBusy(true);
    try {
      const b = await api<Broadcast>('/api/messaging/broadcasts', { method: 'POST', json: previewed });
      setCurrent(b);
      setPreview(undefined);
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setBusy(false);
    }
  };

  const stop = async (id: string) => {
    try {
      const b = await api<Broadcast & { cancelled: number }>(`/api/messaging/broadcasts/${id}/stop`, { method: 'POST', json: {} });
      if (current?.id === id) setCurrent(b);
      await loadRecent();
    } catch (err) {
      setProblems(problemsOf(err));
    }
  };

  const changedSincePreview = previewed && (previewed.from !== from || previewed.to !== to || previewed.reason !== reason.trim());
  let example: string | undefined;
  if (template && reason.trim()) {
    try {
      example = renderTemplate({ ...template, channel: 'sms' }, { ...SAMPLE_PERSONALISATION, reason: reason.trim() }).body;
    } catch (err) {
      example = problemsOf(err)[0]?.message;
    }
  }
  const done = current ? current.queued + current.skipped : 0;

  return (
    <>
      <MessagingNav />
      <h1>Service disruption broadcast</h1>
      <p>Text every patient booked in a date range to say what is happening. Each patient is texted once, however many appointments they have; patients who have not agreed to texts, have no mobile or asked not to be contacted are not texted and are listed for you.</p>
      {current ? (
        <section className="nhsuk-card" data-testid="broadcast-progress" aria-labelledby="broadcast-progress-title">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading" id="broadcast-progress-title">
              Broadcast {formatDate(current.from)} to {formatDate(current.to)}: <span data-testid="broadcast-state">{STATE_TEXT[current.state]}</span>
            </h2>
            <label className="nhsuk-label" htmlFor="broadcast-progress-bar">
              {done} of {current.patients || '…'} patients: {current.queued} texts queued, {current.skipped} could not be texted
            </label>
            <progress id="broadcast-progress-bar" max={current.patients || 1} value={done} className="sf-progress" />
            {current.state === 'stopped' ? <p data-testid="broadcast-stopped">Stopped. {typeof current.cancelled === 'number' ? `${current.cancelled} text${current.cancelled === 1 ? '' : 's'} not yet sent ${current.cancelled === 1 ? 'was' : 'were'} cancelled.` : ''} Texts already sent cannot be called back.</p> : null}
            {current.state === 'failed' ? <p className="nhsuk-error-message">The broadcast stopped with an error: {current.error}</p> : null}
            {current.state === 'queuing' || current.state === 'queued' ? (
              <button type="button" className="nhsuk-button nhsuk-button--warning" onClick={() => void stop(current.id)} data-testid="broadcast-stop">
                Stop broadcast
              </button>
            ) : null}
          </div>
        </section>
      ) : null}

      <form onSubmit={doPreview} noValidate data-testid="broadcast-form">
        <ProblemSummary problems={problems} ids={IDS} testId="broadcast-problems" />
        <div className="nhsuk-grid-row">
          <div className="nhsuk-grid-column-one-quarter">
            <Field id={IDS.from} label="First day affected" error={problemFor(problems, 'from')}>
              <input className={`nhsuk-input${problemFor(problems, 'from') ? ' nhsuk-input--error' : ''}`} type="date" id={IDS.from} value={from} onChange={(e) => setFrom(e.target.value)} aria-describedby={describedBy(IDS.from, false, problemFor(problems, 'from'))} />
            </Field>
          </div>
          <div className="nhsuk-grid-column-one-quarter">
            <Field id={IDS.to} label="Last day affected" error={problemFor(problems, 'to')}>
              <input className={`nhsuk-input${problemFor(problems, 'to') ? ' nhsuk-input--error' : ''}`} type="date" id={IDS.to} value={to} onChange={(e) => setTo(e.target.value)} aria-describedby={describedBy(IDS.to, false, problemFor(problems, 'to'))} />
            </Field>
          </div>
        </div>
        <Field id={IDS.reason} label="Reason patients will read" hint="Plain words, no links, for example: the surgery is closed because of a power cut" error={problemFor(problems, 'reason')}>
          <textarea className={`nhsuk-textarea${problemFor(problems, 'reason') ? ' nhsuk-textarea--error' : ''}`} id={IDS.reason} rows={2} maxLength={300} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={describedBy(IDS.reason, true, problemFor(problems, 'reason'))} />
        </Field>
        {example ? (
          <div className="nhsuk-inset-text" data-testid="broadcast-example">
            <p>
              Each patient will read, with their own appointment:
              <br />
              <span className="sf-message-preview">{example}</span>
            </p>
            <SmsCount text={example} id="broadcast-count" />
          </div>
        ) : null}
        <button className="nhsuk-button nhsuk-button--secondary" type="submit" disabled={busy} data-testid="broadcast-preview-button">
          Preview who will be told
        </button>
        {busy && !preview ? (
          <p role="status" aria-busy="true" data-testid="broadcast-counting">
            Counting the patients booked and checking their preferences…
          </p>
        ) : null}
      </form>

      {preview ? (
        <section data-testid="broadcast-preview" aria-labelledby="broadcast-preview-title">
          <h2 id="broadcast-preview-title">Who will be told</h2>
          <dl className="nhsuk-summary-list">
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Appointments booked</dt>
              <dd className="nhsuk-summary-list__value">{preview.appointments}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Patients (each once)</dt>
              <dd className="nhsuk-summary-list__value" data-testid="broadcast-patients">{preview.patients}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Will be texted</dt>
              <dd className="nhsuk-summary-list__value" data-testid="broadcast-reachable">{preview.reachable}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Cannot be texted</dt>
              <dd className="nhsuk-summary-list__value" data-testid="broadcast-unreachable">
                {preview.patients - preview.reachable}
                {preview.unreachableByReason.length ? (
                  <ul className="nhsuk-list nhsuk-list--bullet nhsuk-u-margin-bottom-0">
                    {preview.unreachableByReason.map((r) => (
                      <li key={r.reason}>
                        {r.count}: {r.reason.toLowerCase()}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </dd>
            </div>
          </dl>
          {preview.overlapping.length ? (
            <div className="nhsuk-warning-callout" data-testid="broadcast-overlap">
              <h3 className="nhsuk-warning-callout__label">
                <span role="text">
                  <span className="nhsuk-u-visually-hidden">Important: </span>A broadcast already covers some of these days
                </span>
              </h3>
              <ul>
                {preview.overlapping.map((b) => (
                  <li key={b.id}>
                    {formatDate(b.from)} to {formatDate(b.to)}, “{b.reason}”, sent by {b.createdBy} {formatDateTime(b.createdAt)} ({b.queued} texts)
                  </li>
                ))}
              </ul>
              <p>Sending another texts those patients again. The same dates and reason are not sent twice.</p>
            </div>
          ) : null}
          {preview.unreachable.length ? (
            <details className="nhsuk-details" open={preview.unreachable.length <= 20}>
              <summary className="nhsuk-details__summary">
                <span className="nhsuk-details__summary-text">Patients who cannot be texted: tell them another way ({preview.patients - preview.reachable})</span>
              </summary>
              <div className="nhsuk-details__text">
                <table className="nhsuk-table" data-testid="broadcast-unreachable-list">
                  <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Patients who cannot be texted</caption>
                  <thead className="nhsuk-table__head">
                    <tr>
                      <th scope="col">Patient</th>
                      <th scope="col">Appointment</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody className="nhsuk-table__body">
                    {preview.unreachable.map((u) => (
                      <tr key={u.patientId}>
                        <td>
                          <a href={`/patient/${u.patientId}`} onClick={onLinkClick(`/patient/${u.patientId}`)}>
                            {u.name}
                          </a>
                        </td>
                        <td>{u.when}</td>
                        <td>{u.reason}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {preview.patients - preview.reachable > preview.unreachable.length ? <p>The first {preview.unreachable.length} are listed.</p> : null}
              </div>
            </details>
          ) : null}
          {changedSincePreview ? (
            <p className="nhsuk-error-message" role="alert">The dates or reason changed since this preview. Preview again before sending.</p>
          ) : preview.reachable === 0 ? (
            <p>Nobody booked in this range can be texted.</p>
          ) : (
            <button type="button" className="nhsuk-button" disabled={busy} onClick={() => void confirm()} data-testid="broadcast-confirm">
              Send {preview.reachable} text message{preview.reachable === 1 ? '' : 's'}
            </button>
          )}
        </section>
      ) : null}

      {recent.length ? (
        <>
          <h2>Recent broadcasts</h2>
          <table className="nhsuk-table" data-testid="broadcast-recent">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Recent broadcasts</caption>
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Dates</th>
                <th scope="col">Reason</th>
                <th scope="col">Sent by</th>
                <th scope="col">Progress</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {recent.map((b) => (
                <tr key={b.id}>
                  <td>
                    {formatDate(b.from)} to {formatDate(b.to)}
                  </td>
                  <td>{b.reason}</td>
                  <td>
                    {b.createdBy}, {formatDateTime(b.createdAt)}
                  </td>
                  <td>
                    {STATE_TEXT[b.state]}: {b.queued} queued, {b.skipped} not texted, of {b.patients}
                  </td>
                  <td>
                    {b.state === 'queuing' || b.state === 'queued' ? (
                      <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void stop(b.id)} aria-label={`Stop the broadcast ${formatDate(b.from)} to ${formatDate(b.to)}`}>
                        Stop
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}
