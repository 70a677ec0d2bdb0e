/**
 * HTTP throughput and p99 of a practice node (reads, writes, a 90/10 read/write mix, at 10 and 50
 * connections) against a bare fastify + better-sqlite3 server of the same rows in the same run, and the
 * cost of encryption at rest: the same workloads on an unencrypted and an encrypted (SQLCipher) node.
 *
 * Load comes from bench/loopback-client.mjs on a worker thread (keep-alive sockets on 127.0.0.1,
 * each sending one request at a time); every run is bounded by BENCH_HTTP_MS (default 2000 ms) and a
 * request count, and each figure is the median of BENCH_HTTP_ROUNDS (default 3) runs interleaved with
 * its baseline's. The node's requests are authenticated (bearer token) and audited as in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Fastify, { type FastifyInstance } from 'fastify';
import BetterSqlite3 from 'better-sqlite3';
import type { Resource } from '@medplum/fhirtypes';
import { buildApp } from '../packages/server/src/app.ts';
import { appDepsOf, openNode } from '../packages/server/src/node/open.ts';
import { percentile, round, type BenchResult } from './types.ts';

const PATIENTS = Number(process.env.BENCH_HTTP_PATIENTS ?? 2000);
const DURATION_MS = Number(process.env.BENCH_HTTP_MS ?? 2000);
const MAX_REQUESTS = 200_000;
/** Each figure is the median of this many interleaved runs (the machine is shared; its load moves). */
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const KEY = 'c3'.repeat(32);

const patient = (i: number): Resource =>
  ({ resourceType: 'Patient', id: `p${i}`, name: [{ family: `Family${i % 500}`, given: [`Given${i}`] }], gender: i % 2 ? 'female' : 'male', birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`, address: [{ line: [`${i} High Street`], city: 'Leeds', postalCode: 'LS1 4AP' }] }) as Resource;
const newPatient = (i: number) => JSON.stringify({ resourceType: 'Patient', name: [{ family: `New${i % 300}`, given: [`Written${i}`] }], gender: 'female', birthDate: '1980-02-03' });

interface Server {
  url: string;
  token: string;
  close(): Promise<void>;
}

async function steadfastServer(key?: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-http-'));
  const node = await openNode({ dataDir: dir, ...(key ? { key } : {}) });
  for (let i = 0; i < PATIENTS; i += 500) {
    await node.store.write(Array.from({ length: Math.min(500, PATIENTS - i) }, (_, j) => ({ kind: 'update' as const, resource: patient(i + j) })), { author: 'system:bench' });
  }
  const user = await node.accounts.addUser({ username: 'bench', password: 'bench bench bench', role: 'clinician', name: 'Bench' });
  const { token } = await node.accounts.createSession(user.id, 'bench', 'api');
  const app = await buildApp(appDepsOf(node));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: urlOf(app), token, close: async () => { await app.close(); await node.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** The same rows behind fastify and one better-sqlite3 table: no auth, audit, validation or change log. */
async function bareServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-bare-'));
  const db = new BetterSqlite3(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE patient (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO patient VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < PATIENTS; i += 1) insert.run(`p${i}`, JSON.stringify(patient(i)));
  })();
  const get = db.prepare('SELECT body FROM patient WHERE id = ?').pluck();
  const app = Fastify();
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'));
  app.get<{ Params: { id: string } }>('/fhir/R4/Patient/:id', async (req, reply) => {
    const body = get.get(req.params.id) as string | undefined;
    if (!body) return reply.code(404).send();
    return reply.type('application/fhir+json').send(body);
  });
  app.post('/fhir/R4/Patient', async (req, reply) => {
    const resource = { ...(req.body as object), id: randomUUID() };
    const body = JSON.stringify(resource);
    insert.run(resource.id, body);
    return reply.code(201).type('application/fhir+json').send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: urlOf(app), token: '', close: async () => { await app.close(); db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function urlOf(app: FastifyInstance): string {
  const a = app.server.address();
  return `http://127.0.0.1:${a && typeof a !== 'string' ? a.port : 0}`;
}

type Workload = 'reads' | 'writes' | 'mix 90/10';
const writeEveryOf: Record<Workload, number> = { reads: 0, writes: 1, 'mix 90/10': 10 };

interface Load {
  rate: number;
  p99: number;
  count: number;
}

function load(server: Server, workload: Workload, connections: number, durationMs = DURATION_MS): Promise<Load> {
  const readPaths = Array.from({ length: 997 }, (_, i) => `/fhir/R4/Patient/p${(i * 7919) % PATIENTS}`);
  const writeBodies = Array.from({ length: 500 }, (_, i) => newPatient(i));
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./loopback-client.mjs', import.meta.url), {
      workerData: { url: server.url, connections, durationMs, maxRequests: MAX_REQUESTS, readPaths, writePath: '/fhir/R4/Patient', writeBodies, writeEvery: writeEveryOf[workload], token: server.token },
    });
    worker.once('message', (m: { count: number; errors: number; firstError?: string; seconds: number; latencies: number[] }) => {
      if (m.errors) reject(new Error(`${workload}: ${m.errors} failed requests (first: ${m.firstError})`));
      else resolve({ rate: m.count / m.seconds, p99: percentile(m.latencies, 99), count: m.count });
    });
    worker.once('error', reject);
  });
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const workloads: Workload[] = ['reads', 'writes', 'mix 90/10'];
  const measured = new Map<string, Load>();
  // All three servers are up at once (an idle server costs nothing) and each measurement runs the three
  // back to back, so a change in the machine's load falls on the baseline as much as on the figure.
  const servers = { bare: await bareServer(), node: await steadfastServer(), encrypted: await steadfastServer(KEY) };
  try {
    for (const server of Object.values(servers)) {
      await load(server, 'mix 90/10', 10, 1000); // warm-up (JIT, caches), not recorded
    }
    for (const workload of workloads) {
      for (const connections of [10, 50]) {
        const rounds = new Map<string, Load[]>();
        for (let r = 0; r < ROUNDS; r += 1) {
          for (const [name, server] of Object.entries(servers)) {
            if (name === 'encrypted' && connections !== 10) continue;
            const l = await load(server, workload, connections);
            rounds.set(name, [...(rounds.get(name) ?? []), l]);
            console.log(`${name} ${workload} ${connections} connections: ${Math.round(l.rate)} req/s, p99 ${round(l.p99, 1)} ms (${l.count} requests)`);
          }
        }
        for (const [name, ls] of rounds) {
          measured.set(`${name} ${workload} ${connections}`, { rate: percentile(ls.map((l) => l.rate), 50), p99: percentile(ls.map((l) => l.p99), 50), count: ls.reduce((n, l) => n + l.count, 0) });
        }
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.close();
  }
  for (const workload of workloads) {
    for (const connections of [10, 50]) {
      const node = measured.get(`node ${workload} ${connections}`)!;
      const bare = measured.get(`bare ${workload} ${connections}`)!;
      results.push({
        name: `HTTP ${workload}, ${connections} connections (Patient read by id / create)`,
        value: Math.round(node.rate),
        unit: 'req/s',
        baseline: { name: 'bare fastify + better-sqlite3, same rows', value: Math.round(bare.rate) },
        ratio: round(node.rate / bare.rate, 3),
        note: `p99 ${round(node.p99, 1)} ms (bare ${round(bare.p99, 1)} ms)`,
      });
    }
  }
  for (const workload of workloads) {
    const enc = measured.get(`encrypted ${workload} 10`)!;
    const plain = measured.get(`node ${workload} 10`)!;
    results.push({
      name: `encryption at rest: HTTP ${workload}, 10 connections, encrypted (SQLCipher 4) node`,
      value: Math.round(enc.rate),
      unit: 'req/s',
      baseline: { name: 'the same node unencrypted', value: Math.round(plain.rate) },
      ratio: round(enc.rate / plain.rate, 3),
      note: `p99 ${round(enc.p99, 1)} ms (unencrypted ${round(plain.p99, 1)} ms)`,
    });
  }
  return results;
}
