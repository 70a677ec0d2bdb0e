import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.ts';
import { NotAvailable } from '../record/Section.tsx';
import { ErrorSummary, failureOf, type FormFailure } from './FormError.tsx';

interface Entry {
  seq: number;
  recorded: string;
  userName: string;
  userRole: string;
  workstation: string;
  event: string;
  resource: string | null;
  patient: string | null;
  outcome: string;
  detail: string | null;
}

/** Plain-English names of the events worth searching for. */
const EVENTS: Array<[string, string]> = [
  ['', 'Any event'],
  ['read', 'Record read'],
  ['search', 'Search'],
  ['create', 'Created'],
  ['update', 'Changed'],
  ['delete', 'Removed'],
  ['login', 'Signed in'],
  ['login-failed', 'Sign-in failed'],
  ['logout', 'Signed out'],
  ['break-glass', 'Emergency access'],
  ['account-created', 'Staff account added'],
  ['account-disabled', 'Staff account disabled'],
  ['account-enabled', 'Staff account enabled'],
  ['account-password-reset', 'Password reset'],
  ['account-unlocked', 'Staff account unlocked'],
];
const eventLabel = new Map(EVENTS);
const FIELDS = { user: 'audit-user', patient: 'audit-patient', event: 'audit-event', from: 'audit-from', to: 'audit-to' };

/** Search the audit trail: who did what, when and from which workstation. Newest first, 100 at a time. */
export function AuditPage() {
  const { user } = useSession();
  const [q, setQ] = useState({ user: '', patient: '', event: '', from: '', to: '' });
  const [entries, setEntries] = useState<Entry[] | undefined>();
  const [next, setNext] = useState<number | undefined>();
  const [failure, setFailure] = useState<FormFailure | undefined>();
  if (user.role !== 'practice-admin') return <NotAvailable what="the audit trail" />;

  const search = async (before?: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v.trim()) params.set(k, v.trim());
    if (before) params.set('before', String(before));
    try {
      const r = await api<{ entries: Entry[]; next?: number }>(`/api/audit?${params}`);
      setEntries(before ? [...(entries ?? []), ...r.entries] : r.entries);
      setNext(r.next);
      setFailure(undefined);
    } catch (err) {
      setFailure(failureOf(err, FIELDS));
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search();
  };

  return (
    <>
      <h1>Audit trail</h1>
      <ErrorSummary failure={failure} testId="audit-error" />
      <form onSubmit={submit} className="sf-audit-search" noValidate>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="audit-user">Staff username</label>
          <input className="nhsuk-input nhsuk-input--width-10" id="audit-user" value={q.user} onChange={(e) => setQ({ ...q, user: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="audit-patient">Patient id</label>
          <input className="nhsuk-input nhsuk-input--width-20" id="audit-patient" value={q.patient} onChange={(e) => setQ({ ...q, patient: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="audit-event">Event</label>
          <select className="nhsuk-select" id="audit-event" value={q.event} onChange={(e) => setQ({ ...q, event: e.target.value })}>
            {EVENTS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="audit-from">From</label>
          <input className="nhsuk-input nhsuk-input--width-10" id="audit-from" type="date" value={q.from} onChange={(e) => setQ({ ...q, from: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="audit-to">To</label>
          <input className="nhsuk-input nhsuk-input--width-10" id="audit-to" type="date" value={q.to} onChange={(e) => setQ({ ...q, to: e.target.value })} />
        </div>
        <button className="nhsuk-button" type="submit">Search the audit trail</button>
      </form>
      {entries ? (
        <table className="nhsuk-table" data-testid="audit-results">
          <caption className="nhsuk-table__caption">
            {entries.length} entr{entries.length === 1 ? 'y' : 'ies'}
            {next ? ' (more below)' : ''}
          </caption>
          <thead className="nhsuk-table__head">
            <tr className="nhsuk-table__row">
              <th className="nhsuk-table__header" scope="col">When</th>
              <th className="nhsuk-table__header" scope="col">Who</th>
              <th className="nhsuk-table__header" scope="col">Workstation</th>
              <th className="nhsuk-table__header" scope="col">Event</th>
              <th className="nhsuk-table__header" scope="col">What</th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {entries.map((e) => (
              <tr className="nhsuk-table__row" key={e.seq} data-testid="audit-row">
                <td className="nhsuk-table__cell">{formatDateTime(e.recorded)}</td>
                <td className="nhsuk-table__cell">
                  {e.userName}
                  {e.userRole ? <span className="nhsuk-body-s"> ({e.userRole})</span> : null}
                </td>
                <td className="nhsuk-table__cell">{e.workstation}</td>
                <td className="nhsuk-table__cell">
                  {eventLabel.get(e.event) ?? e.event}
                  {e.outcome !== 'success' ? <strong className="nhsuk-tag nhsuk-tag--red"> failed</strong> : null}
                </td>
                <td className="nhsuk-table__cell">{[e.resource, e.patient && e.patient !== e.resource ? e.patient : null, e.detail].filter(Boolean).join(' · ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {entries && !entries.length ? <p>Nothing in the audit trail matches.</p> : null}
      {next ? (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void search(next)}>
          Show older entries
        </button>
      ) : null}
    </>
  );
}
