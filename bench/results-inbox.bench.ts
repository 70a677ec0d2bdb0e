/**
 * The results inbox after issue 15: each row now names its patient (a Patient read, shared per
 * patient) and lists its abnormal values (the report and its observations read). Measured: listing
 * the whole inbox, against the baseline of the bare search for the open review tasks it starts from,
 * in the same run on the same store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { openStore } from '@steadfast/store';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { checkWrites } from '../packages/server/src/records/write-check.ts';
import { pathologyMigrations } from '../packages/server/src/pathology/tables.ts';
import { ingestHl7Batch } from '../packages/server/src/pathology/ingest.ts';
import { listInbox } from '../packages/server/src/pathology/inbox.ts';
import { buildOru } from '../packages/server/src/testing/hl7-fixtures.ts';
import { percentile, round, type BenchResult } from './types.ts';

export async function run(): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_INBOX_RESULTS ?? 300);
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-inbox-'));
  const loadNote = `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores at start`;
  const store = await openStore({ dataDir: dir, nodeId: 'bench', practice: 'Y99999', migrations: pathologyMigrations });
  try {
    store.setWriteCheck(checkWrites);
    const patients = Array.from({ length: 100 }, (_, i) => ({ nhs: testNhsNumber(20_000 + i), family: `Inbox${i}`, birth: `1970-02-${String((i % 28) + 1).padStart(2, '0')}` }));
    await store.write(
      patients.map((p) => ({ kind: 'create' as const, resource: { resourceType: 'Patient' as const, identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhs }], name: [{ family: p.family, given: ['Pat'] }], birthDate: p.birth } })),
      { author: 'bench' },
    );
    const raws = Array.from({ length: n }, (_, i) => {
      const p = patients[i % patients.length]!;
      return buildOru({
        messageId: `INBOX${i}`, nhsNumber: p.nhs, family: p.family, given: 'Pat', birthDate: p.birth.replace(/-/g, ''), filler: `INBOXACC${i}`, test: ['UE', 'Urea and electrolytes'],
        obx: [
          { code: 'NA', display: 'Sodium', value: '140', units: 'mmol/L', range: '133-146', flag: 'N' },
          { code: 'K', display: 'Potassium', value: i % 5 === 0 ? '6.8' : '4.2', units: 'mmol/L', range: '3.5-5.3', flag: i % 5 === 0 ? 'HH' : 'N' },
          { code: 'CREA', display: 'Creatinine', value: '90', units: 'umol/L', range: '45-110', flag: 'N' },
        ],
      });
    });
    for (let i = 0; i < raws.length; i += 50) await ingestHl7Batch({ store }, raws.slice(i, i + 50).map((raw) => ({ raw, source: 'mllp' as const })));

    const user = { id: 'bench-clinician' };
    const searchTasks = async () => {
      for (let offset = 0; ; offset += 1000) {
        const page = await store.search({ resourceType: 'Task', params: [{ name: 'code', values: [`${TASK_CODE_SYSTEM}|pathology-result`] }, { name: 'status', values: ['requested', 'in-progress'] }], count: 1000, offset });
        if (!page.hasMore) return;
      }
    };
    const time = async (fn: () => Promise<unknown>, runs: number) => {
      await fn(); // warm
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
      return samples;
    };
    const listed = await listInbox(store, user, 'all');
    if (listed.items.length !== n) throw new Error(`expected ${n} results in the inbox, found ${listed.items.length}`);
    const base = await time(searchTasks, 15);
    const full = await time(() => listInbox(store, user, 'all'), 15);
    const b50 = percentile(base, 50);
    const f50 = percentile(full, 50);
    return [
      {
        name: `results inbox: list ${n} open results with patient details and abnormal flags (p50)`,
        value: round(f50, 1),
        unit: 'ms',
        baseline: { name: 'the bare search for the open review tasks (p50)', value: round(b50, 1) },
        ratio: round(f50 / b50, 2),
        note: `p95 ${round(percentile(full, 95), 1)} ms; ${patients.length} patients, 3 observations a report; SQLite; ${loadNote}`,
      },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
