/** Messaging's HTTP routes: templates, contact details, sending from the record, replies, broadcasts, Notify's receipts. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf, SteadfastError, withContactPreferences, type ContactUpdate } from '@steadfast/domain';
import type { Broadcast, BroadcastPreview, DeliveryStatus, DeliverySummary, MessageChannelKind, PatientMessage, PatientReply } from '@steadfast/domain/api';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { unrecordedCount } from './record.ts';
import { broadcastOf, previewBroadcast, runBroadcast, startBroadcast, stopBroadcast } from './broadcast.ts';
import { applyDeliveryStatus, deliveryStatusOf } from './delivery.ts';
import { checkFreeText, listTemplates, saveTemplate } from './templates.ts';
import { queuePatientMessage } from './send.ts';
import { mdb } from './tables.ts';

const RESULT_TEMPLATES = new Set(['result-normal', 'result-book-routine']);
const SENDABLE = new Set(['free-text', ...RESULT_TEMPLATES]);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function registerMessagingRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store } = deps;
  const practice = store.practice;
  const practiceName = () => deps.config.messaging?.practiceName ?? 'Your GP surgery';
  const staff = requireRole('receptionist', 'clinician', 'practice-admin');

  app.get('/api/messaging/templates', { preHandler: staff }, async () => listTemplates(store.db, practice));
  app.put<{ Params: { key: string }; Body: { body?: unknown; subject?: unknown } }>('/api/messaging/templates/:key', { preHandler: requireRole('practice-admin') }, async (request) =>
    saveTemplate(store.db, practice, request.params.key, request.body?.body, request.body?.subject, request.user.name),
  );

  app.get<{ Params: { id: string } }>('/api/messaging/patients/:id/contact', { preHandler: requireRole('receptionist', 'clinician') }, async (request) => {
    const stored = await store.read('Patient', request.params.id);
    if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${request.params.id} was not found`, { field: 'id' });
    return contactPreferencesOf(stored.resource as Patient);
  });
  app.put<{ Params: { id: string }; Body: ContactUpdate }>('/api/messaging/patients/:id/contact', { preHandler: requireRole('receptionist', 'clinician') }, async (request) => {
    return store.transaction({ author: request.user.id }, async (tx) => {
      const stored = await tx.read('Patient', request.params.id);
      if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${request.params.id} was not found`, { field: 'id' });
      const updated = withContactPreferences(stored.resource as Patient, request.body ?? {});
      await tx.write([{ kind: 'update', resource: updated, ifMatch: stored.versionId }]);
      await deps.audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'update', resource: `Patient/${request.params.id}`, patient: `Patient/${request.params.id}`, outcome: 'success', detail: 'contact details and preferences changed' }]);
      return contactPreferencesOf(updated);
    });
  });

  app.get<{ Params: { id: string } }>('/api/messaging/patients/:id/messages', { preHandler: requireRole('receptionist', 'clinician') }, async (request): Promise<PatientMessage[]> => {
    const rows = await mdb(store.db).selectFrom('messaging_deliveries').selectAll().where('practice', '=', practice).where('patient_id', '=', request.params.id).orderBy('created_at', 'desc').limit(200).execute();
    const out: PatientMessage[] = [];
    for (const r of rows) {
      const comm = (await store.read('Communication', r.communication_id))?.resource as import('@medplum/fhirtypes').Communication | undefined;
      out.push({ communicationId: r.communication_id, category: r.category, channel: r.channel as MessageChannelKind, to: '', body: comm?.payload?.[0]?.contentString ?? '', status: r.status as DeliveryStatus, ...(r.error ? { error: r.error } : {}), ...(comm?.sender?.display ? { sentBy: comm.sender.display } : {}), createdAt: r.created_at, updatedAt: r.updated_at });
    }
    await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: `Patient/${request.params.id}`, patient: `Patient/${request.params.id}`, outcome: 'success', detail: 'messages listed' }]);
    return out;
  });

  app.post<{ Params: { id: string }; Body: { template?: unknown; text?: unknown; channel?: unknown; about?: unknown; key?: unknown } }>('/api/messaging/patients/:id/messages', { preHandler: requireRole('receptionist', 'clinician') }, async (request, reply) => {
    const b = request.body ?? {};
    const template = typeof b.template === 'string' ? b.template : 'free-text';
    if (!SENDABLE.has(template)) throw new SteadfastError('invalid', `"${template}" cannot be sent from the record`, { field: 'template', hint: `Use ${[...SENDABLE].join(', ')}` });
    if (RESULT_TEMPLATES.has(template) && request.user.role !== 'clinician') throw new SteadfastError('forbidden', 'Only a clinician sends results messages', { field: 'template' });
    const channel = b.channel === undefined ? undefined : (['sms', 'email', 'letter'].includes(String(b.channel)) ? (b.channel as MessageChannelKind) : undefined);
    if (b.channel !== undefined && !channel) throw new SteadfastError('invalid', `channel "${String(b.channel)}" is not sms, email or letter`, { field: 'channel' });
    const text = template === 'free-text' ? checkFreeText(b.text) : undefined;
    const about = typeof b.about === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(b.about) ? b.about : undefined;
    // The browser sends a key per press of Send, so a double click or a retried request is one message.
    const key = typeof b.key === 'string' && /^[\w-]{8,64}$/.test(b.key) ? b.key : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const queued = await store.transaction({ author: request.user.id }, async (tx) => {
      const q = await queuePatientMessage(tx, practice, { patientId: request.params.id, template, ...(channel ? { channel } : {}), values: { text }, key: `patient-message:${request.params.id}:${key}`, category: template, ...(about ? { about } : {}), sender: { id: request.user.id, name: request.user.name }, practiceName: practiceName() });
      await deps.audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'create', resource: `Communication/${q.communicationId}`, patient: `Patient/${request.params.id}`, outcome: 'success', detail: `message queued: ${template}` }]);
      return q;
    });
    void reply.code(queued.created ? 201 : 200);
    return queued;
  });

  async function patientNames(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of new Set(ids)) {
      const p = (await store.read('Patient', id))?.resource as Patient | undefined;
      const n = p?.name?.[0];
      out.set(id, n ? [...(n.given ?? []), n.family].filter(Boolean).join(' ') || 'Name not recorded' : 'Name not recorded');
    }
    return out;
  }

  // Delivery to patients by channel and status, and what was not delivered (the outbox screen).
  app.get('/api/messaging/deliveries', { preHandler: requireRole('receptionist', 'clinician', 'practice-admin') }, async (request): Promise<DeliverySummary> => {
    const m = mdb(store.db);
    const counts = await m.selectFrom('messaging_deliveries').select((eb) => ['channel', 'status', eb.fn.countAll<number>().as('n')]).where('practice', '=', practice).groupBy(['channel', 'status']).execute();
    const failed = await m.selectFrom('messaging_deliveries').selectAll().where('practice', '=', practice).where('status', 'in', ['permanent-failure', 'temporary-failure', 'technical-failure', 'failed']).orderBy('updated_at', 'desc').limit(100).execute();
    const names = await patientNames(failed.map((f) => f.patient_id));
    if (failed.length) await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: 'Communication', outcome: 'success', detail: `undelivered messages listed (${failed.length})` }]);
    return {
      counts: counts.map((c) => ({ channel: c.channel as MessageChannelKind, status: c.status as DeliveryStatus, count: Number(c.n) })),
      failures: failed.map((f) => ({ outboxId: f.outbox_id, communicationId: f.communication_id, patientId: f.patient_id, patientName: names.get(f.patient_id) ?? '', channel: f.channel as MessageChannelKind, status: f.status as DeliveryStatus, error: f.error, updatedAt: f.updated_at })),
    };
  });

  app.get('/api/messaging/replies', { preHandler: requireRole('receptionist', 'clinician') }, async (): Promise<PatientReply[]> => {
    const rows = await mdb(store.db).selectFrom('messaging_replies').selectAll().where('practice', '=', practice).orderBy('received_at', 'desc').limit(200).execute();
    const names = await patientNames(rows.map((r) => r.patient_id).filter((id): id is string => !!id));
    return rows.map((r) => ({ id: r.id, from: r.from_number, message: r.content, receivedAt: r.received_at, ...(r.patient_id ? { patient: { id: r.patient_id, name: names.get(r.patient_id) ?? 'Name not recorded' } } : {}), ...(r.read_at ? { readAt: r.read_at, ...(r.read_by ? { readBy: r.read_by } : {}) } : {}) }));
  });
  app.post<{ Params: { id: string } }>('/api/messaging/replies/:id/read', { preHandler: requireRole('receptionist', 'clinician') }, async (request) => {
    const res = await mdb(store.db).updateTable('messaging_replies').set({ read_at: new Date().toISOString(), read_by: request.user.name }).where('practice', '=', practice).where('id', '=', request.params.id).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new SteadfastError('not-found', `Reply ${request.params.id} was not found`, { field: 'id' });
    return { ok: true };
  });

  app.post<{ Body: { from?: unknown; to?: unknown } }>('/api/messaging/broadcasts/preview', { preHandler: requireRole('practice-admin') }, async (request): Promise<BroadcastPreview> => {
    const preview = await previewBroadcast(store, request.body ?? {});
    await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: 'Broadcast', outcome: 'success', detail: `service disruption broadcast previewed ${preview.from} to ${preview.to}: ${preview.patients} patients` }]);
    return preview;
  });
  app.get('/api/messaging/broadcasts', { preHandler: requireRole('practice-admin') }, async (): Promise<Broadcast[]> => {
    const rows = await mdb(store.db).selectFrom('messaging_broadcasts').selectAll().where('practice', '=', practice).orderBy('created_at', 'desc').limit(50).execute();
    return rows.map(broadcastOf);
  });
  app.post<{ Body: { from?: unknown; to?: unknown; reason?: unknown } }>('/api/messaging/broadcasts', { preHandler: requireRole('practice-admin') }, async (request, reply) => {
    const { row, created } = await startBroadcast(store, request.body ?? {}, request.user);
    if (!created) {
      void reply.code(200);
      return broadcastOf(row);
    }
    await deps.audit.append([{ actor: actorOf(request.user), event: 'create', resource: `Broadcast/${row.id}`, outcome: 'success', detail: `service disruption broadcast ${row.date_from} to ${row.date_to}` }]);
    void runBroadcast(store, row.id, practiceName()).catch((err) => request.log.error({ err }, 'broadcast failed'));
    void reply.code(202);
    return broadcastOf(row);
  });
  app.get<{ Params: { id: string } }>('/api/messaging/broadcasts/:id', { preHandler: requireRole('practice-admin') }, async (request) => {
    const row = await mdb(store.db).selectFrom('messaging_broadcasts').selectAll().where('practice', '=', practice).where('id', '=', request.params.id).executeTakeFirst();
    if (!row) throw new SteadfastError('not-found', `Broadcast ${request.params.id} was not found`, { field: 'id' });
    return { ...broadcastOf(row), unrecorded: await unrecordedCount(store, `broadcast:${row.id}:`) };
  });
  app.post<{ Params: { id: string } }>('/api/messaging/broadcasts/:id/stop', { preHandler: requireRole('practice-admin') }, async (request) => {
    const cancelled = await stopBroadcast(store, request.params.id);
    const row = await mdb(store.db).selectFrom('messaging_broadcasts').selectAll().where('practice', '=', practice).where('id', '=', request.params.id).executeTakeFirstOrThrow();
    return { ...broadcastOf(row), cancelled };
  });

  // GOV.UK Notify's delivery receipts: public (Notify has no session), guarded by the bearer token
  // the practice set in Notify. Idempotent: Notify retries, and a status already final stays.
  app.post<{ Body: { id?: unknown; reference?: unknown; status?: unknown } }>('/api/messaging/notify/callback', { config: { public: true } }, async (request, reply) => {
    const token = deps.config.messaging?.notify?.callbackToken;
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !given || !sameToken(given, token)) {
      request.log.warn({ event: 'notify-callback-refused', reason: 'bad token' }, 'GOV.UK Notify callback refused: bad bearer token');
      await deps.audit.append([{ actor: { id: 'system:notify-callback', name: 'GOV.UK Notify callback', role: 'system', workstation: 'GOV.UK Notify' }, event: 'update', resource: 'Communication', outcome: 'failure', detail: 'delivery receipt refused: bad bearer token' }]).catch(() => undefined);
      throw new SteadfastError('forbidden', 'The delivery receipt did not carry the callback token', { hint: 'Set the same bearer token in GOV.UK Notify and --notify-callback-token' });
    }
    const b = request.body ?? {};
    const status = typeof b.status === 'string' ? deliveryStatusOf(b.status) : undefined;
    if (typeof b.id !== 'string' || !status) throw new SteadfastError('invalid', 'A delivery receipt needs id and a Notify status', { field: typeof b.id !== 'string' ? 'id' : 'status' });
    const m = mdb(store.db);
    const byId = await m.selectFrom('messaging_deliveries').select(['outbox_id', 'notify_id']).where('practice', '=', practice).where('notify_id', '=', b.id).executeTakeFirst();
    const byRef = !byId && typeof b.reference === 'string' ? await m.selectFrom('messaging_deliveries').select(['outbox_id', 'notify_id']).where('practice', '=', practice).where('outbox_id', '=', b.reference).executeTakeFirst() : undefined;
    const row = byId ?? (byRef && !byRef.notify_id ? byRef : undefined);
    if (!row) {
      request.log.warn({ event: 'notify-callback-refused', reason: 'unknown id', notification: b.id }, 'GOV.UK Notify callback refused: unknown notification');
      throw new SteadfastError('not-found', `No message with Notify id ${b.id} was sent from this practice`, { field: 'id' });
    }
    await applyDeliveryStatus(store, practice, row.outbox_id, status, { notifyId: b.id });
    void reply.code(200);
    return { ok: true };
  });
}
