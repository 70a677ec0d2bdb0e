/**
 * The incident banner at the top of every page of the practice's staff app: each incident affecting
 * the practice with its latest update, how fresh it is (never a stale update shown as current), an
 * acknowledgement, and the way to report the practice's problems. Asks the node every 3 seconds; the
 * node hears from the hub by long-poll, so an update posted at the hub shows within seconds.
 */
import { useCallback, useEffect, useState } from 'react';
import type { BannerIncident, BannerResponse } from '@steadfast/domain/region';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';

export const BANNER_REFRESH_MS = 3000;

function BannerItem({ incident, onChange }: { incident: BannerIncident; onChange: () => void }) {
  const [error, setError] = useState<string | undefined>();
  const { latest } = incident;
  const acknowledge = async () => {
    try {
      await api(`/api/incidents/${incident.id}/acknowledge`, { method: 'POST', json: { updateId: latest.id } });
      setError(undefined);
      onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const closed = incident.status === 'closed';
  return (
    <div className={`nhsuk-inset-text sf-incident ${closed ? 'sf-incident--closed' : ''}`} data-testid="incident-banner" data-incident={incident.id} role="region" aria-label={`Incident: ${incident.title}`}>
      <h2 className="nhsuk-heading-s">
        {closed ? 'Incident closed: ' : 'Regional incident: '}
        {incident.title}
      </h2>
      {incident.freshness.notices.map((n) => (
        <p key={n} className="nhsuk-error-message" data-testid="incident-stale">
          {n}
        </p>
      ))}
      <p data-testid="incident-known">
        <strong>{closed ? 'What happened' : 'What is known'}:</strong> {latest.known}
      </p>
      <p data-testid="incident-should">
        <strong>What your practice should do:</strong> {latest.practicesShould}
      </p>
      <p className="nhsuk-body-s">
        Update {latest.seq}, posted {formatDateTime(latest.postedAt)} by {latest.postedBy}.
        {latest.nextUpdateAt ? ` Next update by ${formatDateTime(latest.nextUpdateAt)}.` : ''}
        {latest.expectedRestorationAt ? ` Service expected back by ${formatDateTime(latest.expectedRestorationAt)}.` : ''}
      </p>
      {error ? <p className="nhsuk-error-message">{error}</p> : null}
      {incident.acknowledged ? (
        <p data-testid="incident-acknowledged">
          You acknowledged this update at {formatDateTime(incident.acknowledged.at)} {incident.acknowledged.delivered ? '(received by the regional hub)' : '(waiting to reach the regional hub)'}.
        </p>
      ) : (
        <button type="button" className="nhsuk-button nhsuk-button--small" onClick={() => void acknowledge()}>
          Acknowledge update {latest.seq}
        </button>
      )}{' '}
      {closed ? null : (
        <a href={`/incidents/${incident.id}/report`} onClick={onLinkClick(`/incidents/${incident.id}/report`)}>
          Report your practice’s problems and needs
        </a>
      )}
      {incident.reports.length ? (
        <p className="nhsuk-body-s" data-testid="incident-reports">
          Your practice’s reports: {incident.reports.map((r) => `${formatDateTime(r.at)} by ${r.by} (${r.delivered ? 'received by the hub' : 'waiting to reach the hub'})`).join('; ')}
        </p>
      ) : null}
    </div>
  );
}

export function useBanner(): [BannerResponse | undefined, () => void] {
  const [data, setData] = useState<BannerResponse | undefined>();
  const load = useCallback(() => {
    // A failed answer keeps what is shown: the banner never disappears because the node was slow.
    api<BannerResponse>('/api/incidents').then(setData, () => undefined);
  }, []);
  useEffect(() => {
    load();
    const timer = setInterval(load, BANNER_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);
  return [data, load];
}

export function IncidentBanner() {
  const [data, reload] = useBanner();
  if (!data?.incidents.length) return null;
  return (
    <div className="nhsuk-width-container" data-testid="incident-banners">
      {data.incidents.map((i) => (
        <BannerItem key={i.id} incident={i} onChange={reload} />
      ))}
    </div>
  );
}
