/**
 * Incidents at a practice node: the watcher that long-polls the hub (signed, answered the moment an
 * update is posted) and keeps the last answer in the node's database, so the banner survives the hub
 * going away and the node restarting; the outbox channel that takes the practice's acknowledgements
 * and reports to the hub (exactly once: the hub records each message id once and answers a replay
 * with 409, which the channel counts as delivered); and the staff routes the banner and the report form use.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import {
  bannerFreshness, checkPracticeReport, INCIDENT_CONTENT_TYPE, INCIDENT_MESSAGE_PATH, INCIDENT_OUTBOX_CHANNEL, INCIDENT_POLL_MAX_WAIT_MS, INCIDENT_POLL_PATH, INCIDENT_PROTOCOL,
  type BannerIncident, type BannerResponse, type PracticeIncidentMessage, type PracticeIncidentsAnswer, type PracticeIncidentsPoll,
} from '@steadfast/domain/region';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import type { DeliveryResult, OutboxChannel } from '../outbox/contract.ts';
import { enqueue } from '../outbox/queue.ts';
import { odb } from '../outbox/tables.ts';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, responseSignatureMatches, sha256, signRequest } from '../sync/protocol.ts';
import { problemsError } from './errors.ts';
import { incidentsDb } from './tables.ts';

export interface HubLink {
  url: string;
  key: string;
}

/** POST a signed body to the hub as this node. */
function signedPost(hub: HubLink, nodeId: string, path: string, body: unknown, timeoutMs: number): Promise<Response> {
  const bytes = Buffer.from(JSON.stringify(body));
  const digest = sha256(bytes);
  return fetch(new URL(path, hub.url), {
    method: 'POST',
    headers: { 'content-type': INCIDENT_CONTENT_TYPE, [HEADER_NODE]: nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(hub.key, 'POST', path, nodeId, digest) },
    body: new Uint8Array(bytes),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

const diagnostics = async (res: Response) => ((await res.json().catch(() => undefined)) as { issue?: Array<{ diagnostics?: string }> } | undefined)?.issue?.[0]?.diagnostics ?? res.statusText;

export interface WatcherStatus {
  lastContactAt: string | null;
  lastError: string | null;
}

/** Long-polls the hub for the incidents affecting this practice; stores every answer. */
export class IncidentWatcher {
  private stopped = true;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private state: WatcherStatus = { lastContactAt: null, lastError: null };

  constructor(
    private readonly store: RecordStore,
    private readonly hub: HubLink,
    private readonly options: { waitMs?: number; retryMs?: number } = {},
  ) {}

  status(): WatcherStatus {
    return { ...this.state };
  }

  /** One poll: answers at once when the hub's revision differs from ours, else when it changes (or the wait ends). */
  async pollOnce(waitMs = this.options.waitMs ?? INCIDENT_POLL_MAX_WAIT_MS): Promise<PracticeIncidentsAnswer> {
    const { store } = this;
    const held = await incidentsDb(store.db).selectFrom('incident_view').select('revision').where('practice', '=', store.practice).executeTakeFirst();
    const poll: PracticeIncidentsPoll = { protocol: INCIDENT_PROTOCOL, practice: store.practice, nodeId: store.nodeId, since: held?.revision ?? '', waitMs };
    const res = await signedPost(this.hub, store.nodeId, INCIDENT_POLL_PATH, poll, waitMs + 15_000);
    if (res.status !== 200) throw new Error(`The hub refused the incidents poll (${res.status}): ${await diagnostics(res)}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (!responseSignatureMatches(this.hub.key, INCIDENT_POLL_PATH, store.nodeId, sha256(body), res.headers.get(HEADER_SIGNATURE) ?? undefined)) {
      throw new Error("The hub's answer is not signed with this node's key: ignored");
    }
    const answer = JSON.parse(body.toString('utf8')) as PracticeIncidentsAnswer;
    if (answer.practice !== store.practice) throw new Error(`The hub answered for practice ${answer.practice}: ignored`);
    const at = new Date().toISOString();
    const row = { practice: store.practice, answer: body.toString('utf8'), revision: answer.revision, last_contact_at: at };
    await incidentsDb(store.db).insertInto('incident_view').values(row).onConflict((oc) => oc.column('practice').doUpdateSet({ answer: row.answer, revision: row.revision, last_contact_at: at })).execute();
    this.state = { lastContactAt: at, lastError: null };
    return answer;
  }

  start(): void {
    this.stopped = false;
    this.running = (async () => {
      while (!this.stopped) {
        try {
          await this.pollOnce();
        } catch (err) {
          if (this.stopped) break;
          this.state = { ...this.state, lastError: (err as Error).message };
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.options.retryMs ?? 3000);
            this.abort = new AbortController();
            this.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
          });
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    // A poll in flight ends with its timeout or when the hub answers; do not wait for it.
    await Promise.race([this.running, new Promise((r) => setTimeout(r, 100))]);
  }
}

/** The outbox channel to the hub: signed POST; 202 delivered, 409 (already recorded) delivered, 5xx/network retry, other 4xx failed. */
export function incidentChannel(hub: HubLink): OutboxChannel {
  return {
    name: INCIDENT_OUTBOX_CHANNEL,
    label: 'Regional hub (incident messages)',
    async deliver(message): Promise<DeliveryResult> {
      const payload = message.payload as PracticeIncidentMessage;
      let res: Response;
      try {
        res = await signedPost(hub, payload.nodeId, INCIDENT_MESSAGE_PATH, payload, 15_000);
      } catch (err) {
        return { outcome: 'retry', error: (err as Error).name === 'TimeoutError' ? 'The regional hub did not answer in time' : `The regional hub cannot be reached: ${(err as Error).message}` };
      }
      if (res.status === 202) return (await res.arrayBuffer(), { outcome: 'sent', detail: 'recorded at the hub' });
      const why = await diagnostics(res);
      // The hub records each message id once: a 409 means an earlier attempt arrived (after a crash or a lost answer).
      if (res.status === 409) return { outcome: 'sent', detail: `already recorded at the hub: ${why}` };
      if (res.status >= 500 || res.status === 429) return { outcome: 'retry', error: `The regional hub answered ${res.status}: ${why}` };
      return { outcome: 'failed', error: `The regional hub refused it (${res.status}): ${why}` };
    },
  };
}

// ---- the staff routes --------------------------------------------------------------------------

async function lastAnswer(db: Kysely<any>, practice: string): Promise<{ answer: PracticeIncidentsAnswer; lastContactAt: string } | undefined> {
  const row = await incidentsDb(db).selectFrom('incident_view').selectAll().where('practice', '=', practice).executeTakeFirst();
  return row ? { answer: JSON.parse(row.answer) as PracticeIncidentsAnswer, lastContactAt: row.last_contact_at } : undefined;
}

const ackKey = (updateId: string, userId: string) => `incident-ack:${updateId}:${userId}`;
const reportKeyPrefix = (incidentId: string) => `incident-report:${incidentId}:`;

export async function bannerOf(db: Kysely<any>, practice: string, userId: string, connected: boolean, now = new Date()): Promise<BannerResponse> {
  const held = await lastAnswer(db, practice);
  const incidents: BannerIncident[] = [];
  for (const incident of held?.answer.incidents ?? []) {
    const o = odb(db);
    const ack = await o.selectFrom('outbox_messages').select(['created_at', 'state']).where('practice', '=', practice).where('channel', '=', INCIDENT_OUTBOX_CHANNEL).where('message_key', '=', ackKey(incident.latest.id, userId)).executeTakeFirst();
    const reports = await o
      .selectFrom('outbox_messages')
      .select(['message_key', 'created_at', 'state', 'payload'])
      .where('practice', '=', practice)
      .where('channel', '=', INCIDENT_OUTBOX_CHANNEL)
      .where('message_key', 'like', `${reportKeyPrefix(incident.id)}%`)
      .orderBy('created_at')
      .execute();
    incidents.push({
      ...incident,
      freshness: bannerFreshness(incident, { lastContactAt: held?.lastContactAt ?? null, now }),
      acknowledged: ack ? { at: ack.created_at, delivered: ack.state === 'sent' } : null,
      reports: reports.map((r) => {
        const m = JSON.parse(r.payload) as Extract<PracticeIncidentMessage, { kind: 'report' }>;
        return { id: r.message_key, at: r.created_at, by: m.by.name, delivered: r.state === 'sent', report: m.report };
      }),
    });
  }
  return { connected, lastContactAt: held?.lastContactAt ?? null, checkedAt: now.toISOString(), incidents };
}

/** GET /api/incidents (the banner), POST /api/incidents/:id/acknowledge and /reports: any practice staff. */
export async function registerIncidentRoutes(app: FastifyInstance, deps: AppDeps, connected: () => boolean): Promise<void> {
  const staff = requireRole('receptionist', 'clinician', 'practice-admin');
  const { store } = deps;
  const incidentOf = async (id: string) => {
    const held = await lastAnswer(store.db, store.practice);
    const incident = held?.answer.incidents.find((i) => i.id === id);
    if (!incident) throw new SteadfastError('not-found', `No incident ${id} affects this practice`, { field: 'id', hint: 'Use the banner at the top of the page' });
    return incident;
  };
  const needHub = () => {
    if (!connected()) throw new SteadfastError('conflict', 'This node is not connected to a regional hub', { hint: 'Join the hub first (steadfast sync join)' });
  };

  app.get('/api/incidents', { preHandler: staff }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    return bannerOf(store.db, store.practice, request.user.id, connected());
  });

  app.post<{ Params: { id: string }; Body: { updateId?: unknown } }>('/api/incidents/:id/acknowledge', { preHandler: staff }, async (request, reply) => {
    needHub();
    const incident = await incidentOf(request.params.id);
    const updateId = request.body?.updateId;
    if (updateId !== incident.latest.id) {
      throw new SteadfastError('conflict', 'A newer update has arrived: read it, then acknowledge that one', { field: 'updateId', hint: 'The banner shows the latest update' });
    }
    const user = request.user;
    const key = ackKey(incident.latest.id, user.id);
    const message: PracticeIncidentMessage = { protocol: INCIDENT_PROTOCOL, kind: 'acknowledgement', messageId: key, practice: store.practice, nodeId: store.nodeId, incidentId: incident.id, updateId: incident.latest.id, by: { name: user.name, role: user.role }, at: new Date().toISOString() };
    const queued = await store.db.transaction().execute(async (trx) => {
      const q = await enqueue(trx, store.practice, { channel: INCIDENT_OUTBOX_CHANNEL, key, source: 'incidents', payload: message });
      if (q.created) await deps.audit.appendInTransaction(trx, [{ actor: actorOf(user), event: 'create', resource: `IncidentAcknowledgement/${incident.latest.id}`, outcome: 'success', detail: `acknowledged update ${incident.latest.seq} of incident ${incident.id}` }]);
      return q;
    });
    return reply.code(queued.created ? 202 : 200).send({ queued: queued.created, key });
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/incidents/:id/reports', { preHandler: staff }, async (request, reply) => {
    needHub();
    const incident = await incidentOf(request.params.id);
    const checked = checkPracticeReport(request.body);
    if (!checked.ok) throw problemsError(checked.problems);
    const reportId = typeof request.body?.reportId === 'string' && /^[A-Za-z0-9-]{8,64}$/.test(request.body.reportId) ? request.body.reportId : randomUUID();
    const user = request.user;
    const key = `${reportKeyPrefix(incident.id)}${reportId}`;
    const message: PracticeIncidentMessage = { protocol: INCIDENT_PROTOCOL, kind: 'report', messageId: key, practice: store.practice, nodeId: store.nodeId, incidentId: incident.id, report: checked.value, by: { name: user.name, role: user.role }, at: new Date().toISOString() };
    const queued = await store.db.transaction().execute(async (trx) => {
      const q = await enqueue(trx, store.practice, { channel: INCIDENT_OUTBOX_CHANNEL, key, source: 'incidents', payload: message });
      if (q.created) await deps.audit.appendInTransaction(trx, [{ actor: actorOf(user), event: 'create', resource: `IncidentReport/${reportId}`, outcome: 'success', detail: `reported to incident ${incident.id}` }]);
      return q;
    });
    return reply.code(queued.created ? 202 : 200).send({ queued: queued.created, key });
  });
}
