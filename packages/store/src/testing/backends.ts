/**
 * Opens a fresh store on each backend a test suite should run against: SQLite always, PostgreSQL
 * when it is reachable (and always under CI=true, where its absence is a failure, not a skip).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../openStore.ts';
import type { KyselyStore } from '../KyselyStore.ts';
import type { Migration } from '../schema.ts';

export const TEST_PG_URL = process.env.STEADFAST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgReachable: Promise<boolean> | undefined;

/** Whether PostgreSQL tests run here; under CI=true an unreachable server fails the suite. */
export function postgresAvailable(): Promise<boolean> {
  pgReachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 60_000 }); // 20 s ran out on a machine at load 26
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (err) {
      if (process.env.CI === 'true') throw new Error(`PostgreSQL is required under CI=true but ${TEST_PG_URL} is unreachable: ${(err as Error).message}`);
      return false;
    }
  })();
  return pgReachable;
}

export const PG_SKIP_REASON = `PostgreSQL not reachable at ${TEST_PG_URL}; PostgreSQL tests skipped (they are required when CI=true)`;

export interface TestStore {
  store: KyselyStore;
  /** Close and delete everything the store created. */
  dispose(): Promise<void>;
  /** Open the same database again (e.g. to test a restart). */
  reopen(): Promise<KyselyStore>;
}

let counter = 0;

export async function openTestStore(
  backend: 'sqlite' | 'postgres',
  options: { practice?: string; nodeId?: string; migrations?: Migration[] } = {},
): Promise<TestStore> {
  const practice = options.practice ?? 'Y99999';
  const nodeId = options.nodeId ?? 'test-node';
  const migrations = options.migrations ?? [];
  let open: () => Promise<KyselyStore>;
  let cleanUp: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-test-'));
    open = () => openStore({ dataDir: dir, nodeId, practice, migrations });
    cleanUp = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    open = () => openStore({ url: TEST_PG_URL, pgSchema: schema, nodeId, practice, migrations });
    cleanUp = async () => {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    };
  }
  let store = await open();
  return {
    // A getter, so that after reopen() the handle is the open store, not the closed one.
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = await open();
      return store;
    },
    dispose: async () => {
      await store.close();
      await cleanUp();
    },
  };
}
