import { useCallback, useEffect, useMemo, useState } from 'react';
import type { DocumentBacklog as Backlog, DocumentDaily, DocumentListPage } from '@steadfast/domain/api';
import { DOCUMENT_TYPES, londonDate } from '@steadfast/domain/documents';
import { api } from '../api.ts';
import { TimeChart, type ChartSeries } from '../charts/TimeChart.tsx';
import { formatDate } from '../format.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { navigate, onLinkClick, usePath } from '../router.ts';
import { useSession } from '../session.ts';

export interface DocumentItem {
  id: string;
  source: string;
  receivedAt: string;
  filename: string;
  kind: string;
  subject: string;
  sender: string;
  state: string;
  problem: string | null;
  copies: number;
  proposedPatient: { id: string; display: string | null } | null;
  patientId: string | null;
  matchNotes: string[];
  type: string | null;
  date: string | null;
  assignee: { id: string; name: string | null } | null;
  action: string | null;
}

export const STATE_LABEL: Record<string, string> = { unmatched: 'Unmatched', proposed: 'Patient proposed', matched: 'Patient confirmed', 'with-clinician': 'With clinician', filed: 'Filed' };
const SOURCE_LABEL: Record<string, string> = { imap: 'Email', folder: 'Scanner', upload: 'Upload', fhir: 'FHIR' };
const TYPE_LABEL: Record<string, string> = { ...Object.fromEntries(DOCUMENT_TYPES.map((t) => [t.key, t.label])), untyped: 'Type not set yet' };
const UNWORKED = 'unmatched,proposed,matched,with-clinician';
/** The first page is small, so the screen is quick at any backlog; "Show more" pages on by keyset. */
export const FIRST_PAGE = 50;

const ageOf = (iso: string | null, now = Date.now()) => (iso ? age(Math.max(0, Math.floor((now - Date.parse(iso)) / 3_600_000))) : '');
const listed = (entries: Record<string, number>, labels: Record<string, string> = {}) =>
  Object.entries(entries)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${labels[k] ?? k} ${n}`)
    .join(', ');

/** `?since=YYYY-MM-DD` in the address: an "arrived since" view can be shared as a link. */
function sinceOf(path: string): string {
  const v = new URLSearchParams(path.split('?')[1] ?? '').get('since') ?? '';
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '';
}

/** The days shown: from the "arrived since" date (up to a year back), or the last 30 days. */
function dailyFrom(since: string, to: string): string {
  if (!since || since > to) return daysBefore(to, 29);
  return since < daysBefore(to, 365) ? daysBefore(to, 365) : since;
}

function daysBefore(date: string, n: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

function age(hours: number): string {
  return hours < 48 ? `${hours} hour${hours === 1 ? '' : 's'}` : `${Math.floor(hours / 24)} days`;
}

/**
 * The documents workflow list: the backlog (counts and ages by state, source, type and person) with the
 * oldest unworked document always on screen, arrivals and filings per day, an "arrived since" filter
 * kept in the address (so it can be shared), the documents to work (oldest first, a page at a time),
 * upload for paper, and a clinician's own queue. Keys: j and k move, Enter opens.
 */
export function DocumentsPage() {
  const { user } = useSession();
  const [backlog, setBacklog] = useState<Backlog | undefined>();
  const [docs, setDocs] = useState<DocumentItem[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [total, setTotal] = useState(0);
  const [daily, setDaily] = useState<DocumentDaily | undefined>();
  const [mine, setMine] = useState<DocumentItem[] | undefined>();
  const since = sinceOf(usePath());
  const setSince = (value: string) => navigate(value ? `/documents?since=${value}` : '/documents', { replace: true });
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [selected, setSelected] = useState(0);
  const [uploading, setUploading] = useState(false);

  const load = useCallback(async () => {
    try {
      const [b, list] = await Promise.all([
        api<Backlog>('/api/documents/backlog'),
        api<DocumentListPage<DocumentItem>>(`/api/documents?state=${UNWORKED}&limit=${FIRST_PAGE}${since ? `&since=${since}` : ''}`),
      ]);
      setBacklog(b);
      setDocs(list.documents);
      setNext(list.next);
      setTotal(list.total ?? list.documents.length);
      setError(undefined);
      // After the first paint: the clinician's own queue, and the days (chart and table).
      if (user.role === 'clinician') setMine((await api<{ documents: DocumentItem[] }>('/api/documents/queue/mine')).documents);
      const to = londonDate(new Date());
      setDaily(await api<DocumentDaily>(`/api/documents/backlog/daily?from=${dailyFrom(since, to)}&to=${to}`));
    } catch (err) {
      setError((err as Error).message);
    }
  }, [since, user.role]);
  useEffect(() => void load(), [load]);

  async function more() {
    if (!next) return;
    try {
      const page = await api<DocumentListPage<DocumentItem>>(`/api/documents?state=${UNWORKED}&limit=${FIRST_PAGE * 2}&after=${encodeURIComponent(next)}${since ? `&since=${since}` : ''}`);
      setDocs((d) => [...(d ?? []), ...page.documents]);
      setNext(page.next);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select, button, a')) return;
      const items = docs ?? [];
      if (e.key === 'j') setSelected((s) => Math.min(s + 1, items.length - 1));
      else if (e.key === 'k') setSelected((s) => Math.max(s - 1, 0));
      else if (e.key === 'Enter' && items[selected]) navigate(`/documents/${items[selected]!.id}`);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [docs, selected]);

  async function upload(form: HTMLFormElement) {
    const input = form.elements.namedItem('document-file') as HTMLInputElement;
    if (!input.files?.length) {
      setError('Choose a file to upload');
      input.focus();
      return;
    }
    const body = new FormData();
    for (const f of Array.from(input.files)) body.append('file', f, f.name);
    setUploading(true);
    try {
      const r = await api<{ documents: DocumentItem[] }>('/api/documents/upload', { method: 'POST', body });
      setNotice(`${r.documents.length} document${r.documents.length === 1 ? '' : 's'} uploaded`);
      form.reset();
      await load();
    } catch (err) {
      setError(`The upload failed: ${(err as Error).message}`);
    } finally {
      setUploading(false);
    }
  }

  return (
    <>
      <h1>Documents</h1>
      {error ? <ErrorSummary message={error} testId="documents-error" /> : null}
      {notice ? <p className="nhsuk-body" role="status" data-testid="documents-notice">{notice}</p> : null}
      {backlog ? (
        <div className="nhsuk-inset-text sf-documents-backlog" data-testid="documents-backlog" style={{ position: 'sticky', top: 0, zIndex: 1, background: '#fff', marginTop: 0 }}>
          <p>
            <strong>{backlog.unworked}</strong> document{backlog.unworked === 1 ? '' : 's'} to work
            {backlog.withProblem ? <>, <strong>{backlog.withProblem}</strong> that could not be read</> : null}
            {backlog.waitingToBeRead ? <>, {backlog.waitingToBeRead} still being read</> : null}.{' '}
            <span data-testid="documents-oldest">
              {backlog.oldestUnworked ? (
                <>
                  Oldest unworked:{' '}
                  {backlog.oldestUnworked.id ? <a href={`/documents/${backlog.oldestUnworked.id}`} onClick={onLinkClick(`/documents/${backlog.oldestUnworked.id}`)}>received {formatDate(backlog.oldestUnworked.receivedAt)}</a> : <>received {formatDate(backlog.oldestUnworked.receivedAt)}</>} ({age(backlog.oldestUnworked.ageHours)} ago).
                </>
              ) : 'Nothing waiting.'}
            </span>
          </p>
        </div>
      ) : null}
      {backlog ? (
        <details className="nhsuk-details" data-testid="documents-counts">
          <summary className="nhsuk-details__summary"><span className="nhsuk-details__summary-text">Backlog by state, source, type and person</span></summary>
          <div className="nhsuk-details__text">
            <table className="nhsuk-table sf-dense" data-testid="documents-by-state">
              <caption className="nhsuk-table__caption nhsuk-table__caption--s">By state</caption>
              <thead className="nhsuk-table__head"><tr><th scope="col">State</th><th scope="col">Documents</th><th scope="col">Oldest waiting</th></tr></thead>
              <tbody className="nhsuk-table__body">
                {Object.entries(backlog.byState).map(([s, f]) => (
                  <tr key={s}><td>{STATE_LABEL[s] ?? s}</td><td>{f.count}</td><td>{s === 'filed' ? '' : ageOf(f.oldest)}</td></tr>
                ))}
              </tbody>
            </table>
            <p className="nhsuk-body-s" data-testid="documents-by-other">
              To work by source: {listed(backlog.bySource, SOURCE_LABEL) || 'none'}. By type: {listed(backlog.byType, TYPE_LABEL) || 'none'}.
              {Object.keys(backlog.byPerson).length ? ` With clinicians: ${listed(backlog.byPerson)}.` : ''}
            </p>
          </div>
        </details>
      ) : null}
      {mine?.length ? (
        <>
          <h2 className="nhsuk-heading-m">Sent to you</h2>
          <ul className="nhsuk-list" data-testid="documents-mine">
            {mine.map((d) => (
              <li key={d.id}>
                {d.action === 'urgent' ? <strong className="nhsuk-tag nhsuk-tag--red">Urgent</strong> : <span className="nhsuk-tag nhsuk-tag--grey">{d.action}</span>}{' '}
                <a href={`/documents/${d.id}`} onClick={onLinkClick(`/documents/${d.id}`)}>{d.subject || d.filename}</a> <span className="nhsuk-body-s">received {formatDate(d.receivedAt)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="documents-since">Arrived since</label>
        <div className="nhsuk-hint" id="documents-since-hint">Show only documents received on or after this date, for example the start of an outage</div>
        <input className="nhsuk-input nhsuk-input--width-10" type="date" id="documents-since" aria-describedby="documents-since-hint" value={since} onChange={(e) => setSince(e.target.value)} />
      </div>
      {docs ? <p data-testid="documents-total">{total} document{total === 1 ? '' : 's'} to work{since ? ` received since ${formatDate(since)}` : ''}, oldest first{docs.length < total ? ` (the first ${docs.length} shown)` : ''}. Keys: j and k to move, Enter to open.</p> : <p>Loading…</p>}
      {docs?.length ? (
        <table className="nhsuk-table sf-dense" data-testid="documents-list">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Documents to work, oldest first</caption>
          <thead className="nhsuk-table__head">
            <tr><th scope="col">Received</th><th scope="col">Source</th><th scope="col">Document</th><th scope="col">Patient</th><th scope="col">State</th></tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {docs.map((d, n) => (
              <tr key={d.id} aria-selected={n === selected} className={n === selected ? 'sf-row--selected' : undefined} data-testid="documents-row">
                <td>{formatDate(d.receivedAt)}</td>
                <td>{SOURCE_LABEL[d.source] ?? d.source}</td>
                <td>
                  <a href={`/documents/${d.id}`} onClick={onLinkClick(`/documents/${d.id}`)}>{d.subject || d.filename}</a> <span className="nhsuk-body-s">{d.filename}</span>
                  {d.problem ? <> <strong className="nhsuk-tag nhsuk-tag--orange">Cannot be read</strong> <span className="nhsuk-body-s" data-testid="documents-problem">{d.problem}</span></> : null}
                </td>
                <td>{d.proposedPatient ? <>Proposed: {d.proposedPatient.display}</> : d.patientId ? 'Confirmed' : 'None proposed'}</td>
                <td>{STATE_LABEL[d.state] ?? d.state}{d.assignee ? ` · ${d.assignee.name} (${d.action})` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : docs ? <p>No documents to work.</p> : null}
      {next ? <button type="button" className="nhsuk-button nhsuk-button--secondary" data-testid="documents-more" onClick={() => void more()}>Show more</button> : null}
      {daily ? <DailyChart daily={daily} /> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void upload(e.currentTarget);
        }}
      >
        <div className="nhsuk-form-group">
          <label className="nhsuk-label nhsuk-label--s" htmlFor="document-file">Upload documents (paper scanned at the desk)</label>
          <div className="nhsuk-hint" id="document-file-hint">PDF, images, Word, RTF, HTML or text; each is kept exactly as uploaded</div>
          <input className="nhsuk-file-upload" type="file" id="document-file" name="document-file" multiple aria-describedby="document-file-hint" />
        </div>
        <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={uploading}>{uploading ? 'Uploading…' : 'Upload'}</button>
      </form>
    </>
  );
}

/** A London day (YYYY-MM-DD) as the local midnight the chart plots (the staff app runs in England). */
function dayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y!, m! - 1, d!).getTime();
}

/**
 * Arrivals (bars) and filings (a line) per day on the project's one chart component, with the table
 * of the same figures below it as its text alternative (and the figures to share).
 */
function DailyChart({ daily }: { daily: DocumentDaily }) {
  const times = useMemo(() => daily.days.map((d) => dayStart(d.date)), [daily]);
  const series = useMemo<ChartSeries[]>(
    () => [
      { label: 'Arrived', values: daily.days.map((d) => d.arrived), kind: 'bars' },
      { label: 'Filed', values: daily.days.map((d) => d.filed), kind: 'line' },
    ],
    [daily],
  );
  return (
    <>
      <TimeChart caption="Documents arrived and filed each day" times={times} series={series} granularity="day" yLabel="Documents" xLabel="Day" testId="documents-daily-chart" table={false} />
      <DailyTable daily={daily} />
    </>
  );
}

/** Arrivals and filings per day, as a table (the chart's text alternative, and the figures to share). */
function DailyTable({ daily }: { daily: DocumentDaily }) {
  const arrived = daily.days.reduce((n, d) => n + d.arrived, 0);
  const filed = daily.days.reduce((n, d) => n + d.filed, 0);
  return (
    <details className="nhsuk-details" data-testid="documents-daily">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Arrivals and filings per day, {formatDate(daily.from)} to {formatDate(daily.to)}: {arrived} arrived, {filed} filed</span>
      </summary>
      <div className="nhsuk-details__text">
        <table className="nhsuk-table sf-dense" data-testid="documents-daily-table">
          <caption className="nhsuk-table__caption nhsuk-table__caption--s">Documents arrived and filed each day</caption>
          <thead className="nhsuk-table__head"><tr><th scope="col">Day</th><th scope="col">Arrived</th><th scope="col">Filed</th></tr></thead>
          <tbody className="nhsuk-table__body">
            {daily.days.map((d) => (
              <tr key={d.date} data-testid="documents-day"><td>{formatDate(d.date)}</td><td>{d.arrived}</td><td>{d.filed}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
