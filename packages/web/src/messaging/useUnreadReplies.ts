/** How many patient replies wait unread, for the header (checked each minute; 0 when it cannot ask). */
import { useEffect, useState } from 'react';
import type { PatientReply } from '@steadfast/domain/api';
import { api } from '../api.ts';

export function useUnreadReplies(enabled: boolean): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    const check = () =>
      api<PatientReply[]>('/api/messaging/replies')
        .then((r) => !stopped && setCount(r.filter((x) => !x.readAt).length))
        .catch(() => undefined);
    void check();
    const t = setInterval(check, 60_000);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [enabled]);
  return count;
}
