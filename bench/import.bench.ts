/**
 * NDJSON import (`steadfast import`: parse, validate, check patient references and NHS numbers,
 * write through the change log with search index rows and audit rows, 500 lines a transaction)
 * against raw better-sqlite3 inserts of the same rows (change_log, resources and search_index rows as
 * the store's schema has them,
 * prepared statements, 500 resources a transaction, same pragmas) in the same run.
 * Size: BENCH_IMPORT_PATIENTS (default 300 demo patients, about 8,000 resources).
 * Target from the issue: import rate at least 0.5 of raw.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { extractIndexRows, loadFhirDefinitions } from '@steadfast/domain';
import { openStore, SQLITE_FILE } from '@steadfast/store';
import { generatePractice } from '../packages/server/src/demo/index.ts';
import { openNode } from '../packages/server/src/node/open.ts';
import { migrations } from '../packages/server/src/migrations.ts';
import { importFile } from '../packages/server/src/cli/import.ts';
import { round, type BenchResult } from './types.ts';

const BATCH = 500;

/** The rows the store writes for each resource, inserted with nothing in between. */
async function rawInsert(dir: string, lines: string[]): Promise<number> {
  // Same schema as the store (its migrations), then plain prepared inserts.
  const store = await openStore({ dataDir: dir, nodeId: 'raw', practice: 'Y99999', migrations });
  await store.close();
  const db = new BetterSqlite3(join(dir, SQLITE_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const log = db.prepare(
    `INSERT INTO change_log (practice, entry_id, origin_node, hlc, resource_type, resource_id, version_id, base_version_id, op, body, author, recorded_at)
     VALUES ('Y99999', ?, 'raw', ?, ?, ?, ?, NULL, 'put', ?, 'raw', ?)`,
  );
  const res = db.prepare(`INSERT INTO resources (practice, resource_type, id, version_id, seq, hlc, last_updated, deleted) VALUES ('Y99999', ?, ?, ?, ?, ?, ?, 0)`);
  const idx = db.prepare(`INSERT INTO search_index (practice, resource_type, rkey, param, system, value, value_end) VALUES ('Y99999', ?, ?, ?, ?, ?, ?)`);
  const started = performance.now();
  const writeBatch = db.transaction((batch: string[]) => {
    for (const line of batch) {
      const r = JSON.parse(line) as Record<string, any>;
      const id = r.id ?? randomUUID();
      const vid = randomUUID();
      const now = new Date().toISOString();
      const body = JSON.stringify({ ...r, id, meta: { versionId: vid, lastUpdated: now } });
      const seq = Number(log.run(vid, now, r.resourceType, id, vid, body, now).lastInsertRowid);
      const rkey = Number(res.run(r.resourceType, id, vid, seq, now, now).lastInsertRowid);
      for (const row of extractIndexRows(r)) idx.run(r.resourceType, rkey, row.param, row.system, row.value, row.valueEnd);
    }
  });
  for (let i = 0; i < lines.length; i += BATCH) writeBatch(lines.slice(i, i + BATCH));
  const ms = performance.now() - started;
  db.close();
  return ms;
}

export async function run(): Promise<BenchResult[]> {
  const patients = Number(process.env.BENCH_IMPORT_PATIENTS ?? 300);
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-import-'));
  try {
    const resources = [...generatePractice({ patients, seed: 1, today: '2026-01-05' })];
    // Patients first, as `steadfast export` writes them, so every reference resolves on import.
    resources.sort((a, b) => Number(b.resourceType === 'Patient') - Number(a.resourceType === 'Patient'));
    const lines = resources.map((r) => JSON.stringify(r));
    const file = join(dir, 'practice.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const rawMs = await rawInsert(join(dir, 'raw'), lines);

    loadFhirDefinitions(); // once per process (about half a second), not per import
    const rawRate = round((lines.length / rawMs) * 1000, 0);
    const results: BenchResult[] = [];
    for (const workers of [0, 1]) {
      const node = await openNode({ dataDir: join(dir, `import-${workers}`) });
      const started = performance.now();
      const report = await importFile(node, file, { onError: 'stop', batchSize: BATCH, progress: false, workers });
      const importMs = performance.now() - started;
      await node.close();
      if (report.errors.length) throw new Error(`import bench: ${report.errors.length} bad lines, first: line ${report.errors[0]!.line}: ${report.errors[0]!.message}`);
      const importRate = round((report.imported / importMs) * 1000, 0);
      const ratio = round(importRate / rawRate, 2);
      results.push({
        name: `NDJSON import, ${lines.length} resources (${patients} patients), ${workers ? `validation on ${workers} worker thread` : 'validation inline'}`,
        value: importRate,
        unit: 'resources/s',
        baseline: { name: 'raw better-sqlite3 inserts of the same rows', value: rawRate },
        ratio,
        target: `≥ 0.5 of raw: ${ratio >= 0.5 ? 'met' : 'NOT met'}`,
        note: 'import validates every resource (FHIR structure + UK rules), checks patient references and NHS numbers, writes audit rows',
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
