/**
 * The hub's side of the region: heartbeats in (signed with the node's sync key, checked, recorded as
 * history in one transaction or refused with nothing recorded) and the region's figures out.
 *
 * A heartbeat is refused when it comes from an unknown node, is not signed with that node's key, names
 * another practice or node, has a number the hub has already seen (a replay), or has impossible figures
 * (domain region/heartbeat.ts). Refusals are OperationOutcomes naming the field and the fix.
 */
import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import {
  checkHeartbeat, HEARTBEAT_CONTENT_TYPE, HEARTBEAT_PATH, practiceCondition, regionBacklogCount, heartbeatBacklogKinds,
  type ConditionAnswer, type Heartbeat, type HeartbeatBacklog, backlogKindLabels, type HeartbeatHistoryPoint, type RegionNodeView, type RegionPracticeView, type PracticeCondition,
} from '@steadfast/domain/region';
import type { BacklogKind } from '@steadfast/domain/api';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signatureMatches } from '../sync/protocol.ts';
import { syncDb } from '../sync/tables.ts';
import { regionDb, regionHubMigrations as heartbeatMigrations, type RegionHeartbeatsTable } from './tables.ts';
import { healthHubMigrations } from './health-tables.ts';
import { currentWeekStart, earlyWarnings, healthByDay, pruneHealth, recordHealthSamples } from './health-hub.ts';

export const regionHubMigrations = [...heartbeatMigrations, ...healthHubMigrations];

/** How often the hub's retention job deletes health figures older than 13 months. */
const HEALTH_PRUNE_EVERY_MS = 6 * 3600_000;

const MAX_HEARTBEAT_BYTES = 64 * 1024;

export interface HeartbeatRequest {
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** Check and record one heartbeat; throws a SteadfastError (nothing recorded) when it is refused. */
export async function ingestHeartbeat(db: Kysely<any>, request: HeartbeatRequest, now = new Date()): Promise<Heartbeat> {
  const node = request.headers[HEADER_NODE];
  if (!node) throw new SteadfastError('unauthenticated', `No ${HEADER_NODE} header`, { field: HEADER_NODE, hint: 'Send the node id and sign the heartbeat with its sync key' });
  const peer = await syncDb(db).selectFrom('sync_peers').select(['practice', 'node_id', 'node_key']).where('node_id', '=', node).executeTakeFirst();
  if (!peer) {
    throw new SteadfastError('unauthenticated', `Unknown node ${node}`, { field: HEADER_NODE, hint: 'Register the node at the hub (steadfast hub add-node) and configure it with the key it prints' });
  }
  const digest = request.headers[HEADER_DIGEST] ?? '';
  if (digest !== sha256(request.body)) throw new SteadfastError('invalid', 'The heartbeat does not match its digest', { field: HEADER_DIGEST, hint: 'Send the SHA-256 (hex) of the exact body' });
  if (!signatureMatches(peer.node_key, 'POST', HEARTBEAT_PATH, node, digest, request.headers[HEADER_SIGNATURE])) {
    throw new SteadfastError('unauthenticated', `The signature of node ${node} does not match its key`, { field: HEADER_SIGNATURE, hint: 'Check the node is configured with the key the hub issued to it' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new SteadfastError('invalid', 'The heartbeat is not JSON', { field: 'body' });
  }
  const checked = checkHeartbeat(parsed, now);
  if (!checked.ok) throw new SteadfastError('invalid', checked.problem.message, { field: checked.problem.field, hint: checked.problem.hint });
  const hb = checked.heartbeat;
  if (hb.nodeId !== peer.node_id) throw new SteadfastError('forbidden', `The heartbeat names node ${hb.nodeId} but was signed by ${peer.node_id}`, { field: 'nodeId' });
  if (hb.practice !== peer.practice) {
    throw new SteadfastError('forbidden', `Node ${peer.node_id} belongs to practice ${peer.practice} and may not report for ${hb.practice}`, { field: 'practice', hint: 'A node reports for its own practice only' });
  }

  const receivedAt = now.toISOString();
  const row: RegionHeartbeatsTable = {
    practice: hb.practice,
    node_id: hb.nodeId,
    seq: hb.seq,
    sent_at: hb.sentAt,
    received_at: receivedAt,
    reason: hb.reason,
    version: hb.version,
    started_at: hb.startedAt,
    hub_reachable: hb.hub.reachable,
    standby_configured: hb.standby.configured,
    standby_up: hb.standby.up,
    disk_free_bytes: hb.disk?.freeBytes ?? null,
    disk_total_bytes: hb.disk?.totalBytes ?? null,
    backlog: JSON.stringify(hb.backlog),
  };
  // The latest is read for every practice by the region page: without the health samples it carried
  // (up to 12 windows of route errors), which are kept in region_health.
  const latest = JSON.stringify({ ...hb, health: undefined });
  await db.transaction().execute(async (trx) => {
    const r = regionDb(trx);
    // The number only moves forward: an upsert guarded by it is the replay check, safe under concurrency.
    const moved = await r
      .insertInto('region_nodes')
      .values({ practice: hb.practice, node_id: hb.nodeId, last_seq: hb.seq, last_received_at: receivedAt, latest })
      .onConflict((oc) =>
        oc
          .columns(['practice', 'node_id'])
          .doUpdateSet({ last_seq: hb.seq, last_received_at: receivedAt, latest })
          .where('region_nodes.last_seq', '<', hb.seq),
      )
      .returning('node_id')
      .executeTakeFirst();
    if (!moved) {
      throw new SteadfastError('conflict', `Heartbeat ${hb.seq} of node ${hb.nodeId} is not newer than the last one received (a replay)`, {
        field: 'seq',
        hint: 'Each heartbeat needs a higher number than the last; nothing was recorded',
      });
    }
    await r.insertInto('region_heartbeats').values(row).execute();
    await recordHealthSamples(trx, hb.practice, hb.nodeId, hb.health ?? [], receivedAt);
  });
  return hb;
}

// ---- the region's figures ---------------------------------------------------------------------------




function nodeView(v: { nodeId: string; lastReceivedAt: string; latest: Heartbeat }): RegionNodeView {
  const { latest } = v;
  return { nodeId: v.nodeId, lastReceivedAt: v.lastReceivedAt, seq: latest.seq, version: latest.version, startedAt: latest.startedAt, standby: latest.standby, hub: latest.hub, disk: latest.disk };
}

/** The first heartbeat of each practice received at or after `from` (PostgreSQL: the hub's database). */
async function firstHeartbeatsSince(db: Kysely<any>, from: string): Promise<Map<string, { backlog: HeartbeatBacklog[]; startedAt: string; hubReachable: boolean; standbyUp: boolean }>> {
  // One probe of (practice, received_at) per practice, not every heartbeat of the hour sorted (a
  // DISTINCT ON read 90,000 rows at 1,500 practices heartbeating every minute: docs/benchmarks.md).
  const rows = await sql<{ practice: string; backlog: string; started_at: string; hub_reachable: boolean; standby_up: boolean }>`
    SELECT p.practice, h.backlog, h.started_at, h.hub_reachable, h.standby_up
    FROM (SELECT DISTINCT practice FROM sync_peers) AS p
    CROSS JOIN LATERAL (
      SELECT backlog, started_at, hub_reachable, standby_up FROM region_heartbeats
      WHERE practice = p.practice AND received_at >= ${from} ORDER BY received_at LIMIT 1
    ) AS h`.execute(db);
  return new Map(rows.rows.map((r) => [r.practice, { backlog: JSON.parse(r.backlog) as HeartbeatBacklog[], startedAt: r.started_at, hubReachable: Boolean(r.hub_reachable), standbyUp: Boolean(r.standby_up) }]));
}

function changesSince(first: { backlog: HeartbeatBacklog[]; startedAt: string; hubReachable: boolean; standbyUp: boolean } | undefined, latest: Heartbeat | undefined, condition: ConditionAnswer): string[] {
  const out: string[] = [];
  if (condition.condition === 'unreachable') out.push(condition.reasons[0]!);
  if (!latest) return out;
  if (!first) return [...out, 'No heartbeat in the last hour'];
  if (first.startedAt !== latest.startedAt) out.push('The node restarted');
  if (first.hubReachable !== latest.hub.reachable) out.push(latest.hub.reachable ? 'Change log reaching the hub again' : 'Change log stopped reaching the hub');
  if (first.standbyUp !== latest.standby.up) out.push(latest.standby.up ? 'Standby back up' : 'Standby went down');
  for (const now of latest.backlog) {
    const before = first.backlog.find((b) => b.kind === now.kind)?.count;
    if (before === undefined || before === now.count) continue;
    out.push(`${backlogKindLabels[now.kind]} ${now.count > before ? 'up' : 'down'} ${Math.abs(now.count - before)} to ${now.count}`);
  }
  return out;
}

/**
 * Every registered practice, with its condition from its freshest node's heartbeat. A practice with
 * registered nodes and no heartbeat is listed as `unknown`, never left out.
 */
export async function regionPractices(db: Kysely<any>, now = new Date(), heartbeatIntervalMs?: number): Promise<RegionPracticeView[]> {
  const peers = await syncDb(db).selectFrom('sync_peers').select(['practice', 'node_id', 'last_push_at', 'last_pull_at', 'reported_backlog']).orderBy('practice').execute();
  const nodes = await regionDb(db).selectFrom('region_nodes').selectAll().execute();
  const directory = new Map((await regionDb(db).selectFrom('region_practices').selectAll().execute()).map((p) => [p.practice, p]));
  const hourAgo = await firstHeartbeatsSince(db, new Date(now.getTime() - 3600_000).toISOString());
  const byNode = new Map(nodes.map((n) => [`${n.practice}/${n.node_id}`, n]));
  const practices = new Map<string, typeof peers>();
  for (const p of peers) practices.set(p.practice, [...(practices.get(p.practice) ?? []), p]);
  const out: RegionPracticeView[] = [];
  for (const [practice, list] of practices) {
    const views: Array<{ nodeId: string; lastReceivedAt: string; latest: Heartbeat }> = [];
    for (const p of list) {
      const n = byNode.get(`${practice}/${p.node_id}`);
      if (n) views.push({ nodeId: p.node_id, lastReceivedAt: n.last_received_at, latest: JSON.parse(n.latest) as Heartbeat });
    }
    views.sort((a, b) => b.lastReceivedAt.localeCompare(a.lastReceivedAt));
    const freshest = views[0];
    const condition = practiceCondition({ latest: freshest?.latest ?? null, receivedAt: freshest?.lastReceivedAt ?? null, now, ...(heartbeatIntervalMs ? { intervalMs: heartbeatIntervalMs } : {}) });
    const exchanges = list.flatMap((p) => [p.last_push_at, p.last_pull_at]).filter((t): t is string => !!t).sort();
    // The hub knows what waits at the nodes only once a node has pulled (and said so); before that it knows nothing, not 0.
    const reported = list.filter((p) => p.last_pull_at !== null);
    const waitingAtNodes = reported.length ? reported.reduce((a, p) => a + Number(p.reported_backlog), 0) : undefined;
    const backlog: RegionPracticeView['backlog'] = {};
    for (const kind of heartbeatBacklogKinds) {
      const known = kind === 'replication-waiting' ? waitingAtNodes : undefined;
      const value = regionBacklogCount(freshest?.latest ?? null, kind, known);
      if (value !== null || freshest) backlog[kind] = value;
    }
    out.push({
      practice,
      name: directory.get(practice)?.name ?? null,
      pcn: directory.get(practice)?.pcn ?? null,
      condition: condition.condition,
      reasons: condition.reasons,
      lastHeartbeatAt: freshest?.lastReceivedAt ?? null,
      lastExchangeAt: exchanges[exchanges.length - 1] ?? null,
      version: freshest?.latest.version ?? null,
      backlog,
      backlogAsOf: freshest?.latest.sentAt ?? null,
      nodes: views.map(nodeView),
      lastHour: changesSince(hourAgo.get(practice), freshest?.latest, condition),
    });
  }
  return out;
}


/**
 * The condition of just these practices (as `regionPractices` gives it, from each one's freshest node),
 * without the rest of the region page: for an incident's few practices. A practice with no heartbeat is `unknown`.
 */
export async function practiceConditions(db: Kysely<any>, practices: readonly string[], now = new Date()): Promise<Map<string, { condition: PracticeCondition; lastHeartbeatAt: string | null }>> {
  const out = new Map<string, { condition: PracticeCondition; lastHeartbeatAt: string | null }>();
  if (!practices.length) return out;
  const nodes = await regionDb(db).selectFrom('region_nodes').select(['practice', 'last_received_at', 'latest']).where('practice', 'in', [...practices]).execute();
  for (const practice of practices) {
    const freshest = nodes.filter((n) => n.practice === practice).sort((a, b) => b.last_received_at.localeCompare(a.last_received_at))[0];
    const { condition } = practiceCondition({ latest: freshest ? (JSON.parse(freshest.latest) as Heartbeat) : null, receivedAt: freshest?.last_received_at ?? null, now });
    out.set(practice, { condition, lastHeartbeatAt: freshest?.last_received_at ?? null });
  }
  return out;
}

/** One practice's heartbeats received in [from, to), oldest first. */
export async function practiceHistory(db: Kysely<any>, practice: string, from: string, to: string): Promise<HeartbeatHistoryPoint[]> {
  const rows = await regionDb(db)
    .selectFrom('region_heartbeats')
    .selectAll()
    .where('practice', '=', practice)
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .orderBy('received_at')
    .orderBy('node_id')
    .execute();
  return rows.map((r) => ({
    nodeId: r.node_id,
    seq: Number(r.seq),
    sentAt: r.sent_at,
    receivedAt: r.received_at,
    hubReachable: Boolean(r.hub_reachable),
    standbyUp: Boolean(r.standby_up),
    diskFreeBytes: r.disk_free_bytes === null ? null : Number(r.disk_free_bytes),
    backlog: JSON.parse(r.backlog) as HeartbeatBacklog[],
  }));
}

function dayParam(value: string | undefined, field: string, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !Number.isFinite(Date.parse(`${value}T00:00:00Z`))) throw new SteadfastError('invalid', `${field} must be a date (YYYY-MM-DD)`, { field, hint: 'e.g. 2026-12-03' });
  return value;
}

function instantParam(value: string | undefined, field: string, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new SteadfastError('invalid', `${field} must be an ISO date or instant`, { field, hint: 'e.g. 2026-12-03T14:00:00Z' });
  return new Date(t).toISOString();
}

/**
 * POST /api/region/heartbeat (signed by the node), the region's read routes for hub staff, and
 * PUT /api/hub/practices/:practice (the practice directory) for the hub administrator.
 */
export async function registerRegionHub(
  app: FastifyInstance,
  db: Kysely<any>,
  guards: { staff: preHandlerHookHandler; admin: preHandlerHookHandler },
  clock: () => Date = () => new Date(),
  /** The nodes' idle heartbeat interval (default a minute): three missed and a practice is unreachable. */
  heartbeatIntervalMs?: number,
): Promise<void> {
  const guard = guards.staff;
  // The practice directory (name, PCN): set by the hub administrator with the admin token.
  app.put<{ Params: { practice: string }; Body: { name?: unknown; pcn?: unknown } }>('/api/hub/practices/:practice', { config: { public: true }, preHandler: guards.admin }, async (request) => {
    const { practice } = request.params;
    if (!/^[A-Z0-9]{3,10}$/.test(practice)) throw new SteadfastError('invalid', 'practice must be an ODS code', { field: 'practice' });
    const { name, pcn } = request.body ?? {};
    if (typeof name !== 'string' || !name.trim() || name.length > 200) throw new SteadfastError('required', 'name is required (at most 200 characters)', { field: 'name', hint: 'The practice name people know it by' });
    if (pcn !== undefined && pcn !== null && (typeof pcn !== 'string' || pcn.length > 200)) throw new SteadfastError('invalid', 'pcn must be the PCN name (at most 200 characters)', { field: 'pcn' });
    const row = { practice, name: name.trim(), pcn: typeof pcn === 'string' && pcn.trim() ? pcn.trim() : null };
    await regionDb(db).insertInto('region_practices').values(row).onConflict((oc) => oc.column('practice').doUpdateSet({ name: row.name, pcn: row.pcn })).execute();
    return row;
  });
  await app.register(async (scope) => {
    scope.addContentTypeParser(HEARTBEAT_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: MAX_HEARTBEAT_BYTES }, (_req, body, done) => done(null, body));
    scope.post(HEARTBEAT_PATH, { config: { public: true }, bodyLimit: MAX_HEARTBEAT_BYTES }, async (request, reply) => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(request.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
      if (!Buffer.isBuffer(request.body)) throw new SteadfastError('not-supported', `A heartbeat is sent as ${HEARTBEAT_CONTENT_TYPE}`, { field: 'content-type' });
      const hb = await ingestHeartbeat(db, { headers, body: request.body }, clock());
      return reply.code(202).send({ accepted: hb.seq, practice: hb.practice, nodeId: hb.nodeId });
    });
  });
  app.get('/api/region/practices', { preHandler: guard }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    const now = clock();
    return { checkedAt: now.toISOString(), practices: await regionPractices(db, now, heartbeatIntervalMs) };
  });
  app.get<{ Params: { practice: string }; Querystring: { from?: string; to?: string } }>('/api/region/practices/:practice/history', { preHandler: guard }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const { practice } = request.params;
    if (!/^[A-Z0-9]{3,10}$/.test(practice)) throw new SteadfastError('invalid', 'practice must be an ODS code', { field: 'practice' });
    const now = clock();
    const to = instantParam(request.query.to, 'to', now.toISOString());
    const from = instantParam(request.query.from, 'from', new Date(Date.parse(to) - 24 * 3600_000).toISOString());
    const known = await syncDb(db).selectFrom('sync_peers').select('practice').where('practice', '=', practice).executeTakeFirst();
    if (!known) throw new SteadfastError('not-found', `No practice ${practice} is registered at this hub`, { field: 'practice', hint: 'Check the ODS code' });
    return { practice, from, to, heartbeats: await practiceHistory(db, practice, from, to) };
  });
  // Health over days (the daily roll-up, never the five-minute rows): one practice, or the region summed.
  const healthRoute = async (practice: string | null, query: { from?: string; to?: string }) => {
    const today = clock().toISOString().slice(0, 10);
    const to = dayParam(query.to, 'to', today);
    const from = dayParam(query.from, 'from', new Date(Date.parse(`${to}T00:00:00Z`) - 89 * 86_400_000).toISOString().slice(0, 10));
    if (from > to) throw new SteadfastError('invalid', 'from is after to', { field: 'from', hint: 'Give from on or before to' });
    if (Date.parse(to) - Date.parse(from) > 400 * 86_400_000) throw new SteadfastError('invalid', 'At most 400 days at once', { field: 'from', hint: 'The hub keeps 13 months of health figures' });
    return { practice, granularity: 'day' as const, from, to, points: await healthByDay(db, practice, from, to) };
  };
  app.get<{ Params: { practice: string }; Querystring: { from?: string; to?: string } }>('/api/region/practices/:practice/health', { preHandler: guard }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const { practice } = request.params;
    if (!/^[A-Z0-9]{3,10}$/.test(practice)) throw new SteadfastError('invalid', 'practice must be an ODS code', { field: 'practice' });
    const known = await syncDb(db).selectFrom('sync_peers').select('practice').where('practice', '=', practice).executeTakeFirst();
    if (!known) throw new SteadfastError('not-found', `No practice ${practice} is registered at this hub`, { field: 'practice', hint: 'Check the ODS code' });
    return healthRoute(practice, request.query);
  });
  app.get<{ Querystring: { from?: string; to?: string } }>('/api/region/health', { preHandler: guard }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    return healthRoute(null, request.query);
  });
  app.get('/api/region/early-warning', { preHandler: guard }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    const now = clock();
    return { checkedAt: now.toISOString(), weeksBefore: currentWeekStart(now), practices: await earlyWarnings(db, now) };
  });
  // The retention job: at start, then every six hours (health figures are kept 13 months).
  const prune = () => void pruneHealth(db, clock()).catch((err: Error) => app.log.error({ err }, 'health retention job failed'));
  const timer = setInterval(prune, HEALTH_PRUNE_EVERY_MS);
  timer.unref();
  app.addHook('onReady', async () => prune());
  app.addHook('onClose', async () => clearInterval(timer));
}
