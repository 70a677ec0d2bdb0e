import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { Resource } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { openTestStore, type TestStore } from '@steadfast/store/testing';
import { syncMigrations } from './tables.ts';
import { MemoryTransport, receiverFor, registerPeer, syncClientFor } from '../testing/sync.ts';
import { HEADER_DIGEST, encodeBatch, newNodeKey, sha256, type Batch, type SyncRequest } from './protocol.ts';
import { SyncClient } from './client.ts';

const PRACTICE = 'B82005';
const opened: TestStore[] = [];
after(async () => {
  for (const t of opened) await t.dispose();
});

async function open(nodeId: string, practice = PRACTICE): Promise<TestStore> {
  const t = await openTestStore('sqlite', { practice, nodeId, migrations: syncMigrations });
  opened.push(t);
  return t;
}

async function logCount(t: TestStore): Promise<number> {
  return (await t.store.changesSince(0, 100000)).length;
}

async function setup() {
  const hub = await open('hub');
  const a = await open('nodea');
  const b = await open('nodeb');
  const keyA = newNodeKey();
  const keyB = newNodeKey();
  await registerPeer(hub.store.db, { practice: PRACTICE, nodeId: 'nodea', key: keyA });
  await registerPeer(hub.store.db, { practice: PRACTICE, nodeId: 'nodeb', key: keyB });
  const receiver = receiverFor(hub.store);
  const ta = new MemoryTransport(() => receiver);
  const tb = new MemoryTransport(() => receiver);
  return { hub, a, b, keyA, keyB, ta, tb, ca: syncClientFor(a.store, ta, keyA), cb: syncClientFor(b.store, tb, keyB) };
}

const patient = (family: string): Resource => ({ resourceType: 'Patient', name: [{ family }] }) as Resource;

describe('sync protocol: push and pull', () => {
  test('entries written at one node reach the hub and the other node, once each', async () => {
    const { hub, a, b, ca, cb } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Alpha') }, { kind: 'create', resource: patient('Beta') }], { author: 'u1' });
    assert.deepEqual(await ca.exchange(), { pushed: 2, pulled: 2 }, 'node a receives its own entries back (idempotent)');
    await cb.exchange();
    assert.equal(await logCount(hub), 2);
    assert.equal(await logCount(b), 2);
    assert.equal(await logCount(a), 2, 'no duplicates from the echo');
    const page = await b.store.search({ resourceType: 'Patient', params: [{ name: 'family', values: ['alpha'] }], count: 10, offset: 0 });
    assert.equal(page.resources.length, 1);
    assert.equal((await ca.status()).waitingToPush, 0, 'its own entries echoed back are not logged again');
    await b.store.write([{ kind: 'create', resource: patient('Gamma') }], { author: 'u2' });
    await cb.exchange();
    await ca.exchange();
    assert.equal(await logCount(a), 3);
    assert.equal((await ca.status()).waitingToPush, 0, 'an entry pulled from the hub is pushed back in the same exchange (skipped there)');
    assert.equal(await logCount(hub), 3);
    assert.equal((await ca.status()).reachable, true);
  });

  test('a lost acknowledgement does not advance the cursor; the resend is applied once', async () => {
    const { hub, a, ca, ta } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Gamma') }], { author: 'u1' });
    ta.fault = (r) => (r.path === '/api/sync/push' ? 'drop-response' : 'ok');
    await assert.rejects(ca.exchange(), /answer lost/);
    assert.equal((await ca.cursors()).push, 0, 'cursor not advanced without an acknowledgement');
    assert.equal(await logCount(hub), 1, 'the hub applied it');
    const st = await ca.status();
    assert.equal(st.reachable, false);
    assert.equal(st.state, 'disconnected');
    ta.fault = () => 'ok';
    await ca.exchange();
    assert.equal(await logCount(hub), 1, 'not duplicated');
    assert.equal((await ca.cursors()).push, 1);
  });

  test('batches in more than one piece resume from the cursor after a restart of the client', async () => {
    const { hub, a, ta, keyA } = await setup();
    await a.store.write(Array.from({ length: 7 }, (_, i) => ({ kind: 'create' as const, resource: patient(`P${i}`) })), { author: 'u1' });
    const c1 = syncClientFor(a.store, ta, keyA, { batchSize: 3 });
    assert.equal(await c1.pushOnce(), 3);
    // Crash: drop the client and reopen the store; the cursor is durable.
    const reopened = await a.reopen();
    const c2 = syncClientFor(reopened, ta, keyA, { batchSize: 3 });
    assert.equal((await c2.cursors()).push, 3);
    await c2.exchange();
    assert.equal(await logCount(hub), 7);
  });
});

describe('sync protocol: a hub restored from an older backup', () => {
  test('nodes notice the hub went back, send again what it lost and pull again what they missed', async () => {
    const { hub, a, b, ca, cb } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Before') }], { author: 'u1' });
    await ca.exchange();
    await cb.exchange();
    await a.store.write([{ kind: 'create', resource: patient('Lost1') }, { kind: 'create', resource: patient('Lost2') }], { author: 'u1' });
    await ca.exchange();
    await cb.exchange();
    // Restore: the hub loses the last two entries and its cursors go back to the backup's.
    const rows = await hub.store.db.selectFrom('change_log').select(['seq']).orderBy('seq', 'desc').limit(2).execute();
    await hub.store.db.deleteFrom('change_log').where('seq', 'in', rows.map((r) => r.seq)).execute();
    // As a restored database would, the hub hands out those positions again.
    await sql`UPDATE sqlite_sequence SET seq = 1 WHERE name = 'change_log'`.execute(hub.store.db);
    await hub.store.db.updateTable('sync_peers' as any).set({ push_cursor: 1, pull_cursor: 1 }).where('node_id', '=', 'nodea').execute();
    // Node b had sent everything it held before the backup was taken.
    await hub.store.db.updateTable('sync_peers' as any).set({ push_cursor: (await cb.cursors()).push, pull_cursor: 1 }).where('node_id', '=', 'nodeb').execute();
    // Node b writes something new, which lands at a position node a has already pulled past.
    await b.store.write([{ kind: 'create', resource: patient('After') }], { author: 'u2' });
    for (let i = 0; i < 3; i++) {
      await cb.exchange();
      await ca.exchange();
    }
    const names = async (t: TestStore) => (await t.store.search({ resourceType: 'Patient', params: [], count: 50, offset: 0 })).resources.map((r: any) => r.name[0].family).sort();
    assert.deepEqual(await names(a), ['After', 'Before', 'Lost1', 'Lost2']);
    assert.deepEqual(await names(b), ['After', 'Before', 'Lost1', 'Lost2']);
    assert.equal(await logCount(hub), 4, 'the hub has everything again, once');
  });
});

describe('sync protocol: bad batches are rejected whole', () => {
  async function pushRaw(mutate: (req: SyncRequest) => SyncRequest) {
    const { hub, a, ca, ta } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Delta') }, { kind: 'create', resource: patient('Eps') }], { author: 'u1' });
    ta.mangle = mutate;
    const err = await ca.pushOnce().then(
      () => undefined,
      (e: unknown) => e as { status?: number; message: string },
    );
    const rejects = await hub.store.db.selectFrom('sync_rejects' as any).selectAll().execute();
    return { err, applied: await logCount(hub), cursor: (await ca.cursors()).push, rejects };
  }

  test('truncated batch → 400, nothing applied, raw body kept', async () => {
    const r = await pushRaw((req) => ({ ...req, body: req.body.subarray(0, Math.floor(req.body.length / 2)) }));
    assert.equal(r.err?.status, 400);
    assert.match(r.err!.message, /truncated/);
    assert.equal(r.applied, 0);
    assert.equal(r.cursor, 0);
    assert.equal(r.rejects.length, 1);
  });

  test('tampered batch (valid gzip, digest of the original) → 400, nothing applied', async () => {
    const r = await pushRaw((req) => {
      const batch = JSON.parse(require_gunzip(req.body)) as Batch;
      (batch.entries[0]!.resource as any).name = [{ family: 'Mallory' }];
      return { ...req, body: gzipSync(JSON.stringify(batch)) };
    });
    assert.equal(r.err?.status, 400);
    assert.match(r.err!.message, /digest/);
    assert.equal(r.applied, 0);
  });

  test('a re-signed digest without the key → 401', async () => {
    const r = await pushRaw((req) => {
      const batch = JSON.parse(require_gunzip(req.body)) as Batch;
      batch.entries.pop();
      const enc = encodeBatch(batch);
      return { ...req, body: enc.body, headers: { ...req.headers, [HEADER_DIGEST]: enc.digest } };
    });
    assert.equal(r.err?.status, 401);
    assert.equal(r.applied, 0);
  });

  test('unknown node → 401', async () => {
    const r = await pushRaw((req) => ({ ...req, headers: { ...req.headers, 'x-steadfast-node': 'stranger' } }));
    assert.equal(r.err?.status, 401);
    assert.match(r.err!.message, /Unknown node stranger/);
    assert.equal(r.applied, 0);
  });

  test('out of order (from-cursor ahead of the receiver) → 409 and the sender resumes from the receiver’s cursor', async () => {
    const { hub, a, ca, ta, keyA } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Zeta') }, { kind: 'create', resource: patient('Eta') }], { author: 'u1' });
    // The node believes the hub has entry 1 already (e.g. the hub was restored from an older backup).
    await hub.store.db.updateTable('sync_peers' as any).set({ push_cursor: 0 }).execute();
    const client = syncClientFor(a.store, ta, keyA);
    await a.store.db.insertInto('sync_cursors' as any).values({ practice: PRACTICE, peer: 'hub', push_cursor: 1, pull_cursor: 0, last_exchange_at: null }).execute();
    assert.equal(await client.pushOnce(), 0, 'rejected');
    assert.equal(await logCount(hub), 0, 'nothing applied');
    assert.equal((await client.cursors()).push, 0, 'rewound to the hub’s cursor');
    await client.exchange();
    assert.equal(await logCount(hub), 2, 'nothing lost');
    void ca;
  });

  test('a node pushing another practice’s data → 403, nothing applied', async () => {
    const hub = await open('hub2');
    const other = await open('nodex', 'A81001');
    const key = newNodeKey();
    await registerPeer(hub.store.db, { practice: PRACTICE, nodeId: 'nodex', key });
    await other.store.write([{ kind: 'create', resource: patient('Theta') }], { author: 'u1' });
    const client = syncClientFor(other.store, new MemoryTransport(() => receiverFor(hub.store)), key);
    await assert.rejects(client.pushOnce(), (e: any) => e.status === 403 && /may not sync practice A81001/.test(e.message));
    assert.equal(await logCount(hub), 0);
  });

  test('an answer not signed with the node key is not trusted (cursor stays)', async () => {
    const { a, keyA, hub } = await setup();
    await a.store.write([{ kind: 'create', resource: patient('Iota') }], { author: 'u1' });
    const receiver = receiverFor(hub.store);
    const forged = new MemoryTransport(() => receiver);
    const client = new SyncClient({ store: a.store, peer: 'hub', transport: { send: async (r) => ({ ...(await forged.send(r)), headers: { ...(await forged.send(r)).headers, 'x-steadfast-signature': '0'.repeat(64) } }) }, key: keyA });
    await assert.rejects(client.pushOnce(), /not signed/);
    assert.equal((await client.cursors()).push, 0);
    void sha256;
  });
});

describe('sync conflicts end to end', () => {
  test('concurrent edits of one medication on two nodes: one review Task on both, with the same id', async () => {
    const { a, b, ca, cb } = await setup();
    const [created] = await a.store.write([{ kind: 'create', resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' } } as Resource }], { author: 'gp1' });
    await ca.exchange();
    await cb.exchange();
    const id = created!.resource!.id!;
    const v1 = created!.resource!.meta!.versionId!;
    await a.store.write([{ kind: 'update', resource: { ...created!.resource!, status: 'stopped' } as Resource, ifMatch: v1 }], { author: 'gp1' });
    await b.store.write([{ kind: 'update', resource: { ...created!.resource!, dosageInstruction: [{ text: 'twice daily' }] } as Resource, ifMatch: v1 }], { author: 'gp2' });
    await ca.exchange();
    await cb.exchange();
    await ca.exchange();
    await cb.exchange();
    const tasksA = await a.store.search({ resourceType: 'Task', params: [], count: 10, offset: 0 });
    const tasksB = await b.store.search({ resourceType: 'Task', params: [], count: 10, offset: 0 });
    assert.equal(tasksA.resources.length, 1);
    assert.deepEqual(tasksB.resources.map((t) => t.id), tasksA.resources.map((t) => t.id));
    const ra = await a.store.read('MedicationRequest', id);
    const rb = await b.store.read('MedicationRequest', id);
    assert.equal(ra!.versionId, rb!.versionId, 'same provisional winner on both');
    assert.equal((await a.store.history('MedicationRequest', id)).length, 3, 'both versions kept in history');
  });

  test('demographics edited on two nodes merge field by field on both', async () => {
    const { a, b, ca, cb } = await setup();
    const [created] = await a.store.write([{ kind: 'create', resource: { resourceType: 'Patient', name: [{ family: 'Kappa' }], birthDate: '1970-01-01' } as Resource }], { author: 'r1' });
    await ca.exchange();
    await cb.exchange();
    const base = created!.resource!;
    await a.store.write([{ kind: 'update', resource: { ...base, telecom: [{ system: 'phone', value: '07700900111' }] } as Resource, ifMatch: base.meta!.versionId! }], { author: 'r1' });
    await b.store.write([{ kind: 'update', resource: { ...base, address: [{ postalCode: 'LS1 4AP' }] } as Resource, ifMatch: base.meta!.versionId! }], { author: 'gp2' });
    for (let i = 0; i < 3; i++) {
      await ca.exchange();
      await cb.exchange();
    }
    const ra = (await a.store.read('Patient', base.id!))!.resource as any;
    const rb = (await b.store.read('Patient', base.id!))!.resource as any;
    assert.deepEqual(ra.telecom, [{ system: 'phone', value: '07700900111' }]);
    assert.deepEqual(ra.address, [{ postalCode: 'LS1 4AP' }]);
    assert.equal(ra.meta.versionId, rb.meta.versionId);
  });
});

function require_gunzip(b: Buffer): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (globalThis as any).process.getBuiltinModule('node:zlib').gunzipSync(b).toString('utf8');
}

describe('sync client backoff', () => {
  test('exponential with full jitter, bounded, and reset by a success', async () => {
    const { a, keyA } = await setup();
    let r = 0;
    const client = new SyncClient({ store: a.store, peer: 'hub', transport: { send: async () => Promise.reject(new Error('down')) }, key: keyA, minBackoffMs: 100, maxBackoffMs: 5000, random: () => r });
    r = 1;
    assert.equal(client.backoffMs(1), 200);
    assert.equal(client.backoffMs(3), 800);
    assert.equal(client.backoffMs(30), 5000, 'capped');
    r = 0;
    assert.equal(client.backoffMs(30), 100, 'jitter reaches down to the minimum');
    r = 0.5;
    assert.equal(client.backoffMs(2), 250);
  });
});
