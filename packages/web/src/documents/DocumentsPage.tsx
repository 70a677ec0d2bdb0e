import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatDate } from '../format.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { navigate, onLinkClick } from '../router.ts';
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

interface Backlog {
  byState: Record<string, { count: number; oldest: string | null }>;
  bySource: Record<string, number>;
  byKind: Record<string, number>;
  byPerson: Record<string, number>;
  withProblem: number;
  unworked: number;
  oldestUnworked: { receivedAt: string; ageHours: number } | null;
  waitingToBeRead: number;
}

export const STATE_LABEL: Record<string, string> = { unmatched: 'Unmatched', proposed: 'Patient proposed', matched: 'Patient confirmed', 'with-clinician': 'With clinician', filed: 'Filed' };
const SOURCE_LABEL: Record<string, string> = { imap: 'Email', folder: 'Scanner', upload: 'Upload', fhir: 'FHIR' };

function age(hours: number): string {
  return hours < 48 ? `${hours} hour${hours === 1 ? '' : 's'}` : `${Math.floor(hours / 24)} days`;
}

/**
 * The documents workflow list: the backlog with the oldest unworked document always shown, an
 * "arrived since" filter, the documents to work (oldest first), upload for paper, and a clinician's
 * own queue. Keys: j and k move, Enter opens.
 */
export function DocumentsPage() {
  const { user } = useSession();
  const [backlog, setBacklog] = useState<Backlog | undefined>();
  const [docs, setDocs] = useState<DocumentItem[] | undefined>();
  const [mine, setMine] = useState<DocumentItem[] | undefined>();
  const [since, setSince] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [selected, setSelected] = useState(0);
  const [uploading, setUploading] = useState(false);

  const load = useCallback(async () => {
    try {
      const [b, list] = await Promise.all([
        api<Backlog>('/api/documents/backlog'),
        api<{ documents: DocumentItem[] }>(`/api/documents?state=unmatched,proposed,matched,with-clinician&limit=200${since ? `&since=${encodeURIComponent(since)}` : ''}`),
      ]);
      setBacklog(b);
      setDocs(list.documents);
      if (user.role === 'clinician') setMine((await api<{ documents: DocumentItem[] }>('/api/documents/queue/mine')).documents);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [since, user.role]);
  useEffect(() => void load(), [load]);

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
        <div className="nhsuk-inset-text" data-testid="documents-backlog">
          <p>
            <strong>{backlog.unworked}</strong> document{backlog.unworked === 1 ? '' : 's'} to work
            {backlog.withProblem ? <>, <strong>{backlog.withProblem}</strong> that could not be read</> : null}
            {backlog.waitingToBeRead ? <>, {backlog.waitingToBeRead} still being read</> : null}.{' '}
            <span data-testid="documents-oldest">{backlog.oldestUnworked ? <>Oldest unworked: received {formatDate(backlog.oldestUnworked.receivedAt)} ({age(backlog.oldestUnworked.ageHours)} ago).</> : 'Nothing waiting.'}</span>
          </p>
          <p className="nhsuk-body-s">
            {Object.entries(backlog.byState).map(([s, f]) => `${STATE_LABEL[s] ?? s}: ${f.count}`).join(' · ')}
            {Object.keys(backlog.bySource).length ? ` — by source: ${Object.entries(backlog.bySource).map(([s, n]) => `${SOURCE_LABEL[s] ?? s} ${n}`).join(', ')}` : ''}
            {Object.keys(backlog.byPerson).length ? ` — with clinicians: ${Object.entries(backlog.byPerson).map(([p, n]) => `${p} ${n}`).join(', ')}` : ''}
          </p>
        </div>
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
      {docs ? <p data-testid="documents-total">{docs.length} document{docs.length === 1 ? '' : 's'} to work{since ? ` received since ${formatDate(since)}` : ''}, oldest first. Keys: j and k to move, Enter to open.</p> : <p>Loading…</p>}
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
                  {d.problem ? <> <strong className="nhsuk-tag nhsuk-tag--orange">Cannot be read</strong></> : null}
                </td>
                <td>{d.proposedPatient ? <>Proposed: {d.proposedPatient.display}</> : d.patientId ? 'Confirmed' : 'None proposed'}</td>
                <td>{STATE_LABEL[d.state] ?? d.state}{d.assignee ? ` · ${d.assignee.name} (${d.action})` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : docs ? <p>No documents to work.</p> : null}
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
