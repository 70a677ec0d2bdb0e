/**
 * The region's view at a PostgreSQL hub. Measured in one run:
 * - heartbeat ingest (`ingestHeartbeat`: node lookup, digest and signature check, figures check,
 *   replay-guarded upsert of the node's latest and the history row, one transaction) against plain
 *   inserts of the same history rows into a table of the same shape, one statement each;
 * - GET /api/region/practices over HTTP at BENCH_REGION_PRACTICES practices (default 1,500), each with
 *   BENCH_REGION_SAMPLES heartbeats of history (default 12: the last hour at 5-minute samples), p95
 *   against GET /healthz on the same hub.
 * Not measured here: a year of 5-minute samples for 1,500 practices (157 million rows) and the page in
 * the browser; see docs/benchmarks.md.
 */
import { sql } from 'kysely';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../packages/server/src/sync/protocol.ts';
import { HEARTBEAT_PATH } from '@steadfast/domain/region';
import { startHub } from '../packages/server/src/hub/index.ts';
import { ingestHeartbeat } from '../packages/server/src/region/hub.ts';
import { regionDb } from '../packages/server/src/region/tables.ts';
import { dropHubSchema, hubStaffToken, postgresAvailable, testHeartbeat, TEST_PG_URL } from '../packages/server/src/testing/index.ts';
import { percentile, round, type BenchResult } from './types.ts';

const PRACTICES = Number(process.env.BENCH_REGION_PRACTICES ?? 1500);
const SAMPLES = Number(process.env.BENCH_REGION_SAMPLES ?? 12);
const INGEST = Number(process.env.BENCH_REGION_INGEST ?? 2000);
const ROUNDS = 30;

const ods = (i: number) => `P${String(i).padStart(5, '0')}`;

export async function run(): Promise<BenchResult[]> {
  if (!(await postgresAvailable())) return [{ name: 'region', value: NaN, unit: 'ms', note: 'skipped: no PostgreSQL at 127.0.0.1:5432' }];
  const schema = `bench_region_${process.pid}`;
  const hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: 'bench' });
  try {
    const keys: string[] = [];
    for (let i = 0; i < PRACTICES; i++) keys.push(await hub.addNode(ods(i), `node-${i}`));
    const backlog = (i: number) => [
      { kind: 'results-unfiled' as const, count: i % 97 },
      { kind: 'documents-unfiled' as const, count: i % 31 },
      { kind: 'tasks-overdue' as const, count: i % 7 },
      { kind: 'outbox-waiting' as const, count: 0 },
    ];
    const signed = (i: number, seq: number) => {
      const hb = testHeartbeat(ods(i), `node-${i}`, seq, { backlog: backlog(i + seq) });
      const body = Buffer.from(JSON.stringify(hb));
      const digest = sha256(body);
      return { hb, request: { headers: { [HEADER_NODE]: hb.nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(keys[i]!, 'POST', HEARTBEAT_PATH, hb.nodeId, digest) }, body } };
    };

    // Ingest against plain inserts of the same rows.
    await sql`CREATE TABLE region_heartbeats_plain (LIKE region_heartbeats INCLUDING ALL)`.execute(hub.db);
    const requests = Array.from({ length: INGEST }, (_, n) => signed(n % PRACTICES, Math.floor(n / PRACTICES) + 1));
    let t = performance.now();
    for (const r of requests) await ingestHeartbeat(hub.db, r.request);
    const ingestMs = performance.now() - t;
    const rows = await regionDb(hub.db).selectFrom('region_heartbeats').selectAll().execute();
    t = performance.now();
    for (const row of rows) await (hub.db as any).insertInto('region_heartbeats_plain').values(row).execute();
    const plainMs = performance.now() - t;

    // History: SAMPLES heartbeats per practice in the last hour (bulk-loaded: it is the page that is measured).
    const now = Date.now();
    for (let s = 0; s < SAMPLES; s++) {
      const at = new Date(now - (SAMPLES - s) * 5 * 60_000).toISOString();
      const batch = Array.from({ length: PRACTICES }, (_, i) => ({ ...rows[0]!, practice: ods(i), node_id: `node-${i}`, seq: 100_000 + s, sent_at: at, received_at: at, backlog: JSON.stringify(backlog(i + s)) }));
      for (let k = 0; k < batch.length; k += 500) await regionDb(hub.db).insertInto('region_heartbeats').values(batch.slice(k, k + 500)).execute();
    }
    // Every practice's latest: one fresh heartbeat each through the real ingest.
    for (let i = 0; i < PRACTICES; i++) await ingestHeartbeat(hub.db, signed(i, 200_000).request);

    const token = await hubStaffToken(hub, 'bench.lead', 'region-lead');
    const timed = async (path: string, auth: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const s = performance.now();
        const res = await fetch(`${hub.url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        samples.push(performance.now() - s);
      }
      return percentile(samples, 95);
    };
    const regionP95 = await timed('/api/region/practices', true);
    const healthP95 = await timed('/healthz', false);
    const ingestPer = ingestMs / INGEST;
    const plainPer = plainMs / rows.length;
    return [
      { name: `heartbeat ingest (${INGEST} heartbeats, ${PRACTICES} practices)`, value: round(ingestPer, 3), unit: 'ms each', baseline: { name: 'plain insert of the same row', value: round(plainPer, 3) }, ratio: round(ingestPer / plainPer), note: 'checks, signature, replay-guarded upsert and history insert in one transaction' },
      {
        name: `GET /api/region/practices p95 (${PRACTICES} practices, ${SAMPLES} samples each in the last hour)`,
        value: round(regionP95, 1),
        unit: 'ms',
        baseline: { name: 'GET /healthz p95', value: round(healthP95, 1) },
        ratio: round(regionP95 / healthP95, 1),
        target: `p95 < 500 ms (API, not the browser): ${regionP95 < 500 ? 'met' : 'not met'}`,
      },
    ];
  } finally {
    await hub.close();
    await dropHubSchema(schema);
  }
}
