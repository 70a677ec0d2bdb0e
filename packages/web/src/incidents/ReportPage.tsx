/** The practice's report to the region during an incident: what is not working, the backlog, the help needed. Sent through the node's outbox. */
import { useMemo, useState } from 'react';
import { reportAreas, type ReportArea } from '@steadfast/domain/region';
import { api } from '../api.ts';
import { navigate } from '../router.ts';
import { fieldError, issuesOf, IssuesSummary, type Issue } from './IssuesSummary.tsx';
import { useBanner } from './IncidentBanner.tsx';

export function ReportPage({ incidentId }: { incidentId: string }) {
  const [banner] = useBanner();
  const incident = banner?.incidents.find((i) => i.id === incidentId);
  const reportId = useMemo(() => crypto.randomUUID(), []);
  const [areas, setAreas] = useState<ReportArea[]>([]);
  const [details, setDetails] = useState('');
  const [backlog, setBacklog] = useState('');
  const [helpNeeded, setHelpNeeded] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api(`/api/incidents/${incidentId}/reports`, { method: 'POST', json: { reportId, notWorking: areas, details, backlog, helpNeeded } });
      setIssues([]);
      setSent(true);
    } catch (err) {
      setIssues(issuesOf(err));
    } finally {
      setBusy(false);
    }
  };
  if (sent) {
    return (
      <div className="nhsuk-panel" data-testid="report-sent">
        <h1>Report sent to the region</h1>
        <p>It goes to the regional hub now, or as soon as the hub can be reached; the banner shows when it has arrived.</p>
        <button type="button" className="nhsuk-button" onClick={() => navigate('/')}>
          Back to work
        </button>
      </div>
    );
  }
  const err = (f: string) => fieldError(issues, f);
  const group = (f: string) => `nhsuk-form-group${err(f) ? ' nhsuk-form-group--error' : ''}`;
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <IssuesSummary issues={issues} prefix="report" testId="report-error" />
      <h1>Report your practice’s problems{incident ? `: ${incident.title}` : ''}</h1>
      <div className={group('notWorking')}>
        <fieldset className="nhsuk-fieldset" id="report-notWorking">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">What is not working?</legend>
          {err('notWorking') ? <span className="nhsuk-error-message">{err('notWorking')}</span> : null}
          <div className="nhsuk-checkboxes">
            {(Object.entries(reportAreas) as Array<[ReportArea, string]>).map(([value, label]) => (
              <div className="nhsuk-checkboxes__item" key={value}>
                <input className="nhsuk-checkboxes__input" id={`area-${value}`} type="checkbox" checked={areas.includes(value)} onChange={(e) => setAreas(e.target.checked ? [...areas, value] : areas.filter((a) => a !== value))} />
                <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`area-${value}`}>
                  {label}
                </label>
              </div>
            ))}
          </div>
        </fieldset>
      </div>
      {(
        [
          ['details', 'Details (what else the region should know)', details, setDetails],
          ['backlog', 'Your backlog (for example "about 60 results unfiled, two days of letters")', backlog, setBacklog],
          ['helpNeeded', 'What help do you need? (write "none" if none)', helpNeeded, setHelpNeeded],
        ] as const
      ).map(([f, label, value, set]) => (
        <div className={group(f)} key={f}>
          <label className="nhsuk-label" htmlFor={`report-${f}`}>
            {label}
          </label>
          {err(f) ? <span className="nhsuk-error-message">{err(f)}</span> : null}
          <textarea className="nhsuk-textarea" id={`report-${f}`} rows={3} value={value} onChange={(e) => set(e.target.value)} />
        </div>
      ))}
      <button type="submit" className="nhsuk-button" disabled={busy}>
        Send report
      </button>
    </form>
  );
}
