import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from './index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';
import { resolveConflicts } from '../sync/conflicts.ts';
import { hubReport } from '../sync/index.ts';
import { BATCH_CONTENT_TYPE, encodeBatch, HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, PUSH_PATH, signRequest } from '../sync/protocol.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const available = await postgresAvailable();
const PRACTICE = 'B82005';
const ADMIN = 'hub-admin-secret';

describe('hub over HTTP on PostgreSQL', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let a: TestNode;
  let b: TestNode;
  let ca: SyncClient;
  let cb: SyncClient;
  let keyA: string;
  const schema = `hub_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    a = await startTestNode({ practice: PRACTICE });
    b = await startTestNode({ practice: PRACTICE });
    keyA = await hub.addNode(PRACTICE, a.store.nodeId);
    const keyB = await hub.addNode(PRACTICE, b.store.nodeId);
    const follow = async (s: any, e: any) => void (await resolveConflicts(s, e));
    ca = new SyncClient({ store: a.store, peer: 'hub', transport: new HttpTransport(hub.url), key: keyA, afterApply: follow });
    cb = new SyncClient({ store: b.store, peer: 'hub', transport: new HttpTransport(hub.url), key: keyB, afterApply: follow });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('a patient registered at node a through the API reaches node b through the hub', async () => {
    const created = await a.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Hubbard', given: ['Ada'] }], birthDate: '1980-02-03' });
    await ca.exchange();
    await cb.exchange();
    const res = await b.fetchAs('receptionist', `/fhir/R4/Patient/${created.id}`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).name[0].family, 'Hubbard');
    assert.equal((await ca.status()).reachable, true);
  });

  test('GET /api/hub/practices lists the practice, its nodes and backlog; refused without the admin token', async () => {
    assert.equal((await fetch(`${hub.url}/api/hub/practices`)).status, 401);
    const res = await fetch(`${hub.url}/api/hub/practices`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    const p = body.practices.find((x: any) => x.practice === PRACTICE);
    assert.ok(p.entriesAtHub >= 1);
    assert.equal(p.nodes.length, 2);
    assert.ok(p.lastExchangeAt);
  });

  test('POST /api/hub/nodes registers a node and returns its key, with the admin token only', async () => {
    const body = JSON.stringify({ practice: 'C84001', nodeId: 'node-c84001-1' });
    const refused = await fetch(`${hub.url}/api/hub/nodes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(refused.status, 401);
    const res = await fetch(`${hub.url}/api/hub/nodes`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body });
    assert.equal(res.status, 201);
    const out = (await res.json()) as any;
    assert.match(out.key, /^[0-9a-f]{64}$/);
    const again = await fetch(`${hub.url}/api/hub/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ practice: 'A81001', nodeId: 'node-c84001-1' }),
    });
    assert.equal(again.status, 409, 'one node id cannot belong to two practices');
  });

  test('a truncated batch over HTTP gets 400 with an OperationOutcome and nothing is applied', async () => {
    const before = (await hub.practices()).find((x) => x.practice === PRACTICE)!.entriesAtHub;
    const { body, digest } = encodeBatch({ protocol: 1, nodeId: a.store.nodeId, practice: PRACTICE, fromCursor: 0, toCursor: 1, entries: [] });
    const cut = body.subarray(0, body.length - 6);
    const res = await fetch(`${hub.url}${PUSH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE, [HEADER_NODE]: a.store.nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(keyA, 'POST', PUSH_PATH, a.store.nodeId, digest) },
      body: new Uint8Array(cut),
    });
    assert.equal(res.status, 400);
    const outcome = (await res.json()) as any;
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(outcome.issue[0].diagnostics, /truncated/);
    assert.equal((await hub.practices()).find((x) => x.practice === PRACTICE)!.entriesAtHub, before);
  });

  test('practices are kept apart at the hub: a node only ever receives its own practice', async () => {
    const other = await startTestNode({ practice: 'A81001' });
    try {
      const key = await hub.addNode('A81001', other.store.nodeId);
      const co = new SyncClient({ store: other.store, peer: 'hub', transport: new HttpTransport(hub.url), key });
      await other.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Elsewhere' }], birthDate: '1960-06-06' });
      await co.exchange();
      await ca.exchange();
      const mine = await other.store.search({ resourceType: 'Patient', params: [], count: 50, offset: 0 });
      assert.deepEqual(mine.resources.map((r: any) => r.name[0].family), ['Elsewhere']);
      const theirs = await a.store.search({ resourceType: 'Patient', params: [{ name: 'family', values: ['elsewhere'] }], count: 50, offset: 0 });
      assert.equal(theirs.resources.length, 0);
      const states = await hub.practices();
      assert.ok(states.some((p) => p.practice === 'A81001') && states.some((p) => p.practice === PRACTICE));
      assert.equal(states.find((p) => p.practice === 'A81001')!.entriesAtHub, (await other.store.changesSince(0, 1000)).length);
      // Its key does not open the other practice.
      const wrong = new SyncClient({ store: a.store, peer: 'hub-wrong', transport: new HttpTransport(hub.url), key });
      await assert.rejects(wrong.exchange(), /signature|401/);
    } finally {
      await other.close();
    }
  });

  test('when the hub cannot be reached the status bar says disconnected, never connected', async () => {
    const dead = new SyncClient({ store: a.store, peer: 'nowhere', transport: new HttpTransport('http://127.0.0.1:9', 2000), key: keyA });
    await assert.rejects(dead.exchange());
    const report = hubReport(await dead.status());
    assert.equal(report.state, 'disconnected');
    assert.ok(report.since);
  });
});
