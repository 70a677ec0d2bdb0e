/**
 * Reconciling an outage at a PostgreSQL hub: several practice nodes (SQLite) each wrote a backlog of
 * entries while cut off; they reconnect at once. Figures: (1) entries applied per second at the hub
 * (the nodes' batches, encoded and signed beforehand, pushed over HTTP, each practice in order and the
 * practices at once) against a raw COPY of the same rows (change_log, resources and search_index as the
 * hub stored them) into an empty schema in the same run; (2) reconnection to converged end to end with
 * the real clients (push everything, pull until nothing waits), all in this one process.
 * Full size as the issue describes (80 practices, six days): BENCH_SYNC_PRACTICES=80 BENCH_SYNC_ENTRIES=<entries
 * per practice>; the default is small so the suite runs in minutes.
 * Sizes: BENCH_SYNC_PRACTICES (default 4) × BENCH_SYNC_ENTRIES per practice (default 3000).
 * Target from the issue: at least 0.3 of raw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Resource } from '@medplum/fhirtypes';
import { testNhsNumber } from '@steadfast/domain';
import { openStore, type RecordStore } from '@steadfast/store';
import { startHub } from '../packages/server/src/hub/index.ts';
import { SyncClient } from '../packages/server/src/sync/client.ts';
import { HttpTransport } from '../packages/server/src/sync/http.ts';
import {
  BATCH_CONTENT_TYPE,
  DEFAULT_BATCH_SIZE,
  encodeBatch,
  HEADER_DIGEST,
  HEADER_NODE,
  HEADER_SIGNATURE,
  PROTOCOL_VERSION,
  PUSH_PATH,
  signRequest,
} from '../packages/server/src/sync/protocol.ts';
import { syncMigrations } from '../packages/server/src/sync/tables.ts';
import { round, type BenchResult } from './types.ts';

const PG_URL = process.env.STEADFAST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = Number(process.env.BENCH_SYNC_BATCH ?? DEFAULT_BATCH_SIZE);

function workload(practiceIndex: number, i: number): Resource {
  const k = i % 10;
  const patient = `Patient/p${practiceIndex}-${Math.floor(i / 10)}`;
  if (k === 0) {
    return {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: testNhsNumber((practiceIndex * 100_003 + i) % 909_091) }],
      name: [{ family: `Family${i}`, given: ['Given'] }],
      birthDate: '1970-01-01',
      gender: i % 20 === 0 ? 'female' : 'male',
      address: [{ postalCode: 'LS1 4AP' }],
    } as Resource;
  }
  if (k < 4) return { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: patient }, period: { start: '2026-11-20T09:00:00Z' } } as Resource;
  if (k < 8) {
    return {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
      subject: { reference: patient },
      effectiveDateTime: '2026-11-20T09:05:00Z',
      valueQuantity: { value: 120 + (i % 40), unit: 'mmHg' },
    } as Resource;
  }
  return { resourceType: 'DocumentReference', status: 'current', subject: { reference: patient }, description: `Letter ${i}`, content: [{ attachment: { contentType: 'text/plain', data: 'TGV0dGVy' } }] } as Resource;
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function tsvField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export async function run(): Promise<BenchResult[]> {
  if (!(await pgReachable())) return [{ name: 'sync at a PostgreSQL hub', value: 0, unit: 'entries/s', note: `skipped: PostgreSQL not reachable at ${PG_URL}` }];
  const practices = Number(process.env.BENCH_SYNC_PRACTICES ?? 4);
  const perPractice = Number(process.env.BENCH_SYNC_ENTRIES ?? 3000);
  const tag = `${process.pid}_${Date.now().toString(36)}`;
  const hubSchema = `bench_hub_${tag}`;
  const rawSchema = `bench_raw_${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-sync-bench-'));
  const nodes: Array<{ store: RecordStore; key: string; client?: SyncClient }> = [];
  const hub = await startHub({ databaseUrl: PG_URL, pgSchema: hubSchema, port: 0 });
  const applySchema = `bench_apply_${tag}`;
  const applyHub = await startHub({ databaseUrl: PG_URL, pgSchema: applySchema, port: 0 });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    // The outage: each practice writes its backlog locally.
    for (let p = 0; p < practices; p++) {
      const practice = `B8${String(p).padStart(4, '0')}`;
      const store = await openStore({ dataDir: join(dir, practice), nodeId: `bench-${practice}`, practice, migrations: syncMigrations });
      for (let i = 0; i < perPractice; i += 500) {
        const n = Math.min(500, perPractice - i);
        await store.write(Array.from({ length: n }, (_, j) => ({ kind: 'create' as const, resource: workload(p, i + j) })), { author: 'bench' });
      }
      const key = await hub.addNode(practice, store.nodeId);
      await applyHub.addNode(practice, store.nodeId, key);
      nodes.push({ store, key, client: new SyncClient({ store, peer: 'hub', transport: new HttpTransport(hub.url, 300_000), key, batchSize: BATCH }) });
    }
    const total = practices * perPractice;

    // 1. Hub apply rate: every practice's backlog, already encoded and signed as its node would send
    //    it (so the nodes' own work is not counted against the hub), pushed at once: each practice's
    //    batches in order, the practices concurrently.
    const prepared: Array<Array<{ body: Buffer; digest: string; nodeId: string; key: string }>> = [];
    for (const { store, key } of nodes) {
      const logged = await store.changesSince(0, perPractice + 10);
      const batches = [];
      for (let i = 0; i < logged.length; i += BATCH) {
        const part = logged.slice(i, i + BATCH);
        const enc = encodeBatch({ protocol: PROTOCOL_VERSION, nodeId: store.nodeId, practice: store.practice, fromCursor: i === 0 ? 0 : logged[i - 1]!.seq, toCursor: part[part.length - 1]!.seq, entries: part.map(({ seq: _s, ...e }) => e) });
        batches.push({ ...enc, nodeId: store.nodeId, key });
      }
      prepared.push(batches);
    }
    const transport = new HttpTransport(applyHub.url, 300_000);
    const applyStarted = performance.now();
    await Promise.all(
      prepared.map(async (batches) => {
        for (const b of batches) {
          const res = await transport.send({
            path: PUSH_PATH,
            headers: { 'content-type': BATCH_CONTENT_TYPE, [HEADER_NODE]: b.nodeId, [HEADER_DIGEST]: b.digest, [HEADER_SIGNATURE]: signRequest(b.key, 'POST', PUSH_PATH, b.nodeId, b.digest) },
            body: b.body,
          });
          if (res.status !== 200) throw new Error(`hub refused a batch: ${res.status} ${res.body.toString()}`);
        }
      }),
    );
    const applySeconds = (performance.now() - applyStarted) / 1000;
    const syncRate = total / applySeconds;

    // 2. Reconnection to converged, end to end: the real clients push everything and pull until nothing waits.
    const started = performance.now();
    await Promise.all(nodes.map(({ client }) => client!.exchange()));
    const convergedSeconds = (performance.now() - started) / 1000;

    // Baseline: COPY the rows the hub ended up with into empty tables of the same schema.
    const rawStore = await openStore({ url: PG_URL, pgSchema: rawSchema, nodeId: 'raw', practice: 'RAW', migrations: syncMigrations });
    await rawStore.close();
    const tables: Array<{ name: string; columns: string[] }> = [];
    for (const name of ['change_log', 'resources', 'search_index']) {
      const cols = await admin.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_default IS NULL ORDER BY ordinal_position`,
        [applySchema, name],
      );
      tables.push({ name, columns: cols.rows.map((r: { column_name: string }) => r.column_name) });
    }
    const data: Array<{ name: string; columns: string[]; tsv: string }> = [];
    for (const t of tables) {
      const rows = await admin.query({ text: `SELECT ${t.columns.join(', ')} FROM ${applySchema}.${t.name} WHERE practice <> 'HUB'`, rowMode: 'array' });
      data.push({ ...t, tsv: rows.rows.map((r: unknown[]) => r.map(tsvField).join('\t')).join('\n') + '\n' });
    }
    const raw = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${rawSchema}` });
    await raw.connect();
    const copyStarted = performance.now();
    await raw.query('BEGIN');
    for (const d of data) await pipeline(Readable.from([d.tsv]), raw.query(copyFrom(`COPY ${d.name} (${d.columns.join(', ')}) FROM STDIN`)));
    await raw.query('COMMIT');
    const copySeconds = (performance.now() - copyStarted) / 1000;
    await raw.end();
    const rawRate = total / copySeconds;

    return [
      {
        name: `entries applied at the hub (${practices} practices × ${perPractice} entries, signed gzip batches of ${BATCH} over HTTP, practices at once)`,
        value: round(syncRate, 0),
        unit: 'entries/s',
        baseline: { name: 'raw COPY of the same change_log, resources and search_index rows', value: round(rawRate, 0) },
        ratio: round(syncRate / rawRate, 3),
        target: `≥ 0.3 of raw: ${syncRate / rawRate >= 0.3 ? 'met' : 'not met'}`,
      },
      {
        name: 'reconnection to converged (push all, then pull until nothing waits)',
        value: round(convergedSeconds, 2),
        unit: 's',
        baseline: { name: 'raw COPY of the same rows', value: round(copySeconds, 2) },
        ratio: round(convergedSeconds / copySeconds, 2),
      },
    ];
  } finally {
    for (const n of nodes) await n.store.close();
    await hub.close();
    await applyHub.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${hubSchema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${applySchema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${rawSchema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
