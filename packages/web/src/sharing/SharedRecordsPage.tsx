import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { onLinkClick } from '../router.ts';

interface SharedRecordRow {
  owner: string;
  patientId: string;
  name: string | null;
  nhsNumber: string | null;
  birthDate: string | null;
  reason: string | null;
  lastExchangeAt: string | null;
}

/** Records other practices share with this one (read-only copies pulled from the hub). */
export function SharedRecordsPage() {
  const [rows, setRows] = useState<SharedRecordRow[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<{ records: SharedRecordRow[] }>('/api/shared')
      .then((r) => setRows(r.records))
      .catch((err) => setError((err as Error).message));
  }, []);
  return (
    <>
      <h1>Records shared with this practice</h1>
      <p className="nhsuk-body-s">
        Other practices can share a patient’s record with this practice (for example for extended access appointments). These are read-only copies, kept up to date
        whenever the regional hub can be reached; record the care you give in your own practice’s record.
      </p>
      {error ? (
        <p className="nhsuk-error-message" role="alert">
          Shared records could not be loaded: {error}
        </p>
      ) : null}
      {rows && rows.length === 0 ? <p data-testid="no-shared-records">No records are shared with this practice.</p> : null}
      {rows && rows.length ? (
        <table className="nhsuk-table" data-testid="shared-records">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Shared records</caption>
          <thead className="nhsuk-table__head">
            <tr>
              <th scope="col">Patient</th>
              <th scope="col">NHS number</th>
              <th scope="col">Born</th>
              <th scope="col">Shared by</th>
              <th scope="col">Why</th>
              <th scope="col">Last updated from the hub</th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {rows.map((r) => {
              const path = `/shared/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.patientId)}`;
              return (
                <tr key={`${r.owner}/${r.patientId}`}>
                  <td>
                    <a href={path} onClick={onLinkClick(path)}>
                      {r.name ?? 'Waiting for the record to arrive'}
                    </a>
                  </td>
                  <td>{r.nhsNumber ? formatNhsNumber(r.nhsNumber) : ''}</td>
                  <td>{r.birthDate ? formatDate(r.birthDate) : ''}</td>
                  <td>{r.owner}</td>
                  <td>{r.reason ?? ''}</td>
                  <td>{r.lastExchangeAt ? formatDateTime(r.lastExchangeAt) : 'Never'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
