/**
 * Pathology: result ingest with de-duplication, against parse-only of the same messages in the same run.
 *
 * The MLLP listener acknowledges a message once it is stored raw and checked against every delivery
 * already filed (receiveHl7Batch: "at the store"); the filer then maps and files new reports
 * (DiagnosticReport + Observations + review Task) right behind it. Measured separately, per CPU-second
 * (the per-core figure; the wall clock on a shared machine also measures other work and disk syncs):
 *   - receive, one message per transaction (one connection sending and waiting for each ACK) and 50 per
 *     transaction (several connections at once);
 *   - receive of a flood of resends (the faulty-laboratory case), which never reaches the filer;
 *   - filing behind the listener, and store-and-file in one step (drop folder, FHIR API);
 * and, as a floor for filing, raw better-sqlite3 inserts of exactly the rows filing wrote.
 * Request form PDF render time against saving a blank pdf-lib A4 page in the same run.
 * BENCH_PATH_MESSAGES (default 2000) sets the feed size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PDFDocument } from 'pdf-lib';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { openStore, SQLITE_FILE } from '@steadfast/store';
import { checkWrites } from '../packages/server/src/records/write-check.ts';
import { pathologyMigrations, pdb } from '../packages/server/src/pathology/tables.ts';
import { parseOru } from '../packages/server/src/pathology/oru.ts';
import { fileReceived, ingestHl7, ingestHl7Batch, receiveHl7Batch } from '../packages/server/src/pathology/ingest.ts';
import { buildOru } from '../packages/server/src/testing/hl7-fixtures.ts';
import { renderRequestForm, type FormData } from '../packages/server/src/pathology/form.ts';
import { percentile, round, type BenchResult } from './types.ts';

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU-seconds and wall seconds of `fn`. */
async function measure(fn: () => Promise<void>): Promise<{ cpu: number; wall: number }> {
  const c = cpuSeconds();
  const t = performance.now();
  await fn();
  return { cpu: cpuSeconds() - c, wall: (performance.now() - t) / 1000 };
}

/**
 * The floor for filing: the rows filing wrote for `messages` messages (change log, current rows,
 * index, pathology tables), read back and inserted with prepared better-sqlite3 statements into an
 * empty copy of the schema, 50 messages per transaction, synchronous=FULL like the store.
 */
function rawInsertFloor(dbFile: string, messages: number): number {
  const src = new Database(dbFile, { readonly: true });
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-raw-'));
  const dst = new Database(join(dir, 'raw.db'));
  try {
    dst.pragma('journal_mode = WAL');
    dst.pragma('synchronous = FULL');
    dst.pragma('cache_size = -65536');
    for (const r of src.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'").all() as Array<{ sql: string }>) dst.exec(r.sql);
    const tables = ['change_log', 'resources', 'search_index', 'pathology_inbox', 'pathology_fingerprints', 'pathology_reports', 'pathology_deliveries'];
    const rows = tables.map((t) => src.prepare(`SELECT * FROM ${t}`).raw().all() as unknown[][]);
    const inserts = tables.map((t, i) => dst.prepare(`INSERT INTO ${t} VALUES (${rows[i]![0]!.map(() => '?').join(', ')})`));
    const c = cpuSeconds();
    for (let b = 0; b < messages; b += 50) {
      dst.transaction(() => {
        tables.forEach((_, i) => {
          const per = rows[i]!.length / messages;
          for (let k = Math.floor(b * per); k < Math.floor(Math.min(messages, b + 50) * per); k++) inserts[i]!.run(rows[i]![k]!);
        });
      })();
    }
    return messages / (cpuSeconds() - c);
  } finally {
    src.close();
    dst.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_PATH_MESSAGES ?? 2000);
  const root = mkdtempSync(join(tmpdir(), 'steadfast-bench-path-'));
  const results: BenchResult[] = [];
  const patients = Array.from({ length: 200 }, (_, i) => ({ nhs: testNhsNumber(10_000 + i), family: `Bench${i}`, birth: `1960-01-${String((i % 28) + 1).padStart(2, '0')}` }));
  const feed = (prefix: string) =>
    Array.from({ length: n }, (_, i) => {
      const p = patients[i % patients.length]!;
      return buildOru({
        messageId: `${prefix}${i}`, nhsNumber: p.nhs, family: p.family, given: 'Pat', birthDate: p.birth.replace(/-/g, ''), filler: `${prefix}ACC${i}`, test: ['B0001', 'Full blood count'],
        obx: ['HB', 'WBC', 'PLT', 'RBC', 'HCT', 'MCV'].map((code, k) => ({ code, display: code, value: String(100 + k + (i % 7)), units: 'g/L', range: '90-200', flag: k === 0 ? 'H' : '' })),
      });
    });
  let stores = 0;
  const freshStore = async () => {
    const dir = join(root, `s${stores++}`);
    const store = await openStore({ dataDir: dir, nodeId: 'bench', practice: 'Y99999', migrations: pathologyMigrations });
    // As a node opens it: every local write passes the write check (validation, patient references).
    store.setWriteCheck(checkWrites);
    await store.write(
      patients.map((p) => ({ kind: 'create' as const, resource: { resourceType: 'Patient' as const, identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhs }], name: [{ family: p.family, given: ['Pat'] }], birthDate: p.birth } })),
      { author: 'bench' },
    );
    return { store, dir };
  };
  const items = (raws: string[]) => raws.map((raw) => ({ raw, source: 'mllp' as const }));
  const loadNote = `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores at start`;
  try {
    const a = feed('A');
    // Parse-only baseline, warmed up first: a listener runs for hours, so every figure here is taken
    // after the code has been through the JIT (each path below has its own warm-up feed).
    for (let r = 0; r < 3; r++) for (const m of a) parseOru(m);
    const parse = await measure(async () => {
      for (const m of a) parseOru(m);
    });
    const parseRate = n / parse.cpu;
    const base = { name: 'parse only (CPU-s)', value: round(parseRate, 0) };
    const perCpu = (m: { cpu: number }) => n / m.cpu;
    const target = (rate: number) => `≥ 2000 msg/s per core at the store: ${rate >= 2000 ? 'met' : 'NOT met'}`;

    // 1. The listener's path: receive (store raw, de-duplicate, commit = ACK), then the filer.
    const { store: s1, dir: d1 } = await freshStore();
    const warm = feed('W').slice(0, 300);
    for (const m of warm) await receiveHl7Batch({ store: s1 }, items([m]));
    while ((await fileReceived({ store: s1 }, { limit: 50 })) > 0);
    for (const m of warm) await receiveHl7Batch({ store: s1 }, items([m.replace(/\|W(\d+)\|P\|/, '|WR$1|P|')]));
    const receiveOne = await measure(async () => {
      for (const m of a) {
        const [o] = await receiveHl7Batch({ store: s1 }, items([m]));
        if (o!.state !== 'received') throw new Error(`bench message not received: ${o!.reason}`);
      }
    });
    const filing = await measure(async () => {
      while ((await fileReceived({ store: s1 }, { limit: 50 })) > 0);
    });
    const filed = await pdb(s1.db).selectFrom('pathology_inbox').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'filed').executeTakeFirst();
    if (Number(filed?.n) !== n + warm.length) throw new Error(`filer filed ${filed?.n} of ${n + warm.length}`);
    const b = feed('B');
    const receiveBatched = await measure(async () => {
      for (let i = 0; i < n; i += 50) await receiveHl7Batch({ store: s1 }, items(b.slice(i, i + 50)));
    });
    while ((await fileReceived({ store: s1 }, { limit: 50 })) > 0);
    // The faulty laboratory: the whole first feed again, new message ids, one per transaction.
    const resent = a.map((m) => m.replace(/\|A(\d+)\|P\|/, '|RESENT$1|P|'));
    const flood = await measure(async () => {
      for (const m of resent) {
        const [o] = await receiveHl7Batch({ store: s1 }, items([m]));
        if (o!.state !== 'duplicate') throw new Error('a resent message was not recognised on receipt');
      }
    });
    await s1.close();
    const floor = rawInsertFloor(join(d1, SQLITE_FILE), 2 * n + 2 * warm.length);

    // 2. Store and file in one step (drop folder, FHIR API), one message and 50 per transaction.
    const { store: s2 } = await freshStore();
    for (const m of warm) await ingestHl7({ store: s2 }, m, 'folder');
    const syncOne = await measure(async () => {
      for (const m of a) {
        const o = await ingestHl7({ store: s2 }, m, 'folder');
        if (o.state !== 'filed') throw new Error(`bench message not filed: ${o.reason}`);
      }
    });
    const syncBatched = await measure(async () => {
      for (let i = 0; i < n; i += 50) await ingestHl7Batch({ store: s2 }, items(b.slice(i, i + 50)));
    });
    await s2.close();

    const endToEnd = n / (receiveOne.cpu + filing.cpu);
    results.push(
      { name: 'pathology: receive at the store (raw stored, de-duplicated, committed = ACK), one message per transaction', value: round(perCpu(receiveOne), 0), unit: 'msg/cpu-s', baseline: base, ratio: round(perCpu(receiveOne) / parseRate, 3), target: target(perCpu(receiveOne)), note: `${n} new ORU^R01 (6 OBX each), SQLite synchronous=FULL; wall ${round(n / receiveOne.wall, 0)} msg/s; ${loadNote}` },
      { name: 'pathology: receive at the store, 50 messages per transaction (several connections)', value: round(perCpu(receiveBatched), 0), unit: 'msg/cpu-s', baseline: base, ratio: round(perCpu(receiveBatched) / parseRate, 3), target: target(perCpu(receiveBatched)), note: `wall ${round(n / receiveBatched.wall, 0)} msg/s` },
      { name: 'pathology: a flood of resends (new message ids), recognised on receipt, one per transaction', value: round(perCpu(flood), 0), unit: 'msg/cpu-s', baseline: base, ratio: round(perCpu(flood) / parseRate, 3), target: target(perCpu(flood)), note: 'each resend stored raw and counted; nothing reaches the filer' },
      { name: 'pathology: filing behind the listener (map, patient match, DiagnosticReport + 6 Observations + Task), 50 per transaction', value: round(perCpu(filing), 0), unit: 'msg/cpu-s', baseline: { name: 'raw better-sqlite3 inserts of the same rows (CPU-s)', value: round(floor, 0) }, ratio: round(perCpu(filing) / floor, 3), note: `wall ${round(n / filing.wall, 0)} msg/s; parse only ${round(parseRate, 0)} msg/cpu-s` },
      { name: 'pathology: receive + file, whole path per message', value: round(endToEnd, 0), unit: 'msg/cpu-s', baseline: base, ratio: round(endToEnd / parseRate, 3), note: 'the CPU a new result costs end to end' },
      { name: 'pathology: store and file in one step (drop folder, FHIR API), one per transaction', value: round(perCpu(syncOne), 0), unit: 'msg/cpu-s', baseline: base, ratio: round(perCpu(syncOne) / parseRate, 3), note: `wall ${round(n / syncOne.wall, 0)} msg/s` },
      { name: 'pathology: store and file in one step, 50 per transaction', value: round(perCpu(syncBatched), 0), unit: 'msg/cpu-s', baseline: base, ratio: round(perCpu(syncBatched) / parseRate, 3), note: `wall ${round(n / syncBatched.wall, 0)} msg/s` },
    );

    // PDF form render vs blank page
    const form: FormData = {
      orderNumber: 'Y99999-261125-K0001-7', practice: { name: 'Bench Surgery', ods: 'Y99999' }, requester: 'Dr Bench',
      patient: { name: 'BENCH, Pat', birthDate: '1960-01-01', sex: 'female', nhsNumber: testNhsNumber(1), address: ['1 Road', 'Leeds', 'LS1 1AA'] },
      tests: [{ code: 'FBC', display: 'Full blood count', specimen: 'Blood', tube: 'Lavender top - EDTA' }, { code: 'UE', display: 'Urea and electrolytes', specimen: 'Blood', tube: 'Gold top - SST' }],
      tubes: [{ colour: 'Lavender', additive: 'EDTA', volumeMl: 4, specimen: 'Blood', tests: ['FBC'] }, { colour: 'Gold', additive: 'SST', volumeMl: 5, specimen: 'Blood', tests: ['UE'] }],
      clinicalDetails: 'Tired', fasting: false, urgency: 'routine', authoredOn: '2026-11-25T10:00:00.000Z',
    };
    const blank = async () => {
      const d = await PDFDocument.create();
      d.addPage([595.28, 841.89]);
      await d.save();
    };
    for (let i = 0; i < 5; i++) {
      await renderRequestForm(form);
      await blank();
    }
    const renders: number[] = [];
    const blanks: number[] = [];
    for (let i = 0; i < 30; i++) {
      let s = performance.now();
      await renderRequestForm(form);
      renders.push(performance.now() - s);
      s = performance.now();
      await blank();
      blanks.push(performance.now() - s);
    }
    const p50 = percentile(renders, 50);
    const b50 = percentile(blanks, 50);
    results.push({ name: 'pathology: request form PDF render (p50)', value: round(p50), unit: 'ms', baseline: { name: 'blank pdf-lib A4 page', value: round(b50) }, ratio: round(p50 / b50), target: `< 100 ms: ${percentile(renders, 95) < 100 ? 'met' : 'NOT met'} (p95 ${round(percentile(renders, 95))} ms)`, note: 'includes Code 128 and QR generation (bwip-js) and PNG embedding' });
    return results;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
