/** At the hub: one incident, its updates, acknowledgements and reports per practice, the export, and (region lead) update and close. */
import { useCallback, useEffect, useState } from 'react';
import { reportAreas, unheardPractices, type IncidentDetail } from '@steadfast/domain/region';
import { ConditionTag } from '../region/RegionPage.tsx';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { fieldError, issuesOf, IssuesSummary, type Issue } from './IssuesSummary.tsx';
import { emptyUpdate, updateBody, UpdateFields, type UpdateValues } from './UpdateFields.tsx';

export const INCIDENT_REFRESH_MS = 5000;

export function HubIncidentPage({ id, canPost }: { id: string; canPost: boolean }) {
  const [detail, setDetail] = useState<IncidentDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [update, setUpdate] = useState<UpdateValues>(emptyUpdate);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [closing, setClosing] = useState<UpdateValues>(emptyUpdate);
  const [closeIssues, setCloseIssues] = useState<Issue[]>([]);
  const [confirmUnheard, setConfirmUnheard] = useState(false);
  const load = useCallback(() => api<IncidentDetail>(`/api/region/incidents/${id}`).then((d) => (setDetail(d), setError(undefined)), (err: Error) => setError(err.message)), [id]);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), INCIDENT_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const post = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      setDetail(await api<IncidentDetail>(`/api/region/incidents/${id}/updates`, { method: 'POST', json: updateBody(update) }));
      setUpdate(emptyUpdate);
      setIssues([]);
    } catch (err) {
      setIssues(issuesOf(err));
    }
  };
  const close = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      setDetail(await api<IncidentDetail>(`/api/region/incidents/${id}/close`, { method: 'POST', json: { known: closing.known, practicesShould: closing.practicesShould, confirmUnheard } }));
      setCloseIssues([]);
    } catch (err) {
      setCloseIssues(issuesOf(err));
      // A practice may have gone quiet since the page was loaded: show who, so the lead can decide.
      void load();
    }
  };
  if (!detail) return error ? <p className="nhsuk-error-message">{error}</p> : <p>Loading…</p>;
  const unheard = unheardPractices(detail.practiceViews);
  const confirmErr = fieldError(closeIssues, 'confirmUnheard');
  return (
    <>
      <h1>{detail.title}</h1>
      <p>
        <strong className={`nhsuk-tag ${detail.status === 'open' ? 'nhsuk-tag--red' : 'nhsuk-tag--green'}`}>{detail.status === 'open' ? 'Open' : 'Closed'}</strong> Opened {formatDateTime(detail.openedAt)}
        {detail.closedAt ? `, closed ${formatDateTime(detail.closedAt)}` : ''}.{' '}
        <a href={`/api/region/incidents/${id}/timeline.csv`} download>
          Timeline (CSV)
        </a>{' '}
        ·{' '}
        <a href={`/api/region/incidents/${id}/timeline.pdf`} download>
          Timeline (PDF)
        </a>
      </p>
      <h2>Practices</h2>
      <table className="nhsuk-table" data-testid="incident-practices">
        <thead>
          <tr>
            <th>Practice</th>
            <th>Heard from</th>
            <th>Latest update acknowledged</th>
            <th>Reports</th>
          </tr>
        </thead>
        <tbody>
          {detail.practiceViews.map((p) => (
            <tr key={p.practice} data-practice={p.practice}>
              <td>{p.name ? `${p.name} (${p.practice})` : p.practice}</td>
              <td data-testid="heard-from">
                <ConditionTag condition={p.condition} />
                <div className="nhsuk-body-s">{p.lastHeartbeatAt ? `Last heartbeat ${formatDateTime(p.lastHeartbeatAt)}` : 'Never heard from'}</div>
              </td>
              <td data-testid="acknowledged">
                {p.latestAcknowledged ? 'Yes' : 'Not yet'}
                {p.acknowledgements.map((a) => (
                  <div key={`${a.updateId}-${a.by}`} className="nhsuk-body-s">
                    Update {a.updateSeq}: {a.by} ({a.role}), {formatDateTime(a.at)}
                  </div>
                ))}
              </td>
              <td data-testid="reports">
                {p.reports.length === 0 ? 'None' : null}
                {p.reports.map((r) => (
                  <div key={r.id} className="nhsuk-body-s">
                    <strong>{formatDateTime(r.at)}, {r.by}:</strong> not working: {r.report.notWorking.map((a) => reportAreas[a]).join(', ')}
                    {r.report.details ? ` (${r.report.details})` : ''}. Backlog: {r.report.backlog}. Help needed: {r.report.helpNeeded}.
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Updates</h2>
      <ol className="nhsuk-list" reversed data-testid="incident-updates">
        {[...detail.updates].reverse().map((u) => (
          <li key={u.id}>
            <strong>
              {u.kind === 'closed' ? 'Closed' : `Update ${u.seq}`}, {formatDateTime(u.postedAt)} by {u.postedBy}
            </strong>
            <p>Known: {u.known}</p>
            <p>Practices should: {u.practicesShould}</p>
            {u.nextUpdateAt ? <p>Next update by {formatDateTime(u.nextUpdateAt)}</p> : null}
            {u.expectedRestorationAt ? <p>Expected restoration {formatDateTime(u.expectedRestorationAt)}</p> : null}
          </li>
        ))}
      </ol>
      {canPost && detail.status === 'open' ? (
        <>
          <form onSubmit={(e) => void post(e)} noValidate data-testid="post-update">
            <h2>Post an update</h2>
            <IssuesSummary issues={issues} prefix="update" testId="update-error" />
            <UpdateFields prefix="update" values={update} onChange={setUpdate} issues={issues} />
            <button type="submit" className="nhsuk-button">
              Post the update
            </button>
          </form>
          <form onSubmit={(e) => void close(e)} noValidate data-testid="close-incident">
            <h2>Close the incident</h2>
            <IssuesSummary issues={closeIssues} prefix="close" testId="close-error" />
            <UpdateFields prefix="close" values={closing} onChange={setClosing} issues={closeIssues} closing />
            {unheard.length ? (
              <div className={`nhsuk-form-group${confirmErr ? ' nhsuk-form-group--error' : ''}`} data-testid="close-unheard">
                <div className="nhsuk-warning-callout">
                  <h3 className="nhsuk-warning-callout__label">
                    <span role="text">
                      <span className="nhsuk-u-visually-hidden">Important: </span>Not heard from: their status is unknown
                    </span>
                  </h3>
                  <p>The hub has not heard from {unheard.length === 1 ? 'this practice' : `these ${unheard.length} practices`} recently, so it does not know whether they are working again. Closing tells them all is clear.</p>
                  <ul>
                    {unheard.map((p) => (
                      <li key={p.practice}>
                        {p.name ? `${p.name} (${p.practice})` : p.practice}: {p.lastHeartbeatAt ? `last heard from ${formatDateTime(p.lastHeartbeatAt)}` : 'never heard from'}
                      </li>
                    ))}
                  </ul>
                </div>
                {confirmErr ? <span className="nhsuk-error-message">{confirmErr}</span> : null}
                <div className="nhsuk-checkboxes">
                  <div className="nhsuk-checkboxes__item">
                    <input className="nhsuk-checkboxes__input" type="checkbox" id="close-confirmUnheard" checked={confirmUnheard} onChange={(e) => setConfirmUnheard(e.target.checked)} />
                    <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="close-confirmUnheard">
                      I have checked: close the incident without hearing from {unheard.length === 1 ? 'this practice' : 'these practices'}
                    </label>
                  </div>
                </div>
              </div>
            ) : null}
            <button type="submit" className="nhsuk-button nhsuk-button--secondary">
              Close the incident
            </button>
          </form>
        </>
      ) : null}
    </>
  );
}
