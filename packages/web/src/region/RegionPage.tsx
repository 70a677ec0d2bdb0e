/**
 * Every practice on one screen, for hub staff: condition, when last heard from, and backlog by kind
 * (as last known, never shown lower than the hub knows), sortable by any column and filterable by
 * PCN, with what changed in the last hour. Refreshed every 15 seconds. Practices the early warning
 * rule flags (failures rising over weeks) are listed first with the rule's reason, marked in the
 * table and filterable, each linked to its charts; the region's daily health is charted below.
 */
import { useEffect, useMemo, useState } from 'react';
import type { BacklogKind } from '@steadfast/domain/api';
import { backlogKindLabels, type EarlyWarningResponse, type EarlyWarningView, type PracticeCondition, type RegionPracticeView, type RegionPracticesResponse } from '@steadfast/domain/region';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { HealthCharts } from './HealthCharts.tsx';

export const REFRESH_MS = 15_000;

/** The columns of backlog the region page shows, in the order of the issue. */
export const shownKinds: readonly BacklogKind[] = ['results-unfiled', 'documents-unfiled', 'consultations-untriaged', 'outbox-waiting', 'tasks-overdue', 'replication-waiting'];

const conditionText: Record<PracticeCondition, { label: string; tag: string; rank: number }> = {
  unreachable: { label: 'Unreachable', tag: 'nhsuk-tag--red', rank: 0 },
  unknown: { label: 'Never reported', tag: 'nhsuk-tag--grey', rank: 1 },
  attention: { label: 'Needs attention', tag: 'nhsuk-tag--orange', rank: 2 },
  ok: { label: 'Working', tag: 'nhsuk-tag--green', rank: 3 },
};

type SortKey = 'practice' | 'condition' | 'lastHeartbeatAt' | BacklogKind;

function sortValue(p: RegionPracticeView, key: SortKey, flagged: boolean): string | number {
  if (key === 'practice') return (p.name ?? p.practice).toLowerCase();
  // Within a condition, a practice whose failures are rising over weeks comes first.
  if (key === 'condition') return conditionText[p.condition].rank * 2 + (flagged ? 0 : 1);
  if (key === 'lastHeartbeatAt') return p.lastHeartbeatAt ?? '';
  // Not reported sorts with the largest: an unknown backlog is not a small one.
  return p.backlog[key] ?? Number.MAX_SAFE_INTEGER;
}

export function ConditionTag({ condition }: { condition: PracticeCondition }) {
  const c = conditionText[condition];
  return <strong className={`nhsuk-tag ${c.tag}`}>{c.label}</strong>;
}

/** The mark of a practice the early warning rule flags. */
export function EarlyWarningTag() {
  return <strong className="nhsuk-tag nhsuk-tag--yellow">Early warning</strong>;
}

const chartsLink = (practice: string) => `/region/practice/${practice}`;

export function RegionPage() {
  const [data, setData] = useState<RegionPracticesResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [pcn, setPcn] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'condition', descending: false });
  const [warnings, setWarnings] = useState<Map<string, EarlyWarningView>>(new Map());
  const [onlyFlagged, setOnlyFlagged] = useState(false);

  useEffect(() => {
    let stopped = false;
    const load = () =>
      api<RegionPracticesResponse>('/api/region/practices')
        .then((r) => {
          if (stopped) return;
          setData(r);
          setError(undefined);
        })
        .catch((err: Error) => !stopped && setError(err.message));
    // The rule reads complete weeks: once a load is enough (and again when the page is opened).
    api<EarlyWarningResponse>('/api/region/early-warning').then(
      (r) => !stopped && setWarnings(new Map(r.practices.map((p) => [p.practice, p]))),
      () => undefined,
    );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const pcns = useMemo(() => [...new Set((data?.practices ?? []).map((p) => p.pcn).filter((x): x is string => !!x))].sort(), [data]);
  const rows = useMemo(() => {
    const flagged = (p: RegionPracticeView) => warnings.get(p.practice)?.flagged === true;
    const list = (data?.practices ?? []).filter((p) => (!pcn || p.pcn === pcn) && (!onlyFlagged || flagged(p)));
    const dir = sort.descending ? -1 : 1;
    return [...list].sort((a, b) => {
      const x = sortValue(a, sort.key, flagged(a));
      const y = sortValue(b, sort.key, flagged(b));
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.practice.localeCompare(b.practice);
    });
  }, [data, pcn, sort, warnings, onlyFlagged]);
  const flaggedList = useMemo(() => [...warnings.values()].filter((w) => w.flagged && (!pcn || w.pcn === pcn)), [warnings, pcn]);
  const counts = useMemo(() => {
    const c: Record<PracticeCondition, number> = { unreachable: 0, unknown: 0, attention: 0, ok: 0 };
    for (const p of rows) c[p.condition]++;
    return c;
  }, [rows]);

  const header = (key: SortKey, label: string, numeric = false) => {
    const active = sort.key === key;
    return (
      <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'} className={numeric ? 'sf-numeric' : undefined}>
        <button type="button" className="sf-sort-button" onClick={() => setSort({ key, descending: active ? !sort.descending : numeric })}>
          {label}
          <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
        </button>
      </th>
    );
  };

  return (
    <>
      <h1>Practices in the region</h1>
      {error ? (
        <div className="nhsuk-warning-callout" role="alert">
          <h2 className="nhsuk-warning-callout__label">
            <span role="text">
              <span className="nhsuk-u-visually-hidden">Important: </span>The figures could not be refreshed
            </span>
          </h2>
          <p>{error}. The table shows the figures from {data ? formatDateTime(data.checkedAt) : 'nowhere yet'}; it tries again every 15 seconds.</p>
        </div>
      ) : null}
      {!data ? (
        <p aria-busy="true">Loading the region…</p>
      ) : (
        <>
          <div className={flaggedList.length ? 'nhsuk-warning-callout' : 'nhsuk-inset-text'} data-testid="early-warning">
            <h2 className={flaggedList.length ? 'nhsuk-warning-callout__label' : 'nhsuk-heading-s'}>
              <span role="text">
                {flaggedList.length ? <span className="nhsuk-u-visually-hidden">Important: </span> : null}
                Early warning: {flaggedList.length ? `${flaggedList.length} practice${flaggedList.length === 1 ? '' : 's'} with failures rising over weeks` : 'no practice has failures rising over weeks'}
              </span>
            </h2>
            {flaggedList.length ? (
              <ul data-testid="early-warning-list">
                {flaggedList.map((w) => (
                  <li key={w.practice} data-practice={w.practice}>
                    <a href={chartsLink(w.practice)} onClick={onLinkClick(chartsLink(w.practice))}>
                      {w.name ?? w.practice} ({w.practice}): see its charts
                    </a>{' '}
                    — {w.reason}
                  </li>
                ))}
              </ul>
            ) : (
              <p>The rule looks at each practice's last six complete weeks of failed exchanges, server errors, restarts, and outbox and inbox failures.</p>
            )}
          </div>
          <p data-testid="region-summary">
            {rows.length} practice{rows.length === 1 ? '' : 's'}: {counts.unreachable} unreachable, {counts.unknown} never reported, {counts.attention} needing attention, {counts.ok} working. Checked{' '}
            {formatDateTime(data.checkedAt)}.
          </p>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="pcn-filter">
              Primary Care Network
            </label>
            <select className="nhsuk-select" id="pcn-filter" value={pcn} onChange={(e) => setPcn(e.target.value)}>
              <option value="">All PCNs</option>
              {pcns.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="nhsuk-checkboxes nhsuk-checkboxes--small nhsuk-u-margin-bottom-4">
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" type="checkbox" id="early-warning-filter" checked={onlyFlagged} onChange={(e) => setOnlyFlagged(e.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="early-warning-filter">
                Only practices with an early warning
              </label>
            </div>
          </div>
          <div className="sf-table-scroll">
            <table className="nhsuk-table sf-region-table" data-testid="region-table">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Every practice: condition, last heard from, backlog by kind and the last hour</caption>
              <thead className="nhsuk-table__head">
                <tr>
                  {header('practice', 'Practice')}
                  {header('condition', 'Condition')}
                  {header('lastHeartbeatAt', 'Last heard from')}
                  {shownKinds.map((k) => (
                    <th key={k} scope="col" aria-sort={sort.key === k ? (sort.descending ? 'descending' : 'ascending') : 'none'} className="sf-numeric">
                      <button type="button" className="sf-sort-button" onClick={() => setSort({ key: k, descending: sort.key === k ? !sort.descending : true })}>
                        {backlogKindLabels[k]}
                        <span aria-hidden="true">{sort.key === k ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                      </button>
                    </th>
                  ))}
                  <th scope="col">Last hour</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.practice} data-practice={p.practice}>
                    <td>
                      <a href={`/region/practice/${p.practice}`} onClick={onLinkClick(`/region/practice/${p.practice}`)}>
                        {p.name ?? p.practice}
                      </a>
                      <br />
                      <span className="nhsuk-body-s">
                        {p.practice}
                        {p.pcn ? ` · ${p.pcn}` : ''}
                      </span>
                    </td>
                    <td>
                      <ConditionTag condition={p.condition} />
                      {p.reasons.length ? <p className="nhsuk-body-s nhsuk-u-margin-bottom-0">{p.reasons.join('; ')}</p> : null}
                      {warnings.get(p.practice)?.flagged ? (
                        <p className="nhsuk-body-s nhsuk-u-margin-bottom-0" data-testid="early-warning-flag">
                          <EarlyWarningTag /> {warnings.get(p.practice)!.reason}.{' '}
                          <a href={chartsLink(p.practice)} onClick={onLinkClick(chartsLink(p.practice))}>
                            Charts<span className="nhsuk-u-visually-hidden"> for {p.name ?? p.practice}</span>
                          </a>
                        </p>
                      ) : null}
                    </td>
                    <td>{p.lastHeartbeatAt ? formatDateTime(p.lastHeartbeatAt) : 'Never'}</td>
                    {shownKinds.map((k) => {
                      const v = p.backlog[k];
                      return (
                        <td key={k} className="sf-numeric" data-kind={k}>
                          {v === null || v === undefined ? <span className="nhsuk-body-s">Not reported</span> : v}
                          {p.condition === 'unreachable' && v !== null && v !== undefined ? <span className="nhsuk-body-s"> (at least, as of {formatDateTime(p.backlogAsOf ?? undefined)})</span> : null}
                        </td>
                      );
                    })}
                    <td>
                      {p.lastHour.length ? (
                        <ul className="nhsuk-list nhsuk-body-s nhsuk-u-margin-bottom-0">
                          {p.lastHour.map((c) => (
                            <li key={c}>{c}</li>
                          ))}
                        </ul>
                      ) : (
                        <span className="nhsuk-body-s">No change</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <HealthCharts practice={null} />
        </>
      )}
    </>
  );
}
