/**
 * Opening a node: the data directory's identity, the store with every capability's migrations, the
 * audit trail and the accounts. The CLI, the demo script and the test harness all open nodes here.
 */
import { join } from 'node:path';
import { openStore } from '@steadfast/store';
import type { AppConfig, AppDeps } from '../capability.ts';
import type { RecordStore } from '@steadfast/store';
import { migrations } from '../migrations.ts';
import { checkWrites } from '../records/write-check.ts';
import { AuditLog } from '../audit/log.ts';
import { Accounts } from '../auth/accounts.ts';
import { loadOrCreateIdentity, type NodeIdentity, type NodeRole } from './identity.ts';

/** Audit entries that could not be committed by a shutdown wait here for the next start. */
export const AUDIT_SPILL_FILE = 'audit-pending.ndjson';

export interface OpenNodeOptions {
  dataDir: string;
  /** postgres://... to keep the record in PostgreSQL; SQLite in the data dir otherwise. */
  databaseUrl?: string;
  /** PostgreSQL schema (created if missing), e.g. one per test. */
  pgSchema?: string;
  practice?: string;
  role?: NodeRole;
  /** The SQLite database key (64 hex digits), when the file is encrypted (atrest/key.ts finds it). */
  key?: string;
}

export interface OpenedNode {
  identity: NodeIdentity;
  dataDir: string;
  store: RecordStore;
  audit: AuditLog;
  accounts: Accounts;
  close(): Promise<void>;
}

export async function openNode(options: OpenNodeOptions): Promise<OpenedNode> {
  const identity = loadOrCreateIdentity(options.dataDir, {
    ...(options.practice ? { practice: options.practice } : {}),
    ...(options.role ? { role: options.role } : {}),
  });
  const store = await openStore({
    ...(options.databaseUrl ? { url: options.databaseUrl } : {}),
    ...(options.pgSchema ? { pgSchema: options.pgSchema } : {}),
    dataDir: options.dataDir,
    ...(options.key ? { key: options.key } : {}),
    nodeId: identity.nodeId,
    practice: identity.practice,
    migrations,
  });
  // One way in: every local write is validated and its patient references checked (records/write-check.ts).
  store.setWriteCheck(checkWrites);
  // Entries a failing disk kept from the last shutdown are written before anything else happens.
  const audit = new AuditLog(store, { spillFile: join(options.dataDir, AUDIT_SPILL_FILE) });
  await audit.recoverSpilled();
  const accounts = new Accounts(store);
  return {
    identity,
    dataDir: options.dataDir,
    store,
    audit,
    accounts,
    close: async () => {
      await audit.close();
      await store.close();
    },
  };
}

/** What the app needs from an opened node: its store, audit trail, accounts and identity as config. */
export function appDepsOf(node: OpenedNode, config: Partial<AppConfig> = {}): AppDeps {
  return {
    store: node.store,
    audit: node.audit,
    accounts: node.accounts,
    config: {
      practice: node.identity.practice,
      nodeId: node.identity.nodeId,
      role: node.identity.role,
      dataDir: node.dataDir,
      ...config,
    },
  };
}
