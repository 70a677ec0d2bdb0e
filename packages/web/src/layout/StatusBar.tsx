import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useAlarmState } from '../alarm/alarmStore.ts';

import type { ServiceState, ServiceStatus, StatusResponse } from '@steadfast/domain/api';

const stateText: Record<ServiceState, string> = {
  connected: 'connected',
  disconnected: 'not connected',
  degraded: 'problems',
  'not-configured': 'not configured',
  unknown: 'unknown',
};

const POLL_MS = 15_000;

/**
 * Always true, never optimistic: a service shows "connected" only when the node says so in a reply
 * received in the last poll; when the node itself cannot be reached every service shows "unknown".
 */
export function StatusBar() {
  const [status, setStatus] = useState<StatusResponse | undefined>();
  const [nodeDown, setNodeDown] = useState<string | undefined>();
  const alarm = useAlarmState();

  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const s = await api<StatusResponse>('/api/status');
        if (!stopped) {
          setStatus(s);
          setNodeDown(undefined);
        }
      } catch {
        if (!stopped) setNodeDown((prev) => prev ?? new Date().toISOString());
      }
    };
    void poll();
    const t = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, []);

  const services: ServiceStatus[] = nodeDown
    ? (status?.services ?? []).map((s) => ({ ...s, state: 'unknown', detail: 'practice node not reachable', since: nodeDown }))
    : (status?.services ?? []);

  return (
    <footer className="sf-statusbar" aria-label="Connection status" data-testid="status-bar">
      <ul className="sf-statusbar__list">
        <li className={`sf-status sf-status--${nodeDown ? 'disconnected' : status ? 'connected' : 'unknown'}`}>
          Practice node: {nodeDown ? `not reachable since ${formatDateTime(nodeDown)}` : status ? `running (${status.node.practice})` : 'checking'}
        </li>
        <li className={`sf-status sf-status--${alarm.stream === 'listening' ? 'connected' : 'disconnected'}`} data-testid="status-alarm">
          Panic alarm: {alarm.stream === 'listening' ? 'listening' : alarm.stream === 'connecting' ? 'connecting' : `NOT listening since ${formatDateTime(alarm.since)}`}
        </li>
        {services.map((s) => (
          <li key={s.name} className={`sf-status sf-status--${s.state}`} data-testid={`status-${s.name}`} title={s.detail}>
            {s.label}: {stateText[s.state]}
            {s.since && s.state !== 'not-configured' ? ` since ${formatDateTime(s.since)}` : ''}
            {typeof s.queued === 'number' ? ` · ${s.queued} waiting` : ''}
          </li>
        ))}
      </ul>
    </footer>
  );
}
