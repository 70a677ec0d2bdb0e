/**
 * Seeding a store with the demo practice: the generated resources are checked at the boundary (all,
 * or a sample: see SeedOptions.validate), then written through the change log in batches, each batch one transaction of
 * update-as-create requests (so the generator's ids are kept and references resolve).
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import { sql } from 'kysely';
import { Worker } from 'node:worker_threads';
import { isTestData, SteadfastError, type ErrorCode } from '@steadfast/domain';
import type { RecordStore, WriteRequest } from '@steadfast/store';
import type { GenerateOptions } from './generate.ts';
import { checkedBatches, type SeedBatch, type ValidateMode } from './batches.ts';

export interface SeedProgress {
  /** Patients written so far (the practice's own resources come first, the week of appointments last). */
  patients: number;
  totalPatients: number;
  resources: number;
}

export interface SeedOptions extends Omit<GenerateOptions, 'odsCode'> {
  onProgress?: (progress: SeedProgress) => void;
  /** Resources per transaction (default 500). */
  batchSize?: number;
  /**
   * How much to check with validateResource before writing. 'all' checks every resource; 'sample'
   * (the default) checks the practice, its staff, the first 20 patients' records, every 100th patient
   * after that and the first 50 schedule, slot and appointment resources. The generator's tests
   * validate everything it makes; the sample guards a release at run time without tripling the
   * seeding time (a full check costs about twice the write itself).
   */
  validate?: ValidateMode;
  /**
   * SQLite only (default true): commit the seed with `synchronous = NORMAL` and put the store's
   * setting back afterwards. In WAL mode a power cut can lose the last few seed batches but never
   * corrupts the database; seeding only ever writes synthetic data into a store with no real patients
   * (checked first), and an interrupted demo is rebuilt. It makes seeding about 1.7 times faster here.
   */
  relaxedSync?: boolean;
  /**
   * Generate and check on a worker thread while this thread writes (default false). The output is
   * the same either way. The worker costs about a second to start (loader, FHIR definitions) and
   * copying per resource; it can only pay on big seeds with a core to spare, and every measurement on
   * the shared 2-core build machine had it slower (bench/seed), so it is opt-in.
   */
  worker?: boolean;
}

export interface SeedResult {
  resources: number;
  patients: number;
  byType: Record<string, number>;
  /** How many resources were checked with validateResource. */
  validated: number;
  ms: number;
}

export const SEED_AUTHOR = 'system:seed';

/**
 * Refuse to mix synthetic patients into a real practice's list: if the store holds any Patient that
 * is not labelled as test data, nothing is written. (A store holding only an earlier demo is fine.)
 */
async function assertNoRealPatients(store: RecordStore): Promise<void> {
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search({ resourceType: 'Patient', params: [], count: 1000, offset });
    const real = page.resources.find((r) => !isTestData(r));
    if (real) {
      throw new SteadfastError('conflict', `This data directory already holds real patient records (e.g. Patient/${real.id}); the demo practice was not written`, {
        field: 'data',
        hint: 'Seed an empty data directory (steadfast seed --data NEW_DIR); synthetic patients must never be mixed into a real list',
      });
    }
    if (!page.hasMore) return;
  }
}

/** Generate the demo practice for this store's ODS code and write it in batches. */
export async function seedPractice(store: RecordStore, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  await assertNoRealPatients(store);
  const restoreSync = options.relaxedSync === false ? undefined : await relaxSync(store);
  try {
    return await writePractice(store, options, started);
  } finally {
    await restoreSync?.();
  }
}

/** Switch a SQLite store to synchronous = NORMAL; returns how to put the previous setting back. */
export async function relaxSync(store: RecordStore): Promise<(() => Promise<void>) | undefined> {
  if (store.dialect !== 'sqlite') return undefined;
  const row = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(store.db);
  const previous = Number(row.rows[0]?.synchronous ?? 2);
  await sql`PRAGMA synchronous = NORMAL`.execute(store.db);
  return async () => {
    await sql.raw(`PRAGMA synchronous = ${previous}`).execute(store.db);
  };
}

async function writePractice(store: RecordStore, options: SeedOptions, started: number): Promise<SeedResult> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive whole number, got ${batchSize}`);
  const validate = options.validate ?? 'sample';
  const generateOptions: GenerateOptions = {
    patients: options.patients,
    seed: options.seed,
    odsCode: store.practice,
    ...(options.today !== undefined ? { today: options.today } : {}),
    ...(options.practiceName !== undefined ? { practiceName: options.practiceName } : {}),
  };
  const source = options.worker ? workerBatches({ options: generateOptions, batchSize, validate }) : checkedBatches(generateOptions, batchSize, validate);
  const byType: Record<string, number> = {};
  let resources = 0;
  let patients = 0;
  let validated = 0;
  for await (const batch of source) {
    await store.write(
      batch.resources.map((resource) => ({ kind: 'update', resource }) as WriteRequest),
      // Generated resources are proven valid by generate.test.ts and sampled here (SeedOptions.validate).
      { author: SEED_AUTHOR, prevalidated: true },
    );
    for (const r of batch.resources) byType[r.resourceType] = (byType[r.resourceType] ?? 0) + 1;
    resources += batch.resources.length;
    patients = batch.patients;
    validated += batch.validated;
    options.onProgress?.({ patients, totalPatients: options.patients, resources });
  }
  return { resources, patients, byType, validated, ms: performance.now() - started };
}

export interface SeedWorkerData {
  options: GenerateOptions;
  batchSize: number;
  validate: ValidateMode;
}

/**
 * Loads the worker module. An eval worker starts without the TypeScript loader whichever way the
 * parent got it (node --import tsx, or tsx's register() in the steadfast bin), so it registers tsx.
 */
const WORKER_BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { register } = await import(workerData.tsxApi);
  register();
  await import(workerData.entry);
})().catch((err) => parentPort.postMessage({ type: 'error', error: { steadfast: false, message: String(err && err.message || err), stack: err && err.stack } }));
`;

type WorkerMessage =
  | { type: 'batch'; batch: SeedBatch }
  | { type: 'done' }
  | { type: 'error'; error: { steadfast: boolean; code?: ErrorCode; message: string; field?: string; hint?: string; stack?: string } };

/** Batches generated and checked on a worker thread, a few ahead of the writes. */
async function* workerBatches(data: SeedWorkerData): AsyncGenerator<SeedBatch> {
  const worker = new Worker(WORKER_BOOTSTRAP, {
    eval: true,
    workerData: { ...data, entry: new URL('./seed-worker.ts', import.meta.url).href, tsxApi: import.meta.resolve('tsx/esm/api') },
  });
  const inbox: WorkerMessage[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (m: WorkerMessage) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure = err;
    notify();
  });
  worker.on('exit', () => {
    exited = true;
    notify();
  });
  const AHEAD = 3;
  for (let i = 0; i < AHEAD; i++) worker.postMessage('more');
  try {
    for (;;) {
      const message = inbox.shift();
      if (!message) {
        if (failure) throw failure;
        if (exited) throw new Error('The seed worker stopped before it finished the practice');
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (message.type === 'done') return;
      if (message.type === 'error') {
        const e = message.error;
        if (e.steadfast) throw new SteadfastError(e.code ?? 'internal', e.message, { field: e.field, hint: e.hint });
        const err = new Error(e.message);
        if (e.stack) err.stack = e.stack;
        throw err;
      }
      yield message.batch;
      worker.postMessage('more');
    }
  } finally {
    await worker.terminate();
  }
}
