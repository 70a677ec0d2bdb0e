import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BacklogResponse } from '@steadfast/domain/api';
import { HEARTBEAT_CONTENT_TYPE, HEARTBEAT_PATH, type Heartbeat } from '@steadfast/domain/region';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { hubStaffToken, dropHubSchema } from '../testing/hub-staff.ts';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../sync/protocol.ts';
import { HeartbeatSender } from './heartbeat.ts';
import { region } from './index.ts';
import { regionPractices } from './hub.ts';
import { regionDb } from './tables.ts';

const available = await postgresAvailable();
const PRACTICE = 'B82005';
const OTHER = 'Y12345';
const ADMIN = 'hub-admin-secret';

describe('region heartbeats at a PostgreSQL hub', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let key: string;
  let otherKey: string;
  /** The hub's clock runs this far ahead of the real one (to show a practice going silent). */
  let hubAheadMs = 0;
  const schema = `region_${process.pid}_${Date.now().toString(36)}`;
  let admin: { authorization: string };

  const nodeBacklog = async () => ((await (await node.fetchAs('practice-admin', '/api/backlog')).json()) as BacklogResponse).figures;
  const sender = (over: Partial<ConstructorParameters<typeof HeartbeatSender>[0]> = {}) =>
    new HeartbeatSender({ store: node.store, url: hub.url, key, backlog: nodeBacklog, hubView: async () => ({ reachable: true, lastExchangeAt: new Date().toISOString() }), dataDir: node.dataDir, ...over });

  async function heartbeatRows(practice = PRACTICE): Promise<number> {
    const rows = await regionDb(hub.db).selectFrom('region_heartbeats').select('seq').where('practice', '=', practice).execute();
    return rows.length;
  }

  /** Send a heartbeat body signed as `nodeId` with `signKey`, as an attacker or a broken node would. */
  async function post(body: unknown, nodeId: string, signKey: string): Promise<{ status: number; outcome: any }> {
    const bytes = Buffer.from(JSON.stringify(body));
    const digest = sha256(bytes);
    const res = await fetch(`${hub.url}${HEARTBEAT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': HEARTBEAT_CONTENT_TYPE, [HEADER_NODE]: nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(signKey, 'POST', HEARTBEAT_PATH, nodeId, digest) },
      body: bytes,
    });
    return { status: res.status, outcome: await res.json() };
  }

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN, clock: () => new Date(Date.now() + hubAheadMs) });
    node = await startTestNode({ practice: PRACTICE });
    key = await hub.addNode(PRACTICE, node.store.nodeId);
    otherKey = await hub.addNode(OTHER, 'node-y12345-1');
    admin = { authorization: `Bearer ${await hubStaffToken(hub, 'lena.lead', 'region-lead')}` };
  });

  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('a heartbeat reaches the hub with the node status and its backlog by kind, and each one is kept as history', async () => {
    const s = sender();
    const first = await s.sendNow('start');
    assert.deepEqual(first, { ok: true, seq: 1 });
    assert.deepEqual(await s.sendNow('idle'), { ok: true, seq: 2 });
    const res = await fetch(`${hub.url}/api/region/practices`, { headers: admin });
    assert.equal(res.status, 200);
    const practice = ((await res.json()) as any).practices.find((p: any) => p.practice === PRACTICE);
    assert.equal(practice.condition, 'ok', practice.reasons.join('; '));
    assert.equal(practice.version, '0.1.0');
    const expected = await nodeBacklog();
    for (const f of expected.filter((x) => x.kind !== 'replication-waiting')) assert.equal(practice.backlog[f.kind], f.count, f.kind);
    assert.equal(practice.nodes[0].disk.totalBytes > 0, true);
    assert.equal(practice.nodes[0].seq, 2);
    const history = await fetch(`${hub.url}/api/region/practices/${PRACTICE}/history`, { headers: admin });
    assert.deepEqual(((await history.json()) as any).heartbeats.map((h: any) => h.seq), [1, 2]);
  });

  test('the heartbeat number keeps rising across a restart of the sender', async () => {
    const again = await sender().sendNow('start');
    assert.deepEqual(again, { ok: true, seq: 3 });
  });

  test('refused with a clear error and nothing recorded: unknown node, bad signature, other practice, replay, impossible figures', async () => {
    const before = await heartbeatRows();
    const hb: Heartbeat = await sender().build('idle');
    const unknown = await post({ ...hb, nodeId: 'node-nobody' }, 'node-nobody', key);
    assert.equal(unknown.status, 401);
    assert.match(unknown.outcome.issue[0].diagnostics, /Unknown node node-nobody/);
    const forged = await post(hb, hb.nodeId, otherKey);
    assert.equal(forged.status, 401);
    assert.match(forged.outcome.issue[0].diagnostics, /signature/);
    const otherPractice = await post({ ...hb, practice: OTHER }, hb.nodeId, key);
    assert.equal(otherPractice.status, 403);
    assert.match(otherPractice.outcome.issue[0].diagnostics, /belongs to practice B82005 and may not report for Y12345/);
    const impossible = await post({ ...hb, backlog: [{ kind: 'results-unfiled', count: -4 }] }, hb.nodeId, key);
    assert.equal(impossible.status, 400);
    assert.deepEqual(impossible.outcome.issue[0].expression, ['backlog[0].count']);
    assert.equal(await heartbeatRows(), before, 'nothing recorded for a refused heartbeat');

    const accepted = await post(hb, hb.nodeId, key);
    assert.equal(accepted.status, 202);
    const replay = await post(hb, hb.nodeId, key);
    assert.equal(replay.status, 409);
    assert.match(replay.outcome.issue[0].diagnostics, /a replay/);
    const older = await post({ ...hb, seq: 1 }, hb.nodeId, key);
    assert.equal(older.status, 409);
    assert.equal(await heartbeatRows(), before + 1, 'the replays recorded nothing');
  });

  test('a wrong all clear: when the heartbeats stop, the hub shows the practice unreachable with its last known backlog and when it was reported', async () => {
    const last = await regionDb(hub.db).selectFrom('region_nodes').select('latest').where('node_id', '=', node.store.nodeId).executeTakeFirstOrThrow();
    const lastKnown = JSON.parse(last.latest) as Heartbeat;
    hubAheadMs = 10 * 60_000;
    try {
      const res = await fetch(`${hub.url}/api/region/practices`, { headers: admin });
      const practice = ((await res.json()) as any).practices.find((p: any) => p.practice === PRACTICE);
      assert.equal(practice.condition, 'unreachable');
      assert.match(practice.reasons[0], /No heartbeat for 10 minutes/);
      assert.equal(practice.backlogAsOf, lastKnown.sentAt);
      for (const f of lastKnown.backlog.filter((x) => x.kind !== 'replication-waiting')) assert.equal(practice.backlog[f.kind], f.count);
      const never = ((await (await fetch(`${hub.url}/api/region/practices`, { headers: admin })).json()) as any).practices.find((p: any) => p.practice === OTHER);
      assert.equal(never.condition, 'unknown', 'a registered practice that never reported is listed, not left out');
    } finally {
      hubAheadMs = 0;
    }
  });

  test('the hub told the nodes heartbeat every 5 s shows a practice silent for 20 s unreachable; at the default minute it is not yet', async () => {
    const last = (await regionPractices(hub.db)).find((p) => p.practice === PRACTICE)!.lastHeartbeatAt!;
    const soon = new Date(Date.parse(last) + 20_000);
    const shown = async (intervalMs?: number) => (await regionPractices(hub.db, soon, intervalMs)).find((p) => p.practice === PRACTICE)!;
    assert.equal((await shown(5_000)).condition, 'unreachable');
    assert.match((await shown(5_000)).reasons[0]!, /figures are as last reported/);
    assert.notEqual((await shown()).condition, 'unreachable');
  });

  test("the region's figures need a hub staff session; neither the admin token nor a node key is a way in to them", async () => {
    assert.equal((await fetch(`${hub.url}/api/region/practices`)).status, 401);
    assert.equal((await fetch(`${hub.url}/api/region/practices`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 401);
    assert.equal((await fetch(`${hub.url}/api/region/practices/${PRACTICE}/history`)).status, 401);
    assert.equal((await fetch(`${hub.url}/api/region/practices/${PRACTICE}/history`, { headers: { authorization: `Bearer ${key}` } })).status, 401);
  });

  test('the region capability sends heartbeats by itself once the node syncs with the hub', async () => {
    writeFileSync(join(node.dataDir, 'sync.json'), JSON.stringify({ upstream: { url: hub.url, key, name: 'hub' } }));
    const before = await heartbeatRows();
    const services = await region.services!({ ...node.deps, config: { ...node.deps.config, dataDir: node.dataDir } }, node.app.log, { outboxChannels: [], backlog: nodeBacklog });
    assert.equal(services.length, 1);
    await services[0]!.start();
    try {
      for (let i = 0; i < 50 && (await heartbeatRows()) === before; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await heartbeatRows(), before + 1);
      const report = await services[0]!.status!.provider.report();
      assert.equal(report.state, 'connected');
    } finally {
      await services[0]!.stop();
    }
  });
});
