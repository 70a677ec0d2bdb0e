/**
 * Everything waiting to leave the practice and what happened to it: the outbox by channel and state
 * with the oldest waiting age, whether each service is reachable, failed messages with their reason
 * (retry after fixing the cause, or cancel), and messages Notify could not deliver to a patient.
 */
import { useCallback, useEffect, useState } from 'react';
import type { DeliverySummary, OutboxState, OutboxResponse, OutboxRow, ServiceStatus, StatusResponse } from '@steadfast/domain/api';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { CHANNEL_LABEL, DeliveryTag, problemsOf, waitedFor } from './forms.tsx';
import { MessagingNav } from './MessagingNav.tsx';

const STATE_COLUMNS: Array<{ state: OutboxState; label: string }> = [
  { state: 'pending', label: 'Queued' },
  { state: 'sending', label: 'Sending' },
  { state: 'sent', label: 'Sent' },
  { state: 'failed', label: 'Failed' },
  { state: 'cancelled', label: 'Cancelled' },
];
const DELIVERY_COLUMNS: Array<{ statuses: string[]; label: string }> = [
  { statuses: ['queued'], label: 'Queued' },
  { statuses: ['sending', 'sent'], label: 'With Notify, awaiting receipt' },
  { statuses: ['delivered'], label: 'Delivered' },
  { statuses: ['permanent-failure', 'temporary-failure', 'technical-failure', 'failed'], label: 'Not delivered' },
];
const REFRESH_MS = 5_000;

export function OutboxPage() {
  const { user } = useSession();
  const mayAct = user.role === 'receptionist' || user.role === 'practice-admin';
  const [outbox, setOutbox] = useState<OutboxResponse | undefined>();
  const [deliveries, setDeliveries] = useState<DeliverySummary | undefined>();
  const [services, setServices] = useState<ServiceStatus[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [confirmCancel, setConfirmCancel] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      // Failed and waiting rows are asked for by state, so a day of sent messages never pushes them off the page.
      const [o, w, d, s] = await Promise.all([
        api<OutboxResponse>('/api/outbox?state=failed&limit=200'),
        api<OutboxResponse>('/api/outbox?state=pending&limit=200'),
        api<DeliverySummary>('/api/messaging/deliveries'),
        api<StatusResponse>('/api/status'),
      ]);
      setOutbox({ ...o, rows: [...o.rows, ...w.rows] });
      setDeliveries(d);
      setServices(s.services.filter((x) => x.name.startsWith('outbox:')));
      setError(undefined);
    } catch (err) {
      setError(`The outbox could not be read: ${(err as Error).message}`);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(t);
  }, [refresh]);

  const act = async (row: OutboxRow, what: 'retry' | 'cancel') => {
    setBusy(row.id);
    try {
      await api(`/api/outbox/${encodeURIComponent(row.id)}/${what}`, { method: 'POST', json: {} });
      setNotice(what === 'retry' ? `${CHANNEL_LABEL[row.channel] ?? row.channel}: queued again; it will be sent within a minute if the service answers.` : `${CHANNEL_LABEL[row.channel] ?? row.channel}: cancelled; it will not be sent.`);
      setConfirmCancel(undefined);
      await refresh();
    } catch (err) {
      setError(problemsOf(err).map((p) => p.message).join(' '));
    } finally {
      setBusy(undefined);
    }
  };

  const channels = [...new Set((outbox?.counts ?? []).map((c) => c.channel))].sort();
  const count = (channel: string, state: string) => outbox?.counts.find((c) => c.channel === channel && c.state === state)?.count ?? 0;
  const failed = (outbox?.rows ?? []).filter((r) => r.state === 'failed');
  const waiting = (outbox?.rows ?? []).filter((r) => r.state === 'pending' || r.state === 'sending');
  const deliveryChannels = [...new Set((deliveries?.counts ?? []).map((c) => c.channel))].sort();
  const deliveryCount = (channel: string, statuses: string[]) => (deliveries?.counts ?? []).filter((c) => c.channel === channel && statuses.includes(c.status)).reduce((n, c) => n + c.count, 0);
  const down = services.filter((s) => s.state === 'disconnected' || s.state === 'degraded');

  return (
    <>
      <MessagingNav />
      <h1>Outbox</h1>
      <p>Everything that leaves the practice waits here until the service receiving it has it: text messages, email and letters through GOV.UK Notify, and laboratory orders.</p>
      {error ? <ErrorSummary message={error} testId="outbox-error" /> : null}
      {notice ? (
        <div className="nhsuk-inset-text" role="status" data-testid="outbox-notice">
          <p>{notice}</p>
        </div>
      ) : null}
      {down.map((s) => (
        <div className="nhsuk-warning-callout" key={s.name} data-testid="outbox-service-down">
          <h2 className="nhsuk-warning-callout__label">
            <span role="text">
              <span className="nhsuk-u-visually-hidden">Important: </span>
              {s.label} is not reachable
            </span>
          </h2>
          <p>
            {typeof s.queued === 'number' ? `${s.queued} message${s.queued === 1 ? '' : 's'} waiting. ` : ''}
            {s.detail ?? ''} Nothing is lost: they are sent by themselves when it answers again.
            {s.lastContact ? ` Last contact ${formatDateTime(s.lastContact)}.` : ''}
          </p>
        </div>
      ))}
      {!outbox ? (
        <p aria-busy="true">Loading the outbox…</p>
      ) : (
        <>
          <p data-testid="outbox-oldest">
            {outbox.oldestWaitingSeconds === null ? 'Nothing is waiting to leave.' : <>Oldest message waiting: <strong>{waitedFor(outbox.oldestWaitingSeconds)}</strong>.</>}
          </p>
          <table className="nhsuk-table" data-testid="outbox-counts">
            <caption className="nhsuk-table__caption">Messages by channel</caption>
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Channel</th>
                {STATE_COLUMNS.map((c) => (
                  <th scope="col" key={c.state} className="nhsuk-table__header--numeric">
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {channels.length === 0 ? (
                <tr>
                  <td colSpan={STATE_COLUMNS.length + 1}>No messages yet.</td>
                </tr>
              ) : (
                channels.map((ch) => (
                  <tr key={ch} data-testid={`outbox-channel-${ch}`}>
                    <th scope="row">{CHANNEL_LABEL[ch] ?? ch}</th>
                    {STATE_COLUMNS.map((c) => (
                      <td key={c.state} className="nhsuk-table__cell--numeric" data-state={c.state}>
                        {count(ch, c.state)}
                      </td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>

          <h2>Failed: for a person to see</h2>
          {failed.length === 0 ? (
            <p data-testid="outbox-no-failures">No message has failed.</p>
          ) : (
            <table className="nhsuk-table" data-testid="outbox-failed">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Failed messages</caption>
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {failed.map((r) => (
                  <tr key={r.id} data-testid="outbox-failed-row">
                    <td>
                      {CHANNEL_LABEL[r.channel] ?? r.channel}
                      <br />
                      <span className="nhsuk-body-s">from {r.source}, {r.attempts} attempt{r.attempts === 1 ? '' : 's'}</span>
                    </td>
                    <td>{formatDateTime(r.createdAt)}</td>
                    <td data-testid="outbox-failed-reason">{r.lastError || 'No reason was given'}</td>
                    <td>
                      {mayAct ? (
                        confirmCancel === r.id ? (
                          <>
                            <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small nhsuk-u-margin-bottom-1" disabled={busy === r.id} onClick={() => void act(r, 'cancel')}>
                              Yes, cancel it
                            </button>{' '}
                            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-1" onClick={() => setConfirmCancel(undefined)}>
                              Keep it
                            </button>
                          </>
                        ) : (
                          <>
                            <button type="button" className="nhsuk-button nhsuk-button--small nhsuk-u-margin-bottom-1" disabled={busy === r.id} onClick={() => void act(r, 'retry')} aria-label={`Retry ${CHANNEL_LABEL[r.channel] ?? r.channel} queued ${formatDateTime(r.createdAt)}`}>
                              Retry
                            </button>{' '}
                            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-1" onClick={() => setConfirmCancel(r.id)} aria-label={`Cancel ${CHANNEL_LABEL[r.channel] ?? r.channel} queued ${formatDateTime(r.createdAt)}`}>
                              Cancel
                            </button>
                          </>
                        )
                      ) : (
                        <span className="nhsuk-body-s">Reception or the practice administrator can retry or cancel</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h2>Waiting</h2>
          {waiting.length === 0 ? (
            <p>Nothing is waiting.</p>
          ) : (
            <table className="nhsuk-table" data-testid="outbox-waiting">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Messages waiting</caption>
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">Last problem</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {waiting.slice(0, 50).map((r) => (
                  <tr key={r.id}>
                    <td>{CHANNEL_LABEL[r.channel] ?? r.channel}{r.state === 'sending' ? ' (sending now)' : ''}</td>
                    <td>{formatDateTime(r.createdAt)}</td>
                    <td>{formatDateTime(r.nextAttemptAt)}</td>
                    <td>{r.lastError || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}

      {deliveries ? (
        <>
          <h2>Delivery to patients</h2>
          <table className="nhsuk-table" data-testid="delivery-counts">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Delivery to patients by channel</caption>
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Channel</th>
                {DELIVERY_COLUMNS.map((c) => (
                  <th scope="col" key={c.label} className="nhsuk-table__header--numeric">
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {deliveryChannels.length === 0 ? (
                <tr>
                  <td colSpan={DELIVERY_COLUMNS.length + 1}>No messages to patients yet.</td>
                </tr>
              ) : (
                deliveryChannels.map((ch) => (
                  <tr key={ch}>
                    <th scope="row">{CHANNEL_LABEL[ch] ?? ch}</th>
                    {DELIVERY_COLUMNS.map((c) => (
                      <td key={c.label} className="nhsuk-table__cell--numeric">
                        {deliveryCount(ch, c.statuses)}
                      </td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
          {deliveries.failures.length ? (
            <>
              <h3>Not delivered</h3>
              <p>Each of these is also a task for reception: check the contact details with the patient and tell them another way.</p>
              <table className="nhsuk-table" data-testid="delivery-failures">
                <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Messages not delivered</caption>
                <thead className="nhsuk-table__head">
                  <tr>
                    <th scope="col">Patient</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Status</th>
                    <th scope="col">Reason</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody className="nhsuk-table__body">
                  {deliveries.failures.map((f) => (
                    <tr key={f.outboxId} data-testid="delivery-failure-row">
                      <td>
                        <a href={`/patient/${f.patientId}`} onClick={onLinkClick(`/patient/${f.patientId}`)}>
                          {f.patientName || 'Open record'}
                        </a>
                      </td>
                      <td>{CHANNEL_LABEL[f.channel] ?? f.channel}</td>
                      <td>
                        <DeliveryTag status={f.status} />
                      </td>
                      <td>{f.error || 'Not delivered'}</td>
                      <td>{formatDateTime(f.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}
