/**
 * Text messages patients sent back, in front of staff: matched to the patient when exactly one record
 * has the number (otherwise said so, never guessed), and marked as dealt with by name.
 */
import { useCallback, useEffect, useState } from 'react';
import type { PatientReply } from '@steadfast/domain/api';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { problemsOf } from './forms.tsx';
import { MessagingNav } from './MessagingNav.tsx';

export function RepliesPage() {
  const [replies, setReplies] = useState<PatientReply[] | undefined>();
  const [showDealtWith, setShowDealtWith] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      setReplies(await api<PatientReply[]>('/api/messaging/replies'));
      setError(undefined);
    } catch (err) {
      setError(`Replies could not be loaded: ${(err as Error).message}`);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 30_000);
    return () => clearInterval(t);
  }, [refresh]);

  const dealtWith = async (r: PatientReply) => {
    try {
      await api(`/api/messaging/replies/${encodeURIComponent(r.id)}/read`, { method: 'POST', json: {} });
      await refresh();
    } catch (err) {
      setError(problemsOf(err).map((p) => p.message).join(' '));
    }
  };

  const shown = (replies ?? []).filter((r) => showDealtWith || !r.readAt);
  const unread = (replies ?? []).filter((r) => !r.readAt).length;
  return (
    <>
      <MessagingNav />
      <h1>Patient replies</h1>
      <p>Text messages patients sent to the practice&apos;s number. Read each one and act on it: a reply may be clinical.</p>
      {error ? <ErrorSummary message={error} testId="replies-error" /> : null}
      <div className="nhsuk-checkboxes nhsuk-u-margin-bottom-3">
        <div className="nhsuk-checkboxes__item">
          <input className="nhsuk-checkboxes__input" id="replies-show-all" type="checkbox" checked={showDealtWith} onChange={(e) => setShowDealtWith(e.target.checked)} />
          <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="replies-show-all">
            Show replies already dealt with
          </label>
        </div>
      </div>
      {!replies ? (
        <p aria-busy="true">Loading replies…</p>
      ) : (
        <>
          <p data-testid="replies-unread">{unread === 0 ? 'No replies are waiting.' : `${unread} repl${unread === 1 ? 'y is' : 'ies are'} waiting.`}</p>
          {shown.length ? (
            <table className="nhsuk-table" data-testid="replies">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Replies from patients</caption>
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">From</th>
                  <th scope="col">Message</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {shown.map((r) => (
                  <tr key={r.id} data-testid="reply-row">
                    <td>{formatDateTime(r.receivedAt)}</td>
                    <td>
                      {r.patient ? (
                        <a href={`/patient/${r.patient.id}`} onClick={onLinkClick(`/patient/${r.patient.id}`)} data-testid="reply-patient">
                          {r.patient.name}
                        </a>
                      ) : (
                        <span data-testid="reply-unmatched">Not matched to a patient</span>
                      )}
                      <br />
                      <span className="nhsuk-body-s">{r.from}{r.patient ? '' : ': no single record has this number'}</span>
                    </td>
                    <td className="sf-message-preview">{r.message}</td>
                    <td>
                      {r.readAt ? (
                        <span className="nhsuk-body-s">Dealt with{r.readBy ? ` by ${r.readBy}` : ''} {formatDateTime(r.readAt)}</span>
                      ) : (
                        <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void dealtWith(r)} aria-label={`Mark the reply from ${r.patient?.name ?? r.from} as dealt with`}>
                          Mark as dealt with
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </>
  );
}
