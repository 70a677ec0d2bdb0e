/**
 * What the outbox tells the status bar and the backlog: per service (channels sharing a label), how
 * many messages wait and whether the service answered its last attempt, so staff see "GOV.UK Notify:
 * unreachable, 240 waiting" during an outage rather than silence.
 */
import type { BacklogFigure } from '@steadfast/domain/api';
import type { Kysely } from 'kysely';
import type { StatusProvider } from '../status/providers.ts';
import type { OutboxChannel } from './contract.ts';
import type { OutboxDrainer } from './drainer.ts';
import { odb } from './tables.ts';

async function waiting(db: Kysely<any>, practice: string, channels: readonly string[]): Promise<number> {
  if (channels.length === 0) return 0;
  const row = await odb(db)
    .selectFrom('outbox_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('practice', '=', practice)
    .where('state', 'in', ['pending', 'sending'])
    .where('channel', 'in', [...channels])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** One status-bar entry per service the outbox reaches. */
export function outboxStatusProviders(db: Kysely<any>, practice: string, channels: readonly OutboxChannel[], drainer: OutboxDrainer): Record<string, StatusProvider> {
  const groups = new Map<string, string[]>();
  for (const c of channels) groups.set(c.label ?? c.name, [...(groups.get(c.label ?? c.name) ?? []), c.name]);
  const providers: Record<string, StatusProvider> = {};
  for (const [label, names] of groups) {
    providers[`outbox:${names[0]}`] = {
      label,
      // Contact happens only when there is something to send: an idle day is not "unknown".
      staleAfterMs: 24 * 60 * 60_000,
      async report() {
        const queued = await waiting(db, practice, names);
        const seen = names.map((n) => drainer.health().get(n)).filter((h) => h?.lastAttemptAt).sort((a, b) => (a!.lastAttemptAt! < b!.lastAttemptAt! ? 1 : -1));
        const last = seen[0];
        if (!last) return { state: queued ? 'unknown' : 'not-configured', queued, detail: queued ? `${queued} waiting, not tried yet` : 'Nothing sent since the node started' };
        if (last.lastOutcome === 'retry') return { state: 'disconnected', queued, ...(last.lastSuccessAt ? { lastContact: last.lastSuccessAt } : {}), detail: `${queued} waiting: ${last.lastError ?? 'not reachable'}; retrying` };
        return { state: 'connected', queued, lastContact: last.lastAttemptAt! };
      },
    };
  }
  return providers;
}

/** The outbox's backlog: messages waiting to leave, and messages that could not be sent (for a person). */
export async function outboxBacklog(db: Kysely<any>, practice: string): Promise<BacklogFigure[]> {
  const rows = await odb(db)
    .selectFrom('outbox_messages')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('practice', '=', practice)
    .where('state', 'in', ['pending', 'sending', 'failed'])
    .groupBy('state')
    .execute();
  let waitingCount = 0;
  let waitingOldest: string | undefined;
  let failed = 0;
  let failedOldest: string | undefined;
  for (const r of rows) {
    const n = Number(r.n);
    const oldest = r.oldest ? String(r.oldest) : undefined;
    if (r.state === 'failed') {
      failed = n;
      failedOldest = oldest;
    } else {
      waitingCount += n;
      if (oldest && (!waitingOldest || oldest < waitingOldest)) waitingOldest = oldest;
    }
  }
  return [
    { kind: 'outbox-waiting', label: 'Messages waiting to leave the practice', count: waitingCount, ...(waitingCount && waitingOldest ? { oldest: waitingOldest } : {}) },
    { kind: 'outbox-failed', label: 'Messages that could not be sent, for a person to see', count: failed, ...(failed && failedOldest ? { oldest: failedOldest } : {}) },
  ];
}
