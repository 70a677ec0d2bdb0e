/**
 * Core tables. Every table is keyed by practice first, so that a hub holding a whole region can be
 * distributed by practice (e.g. Citus) without a redesign.
 */
import type { Generated, Kysely } from 'kysely';

export interface ChangeLogTable {
  /** Local log position: a replication cursor, strictly increasing in commit order per practice. */
  seq: Generated<number>;
  practice: string;
  entry_id: string;
  origin_node: string;
  hlc: string;
  resource_type: string;
  resource_id: string;
  version_id: string;
  base_version_id: string | null;
  op: 'put' | 'delete';
  /** The resource JSON; null for a delete. */
  body: string | null;
  author: string;
  /** When this store recorded the entry (ISO instant); differs from hlc for replicated entries. */
  recorded_at: string;
}

export interface ResourceTable {
  /** Compact surrogate key, used by the search index instead of repeating (type, id) in every row. */
  rkey: Generated<number>;
  practice: string;
  resource_type: string;
  id: string;
  version_id: string;
  /** change_log.seq of the current version, whose body is the resource. */
  seq: number;
  hlc: string;
  last_updated: string;
  deleted: number;
}

export interface SearchIndexTable {
  practice: string;
  resource_type: string;
  /** resources.rkey of the resource this row indexes. */
  rkey: number;
  param: string;
  system: string;
  value: string;
  value_end: string;
}

export interface Database {
  change_log: ChangeLogTable;
  resources: ResourceTable;
  search_index: SearchIndexTable;
}

export type Dialect = 'sqlite' | 'postgres';

/**
 * A schema change. Capabilities register their own (tables for users, audit, inbox, outbox, sync);
 * names are global and sort in the order they must run, e.g. `0100-auth-users`.
 */
export interface Migration {
  name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}
