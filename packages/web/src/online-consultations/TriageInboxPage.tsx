import { useCallback, useEffect, useState } from 'react';
import type { TriageListItem, TriageListResponse } from '@steadfast/domain/api';
import { api } from '../api.ts';
import { formatDate } from '../format.ts';
import { navigate, onLinkClick } from '../router.ts';

export function ageText(minutes: number): string {
  if (minutes < 60) return `${Math.max(0, Math.round(minutes))} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} days`;
}

/**
 * Online consultation requests waiting: red flags and urgent first (the server's order), then oldest;
 * dense rows, paged by cursor. Keys: j/k move, Enter opens.
 */
export function TriageInboxPage() {
  const [pages, setPages] = useState<string[]>(['']);
  const [data, setData] = useState<TriageListResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [selected, setSelected] = useState(0);
  const cursor = pages[pages.length - 1]!;

  const load = useCallback(async () => {
    try {
      setData(await api<TriageListResponse>(`/api/online-consultations?status=open&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      setSelected(0);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [cursor]);
  useEffect(() => void load(), [load]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select')) return;
      const items = data?.items ?? [];
      if (e.key === 'j') setSelected((s) => Math.min(s + 1, items.length - 1));
      else if (e.key === 'k') setSelected((s) => Math.max(s - 1, 0));
      else if (e.key === 'Enter' && items[selected] && target.tagName !== 'A' && target.tagName !== 'BUTTON') navigate(`/online-consultations/${items[selected]!.id}`);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [data, selected]);

  return (
    <>
      <h1>Online consultations</h1>
      {error ? <p className="nhsuk-error-message" role="alert">Requests could not be loaded: {error}</p> : null}
      {data ? <p data-testid="oc-total">{data.total} open request{data.total === 1 ? '' : 's'}. Keys: j and k to move, Enter to open.</p> : <p>Loading…</p>}
      {data?.items.length ? (
        <table className="nhsuk-table sf-dense" data-testid="oc-inbox">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Open requests, red flags and urgent first, then oldest</caption>
          <thead className="nhsuk-table__head">
            <tr><th scope="col">Age</th><th scope="col">Priority</th><th scope="col">Patient</th><th scope="col">Request</th><th scope="col">Status</th></tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {data.items.map((i: TriageListItem, n) => (
              <tr key={i.id} aria-selected={n === selected} className={n === selected ? 'sf-row--selected' : undefined} data-testid="oc-row">
                <td>{ageText(i.ageMinutes)}</td>
                <td>
                  {i.redFlags.length ? <strong className="nhsuk-tag nhsuk-tag--red">Red flag</strong> : null}{' '}
                  {i.urgency ? <span className={`nhsuk-tag ${i.urgency === 'urgent' ? 'nhsuk-tag--red' : i.urgency === 'soon' ? 'nhsuk-tag--orange' : 'nhsuk-tag--grey'}`}>{i.urgency}</span> : null}
                </td>
                <td>{i.matchedPatient?.name ?? i.patientName} <span className="nhsuk-body-s">{formatDate(i.birthDate)}</span></td>
                <td>
                  <a href={`/online-consultations/${i.id}`} onClick={onLinkClick(`/online-consultations/${i.id}`)}>{i.reference}</a> {i.kind === 'medical' ? 'Medical' : `Admin${i.adminType ? ` (${i.adminType})` : ''}`}: {i.summary}
                </td>
                <td>{i.status}{i.assignee ? ` · ${i.assignee.name}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : data ? <p>No open requests.</p> : null}
      <div>
        {pages.length > 1 ? <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setPages((p) => p.slice(0, -1))}>Previous page</button> : null}{' '}
        {data?.nextCursor ? <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setPages((p) => [...p, data.nextCursor!])}>Next page</button> : null}
      </div>
    </>
  );
}
