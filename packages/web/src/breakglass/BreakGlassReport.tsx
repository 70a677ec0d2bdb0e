/** Practice-admin: every use of emergency access, what was read, and an acknowledgement of each. */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatDate } from '../format.ts';
import { REVIEWED_EVENT } from './EmergencyAccess.tsx';

interface ReportGrant {
  id: string;
  patient: string;
  patientName: string | null;
  reason: string;
  user: { name: string; role: string; workstation: string };
  grantedAt: string;
  expiresAt: string;
  state: string;
  endReason: string | null;
  reviewedAt: string | null;
  reviewedBy: string | null;
  reads: Array<{ at: string; event: string; what: string }>;
}

const time = (iso: string) => `${formatDate(iso)} ${new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`;

export function BreakGlassReport() {
  const [grants, setGrants] = useState<ReportGrant[]>();
  const [error, setError] = useState<string>();
  const reload = useCallback(() => {
    api<{ grants: ReportGrant[] }>('/api/break-glass')
      .then((r) => setGrants(r.grants))
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(reload, [reload]);
  const review = async (id: string) => {
    await api(`/api/break-glass/${id}/review`, { method: 'POST', json: {} });
    window.dispatchEvent(new Event(REVIEWED_EVENT));
    reload();
  };
  return (
    <>
      <h1>Emergency access</h1>
      {error ? <p className="nhsuk-error-message" role="alert">{error}</p> : null}
      {!grants ? <p>Loading…</p> : grants.length === 0 ? <p>No emergency access has been used.</p> : null}
      {grants?.map((g) => (
        <section className="nhsuk-card" key={g.id} data-testid="break-glass-use">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading nhsuk-heading-s">
              {g.user.name} ({g.user.role}) opened {g.patientName ?? g.patient} at {time(g.grantedAt)}
            </h2>
            <p>Reason: {g.reason}</p>
            <p className="nhsuk-body-s">
              {g.state === 'active' ? `Active until ${time(g.expiresAt)}` : g.state === 'ended' ? `Ended (${g.endReason ?? 'ended'})` : `Expired at ${time(g.expiresAt)}`}
              {g.user.workstation ? ` · workstation ${g.user.workstation}` : ''}
            </p>
            <details>
              <summary>What was viewed ({g.reads.length})</summary>
              <ul>
                {g.reads.map((r, i) => (
                  <li key={i}>
                    {time(r.at)} {r.event} {r.what}
                  </li>
                ))}
              </ul>
            </details>
            {g.reviewedAt ? (
              <p className="nhsuk-body-s">Reviewed by {g.reviewedBy} at {time(g.reviewedAt)}</p>
            ) : (
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => void review(g.id)} data-testid="break-glass-review">
                Mark as reviewed
              </button>
            )}
          </div>
        </section>
      ))}
    </>
  );
}
