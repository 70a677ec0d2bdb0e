/**
 * The outbox drainer: the one background service that delivers every queued message, whatever its
 * channel (contract.ts). Each round it
 *   1. reconciles messages left `sending` longer than a send can take (a crash, or a lost answer):
 *      the channel says whether that attempt reached the service; if it cannot say, the message is
 *      sent again only where the channel allows it (no `reconcile`, or `reconcile` answered undefined);
 *   2. claims due `pending` messages one by one (pending -> sending, attempts + 1, in one UPDATE that
 *      only one drainer can win), within each channel's per-minute and per-day limits counted from
 *      the table itself, so a restart does not reset them;
 *   3. records what the channel answered: sent, failed (for a person), or pending again after a
 *      jittered exponential backoff that honours the service's retry-after.
 * A message whose channel is not configured on this node (no Notify key yet) simply waits.
 */
import type { Kysely } from 'kysely';
import type { DeliveryResult, OutboxChannel, QueuedMessage } from './contract.ts';
import { odb, type OutboxMessagesTable } from './tables.ts';

export interface DrainerOptions {
  /** How often to look for due messages (default 1 s). */
  intervalMs?: number;
  /** Messages claimed in one round (default 200). */
  batch?: number;
  /** Deliveries in flight at once, across channels (default 8). */
  concurrency?: number;
  /** A message `sending` for longer than this is reconciled (default 2 minutes; longer than any send). */
  staleSendingMs?: number;
  now?: () => Date;
  /** For tests: [0, 1). */
  random?: () => number;
  onError?: (err: unknown, message?: QueuedMessage) => void;
}

export interface DrainRound {
  sent: number;
  retried: number;
  failed: number;
  reconciled: number;
  /** Due messages left for a later round because a channel's limit was reached. */
  held: number;
}

export interface ChannelHealth {
  /** The last attempt's outcome on this channel, and when. */
  lastOutcome?: DeliveryResult['outcome'];
  lastError?: string;
  lastAttemptAt?: string;
  lastSuccessAt?: string;
}

export interface OutboxDrainer {
  /** One round (also what the timer runs). Rounds never overlap. */
  drainOnce(): Promise<DrainRound>;
  /** Drain until nothing is due (tests, the drill). Stops after `maxRounds`. */
  drainAll(maxRounds?: number): Promise<DrainRound>;
  start(): void;
  stop(): Promise<void>;
  channels(): readonly string[];
  health(): ReadonlyMap<string, ChannelHealth>;
}

const BASE_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 60 * 60_000;

/**
 * Delay before attempt `attempts + 1`: 5 s doubling to an hour, with "equal jitter" (between half and
 * all of it) so a thousand messages queued in an outage do not all retry in the same second.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random, retryAfterMs?: number): number {
  const ceiling = Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  const jittered = ceiling / 2 + (ceiling / 2) * random();
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

function queuedOf(row: OutboxMessagesTable, attempts: number): QueuedMessage {
  return {
    id: row.id,
    practice: row.practice,
    channel: row.channel,
    key: row.message_key,
    source: row.source,
    payload: JSON.parse(row.payload) as unknown,
    about: row.about,
    idempotencyKey: row.id,
    attempts,
    createdAt: row.created_at,
  };
}

function startOfUtcDay(d: Date): string {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).toISOString();
}

export function createOutboxDrainer(db: Kysely<any>, practice: string, channelList: readonly OutboxChannel[], options: DrainerOptions = {}): OutboxDrainer {
  const o = odb(db);
  const channels = new Map(channelList.map((c) => [c.name, c]));
  const health = new Map<string, ChannelHealth>(channelList.map((c) => [c.name, {}]));
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const batch = options.batch ?? 200;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const staleMs = options.staleSendingMs ?? 120_000;
  const onError = options.onError ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<DrainRound> | undefined;

  function note(channel: string, result: DeliveryResult): void {
    const at = now().toISOString();
    const h = health.get(channel) ?? {};
    h.lastOutcome = result.outcome;
    h.lastAttemptAt = at;
    if (result.outcome === 'sent') {
      h.lastSuccessAt = at;
      delete h.lastError;
    } else h.lastError = result.error;
    health.set(channel, h);
  }

  /** Write the outcome of an attempt. Only a row still `sending` with this attempt number is changed. */
  async function record(message: QueuedMessage, result: DeliveryResult): Promise<void> {
    const at = now();
    const base = o.updateTable('outbox_messages').where('practice', '=', practice).where('id', '=', message.id).where('state', '=', 'sending').where('attempts', '=', message.attempts);
    if (result.outcome === 'sent') {
      await base.set({ state: 'sent', sent_at: at.toISOString(), provider_ref: result.providerRef ?? null, last_error: '', updated_at: at.toISOString() }).execute();
    } else if (result.outcome === 'failed') {
      await base.set({ state: 'failed', last_error: result.error, updated_at: at.toISOString() }).execute();
    } else {
      const next = new Date(at.getTime() + retryDelayMs(message.attempts, random, result.retryAfterMs));
      await base.set({ state: 'pending', last_error: result.error, next_attempt_at: next.toISOString(), updated_at: at.toISOString() }).execute();
    }
    note(message.channel, result);
    if (result.outcome !== 'retry') {
      const channel = channels.get(message.channel);
      try {
        await channel?.settled?.(message, result);
      } catch (err) {
        onError(err, message);
      }
    }
  }

  async function deliver(channel: OutboxChannel, message: QueuedMessage): Promise<DeliveryResult> {
    try {
      return await channel.deliver(message);
    } catch (err) {
      // A channel should answer, not throw; a throw is treated as "not delivered, try again".
      onError(err, message);
      return { outcome: 'retry', error: `The ${channel.name} channel failed: ${(err as Error).message}` };
    }
  }

  async function reconcileStale(round: DrainRound): Promise<void> {
    const cutoff = new Date(now().getTime() - staleMs).toISOString();
    const stale = await o
      .selectFrom('outbox_messages')
      .selectAll()
      .where('practice', '=', practice)
      .where('state', '=', 'sending')
      .where('updated_at', '<', cutoff)
      .where('channel', 'in', [...channels.keys()])
      .orderBy('created_at')
      .limit(batch)
      .execute();
    for (const row of stale) {
      const channel = channels.get(row.channel)!;
      const message = queuedOf(row, row.attempts);
      let verdict: DeliveryResult | undefined;
      try {
        verdict = channel.reconcile ? await channel.reconcile(message) : undefined;
      } catch (err) {
        onError(err, message);
        verdict = { outcome: 'retry', error: `Could not ask ${channel.name} whether an earlier attempt arrived: ${(err as Error).message}` };
      }
      const at = now().toISOString();
      if (verdict === undefined) {
        // The service cannot say and the channel allows a resend (the receiver de-duplicates).
        await o
          .updateTable('outbox_messages')
          .set({ state: 'pending', next_attempt_at: at, last_error: 'Sent again: the earlier attempt was interrupted before its answer was recorded', updated_at: at })
          .where('practice', '=', practice)
          .where('id', '=', row.id)
          .where('state', '=', 'sending')
          .execute();
      } else if (verdict.outcome === 'retry') {
        // Still unknown: keep it `sending` (never resend blind) and ask again after a while.
        await o.updateTable('outbox_messages').set({ last_error: verdict.error, updated_at: at }).where('practice', '=', practice).where('id', '=', row.id).where('state', '=', 'sending').execute();
      } else {
        await record(message, verdict);
      }
      round.reconciled++;
    }
  }

  /** How many more messages each channel may send now (undefined: no limit). */
  async function allowance(): Promise<Map<string, number | undefined>> {
    const at = now();
    const minuteAgo = new Date(at.getTime() - 60_000).toISOString();
    const dayStart = startOfUtcDay(at);
    const result = new Map<string, number | undefined>();
    for (const channel of channels.values()) {
      const { perMinute, perDay } = channel.limits ?? {};
      if (!perMinute && !perDay) {
        result.set(channel.name, undefined);
        continue;
      }
      // Counted from the table (claims, not only successes), so a restart cannot reset a limit.
      const counts = await o
        .selectFrom('outbox_messages')
        .select((eb) => [
          eb.fn.countAll<number>().filterWhere('updated_at', '>=', minuteAgo).as('minute'),
          eb.fn.countAll<number>().as('day'),
        ])
        .where('practice', '=', practice)
        .where('channel', '=', channel.name)
        .where('state', 'in', ['sending', 'sent'])
        .where('updated_at', '>=', dayStart)
        .executeTakeFirst();
      const minute = Number(counts?.minute ?? 0);
      const day = Number(counts?.day ?? 0);
      const left = Math.min(perMinute ? perMinute - minute : Infinity, perDay ? perDay - day : Infinity);
      result.set(channel.name, Math.max(0, left));
    }
    return result;
  }

  async function round(): Promise<DrainRound> {
    const result: DrainRound = { sent: 0, retried: 0, failed: 0, reconciled: 0, held: 0 };
    if (channels.size === 0) return result;
    await reconcileStale(result);
    const left = await allowance();
    const due = await o
      .selectFrom('outbox_messages')
      .selectAll()
      .where('practice', '=', practice)
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now().toISOString())
      .where('channel', 'in', [...channels.keys()])
      .orderBy('next_attempt_at')
      .orderBy('created_at')
      .limit(batch)
      .execute();
    const claimed: QueuedMessage[] = [];
    for (const row of due) {
      const quota = left.get(row.channel);
      if (quota !== undefined) {
        if (quota <= 0) {
          result.held++;
          continue;
        }
        left.set(row.channel, quota - 1);
      }
      const at = now().toISOString();
      const won = await o
        .updateTable('outbox_messages')
        .set({ state: 'sending', attempts: row.attempts + 1, updated_at: at })
        .where('practice', '=', practice)
        .where('id', '=', row.id)
        .where('state', '=', 'pending')
        .where('attempts', '=', row.attempts)
        .executeTakeFirst();
      if (Number(won.numUpdatedRows) === 1) claimed.push(queuedOf(row, row.attempts + 1));
    }
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const message = claimed[next++]!;
        const outcome = await deliver(channels.get(message.channel)!, message);
        try {
          await record(message, outcome);
        } catch (err) {
          // Left `sending`: the next round's reconcile settles it without a blind resend.
          onError(err, message);
          continue;
        }
        if (outcome.outcome === 'sent') result.sent++;
        else if (outcome.outcome === 'failed') result.failed++;
        else result.retried++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    return result;
  }

  function drainOnce(): Promise<DrainRound> {
    const run = (current ?? Promise.resolve(undefined as unknown as DrainRound)).catch(() => undefined).then(round);
    current = run;
    return run;
  }

  return {
    drainOnce,
    async drainAll(maxRounds = 1000) {
      const total: DrainRound = { sent: 0, retried: 0, failed: 0, reconciled: 0, held: 0 };
      for (let i = 0; i < maxRounds; i++) {
        const r = await drainOnce();
        total.sent += r.sent;
        total.retried += r.retried;
        total.failed += r.failed;
        total.reconciled += r.reconciled;
        total.held = r.held;
        if (r.sent + r.retried + r.failed + r.reconciled === 0) break;
      }
      return total;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        drainOnce().catch((err) => onError(err));
      }, options.intervalMs ?? 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await current?.catch(() => undefined);
    },
    channels: () => [...channels.keys()],
    health: () => health,
  };
}
