/**
 * One practice at the hub: its current condition and early warning verdict, each node's latest
 * report, its daily health over days and weeks (charts), and its history of heartbeats (status and
 * backlog by kind) over the chosen period, as a chart and newest first as a table.
 */
import { useEffect, useMemo, useState } from 'react';
import { backlogKindLabels, type EarlyWarningResponse, type EarlyWarningView, type PracticeHistoryResponse, type RegionPracticesResponse, type RegionPracticeView } from '@steadfast/domain/region';
import { TimeChart } from '../charts/TimeChart.tsx';
import { HealthCharts } from './HealthCharts.tsx';
import { backlogChartData } from './healthSeries.ts';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { ConditionTag, EarlyWarningTag, REFRESH_MS, shownKinds } from './RegionPage.tsx';

const periods = [
  { hours: 1, label: 'Last hour' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 24 * 7, label: 'Last 7 days' },
];
/** Rows shown at most; a week of one-minute heartbeats is thousands. */
const MAX_ROWS = 200;

export function PracticePage({ practice }: { practice: string }) {
  const [view, setView] = useState<RegionPracticeView | null | undefined>();
  const [history, setHistory] = useState<PracticeHistoryResponse | undefined>();
  const [hours, setHours] = useState(24);
  const [error, setError] = useState<string | undefined>();
  const [warning, setWarning] = useState<EarlyWarningView | null | undefined>();

  useEffect(() => {
    api<EarlyWarningResponse>('/api/region/early-warning').then((r) => setWarning(r.practices.find((p) => p.practice === practice) ?? null), () => setWarning(undefined));
  }, [practice]);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const from = new Date(Date.now() - hours * 3600_000).toISOString();
        const [all, h] = await Promise.all([api<RegionPracticesResponse>('/api/region/practices'), api<PracticeHistoryResponse>(`/api/region/practices/${encodeURIComponent(practice)}/history?from=${encodeURIComponent(from)}`)]);
        if (stopped) return;
        setView(all.practices.find((p) => p.practice === practice) ?? null);
        setHistory(h);
        setError(undefined);
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [practice, hours]);

  const rows = history ? [...history.heartbeats].reverse().slice(0, MAX_ROWS) : [];
  const backlog = useMemo(() => (history ? backlogChartData(history.heartbeats, shownKinds) : undefined), [history]);
  const periodLabel = periods.find((p) => p.hours === hours)?.label.toLowerCase() ?? '';
  return (
    <>
      <a className="nhsuk-back-link" href="/region" onClick={onLinkClick('/region')}>
        All practices
      </a>
      <h1>{view?.name ? `${view.name} (${practice})` : practice}</h1>
      {error ? (
        <p className="nhsuk-error-message" role="alert">
          The figures could not be refreshed: {error}
        </p>
      ) : null}
      {view === undefined ? <p aria-busy="true">Loading…</p> : null}
      {view === null ? <p>No practice {practice} is registered at this hub.</p> : null}
      {view ? (
        <>
          <p>
            <ConditionTag condition={view.condition} /> {view.reasons.join('; ')}
          </p>
          {warning ? (
            <p data-testid="practice-early-warning">
              {warning.flagged ? <EarlyWarningTag /> : <strong>Early warning: </strong>} {warning.reason}
            </p>
          ) : null}
          <dl className="nhsuk-summary-list">
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">PCN</dt>
              <dd className="nhsuk-summary-list__value">{view.pcn ?? 'Not set'}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Last heard from</dt>
              <dd className="nhsuk-summary-list__value">{view.lastHeartbeatAt ? formatDateTime(view.lastHeartbeatAt) : 'Never'}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Last change-log exchange</dt>
              <dd className="nhsuk-summary-list__value">{view.lastExchangeAt ? formatDateTime(view.lastExchangeAt) : 'Never'}</dd>
            </div>
            <div className="nhsuk-summary-list__row">
              <dt className="nhsuk-summary-list__key">Software version</dt>
              <dd className="nhsuk-summary-list__value">{view.version ?? 'Not reported'}</dd>
            </div>
            {view.nodes.map((n) => (
              <div className="nhsuk-summary-list__row" key={n.nodeId}>
                <dt className="nhsuk-summary-list__key">Node {n.nodeId}</dt>
                <dd className="nhsuk-summary-list__value">
                  Reported {formatDateTime(n.lastReceivedAt)}; standby {n.standby.configured ? (n.standby.up ? 'up' : 'down') : 'none'}; disk{' '}
                  {n.disk ? `${Math.round((n.disk.freeBytes / n.disk.totalBytes) * 100)}% free` : 'not reported'}
                </dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
      <HealthCharts practice={practice} />
      <h2>History</h2>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="history-period">
          Period
        </label>
        <select className="nhsuk-select" id="history-period" value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {periods.map((p) => (
            <option key={p.hours} value={p.hours}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      {history && !rows.length ? <p>No heartbeats in this period.</p> : null}
      {backlog && rows.length ? <TimeChart caption={`Backlog by kind, ${periodLabel}`} times={backlog.times} series={backlog.series} granularity="time" yLabel="Items waiting" testId="practice-backlog-chart" /> : null}
      {rows.length ? (
        <div className="sf-table-scroll">
          <table className="nhsuk-table" data-testid="practice-history">
            <caption className="nhsuk-table__caption">
              Heartbeats, newest first{history && history.heartbeats.length > MAX_ROWS ? ` (the latest ${MAX_ROWS} of ${history.heartbeats.length})` : ''}
            </caption>
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Hub reachable</th>
                {shownKinds.map((k) => (
                  <th scope="col" key={k} className="sf-numeric">
                    {backlogKindLabels[k]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((h) => (
                <tr key={`${h.nodeId}-${h.seq}`}>
                  <td>{formatDateTime(h.receivedAt)}</td>
                  <td>{h.hubReachable ? 'Yes' : 'No'}</td>
                  {shownKinds.map((k) => {
                    const f = h.backlog.find((b) => b.kind === k);
                    return (
                      <td key={k} className="sf-numeric">
                        {f ? f.count : <span className="nhsuk-body-s">Not reported</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
