/**
 * What auditing costs a read: `GET /fhir/R4/Patient/{id}` over real HTTP, p50/p95, on a node whose
 * audit trail is written (one hash-chained row per read, committed before the answer) against the
 * same node with auditing replaced by a no-op, in the same run. Sequential requests and 8 at a time
 * (concurrent reads share one audit transaction). Size: BENCH_AUDIT_READS (default 2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildApp } from '../packages/server/src/app.ts';
import { openNode } from '../packages/server/src/node/open.ts';
import type { AuditLog } from '../packages/server/src/audit/log.ts';
import { percentile, round, type BenchResult } from './types.ts';

async function measure(url: string, token: string, ids: string[], reads: number, concurrency: number): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < reads) {
      const id = ids[next++ % ids.length]!;
      const t = performance.now();
      const res = await fetch(`${url}/fhir/R4/Patient/${id}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`read failed: ${res.status}`);
      samples.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return samples;
}

export async function run(): Promise<BenchResult[]> {
  const reads = Number(process.env.BENCH_AUDIT_READS ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-audit-'));
  const node = await openNode({ dataDir: dir });
  try {
    const ids: string[] = [];
    const patients: Patient[] = Array.from({ length: 500 }, (_, i) => ({
      resourceType: 'Patient',
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(i + 1) }],
      name: [{ family: `Family${i}`, given: ['Bench'] }],
      birthDate: '1970-01-01',
    }));
    for (const o of await node.store.write(patients.map((resource) => ({ kind: 'create' as const, resource })), { author: 'bench' })) ids.push(o.resource!.id!);
    await node.accounts.addUser({ username: 'bench', password: 'bench-password', role: 'clinician' });
    const noAudit = {
      append: async () => {},
      record: () => {},
      appendInTransaction: async () => {},
      drain: async () => {},
    } as unknown as AuditLog;

    const results: BenchResult[] = [];
    const timings: Record<string, Record<number, number[]>> = {};
    for (const [label, audit] of [
      ['audited', node.audit],
      ['no audit', noAudit],
    ] as const) {
      const app = await buildApp({
        store: node.store,
        accounts: node.accounts,
        audit,
        config: { practice: node.identity.practice, nodeId: node.identity.nodeId, role: 'node' },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password' }) });
      const { token } = (await login.json()) as { token: string };
      await measure(url, token, ids, 200, 1); // warm up
      timings[label] = { 1: await measure(url, token, ids, reads, 1), 8: await measure(url, token, ids, reads, 8) };
      await app.close();
    }
    for (const c of [1, 8]) {
      for (const p of [50, 95]) {
        const withAudit = round(percentile(timings.audited![c]!, p), 2);
        const without = round(percentile(timings['no audit']![c]!, p), 2);
        results.push({
          name: `read Patient over HTTP, ${c === 1 ? 'sequential' : '8 concurrent'}, p${p}`,
          value: withAudit,
          unit: 'ms',
          baseline: { name: 'same read with auditing off', value: without },
          ratio: round(withAudit / without, 2),
          note: `${reads} reads; each audited read queues one hash-chained audit row for a group commit (not awaited)`,
        });
      }
    }
    const entries = await node.audit.verify();
    if (!entries.ok) throw new Error(`audit chain broken during bench at ${entries.brokenSeq}`);
    return results;
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
