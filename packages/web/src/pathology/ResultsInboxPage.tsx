import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { PatientPicker } from '../appointments/PatientPicker.tsx';
import type { Patient } from '../fhirTypes.ts';
import { formatDate, formatDateTime, labName, nhsNumberOf, patientName } from '../format.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';

import type { Assignee, ResultsBacklog as Backlog, ResultsInboxItem as InboxItem } from '@steadfast/domain/api';
interface Held {
  id: string;
  received_at: string;
  lab: string;
  message_id: string;
  state: string;
  reason: string;
  raw: string;
}

/**
 * One result held for a person: the reason and the raw message; a clinician can choose the patient of
 * an unmatched result (after checking the identity; audited) or re-process a message after a fix.
 */
function HeldRow({ item, canMatch, onDone }: { item: Held; canMatch: boolean; onDone: (message: string) => void }) {
  const [choosing, setChoosing] = useState(false);
  const [picked, setPicked] = useState<Patient | undefined>();
  const [error, setError] = useState<string | undefined>();
  const act = async (path: string, json: unknown) => {
    try {
      const out = await api<{ state: string; reason: string }>(path, { method: 'POST', json });
      onDone(`${out.state === 'filed' ? 'Filed' : `Now ${out.state}`}: ${out.reason}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <tr>
      <td>{formatDateTime(item.received_at)}</td>
      <td>{labName(item.lab)}</td>
      <td>
        <strong className="nhsuk-tag nhsuk-tag--orange">{item.state === 'unmatched' ? 'Patient not matched' : 'Could not be read'}</strong> {item.reason}
        <details className="nhsuk-details nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-2">
          <summary className="nhsuk-details__summary">
            <span className="nhsuk-details__summary-text">Message as received</span>
          </summary>
          <div className="nhsuk-details__text">
            <pre className="sf-raw">{item.raw.replace(/\r/g, '\n')}</pre>
          </div>
        </details>
        {error ? (
          <p className="nhsuk-error-message" role="alert">
            {error}
          </p>
        ) : null}
        {item.state === 'unmatched' && canMatch ? (
          choosing ? (
            picked ? (
              <p>
                File this result to <strong>{patientName(picked.name)}</strong>, born {formatDate(picked.birthDate)}, NHS number {formatNhsNumber(nhsNumberOf(picked) ?? '')}?{' '}
                <button type="button" className="nhsuk-button nhsuk-u-margin-bottom-0" onClick={() => void act(`/api/pathology/quarantine/${encodeURIComponent(item.id)}/match`, { patientId: picked.id })}>
                  Yes, file it
                </button>{' '}
                <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => setPicked(undefined)}>
                  Choose again
                </button>
              </p>
            ) : (
              <PatientPicker label="Find the patient this result belongs to" onPick={setPicked} />
            )
          ) : (
            <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => setChoosing(true)}>
              Choose the patient
            </button>
          )
        ) : null}
        {item.state === 'quarantined' ? (
          <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => void act(`/api/pathology/quarantine/${encodeURIComponent(item.id)}/reprocess`, {})}>
            Re-process
          </button>
        ) : null}
      </td>
    </tr>
  );
}
interface Duplicates {
  total: number;
  byLabAndDay: Array<{ lab: string; day: string; count: number }>;
}

/** A table's column headings. */
function Head({ columns }: { columns: string[] }) {
  return (
    <thead className="nhsuk-table__head">
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

const scopes = [
  { key: 'mine', label: 'My results' },
  { key: 'pool', label: 'Unassigned' },
  { key: 'all', label: 'All' },
] as const;

/** The laboratory's abnormal flags in words; the doubled ones are critical. */
export const abnormalText: Record<string, string> = { H: 'High', L: 'Low', HH: 'Critically high', LL: 'Critically low', A: 'Abnormal', AA: 'Critically abnormal', HU: 'Very high', LU: 'Very low' };
export const isCritical = (flag: string) => flag === 'HH' || flag === 'LL' || flag === 'AA';

/** The patient a row is for: name, NHS number 3-3-4 and date of birth, so no row is read as another's. */
function PatientCell({ item }: { item: InboxItem }) {
  const p = item.patientDetails;
  if (!p) return <td>Patient not found</td>;
  return (
    <td data-testid="results-row-patient">
      <strong>{patientName(p.name ? [p.name] : undefined)}</strong>
      <div className="nhsuk-body-s nhsuk-u-margin-bottom-0">
        NHS number <span className="sf-nowrap">{p.nhsNumber ? formatNhsNumber(p.nhsNumber) : 'not recorded'}</span>
        <br />
        Born {formatDate(p.birthDate) || 'not recorded'}
      </div>
    </td>
  );
}

/** The abnormal values of a result as tags: red for critical, orange otherwise. */
function AbnormalTags({ item }: { item: InboxItem }) {
  if (!item.abnormal.length) return null;
  return (
    <ul className="nhsuk-list nhsuk-body-s nhsuk-u-margin-bottom-0" data-testid="results-row-abnormal">
      {item.abnormal.map((a) => (
        <li key={`${a.test}${a.flag}`} className="nhsuk-u-margin-bottom-0">
          <strong className={`nhsuk-tag ${isCritical(a.flag) ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>{abnormalText[a.flag] ?? a.flag}</strong> {a.test}
        </li>
      ))}
    </ul>
  );
}

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
  const [notice, setNotice] = useState<string | undefined>();
  const [assignees, setAssignees] = useState<Assignee[]>([]);
  useEffect(() => {
    if (user.role !== 'practice-admin') return;
    api<{ assignees: Assignee[] }>('/api/tasks/assignees')
      .then((r) => setAssignees(r.assignees.filter((a) => a.role === 'clinician')))
      .catch(() => undefined);
  }, [user.role]);
  const reassign = async (item: InboxItem, owner: string) => {
    try {
      await api(`/api/tasks/${encodeURIComponent(item.taskId)}`, { method: 'POST', json: { owner: owner || null } });
      const who = assignees.find((a) => a.id === owner)?.name ?? 'the unassigned pool';
      setNotice(`${item.description} for ${patientName(item.patientDetails?.name ? [item.patientDetails.name] : undefined)} given to ${who}.`);
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

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
              <Head columns={['Priority', 'Patient', 'Result', 'Received']} />
              <tbody className="nhsuk-table__body">
                {items.map((i) => (
                  <tr key={i.taskId} data-testid="results-row">
                    <td>{i.priority === 'urgent' ? <strong className="nhsuk-tag nhsuk-tag--red">Urgent</strong> : <span className="nhsuk-tag nhsuk-tag--grey">Routine</span>}</td>
                    <PatientCell item={i} />
                    <td>
                      <a href={`/results/${i.taskId}`} onClick={onLinkClick(`/results/${i.taskId}`)}>
                        {i.description}
                      </a>
                      {i.flags.map((f) => (
                        <strong key={f} className={`nhsuk-tag ${f === 'correction' ? 'nhsuk-tag--red' : 'nhsuk-tag--yellow'} nhsuk-u-margin-left-2`}>
                          {flagText[f] ?? f}
                        </strong>
                      ))}
                      <AbnormalTags item={i} />
                    </td>
                    <td>{formatDateTime(i.authoredOn)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
      {user.role === 'practice-admin' ? (
        <>
          <h2>Waiting for review</h2>
          <p className="nhsuk-body-s">Give a result to another clinician when its clinician is away. Only a clinician opens and files a result.</p>
          {items.length === 0 ? <p data-testid="results-empty">No results waiting.</p> : null}
          {items.length ? (
            <table className="nhsuk-table" data-testid="results-admin-list">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Results waiting for review, urgent first then oldest, with the clinician each is with</caption>
              <Head columns={['Priority', 'Patient', 'Result', 'Received', 'With']} />
              <tbody className="nhsuk-table__body">
                {items.map((i) => (
                  <tr key={i.taskId} data-testid="results-row">
                    <td>{i.priority === 'urgent' ? <strong className="nhsuk-tag nhsuk-tag--red">Urgent</strong> : <span className="nhsuk-tag nhsuk-tag--grey">Routine</span>}</td>
                    <PatientCell item={i} />
                    <td>
                      {i.description}
                      <AbnormalTags item={i} />
                    </td>
                    <td>{formatDateTime(i.authoredOn)}</td>
                    <td>
                      <label className="nhsuk-label nhsuk-u-visually-hidden" htmlFor={`reassign-${i.taskId}`}>
                        Clinician for {i.description}, {patientName(i.patientDetails?.name ? [i.patientDetails.name] : undefined)}
                      </label>
                      <select className="nhsuk-select" id={`reassign-${i.taskId}`} value={i.owner ?? ''} onChange={(e) => void reassign(i, e.target.value)}>
                        <option value="">Unassigned pool</option>
                        {assignees.map((a) => (
                          <option key={a.id} value={a.id}>
                            {a.name}
                          </option>
                        ))}
                        {i.owner && !assignees.some((a) => a.id === i.owner) ? <option value={i.owner}>{i.owner}</option> : null}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
      {notice ? (
        <p role="status" data-testid="results-notice">
          {notice}
        </p>
      ) : null}
      {held.length ? (
        <>
          <h2>Held for a person</h2>
          <p className="nhsuk-body-s">Results that could not be filed safely: the patient could not be matched, or the message could not be read. Nothing is lost; each waits here until someone acts.</p>
          <table className="nhsuk-table" data-testid="results-held">
            <Head columns={['Received', 'Laboratory', 'Why']} />
            <tbody className="nhsuk-table__body">
              {held.map((h) => (
                <HeldRow
                  key={h.id}
                  item={h}
                  canMatch={clinician}
                  onDone={(message) => {
                    setNotice(message);
                    void refresh();
                  }}
                />
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
              <Head columns={['Day', 'Laboratory', 'Duplicates']} />
              <tbody className="nhsuk-table__body">
                {duplicates.byLabAndDay.map((d) => (
                  <tr key={`${d.day}/${d.lab}`}>
                    <td>{d.day}</td>
                    <td>{labName(d.lab)}</td>
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
