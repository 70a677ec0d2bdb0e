/** A real SQLite record store in a temp dir with pathology's tables, and a few synthetic patients. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { openStore, type RecordStore } from '@steadfast/store';
import pg from 'pg';
import { outboxMigrations } from '../outbox/tables.ts';
import { pathologyMigrations } from '../pathology/tables.ts';
import { TEST_PG_URL } from './harness.ts';

export const PRACTICE = 'A81001';

export interface TestPatient {
  id: string;
  nhsNumber: string;
  family: string;
  given: string;
  birthDate: string;
}

let schemaCounter = 0;

/** SQLite by default; PostgreSQL in a fresh schema when asked (callers skip unless reachable; see harness). */
export async function openPathologyStore(backend: 'sqlite' | 'postgres' = 'sqlite'): Promise<{ store: RecordStore; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-path-'));
  const pgSchema = backend === 'postgres' ? `t_path_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}` : undefined;
  const store = await openStore({
    dataDir: dir,
    nodeId: 'test-node',
    practice: PRACTICE,
    migrations: [...outboxMigrations, ...pathologyMigrations],
    ...(pgSchema ? { url: TEST_PG_URL, pgSchema } : {}),
  });
  return {
    store,
    dir,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (pgSchema) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await client.end();
      }
    },
  };
}

/** Patients numbered n: NHS number testNhsNumber(n), family `Testfamily{n}`, born 1970-01-(n%28+1). */
export async function addPatients(store: RecordStore, numbers: number[]): Promise<TestPatient[]> {
  const patients = numbers.map((n) => ({
    nhsNumber: testNhsNumber(n),
    family: `Family${String.fromCharCode(65 + (n % 26))}${n}`,
    given: 'Alex',
    birthDate: `1970-01-${String((n % 28) + 1).padStart(2, '0')}`,
  }));
  const outcomes = await store.write(
    patients.map((p) => ({
      kind: 'create' as const,
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhsNumber }],
        name: [{ family: p.family, given: [p.given] }],
        birthDate: p.birthDate,
        gender: 'female',
        address: [{ line: ['1 Test Street'], city: 'Leeds', postalCode: 'LS1 1AA' }],
      } satisfies Patient,
    })),
    { author: 'test' },
  );
  return patients.map((p, i) => ({ ...p, id: outcomes[i]!.resource!.id! }));
}
