import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';

interface Share {
  consentId: string;
  withPractice: string;
  active: boolean;
  reason: string;
  since: string | null;
}

/** On a patient's record (clinicians): share it with another practice, see and withdraw shares. */
export function ShareRecordPanel({ patientId }: { patientId: string }) {
  const [shares, setShares] = useState<Share[]>([]);
  const [practice, setPractice] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      setShares((await api<{ shares: Share[] }>(`/api/sharing?patient=${encodeURIComponent(patientId)}`)).shares);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [patientId]);
  useEffect(() => void refresh(), [refresh]);

  const share = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      await api('/api/sharing', { method: 'POST', json: { patientId, withPractice: practice, reason } });
      setDone(`Shared with ${practice.trim().toUpperCase()}. It reaches them when this practice and theirs next reach the regional hub.`);
      setPractice('');
      setReason('');
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const withdraw = async (s: Share) => {
    setError(undefined);
    try {
      await api(`/api/sharing/${encodeURIComponent(s.consentId)}/withdraw`, { method: 'POST', json: {} });
      setDone(`Sharing with ${s.withPractice} withdrawn; their copy is deleted at their next exchange with the hub.`);
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div data-testid="share-record">
      <h2>Share this record with another practice</h2>
      {error ? (
        <p className="nhsuk-error-message" role="alert">
          {error}
        </p>
      ) : null}
      {done ? (
        <p className="nhsuk-body" role="status">
          {done}
        </p>
      ) : null}
      <form onSubmit={(e) => void share(e)}>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="share-practice">
            ODS code of the practice
          </label>
          <input className="nhsuk-input nhsuk-input--width-10" id="share-practice" value={practice} onChange={(e) => setPractice(e.target.value)} required autoComplete="off" />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="share-reason">
            Why (shown to both practices)
          </label>
          <input className="nhsuk-input" id="share-reason" value={reason} onChange={(e) => setReason(e.target.value)} required />
        </div>
        <button className="nhsuk-button" type="submit">
          Share record
        </button>
      </form>
      <h3>Shared with</h3>
      {shares.length === 0 ? <p>Not shared with any other practice.</p> : null}
      {shares.length ? (
        <table className="nhsuk-table">
          <thead className="nhsuk-table__head">
            <tr>
              <th scope="col">Practice</th>
              <th scope="col">Why</th>
              <th scope="col">Since</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="nhsuk-u-visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {shares.map((s) => (
              <tr key={s.consentId}>
                <td>{s.withPractice}</td>
                <td>{s.reason}</td>
                <td>{s.since ? formatDateTime(s.since) : ''}</td>
                <td>{s.active ? 'Shared' : 'Withdrawn'}</td>
                <td>
                  {s.active ? (
                    <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => void withdraw(s)}>
                      Withdraw<span className="nhsuk-u-visually-hidden"> sharing with {s.withPractice}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
