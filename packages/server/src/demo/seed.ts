/**
 * Seeding a store with the demo practice: the generated resources are checked at the boundary (all,
 * or a sample: see SeedOptions.validate), then written through the change log in batches, each batch one transaction of
 * update-as-create requests (so the generator's ids are kept and references resolve).
 */
import { sql } from 'kysely';
import type { Resource } from '@medplum/fhirtypes';
import { isTestData, loadFhirDefinitions, SteadfastError, validateResource } from '@steadfast/domain';
import type { RecordStore, WriteRequest } from '@steadfast/store';
import { generatePractice, type GenerateOptions } from './generate.ts';

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
   * (the default) checks the practice, its staff, the first 50 patients' records, every 25th patient
   * after that and the first 100 appointment resources. The generator's tests validate everything it
   * makes; the sample guards a release at run time without tripling the seeding time (validation
   * costs more than the write itself).
   */
  validate?: 'all' | 'sample' | 'none';
  /**
   * SQLite only (default true): commit the seed with `synchronous = NORMAL` and put the store's
   * setting back afterwards. In WAL mode a power cut can lose the last few seed batches but never
   * corrupts the database; seeding only ever writes synthetic data into a store with no real patients
   * (checked first), and an interrupted demo is rebuilt. It makes seeding about 1.7 times faster here.
   */
  relaxedSync?: boolean;
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
  if (validate !== 'none') loadFhirDefinitions();
  let weekResources = 0;
  let checked = 0;
  const byType: Record<string, number> = {};
  let batch: WriteRequest[] = [];
  let resources = 0;
  let patients = 0;
  const flush = async () => {
    if (!batch.length) return;
    await store.write(batch, { author: SEED_AUTHOR });
    resources += batch.length;
    batch = [];
    options.onProgress?.({ patients, totalPatients: options.patients, resources });
  };
  for (const resource of generatePractice({ ...options, odsCode: store.practice })) {
    if (resource.resourceType === 'Patient') patients++;
    // The practice and staff come before the first patient; schedules, slots and appointments after the last.
    const week = resource.resourceType === 'Schedule' || resource.resourceType === 'Slot' || resource.resourceType === 'Appointment';
    if (week) weekResources++;
    const sampled = week ? weekResources <= 100 : patients <= 50 || patients % 25 === 0;
    if (validate === 'all' || (validate === 'sample' && sampled)) {
      validateResource(resource);
      checked++;
    }
    byType[resource.resourceType] = (byType[resource.resourceType] ?? 0) + 1;
    batch.push({ kind: 'update', resource: resource as Resource });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { resources, patients, byType, validated: checked, ms: performance.now() - started };
}
