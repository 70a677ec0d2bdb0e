import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import type { Resource } from '@medplum/fhirtypes';
import { Random } from '@steadfast/domain/random';
import { openStore } from '@steadfast/store';
import { startHub } from '../packages/server/src/hub/index.ts';
import { SyncClient } from '../packages/server/src/sync/client.ts';
import { HttpTransport } from '../packages/server/src/sync/http.ts';
import { BATCH_CONTENT_TYPE, encodeBatch, HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, PROTOCOL_VERSION, PUSH_PATH, signRequest } from '../packages/server/src/sync/protocol.ts';
import { syncMigrations } from '../packages/server/src/sync/tables.ts';
import { createDrillDatabase } from '../packages/server/src/drill/processes.ts';
import { dayOfWork, registered, type Practice } from './outage.bench.ts';
const P = Number(process.env.P ?? 4), PAT = Number(process.env.PAT ?? 8000);
const db = await createDrillDatabase('postgres://postgres@127.0.0.1:5432/test');
const hub = await startHub({ databaseUrl: db.url, port: 0 });
const dir = mkdtempSync(join(tmpdir(), 'hp-'));
const practices: Array<Practice & { key: string }> = [];
let first = 1;
for (let i = 0; i < P; i++) {
  const ods = `B8${String(i).padStart(4, '0')}`;
  const store = await openStore({ dataDir: join(dir, ods), nodeId: `n-${ods}`, practice: ods, migrations: syncMigrations });
  const key = await hub.addNode(ods, store.nodeId);
  const patients = registered(ods, i, PAT, first); first += PAT;
  for (let k = 0; k < patients.length; k += 500) await store.write(patients.slice(k, k + 500).map((resource) => ({ kind: 'update' as const, resource })), { author: 'b' });
  await store.write([{ kind: 'update', resource: { resourceType: 'Schedule', id: `${ods}-sched1`, active: true } as Resource }], { author: 'b' });
  const client = new SyncClient({ store, peer: 'hub', transport: new HttpTransport(hub.url, 600000), key });
  await client.exchange();
  practices.push({ ods, store, client, patients, practitioner: `${ods}-gp1`, schedule: `${ods}-sched1`, key });
}
let total = 0;
const prepared: Array<Array<{ body: Buffer; digest: string; nodeId: string; key: string }>> = [];
for (const p of practices) {
  const rng = Random.for('outage', p.ods);
  const before = (await p.store.changesSince(0, 10_000_000)).length;
  for (let d = 0; d < 6; d++) { const reqs = dayOfWork(p, d, rng); for (let k = 0; k < reqs.length; k += 500) await p.store.write(reqs.slice(k, k + 500), { author: 'b' }); }
  const { push } = await p.client.cursors();
  const logged = await p.store.changesSince(push, 10_000_000);
  total += logged.length;
  const batches = [];
  const B = Number(process.env.B ?? 500);
  for (let i = 0; i < logged.length; i += B) {
    const part = logged.slice(i, i + B);
    const enc = encodeBatch({ protocol: PROTOCOL_VERSION, nodeId: p.store.nodeId, practice: p.ods, fromCursor: i === 0 ? push : logged[i - 1]!.seq, toCursor: part[part.length - 1]!.seq, entries: part.map(({ seq: _s, ...e }) => e) });
    batches.push({ ...enc, nodeId: p.store.nodeId, key: p.key });
  }
  prepared.push(batches);
}
const transport = new HttpTransport(hub.url, 600000);
const sess = new Session(); sess.connect(); await sess.post('Profiler.enable'); await sess.post('Profiler.start');
const t = performance.now();
await Promise.all(prepared.map(async (batches) => { for (const b of batches) { const res = await transport.send({ path: PUSH_PATH, headers: { 'content-type': BATCH_CONTENT_TYPE, [HEADER_NODE]: b.nodeId, [HEADER_DIGEST]: b.digest, [HEADER_SIGNATURE]: signRequest(b.key, 'POST', PUSH_PATH, b.nodeId, b.digest) }, body: b.body }); if (res.status !== 200) throw new Error(String(res.status) + res.body); } }));
const secs = (performance.now() - t) / 1000;
const { profile } = await sess.post('Profiler.stop'); writeFileSync('/tmp/prof/CPU.hub.cpuprofile', JSON.stringify(profile));
console.log('entries', total, 'rate', total / secs); for (const [k, v] of [...(globalThis as any).PG_T].sort((a: any, b: any) => b[1].ms - a[1].ms).slice(0, 14)) console.log(v.ms.toFixed(0).padStart(7), String(v.n).padStart(6), k);
for (const p of practices) await p.store.close();
await hub.close(); await db.drop();
