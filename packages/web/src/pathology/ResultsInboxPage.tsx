import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';

interface InboxItem {
  taskId: string;
  reportId: string;
  patient: string;
  description: string;
  priority: string;
  owner?: string;
  authoredOn: string;
  flags: string[];
}
interface Backlog {
  count: number;
  urgent: number;
  oldestAuthoredOn: string | null;
  oldestAgeHours: number;
  waitingToFile: number;
  oldestWaitingToFile: string | null;
}
interface Held {
  id: string;
  received_at: string;
  lab: string;
  message_id: string;
  state: string;
  reason: string;
}
interface Duplicates {
  total: number;
  byLabAndDay: Array<{ lab: string; day: string; count: number }>;
}

const scopes = [
  { key: 'mine', label: 'My results' },
  { key: 'pool', label: 'Unassigned' },
  { key: 'all', label: 'All' },
] as const;

export const flagText: Record<string, string> = { correction: 'Corrected by the laboratory', amended: 'Amended', 'unmapped-test': 'Unmapped test code' };

function age(hours: number): string {
  if (hours < 1) return 'under an hour';
  if (hours < 48) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}

/**
 * The results inbox: new results waiting for a clinician (theirs, the unassigned pool, or all), urgent
 * first then oldest; the backlog's size and age; results held back for a person (unmatched patient or
 * quarantined message); for practice administrators, the backlog and the duplicates suppressed.
 */
export function ResultsInboxPage() {
  const { user } = useSession();
  const clinician = user.role === 'clinician';
  const [scope, setScope] = useState<'mine' | 'pool' | 'all'>(clinician ? 'mine' : 'all');
  const [items, setItems] = useState<InboxItem[]>([]);
  const [backlog, setBacklog] = useState<Backlog | undefined>();
  const [held, setHeld] = useState<Held[]>([]);
  const [duplicates, setDuplicates] = useState<Duplicates | undefined>();
  const [error, setError] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      const inbox = await api<{ items?: InboxItem[]; backlog: Backlog }>(`/api/pathology/inbox?scope=${scope}`);
      setItems(inbox.items ?? []);
      setBacklog(inbox.backlog);
      setHeld((await api<{ items: Held[] }>('/api/pathology/quarantine')).items);
      if (user.role === 'practice-admin') setDuplicates(await api<Duplicates>('/api/pathology/duplicates'));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [scope, user.role]);
  useEffect(() => void refresh(), [refresh]);

  return (
    <>
      <h1>Results</h1>
      {error ? (
        <p className="nhsuk-error-message" role="alert">
          Results could not be loaded: {error}
        </p>
      ) : null}
      {backlog ? (
        <dl className="nhsuk-summary-list sf-backlog" data-testid="results-backlog">
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Waiting for review</dt>
            <dd className="nhsuk-summary-list__value">
              {backlog.count} ({backlog.urgent} urgent){backlog.oldestAuthoredOn ? `, oldest ${age(backlog.oldestAgeHours)}` : ''}
            </dd>
          </div>
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Received, being filed</dt>
            <dd className="nhsuk-summary-list__value">
              {backlog.waitingToFile}
              {backlog.oldestWaitingToFile ? ` (oldest received ${formatDateTime(backlog.oldestWaitingToFile)})` : ''}
            </dd>
          </div>
          <div className="nhsuk-summary-list__row">
            <dt className="nhsuk-summary-list__key">Held for a person</dt>
            <dd className="nhsuk-summary-list__value">{held.length}</dd>
          </div>
        </dl>
      ) : null}
      {clinician ? (
        <>
          <nav aria-label="Whose results">
            <ul className="sf-scope-tabs">
              {scopes.map((s) => (
                <li key={s.key}>
                  <button type="button" className={`nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-2${scope === s.key ? ' sf-scope-tabs__current' : ''}`} aria-pressed={scope === s.key} onClick={() => setScope(s.key)}>
                    {s.label}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {items.length === 0 ? <p data-testid="results-empty">No results waiting here.</p> : null}
          {items.length ? (
            <table className="nhsuk-table" data-testid="results-list">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Results waiting for review, urgent first then oldest</caption>
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">Priority</th>
                  <th scope="col">Result</th>
                  <th scope="col">Received</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {items.map((i) => (
                  <tr key={i.taskId}>
                    <td>{i.priority === 'urgent' ? <strong className="nhsuk-tag nhsuk-tag--red">Urgent</strong> : <span className="nhsuk-tag nhsuk-tag--grey">Routine</span>}</td>
                    <td>
                      <a href={`/results/${i.taskId}`} onClick={onLinkClick(`/results/${i.taskId}`)}>
                        {i.description}
                      </a>
                      {i.flags.map((f) => (
                        <strong key={f} className={`nhsuk-tag ${f === 'correction' ? 'nhsuk-tag--red' : 'nhsuk-tag--yellow'} nhsuk-u-margin-left-2`}>
                          {flagText[f] ?? f}
                        </strong>
                      ))}
                    </td>
                    <td>{formatDateTime(i.authoredOn)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
      {held.length ? (
        <>
          <h2>Held for a person</h2>
          <p className="nhsuk-body-s">Results that could not be filed safely: the patient could not be matched, or the message could not be read. Nothing is lost; each waits here until someone acts.</p>
          <table className="nhsuk-table" data-testid="results-held">
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Laboratory</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {held.map((h) => (
                <tr key={h.id}>
                  <td>{formatDateTime(h.received_at)}</td>
                  <td>{h.lab || 'Unknown'}</td>
                  <td>
                    <strong className="nhsuk-tag nhsuk-tag--orange">{h.state === 'unmatched' ? 'Patient not matched' : 'Could not be read'}</strong> {h.reason}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {duplicates ? (
        <>
          <h2>Duplicates suppressed</h2>
          <p data-testid="results-duplicates">
            {duplicates.total} duplicate{duplicates.total === 1 ? '' : 's'} recognised and not filed again.
          </p>
          {duplicates.byLabAndDay.length ? (
            <table className="nhsuk-table">
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Laboratory</th>
                  <th scope="col">Duplicates</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {duplicates.byLabAndDay.map((d) => (
                  <tr key={`${d.day}/${d.lab}`}>
                    <td>{d.day}</td>
                    <td>{d.lab || 'Unknown'}</td>
                    <td>{d.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </>
  );
}
