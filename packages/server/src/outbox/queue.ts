/**
 * Queuing a message: the one call every capability makes to send anything out of the node. Call it
 * with the store transaction's `db` (`store.transaction(ctx, tx => enqueue(tx.db, ...))`) so the message
 * commits with the change that caused it; the outbox drainer delivers it afterwards. `enqueueMany`
 * queues a batch (a broadcast of thousands) in a few set statements instead of two per message.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { OutgoingMessage } from './contract.ts';
import type { OutboxMessagesTable } from './tables.ts';

export interface Enqueued {
  id: string;
  /** False when a message with the same channel and key was already queued (that one stands). */
  created: boolean;
}

const COLUMNS = ['practice', 'id', 'channel', 'message_key', 'source', 'payload', 'about', 'state', 'attempts', 'created_at', 'not_before', 'next_attempt_at', 'last_error', 'provider_ref', 'sent_at', 'updated_at'] as const satisfies ReadonlyArray<keyof OutboxMessagesTable>;
/** Rows per INSERT: 16 columns each, well under SQLite's 32,766 bound parameters. */
const CHUNK = 500;

function rowOf(practice: string, message: OutgoingMessage, now: Date): OutboxMessagesTable {
  if (!message.channel || !message.key || !message.source) {
    throw new SteadfastError('invalid', 'An outbox message needs a channel, a key and a source', { hint: 'See OutgoingMessage in outbox/contract.ts' });
  }
  const at = now.toISOString();
  const notBefore = message.notBefore ? new Date(message.notBefore) : now;
  if (Number.isNaN(notBefore.getTime())) throw new SteadfastError('invalid', `notBefore "${message.notBefore}" is not an instant`, { field: 'notBefore', hint: 'Use ISO 8601, e.g. 2026-12-03T09:00:00Z' });
  return {
    practice,
    id: randomUUID(),
    channel: message.channel,
    message_key: message.key,
    source: message.source,
    payload: JSON.stringify(message.payload ?? null),
    about: message.about ?? null,
    state: 'pending',
    attempts: 0,
    created_at: at,
    not_before: notBefore.toISOString(),
    next_attempt_at: notBefore.toISOString(),
    last_error: '',
    provider_ref: null,
    sent_at: null,
    updated_at: at,
  };
}

export async function enqueue(db: Kysely<any> | Transaction<any>, practice: string, message: OutgoingMessage, now: Date = new Date()): Promise<Enqueued> {
  return (await enqueueMany(db, practice, [message], now))[0]!;
}

/**
 * Queue messages in the caller's transaction, answering one Enqueued per message in order. A message
 * whose channel and key are already queued (earlier, or earlier in this same list) is that one. Every
 * message is checked before anything is written, so a bad one leaves nothing half-queued.
 */
export async function enqueueMany(db: Kysely<any> | Transaction<any>, practice: string, messages: readonly OutgoingMessage[], now: Date = new Date()): Promise<Enqueued[]> {
  const rows = messages.map((m) => rowOf(practice, m, now));
  const existing = new Map<string, string>();
  const byChannel = new Map<string, string[]>();
  for (const r of rows) byChannel.set(r.channel, [...(byChannel.get(r.channel) ?? []), r.message_key]);
  for (const [channel, keys] of byChannel) {
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = keys.slice(i, i + CHUNK);
      const found = await sql<{ id: string; message_key: string }>`SELECT id, message_key FROM outbox_messages WHERE practice = ${practice} AND channel = ${channel} AND message_key IN (${sql.join(part)})`.execute(db);
      for (const f of found.rows) existing.set(`${channel}\n${f.message_key}`, f.id);
    }
  }
  const fresh: OutboxMessagesTable[] = [];
  const out = rows.map((r) => {
    const k = `${r.channel}\n${r.message_key}`;
    const id = existing.get(k);
    if (id) return { id, created: false };
    existing.set(k, r.id);
    fresh.push(r);
    return { id: r.id, created: true };
  });
  for (let i = 0; i < fresh.length; i += CHUNK) {
    const part = fresh.slice(i, i + CHUNK);
    await sql`INSERT INTO outbox_messages (${sql.raw(COLUMNS.join(', '))}) VALUES ${sql.join(part.map((r) => sql`(${sql.join(COLUMNS.map((c) => r[c]))})`))}`.execute(db);
  }
  return out;
}
