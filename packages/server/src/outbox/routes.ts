/**
 * The outbox screen's routes: what waits, what was sent and what failed, by channel, and a person's
 * retry or cancel of a message that stopped. Rows never carry the message's text except to clinicians
 * (a receptionist sees that a text to a patient failed and why, not what it said). Every retry and
 * cancel is audited and happens in one transaction with the owner's own bookkeeping (owners.ts).
 */
import type { FastifyInstance } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { OutboxActionResponse, OutboxCount, OutboxResponse, OutboxRow, OutboxState } from '@steadfast/domain/api';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import type { AuditActor } from '../audit/log.ts';
import { requireRole } from '../auth/index.ts';
import { outboxOwnerOf } from './owners.ts';
import { odb, type OutboxMessagesTable } from './tables.ts';

const STATES: readonly OutboxState[] = ['pending', 'sending', 'sent', 'failed', 'cancelled'];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

export function outboxRowOf(r: OutboxMessagesTable, withBody: boolean): OutboxRow {
  let body: string | undefined;
  if (withBody) {
    try {
      const p = JSON.parse(r.payload) as { body?: unknown } | null;
      if (p && typeof p.body === 'string') body = p.body;
    } catch {
      // a payload that is not JSON has no text to show
    }
  }
  return {
    id: r.id,
    channel: r.channel,
    source: r.source,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    notBefore: r.not_before,
    ...(r.state === 'pending' ? { nextAttemptAt: r.next_attempt_at } : {}),
    ...(r.sent_at ? { sentAt: r.sent_at } : {}),
    updatedAt: r.updated_at,
    ...(r.last_error ? { lastError: r.last_error } : {}),
    ...(r.about ? { about: r.about } : {}),
    ...(r.provider_ref ? { providerRef: r.provider_ref } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

function whole(value: unknown, field: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new SteadfastError('invalid', `${field} "${String(value)}" is not a whole number from 0 to ${max}`, { field, hint: `e.g. ${field}=${fallback}` });
  return n;
}

export async function registerOutboxRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store } = deps;
  const practice = store.practice;
  const staff = requireRole('receptionist', 'clinician', 'practice-admin');

  app.get<{ Querystring: { state?: string; channel?: string; limit?: string; offset?: string } }>('/api/outbox', { preHandler: staff }, async (request): Promise<OutboxResponse> => {
    const q = request.query ?? {};
    const state = q.state ? (STATES.find((s) => s === q.state) ?? null) : undefined;
    if (state === null) throw new SteadfastError('invalid', `state "${q.state}" is not an outbox state`, { field: 'state', hint: `Use one of ${STATES.join(', ')}` });
    if (q.channel !== undefined && !/^[a-z0-9-]{1,32}$/.test(q.channel)) throw new SteadfastError('invalid', `channel "${q.channel}" is not a channel name`, { field: 'channel', hint: 'e.g. notify-sms or hl7-order' });
    const limit = whole(q.limit, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
    const offset = whole(q.offset, 'offset', 0, 1_000_000);
    const o = odb(store.db);
    const now = new Date();

    const counted = await o.selectFrom('outbox_messages').select((eb) => ['channel', 'state', eb.fn.countAll<number>().as('n')]).where('practice', '=', practice).groupBy(['channel', 'state']).execute();
    const counts: OutboxCount[] = counted.map((c) => ({ channel: c.channel, state: c.state, count: Number(c.n) })).sort((a, b) => a.channel.localeCompare(b.channel) || STATES.indexOf(a.state) - STATES.indexOf(b.state));

    // Waiting means due and not yet handed over: a reminder for tomorrow is not late today.
    const oldest = await o
      .selectFrom('outbox_messages')
      .select((eb) => eb.fn.min('not_before').as('due'))
      .where('practice', '=', practice)
      .where('state', 'in', ['pending', 'sending'])
      .where('not_before', '<=', now.toISOString())
      .executeTakeFirst();
    const oldestWaitingSeconds = oldest?.due ? Math.max(0, Math.floor((now.getTime() - Date.parse(String(oldest.due))) / 1000)) : null;

    let page = o.selectFrom('outbox_messages').where('practice', '=', practice);
    if (state) page = page.where('state', '=', state);
    if (q.channel) page = page.where('channel', '=', q.channel);
    const total = Number((await page.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
    const rows = await page.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
    const withBody = request.user.role === 'clinician';
    return { checkedAt: now.toISOString(), counts, oldestWaitingSeconds, rows: rows.map((r) => outboxRowOf(r, withBody)), total, limit, offset };
  });

  async function act(id: string, action: 'retry' | 'cancel', user: AuditActor): Promise<OutboxActionResponse> {
    const allowed: readonly OutboxState[] = action === 'retry' ? ['failed'] : ['failed', 'pending'];
    return store.transaction({ author: user.id }, async (tx) => {
      const o = odb(tx.db);
      const row = await o.selectFrom('outbox_messages').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
      if (!row) throw new SteadfastError('not-found', `Outbox message ${id} was not found`, { field: 'id' });
      if (!allowed.includes(row.state)) {
        throw new SteadfastError('conflict', `Outbox message ${id} is ${row.state}, so it cannot be ${action === 'retry' ? 'retried' : 'cancelled'}`, {
          field: 'id',
          hint: action === 'retry' ? 'Only a failed message is retried by hand; waiting messages are retried by themselves' : 'Only a failed or waiting message can be cancelled; a message already sent cannot be called back',
        });
      }
      const at = new Date().toISOString();
      const changed =
        action === 'retry'
          ? await o.updateTable('outbox_messages').set({ state: 'pending', next_attempt_at: at, updated_at: at }).where('practice', '=', practice).where('id', '=', id).where('state', '=', row.state).executeTakeFirst()
          : await o.updateTable('outbox_messages').set({ state: 'cancelled', updated_at: at }).where('practice', '=', practice).where('id', '=', id).where('state', '=', row.state).executeTakeFirst();
      if (Number(changed.numUpdatedRows) !== 1) throw new SteadfastError('conflict', `Outbox message ${id} changed while you looked at it`, { field: 'id', hint: 'Reload the outbox and try again' });
      const owner = outboxOwnerOf(row.source);
      if (action === 'retry') await owner?.retried?.(tx, practice, id);
      else await owner?.cancelled?.(tx, practice, id, row.state as 'pending' | 'failed');
      await deps.audit.appendInTransaction(tx.db, [
        { actor: user, event: 'update', resource: `OutboxMessage/${id}`, outcome: 'success', detail: `outbox message ${action === 'retry' ? 'retried' : 'cancelled'} by hand (${row.channel}, was ${row.state}${row.last_error ? `: ${row.last_error.slice(0, 200)}` : ''})` },
      ]);
      const after = await o.selectFrom('outbox_messages').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirstOrThrow();
      return { row: outboxRowOf(after, false) };
    });
  }

  app.post<{ Params: { id: string } }>('/api/outbox/:id/retry', { preHandler: staff }, async (request) => act(request.params.id, 'retry', actorOf(request.user)));
  app.post<{ Params: { id: string } }>('/api/outbox/:id/cancel', { preHandler: staff }, async (request) => act(request.params.id, 'cancel', actorOf(request.user)));
}
