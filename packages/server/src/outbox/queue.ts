/**
 * Queuing a message: the one call every capability makes to send anything out of the node. Call it
 * with the store transaction's `db` (`store.transaction(ctx, tx => enqueue(tx.db, ...))`) so the message
 * commits with the change that caused it; the outbox drainer delivers it afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { OutgoingMessage } from './contract.ts';
import { odb } from './tables.ts';

export interface Enqueued {
  id: string;
  /** False when a message with the same channel and key was already queued (that one stands). */
  created: boolean;
}

export async function enqueue(db: Kysely<any> | Transaction<any>, practice: string, message: OutgoingMessage, now: Date = new Date()): Promise<Enqueued> {
  if (!message.channel || !message.key || !message.source) {
    throw new SteadfastError('invalid', 'An outbox message needs a channel, a key and a source', { hint: 'See OutgoingMessage in outbox/contract.ts' });
  }
  const at = now.toISOString();
  const notBefore = message.notBefore ? new Date(message.notBefore) : now;
  if (Number.isNaN(notBefore.getTime())) throw new SteadfastError('invalid', `notBefore "${message.notBefore}" is not an instant`, { field: 'notBefore', hint: 'Use ISO 8601, e.g. 2026-12-03T09:00:00Z' });
  const o = odb(db);
  const existing = await o
    .selectFrom('outbox_messages')
    .select('id')
    .where('practice', '=', practice)
    .where('channel', '=', message.channel)
    .where('message_key', '=', message.key)
    .executeTakeFirst();
  if (existing) return { id: existing.id, created: false };
  const id = randomUUID();
  await o
    .insertInto('outbox_messages')
    .values({
      practice,
      id,
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
    })
    .execute();
  return { id, created: true };
}
