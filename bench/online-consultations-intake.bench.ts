/**
 * Online consultation submissions accepted durably, per second, at a practice node (SQLite) and at the
 * regional hub (PostgreSQL), against the same HTTP round trip without storage in the same run: a bare
 * fastify server on loopback that parses the same JSON body and answers 201. A submission counts as
 * accepted when answered 201 (in the record) or 202 (kept raw, durably, not yet in the record); the
 * answer comes only after the commit. BENCH_OC_SUBMISSIONS per target (default 600), 4 clients.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { startTestNode, postgresAvailable, TEST_PG_URL } from '../packages/server/src/testing/harness.ts';
import { startHub } from '../packages/server/src/hub/index.ts';
import { ALWAYS_OPEN, sampleSubmission } from '../packages/server/src/online-consultations/fixtures.ts';
import { SUBMISSION_BODY_LIMIT } from '../packages/server/src/online-consultations/public.ts';
import { round, type BenchResult } from './types.ts';

const N = Number(process.env.BENCH_OC_SUBMISSIONS ?? 600);
const CLIENTS = 4;
const PRACTICE = 'B82005';
const OPTIONS = { ...ALWAYS_OPEN, rateLimit: { max: 10_000_000, windowMs: 60_000 } };

/** N submissions from CLIENTS concurrent clients; per second, and how many were 201 / 202. */
async function drive(url: string): Promise<{ perSecond: number; stored: number; keptRaw: number }> {
  const bodies = Array.from({ length: N }, (_, i) => JSON.stringify(sampleSubmission({ answers: { symptoms: `Cough number ${i}`, duration: 'days', want: 'Advice' } })));
  let next = 0;
  let stored = 0;
  let keptRaw = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < N; i = next++) {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
        await r.arrayBuffer();
        if (r.status === 201) stored++;
        else if (r.status === 202) keptRaw++;
        else throw new Error(`submission ${i} to ${url}: HTTP ${r.status}`);
      }
    }),
  );
  return { perSecond: N / ((performance.now() - started) / 1000), stored, keptRaw };
}

async function bare(): Promise<number> {
  const app = Fastify({ bodyLimit: SUBMISSION_BODY_LIMIT });
  app.post('/submissions', async (request, reply) => reply.code(201).send({ reference: 'OC-BARE', received: typeof request.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const a = app.server.address();
    const port = a && typeof a !== 'string' ? a.port : 0;
    return (await drive(`http://127.0.0.1:${port}/submissions`)).perSecond;
  } finally {
    await app.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const baseline = round(await bare(), 0);
  const node = await startTestNode({ practice: PRACTICE, config: { onlineConsultations: OPTIONS } });
  try {
    await drive(`${node.url}/api/public/online-consultations/${PRACTICE}/submissions`).catch(() => undefined); // warm: validation definitions, statements
    const atNode = await drive(`${node.url}/api/public/online-consultations/${PRACTICE}/submissions`);
    results.push({
      name: `submissions accepted durably at a node (SQLite), ${N} from ${CLIENTS} clients`, value: round(atNode.perSecond, 0), unit: 'submissions/s',
      baseline: { name: 'same HTTP round trip without storage', value: baseline }, ratio: round(atNode.perSecond / baseline, 3),
      note: `${atNode.stored} answered 201 (in the record), ${atNode.keptRaw} 202 (kept raw)`,
    });
  } finally {
    await node.close();
  }
  if (!(await postgresAvailable())) {
    results.push({ name: 'submissions accepted durably at the hub', value: NaN, unit: 'submissions/s', note: 'skipped: no PostgreSQL at 127.0.0.1:5432' });
    return results;
  }
  const schema = `bench_oc_${process.pid}`;
  const hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, onlineConsultations: OPTIONS });
  try {
    await hub.addNode(PRACTICE, 'bench-node');
    await drive(`${hub.url}/api/public/online-consultations/${PRACTICE}/submissions`).catch(() => undefined);
    const atHub = await drive(`${hub.url}/api/public/online-consultations/${PRACTICE}/submissions`);
    results.push({
      name: `submissions accepted durably at the hub (PostgreSQL), ${N} from ${CLIENTS} clients`, value: round(atHub.perSecond, 0), unit: 'submissions/s',
      baseline: { name: 'same HTTP round trip without storage', value: baseline }, ratio: round(atHub.perSecond / baseline, 3),
      note: `${atHub.stored} answered 201 (in the record), ${atHub.keptRaw} 202 (kept raw)`,
    });
  } finally {
    await hub.close();
    const c = new pg.Client({ connectionString: TEST_PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  return results;
}
