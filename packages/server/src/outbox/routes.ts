/**
 * The outbox screen's API: what waits, what left and what failed, by channel, with the oldest
 * waiting age; a person may retry a failed message (after fixing its cause) or cancel one that
 * should not go. Rows show the channel, source and error, never the payload (it holds patient data;
 * the capability that queued the message shows it where the patient is).
 *
 *   GET  /api/outbox                 -> { counts: {channel,state,count}[], oldestWaitingSeconds, rows }
 *   POST /api/outbox/:id/retry       failed -> pending, due now
 *   POST /api/outbox/:id/cancel      failed -> cancelled (a person decided it should not go)
 */
import type { FastifyInstance } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { OutboxMessageState, OutboxOverview, OutboxRow } from '@steadfast/domain/api';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { odb, type OutboxMessagesTable } from './tables.ts';

const STATES: readonly OutboxMessageState[] = ['pending', 'sending', 'sent', 'failed', 'cancelled'];

function rowOf(r: OutboxMessagesTable): OutboxRow {
  return { id: r.id, channel: r.channel, source: r.source, state: r.state, attempts: r.attempts, createdAt: r.created_at, nextAttemptAt: r.next_attempt_at, lastError: r.last_error, about: r.about, updatedAt: r.updated_at };
}

export async function registerOutboxRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store } = deps;
  const practice = store.practice;

  app.get<{ Querystring: { state?: string; channel?: string } }>('/api/outbox', { preHandler: requireRole('receptionist', 'clinician', 'practice-admin') }, async (request): Promise<OutboxOverview> => {
    const o = odb(store.db);
    const counts = await o.selectFrom('outbox_messages').select((eb) => ['channel', 'state', eb.fn.countAll<number>().as('n')]).where('practice', '=', practice).groupBy(['channel', 'state']).execute();
    const oldest = await o.selectFrom('outbox_messages').select((eb) => eb.fn.min('created_at').as('oldest')).where('practice', '=', practice).where('state', 'in', ['pending', 'sending']).executeTakeFirst();
    const state = request.query.state;
    if (state !== undefined && !STATES.includes(state as OutboxMessageState)) throw new SteadfastError('invalid', `state "${state}" is not one of ${STATES.join(', ')}`, { field: 'state', hint: 'Leave it out to list every state' });
    let q = o.selectFrom('outbox_messages').selectAll().where('practice', '=', practice);
    // Failed first: they need a person; then what still waits; the rest as history.
    if (state) q = q.where('state', '=', state as OutboxMessageState);
    else q = q.where('state', 'in', ['failed', 'pending', 'sending']);
    if (request.query.channel) q = q.where('channel', '=', request.query.channel);
    const rows = await q.orderBy('created_at', 'asc').limit(200).execute();
    const oldestAt = oldest?.oldest ? Date.parse(String(oldest.oldest)) : NaN;
    return {
      counts: counts.map((c) => ({ channel: c.channel, state: c.state, count: Number(c.n) })),
      oldestWaitingSeconds: Number.isNaN(oldestAt) ? null : Math.max(0, Math.round((Date.now() - oldestAt) / 1000)),
      rows: rows.map(rowOf).sort((a, b) => Number(b.state === 'failed') - Number(a.state === 'failed')),
    };
  });

  async function change(id: string, from: OutboxMessageState[], set: Partial<OutboxMessagesTable>, what: string): Promise<OutboxRow> {
    const o = odb(store.db);
    const row = await o.selectFrom('outbox_messages').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
    if (!row) throw new SteadfastError('not-found', `Outbox message ${id} was not found`, { field: 'id' });
    // The state guard in the update makes a double click (or two people at once) one change.
    const res = await o.updateTable('outbox_messages').set(set).where('practice', '=', practice).where('id', '=', id).where('state', 'in', from).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      throw new SteadfastError('conflict', `This message is ${row.state}, so it cannot be ${what}`, { field: 'id', hint: row.state === 'sent' ? 'It has already left the practice' : 'Reload the outbox to see where it is now' });
    }
    return rowOf((await o.selectFrom('outbox_messages').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirstOrThrow()) as OutboxMessagesTable);
  }

  const handlers = requireRole('receptionist', 'practice-admin');
  app.post<{ Params: { id: string } }>('/api/outbox/:id/retry', { preHandler: handlers }, async (request) => {
    const now = new Date().toISOString();
    const row = await change(request.params.id, ['failed'], { state: 'pending', next_attempt_at: now, updated_at: now }, 'retried');
    await deps.audit.append([{ actor: actorOf(request.user), event: 'update', resource: `Outbox/${row.id}`, outcome: 'success', detail: `outbox message retried (${row.channel}; was: ${row.lastError || 'failed'})` }]);
    return row;
  });
  app.post<{ Params: { id: string } }>('/api/outbox/:id/cancel', { preHandler: handlers }, async (request) => {
    const row = await change(request.params.id, ['failed'], { state: 'cancelled', updated_at: new Date().toISOString() }, 'cancelled');
    await deps.audit.append([{ actor: actorOf(request.user), event: 'update', resource: `Outbox/${row.id}`, outcome: 'success', detail: `outbox message cancelled (${row.channel})` }]);
    return row;
  });
}
