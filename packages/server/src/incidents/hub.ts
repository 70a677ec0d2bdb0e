/**
 * Incidents at the hub: a region lead opens an incident, posts updates and closes it (audited, every
 * field checked, nothing half-written); practice nodes learn what affects them by a signed long-poll
 * (answered the moment something changes); practices' acknowledgements and reports arrive signed,
 * through their outbox, and are recorded once each. The incident page and the timeline export read
 * it all back, with the affected practices' backlog from their heartbeats.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import {
  checkIncidentClose, checkIncidentOpen, unheardPractices, unheardText, checkIncidentUpdate, checkPracticeMessage, CLOSED_INCIDENT_SHOWN_MS, incidentTimeline, INCIDENT_CONTENT_TYPE,
  INCIDENT_MESSAGE_PATH, INCIDENT_POLL_MAX_WAIT_MS, INCIDENT_POLL_PATH, INCIDENT_PROTOCOL, timelineCsv,
  type FieldProblem, type IncidentDetail, type IncidentSummary, type IncidentUpdate, type IncidentUpdateInput, type PracticeIncidentsAnswer, type PracticeReport, type TimelineRow,
} from '@steadfast/domain/region';
import { actorOf } from '../audit/index.ts';
import type { AuditLog } from '../audit/log.ts';
import { requireHubRole } from '../region/hub-staff.ts';
import { practiceConditions, practiceHistory } from '../region/hub.ts';
import { regionDb } from '../region/tables.ts';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signatureMatches, signResponse } from '../sync/protocol.ts';
import { syncDb } from '../sync/tables.ts';
import { incidentsDb, type RegionIncidentsTable, type RegionIncidentUpdatesTable } from './tables.ts';
import { timelinePdf } from './pdf.ts';
import { problemsError } from './errors.ts';

const MAX_BODY = 64 * 1024;

function updateOf(r: RegionIncidentUpdatesTable): IncidentUpdate {
  return {
    id: r.id, incidentId: r.incident_id, seq: Number(r.seq), kind: r.kind, known: r.known, practicesShould: r.practices_should,
    nextUpdateAt: r.next_update_at, expectedRestorationAt: r.expected_restoration_at, postedAt: r.posted_at, postedBy: r.posted_by,
  };
}

async function summaries(db: Kysely<any>, rows: RegionIncidentsTable[]): Promise<IncidentSummary[]> {
  if (!rows.length) return [];
  const updates = await incidentsDb(db).selectFrom('region_incident_updates').selectAll().where('incident_id', 'in', rows.map((r) => r.id)).orderBy('seq').execute();
  const latest = new Map<string, IncidentUpdate>();
  for (const u of updates) latest.set(u.incident_id, updateOf(u));
  return rows.map((r) => ({
    id: r.id, title: r.title, status: r.status, openedAt: r.opened_at, closedAt: r.closed_at,
    practices: JSON.parse(r.practices) as string[], pcns: JSON.parse(r.pcns) as string[], latest: latest.get(r.id)!,
  }));
}

export async function incidentList(db: Kysely<any>): Promise<IncidentSummary[]> {
  const rows = await incidentsDb(db).selectFrom('region_incidents').selectAll().orderBy('opened_at', 'desc').execute();
  return summaries(db, rows);
}

export async function incidentDetail(db: Kysely<any>, id: string, now = new Date()): Promise<IncidentDetail> {
  const row = await incidentsDb(db).selectFrom('region_incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new SteadfastError('not-found', `No incident ${id}`, { field: 'id', hint: 'Open the incident from the list of incidents' });
  const [summary] = await summaries(db, [row]);
  const updates = (await incidentsDb(db).selectFrom('region_incident_updates').selectAll().where('incident_id', '=', id).orderBy('seq').execute()).map(updateOf);
  const messages = await incidentsDb(db).selectFrom('region_incident_messages').selectAll().where('incident_id', '=', id).orderBy('at').execute();
  const directory = new Map((await regionDb(db).selectFrom('region_practices').selectAll().execute()).map((p) => [p.practice, p]));
  const seqOf = new Map(updates.map((u) => [u.id, u.seq]));
  const latestId = updates[updates.length - 1]!.id;
  const conditions = await practiceConditions(db, summary!.practices, now);
  const practiceViews = summary!.practices.map((practice) => {
    const mine = messages.filter((m) => m.practice === practice);
    const acknowledgements = mine.filter((m) => m.kind === 'acknowledgement').map((m) => ({ updateId: m.update_id!, updateSeq: seqOf.get(m.update_id!) ?? 0, by: m.by_name, role: m.by_role, at: m.at, receivedAt: m.received_at }));
    const reports = mine.filter((m) => m.kind === 'report').map((m) => ({ id: m.message_id, by: m.by_name, role: m.by_role, at: m.at, receivedAt: m.received_at, report: JSON.parse(m.report!) as PracticeReport }));
    const region = conditions.get(practice);
    return {
      practice, name: directory.get(practice)?.name ?? null, pcn: directory.get(practice)?.pcn ?? null,
      condition: region?.condition ?? 'unknown', lastHeartbeatAt: region?.lastHeartbeatAt ?? null, latestAcknowledged: acknowledgements.some((a) => a.updateId === latestId), acknowledgements, reports,
    };
  });
  return { ...summary!, updates, practiceViews };
}

/** The incidents affecting `practice`: open ones, and those closed in the last day (so the closing message is seen). */
export async function practiceAnswer(db: Kysely<any>, practice: string, now: Date): Promise<PracticeIncidentsAnswer> {
  const since = new Date(now.getTime() - CLOSED_INCIDENT_SHOWN_MS).toISOString();
  const rows = await incidentsDb(db)
    .selectFrom('region_incidents')
    .selectAll()
    .where((eb) => eb.or([eb('status', '=', 'open'), eb('closed_at', '>=', since)]))
    .orderBy('opened_at')
    .execute();
  const mine = rows.filter((r) => (JSON.parse(r.practices) as string[]).includes(practice));
  const incidents = (await summaries(db, mine)).map(({ practices: _p, pcns: _c, ...rest }) => rest);
  return { protocol: INCIDENT_PROTOCOL, practice, revision: sha256(Buffer.from(JSON.stringify(incidents))).slice(0, 32), checkedAt: now.toISOString(), incidents };
}

async function timelineOf(db: Kysely<any>, detail: IncidentDetail, now: Date): Promise<TimelineRow[]> {
  const to = detail.closedAt ?? now.toISOString();
  const heartbeats = [];
  for (const practice of detail.practices) {
    for (const h of await practiceHistory(db, practice, detail.openedAt, new Date(Date.parse(to) + 1).toISOString())) heartbeats.push({ practice, receivedAt: h.receivedAt, backlog: h.backlog });
  }
  return incidentTimeline(detail, heartbeats);
}

/** A node's signed request: the peer it comes from, or a refusal naming the header (nothing recorded). */
async function signedPeer(db: Kysely<any>, request: FastifyRequest, path: string): Promise<{ practice: string; node_id: string; node_key: string; body: unknown }> {
  const header = (name: string) => {
    const v = request.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const node = header(HEADER_NODE);
  if (!node) throw new SteadfastError('unauthenticated', `No ${HEADER_NODE} header`, { field: HEADER_NODE, hint: 'Send the node id and sign the request with its sync key' });
  const peer = await syncDb(db).selectFrom('sync_peers').select(['practice', 'node_id', 'node_key']).where('node_id', '=', node).executeTakeFirst();
  if (!peer) throw new SteadfastError('unauthenticated', `Unknown node ${node}`, { field: HEADER_NODE, hint: 'Register the node at the hub (steadfast hub add-node)' });
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const digest = header(HEADER_DIGEST) ?? '';
  if (digest !== sha256(raw)) throw new SteadfastError('invalid', 'The request does not match its digest', { field: HEADER_DIGEST, hint: 'Send the SHA-256 (hex) of the exact body' });
  if (!signatureMatches(peer.node_key, 'POST', path, node, digest, header(HEADER_SIGNATURE))) {
    throw new SteadfastError('unauthenticated', `The signature of node ${node} does not match its key`, { field: HEADER_SIGNATURE, hint: 'Check the node is configured with the key the hub issued to it' });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new SteadfastError('invalid', 'The body is not JSON', { field: 'body', hint: 'Send one JSON object' });
  }
  const b = (body ?? {}) as { practice?: unknown; nodeId?: unknown };
  if (b.nodeId !== peer.node_id) throw new SteadfastError('forbidden', `The request names node ${String(b.nodeId)} but was signed by ${peer.node_id}`, { field: 'nodeId', hint: 'A node speaks for itself only' });
  if (b.practice !== peer.practice) throw new SteadfastError('forbidden', `Node ${peer.node_id} belongs to practice ${peer.practice} and may not speak for ${String(b.practice)}`, { field: 'practice', hint: 'A node speaks for its own practice only' });
  return { ...peer, body };
}

export interface IncidentsHub {
  /** Resolve every waiting poll (the hub is closing). */
  close(): void;
}

export async function registerIncidentsHub(app: FastifyInstance, db: Kysely<any>, audit: AuditLog, clock: () => Date = () => new Date()): Promise<IncidentsHub> {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const changed = () => changes.emit('changed');
  const idParam = (id: string) => {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new SteadfastError('invalid', 'id must be an incident id', { field: 'id', hint: 'Open the incident from the list' });
    return id;
  };
  const noStore = { 'cache-control': 'no-store' };

  app.get('/api/region/incidents', { preHandler: requireHubRole('view-region') }, async (_req, reply) => reply.headers(noStore).send({ incidents: await incidentList(db) }));

  app.post<{ Body: unknown }>('/api/region/incidents', { preHandler: requireHubRole('open-incident') }, async (request, reply) => {
    const now = clock();
    const checked = checkIncidentOpen(request.body, now);
    if (!checked.ok) throw problemsError(checked.problems);
    const input = checked.value;
    const directory = await regionDb(db).selectFrom('region_practices').selectAll().execute();
    const registered = new Set((await syncDb(db).selectFrom('sync_peers').select('practice').execute()).map((p) => p.practice));
    const unknownPractice = input.practices!.find((p) => !registered.has(p));
    if (unknownPractice) throw new SteadfastError('invalid', `No practice ${unknownPractice} is registered at this hub`, { field: 'practices', hint: 'Check the ODS code; nothing was recorded' });
    const practices = new Set(input.practices);
    for (const pcn of input.pcns!) {
      const inPcn = directory.filter((d) => d.pcn === pcn && registered.has(d.practice));
      if (!inPcn.length) throw new SteadfastError('invalid', `No registered practice is in the PCN "${pcn}"`, { field: 'pcns', hint: 'Choose a PCN from the list; nothing was recorded' });
      for (const d of inPcn) practices.add(d.practice);
    }
    const id = randomUUID();
    const at = now.toISOString();
    const user = request.user;
    await db.transaction().execute(async (trx) => {
      await incidentsDb(trx).insertInto('region_incidents').values({ id, title: input.title, status: 'open', opened_at: at, opened_by: user.name, closed_at: null, practices: JSON.stringify([...practices].sort()), pcns: JSON.stringify(input.pcns) }).execute();
      await insertUpdate(trx, id, 1, 'opened', input, at, user.name);
      await audit.appendInTransaction(trx, [{ actor: actorOf(user), event: 'create', resource: `Incident/${id}`, outcome: 'success', detail: `opened "${input.title}" for ${[...practices].join(', ')}` }]);
    });
    changed();
    return reply.code(201).send(await incidentDetail(db, id, clock()));
  });

  app.get<{ Params: { id: string } }>('/api/region/incidents/:id', { preHandler: requireHubRole('view-reports') }, async (request, reply) => reply.headers(noStore).send(await incidentDetail(db, idParam(request.params.id), clock())));

  /** An update or the closing one: in one transaction, numbered after the last, refused on a closed incident. */
  async function post(request: FastifyRequest<{ Params: { id: string }; Body: unknown }>, kind: 'update' | 'closed') {
    const now = clock();
    const id = idParam(request.params.id);
    const closing = kind === 'closed' ? checkIncidentClose(request.body) : undefined;
    const update = kind === 'update' ? checkIncidentUpdate(request.body, now) : undefined;
    const problems = closing && !closing.ok ? closing.problems : update && !update.ok ? update.problems : [];
    if (problems.length) throw problemsError(problems);
    const input: IncidentUpdateInput = closing?.ok ? { known: closing.value.known, practicesShould: closing.value.practicesShould, nextUpdateAt: '', expectedRestorationAt: null } : (update as { ok: true; value: IncidentUpdateInput }).value;
    const at = now.toISOString();
    const user = request.user;
    // A wrong all clear (hazard INC-06): closing while an affected practice has not been heard from
    // needs the region lead's explicit confirmation, naming the practices; refused otherwise, nothing recorded.
    let unheard: string[] = [];
    if (closing?.ok) {
      const current = await incidentDetail(db, id, now);
      unheard = current.status === 'open' ? unheardPractices(current.practiceViews).map(unheardText) : [];
      if (unheard.length && !closing.value.confirmUnheard) {
        throw new SteadfastError('conflict', `Not heard from, so their status is unknown: ${unheard.join('; ')}`, {
          field: 'confirmUnheard',
          hint: 'Check with these practices, or confirm that you are closing without hearing from them (confirmUnheard: true); nothing was recorded',
        });
      }
    }
    await db.transaction().execute(async (trx) => {
      const incident = await incidentsDb(trx).selectFrom('region_incidents').select(['status']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!incident) throw new SteadfastError('not-found', `No incident ${id}`, { field: 'id', hint: 'Open the incident from the list of incidents' });
      if (incident.status === 'closed') throw new SteadfastError('conflict', 'This incident is closed; open a new one', { field: 'id', hint: 'Nothing was recorded' });
      const last = await incidentsDb(trx).selectFrom('region_incident_updates').select((eb) => eb.fn.max('seq').as('seq')).where('incident_id', '=', id).executeTakeFirst();
      await insertUpdate(trx, id, Number(last?.seq ?? 0) + 1, kind, input, at, user.name);
      if (kind === 'closed') await incidentsDb(trx).updateTable('region_incidents').set({ status: 'closed', closed_at: at }).where('id', '=', id).execute();
      await audit.appendInTransaction(trx, [{ actor: actorOf(user), event: 'update', resource: `Incident/${id}`, outcome: 'success', detail: kind === 'closed' ? (unheard.length ? `closed, confirmed without hearing from: ${unheard.join('; ')}` : 'closed') : 'posted an update' }]);
    });
    changed();
    return incidentDetail(db, id, clock());
  }
  app.post<{ Params: { id: string }; Body: unknown }>('/api/region/incidents/:id/updates', { preHandler: requireHubRole('post-update') }, async (request, reply) => reply.code(201).send(await post(request, 'update')));
  app.post<{ Params: { id: string }; Body: unknown }>('/api/region/incidents/:id/close', { preHandler: requireHubRole('post-update') }, async (request) => post(request, 'closed'));

  app.get<{ Params: { id: string } }>('/api/region/incidents/:id/timeline.csv', { preHandler: requireHubRole('export-timeline') }, async (request, reply) => {
    const detail = await incidentDetail(db, idParam(request.params.id), clock());
    const csv = timelineCsv(await timelineOf(db, detail, clock()));
    audit.record([{ actor: actorOf(request.user), event: 'export', resource: `Incident/${detail.id}`, outcome: 'success', detail: 'timeline CSV' }]);
    return reply.headers({ ...noStore, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="incident-${detail.id}-timeline.csv"` }).send(csv);
  });
  app.get<{ Params: { id: string } }>('/api/region/incidents/:id/timeline.pdf', { preHandler: requireHubRole('export-timeline') }, async (request, reply) => {
    const detail = await incidentDetail(db, idParam(request.params.id), clock());
    const pdf = await timelinePdf(detail, await timelineOf(db, detail, clock()), clock());
    audit.record([{ actor: actorOf(request.user), event: 'export', resource: `Incident/${detail.id}`, outcome: 'success', detail: 'timeline PDF' }]);
    return reply.headers({ ...noStore, 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="incident-${detail.id}-timeline.pdf"` }).send(Buffer.from(pdf));
  });

  // ---- the nodes' side: signed, public to the staff auth hook -------------------------------------
  const waiting = new Set<() => void>();
  await app.register(async (scope) => {
    scope.addContentTypeParser(INCIDENT_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));

    scope.post(INCIDENT_POLL_PATH, { config: { public: true }, bodyLimit: MAX_BODY }, async (request, reply) => {
      const peer = await signedPeer(db, request, INCIDENT_POLL_PATH);
      const poll = peer.body as { since?: unknown; waitMs?: unknown };
      const since = typeof poll.since === 'string' ? poll.since : '';
      const waitMs = Math.max(0, Math.min(Number(poll.waitMs) || 0, INCIDENT_POLL_MAX_WAIT_MS));
      let answer = await practiceAnswer(db, peer.practice, clock());
      if (answer.revision === since && waitMs > 0) {
        // Wait for the next change (or the time asked), then answer what is true then.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            changes.off('changed', done);
            waiting.delete(done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          changes.on('changed', done);
          waiting.add(done);
          request.raw.on('close', done);
        });
        answer = await practiceAnswer(db, peer.practice, clock());
      }
      const body = Buffer.from(JSON.stringify(answer));
      // Signed back with the node's key: a node only shows a banner its own hub sent.
      return reply
        .headers({ 'content-type': 'application/json', ...noStore, [HEADER_SIGNATURE]: signResponse(peer.node_key, INCIDENT_POLL_PATH, peer.node_id, sha256(body)) })
        .send(body);
    });

    scope.post(INCIDENT_MESSAGE_PATH, { config: { public: true }, bodyLimit: MAX_BODY }, async (request, reply) => {
      const now = clock();
      const peer = await signedPeer(db, request, INCIDENT_MESSAGE_PATH);
      const checked = checkPracticeMessage(peer.body, now);
      if (!checked.ok) throw problemsError(checked.problems);
      const m = checked.value;
      const incident = await incidentsDb(db).selectFrom('region_incidents').select(['practices']).where('id', '=', m.incidentId).executeTakeFirst();
      if (!incident) throw new SteadfastError('not-found', `No incident ${m.incidentId}`, { field: 'incidentId', hint: 'Nothing was recorded' });
      if (!(JSON.parse(incident.practices) as string[]).includes(m.practice)) {
        throw new SteadfastError('forbidden', `Practice ${m.practice} is not affected by incident ${m.incidentId}`, { field: 'incidentId', hint: 'Nothing was recorded' });
      }
      if (m.kind === 'acknowledgement') {
        const update = await incidentsDb(db).selectFrom('region_incident_updates').select('id').where('id', '=', m.updateId).where('incident_id', '=', m.incidentId).executeTakeFirst();
        if (!update) throw new SteadfastError('invalid', `Update ${m.updateId} is not an update of incident ${m.incidentId}`, { field: 'updateId', hint: 'Nothing was recorded' });
      }
      const inserted = await incidentsDb(db)
        .insertInto('region_incident_messages')
        .values({
          practice: m.practice, message_id: m.messageId, incident_id: m.incidentId, kind: m.kind, node_id: m.nodeId, update_id: m.kind === 'acknowledgement' ? m.updateId : null,
          by_name: m.by.name.slice(0, 200), by_role: m.by.role.slice(0, 50), at: m.at, received_at: now.toISOString(), report: m.kind === 'report' ? JSON.stringify(m.report) : null,
        })
        .onConflict((oc) => oc.columns(['practice', 'message_id']).doNothing())
        .returning('message_id')
        .executeTakeFirst();
      if (!inserted) throw new SteadfastError('conflict', `Message ${m.messageId} of practice ${m.practice} was already recorded (a replay)`, { field: 'messageId', hint: 'Nothing more was recorded; the hub has it' });
      return reply.code(202).send({ accepted: m.messageId, kind: m.kind });
    });
  });
  return { close: () => [...waiting].forEach((done) => done()) };
}

async function insertUpdate(trx: Kysely<any>, incidentId: string, seq: number, kind: IncidentUpdate['kind'], input: IncidentUpdateInput, at: string, by: string): Promise<void> {
  await incidentsDb(trx)
    .insertInto('region_incident_updates')
    .values({
      id: randomUUID(), incident_id: incidentId, seq, kind, known: input.known, practices_should: input.practicesShould,
      next_update_at: input.nextUpdateAt || null, expected_restoration_at: input.expectedRestorationAt ?? null, posted_at: at, posted_by: by,
    })
    .execute();
}
