/**
 * The storage interface every capability uses. Two implementations sit beside it (SQLite for the
 * practice node, PostgreSQL for the hub or a larger node) and one test suite runs against both.
 *
 * Every write is an immutable change-log entry; the current version of each resource and its search
 * index rows are derived from the entry in the same transaction. Capabilities that need tables of
 * their own (users, audit, inbox, outbox, sync cursors) add them as migrations and use `db` inside a
 * transaction, so their rows commit or roll back together with the records they concern.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Resource } from '@medplum/fhirtypes';
import type { ChangeEntry, StoredResource } from '@steadfast/domain';
import type { Database } from './schema.ts';

export interface WriteContext {
  /** User id of the author, or a system actor such as `system:mllp` or `system:import`. */
  author: string;
  /**
   * The caller has already put these writes through the write check itself, with more context than
   * the check has (the FHIR API, transaction Bundles and bulk import report errors by entry and line).
   * Every other write is checked by the store's write check (see `setWriteCheck`).
   */
  prevalidated?: boolean;
}

/**
 * The check every local write passes before it reaches the change log (one way in): the server
 * installs FHIR validation and patient-reference checks here, so no capability can write around them.
 * Throw a SteadfastError naming the field to refuse the whole transaction.
 */
export type WriteCheck = (requests: WriteRequest[], tx: Pick<StoreTransaction, 'read' | 'search'>) => Promise<void>;

/** Match on a token search parameter, e.g. identifier = https://fhir.nhs.uk/Id/nhs-number|9991234564. */
export interface TokenMatch {
  param: string;
  system: string;
  value: string;
}

export type WriteRequest =
  | {
      kind: 'create';
      resource: Resource;
      /** Conditional create: when a resource of this type already has this token, return it and write nothing. */
      ifNoneExist?: TokenMatch;
    }
  | {
      kind: 'update';
      /** Must carry an id; creates the resource when it does not exist (FHIR update-as-create). */
      resource: Resource;
      /** The versionId the writer last saw; a mismatch fails the whole transaction with 412. */
      ifMatch?: string;
    }
  | { kind: 'delete'; resourceType: string; id: string; ifMatch?: string };

export interface WriteOutcome {
  status: 'created' | 'updated' | 'deleted' | 'existing';
  /** The resource as stored now (null after a delete). */
  resource: Resource | null;
  /** The change-log entry written; undefined for 'existing' (nothing written). */
  entry?: ChangeEntry;
}

export interface SearchParamValue {
  /** Search parameter name, e.g. `birthdate`, `identifier`, `patient`, or `_id`. */
  name: string;
  /** `exact`, `contains` for strings; `missing` is not supported. */
  modifier?: string;
  /** Values are ORed; each may carry a prefix for dates (eq, ne, ge, le, gt, lt) or system| for tokens. */
  values: string[];
}

export interface SearchRequest {
  resourceType: string;
  /** ANDed. */
  params: SearchParamValue[];
  /** Page size (1-1000). */
  count: number;
  /** Rows to skip (paging). */
  offset: number;
  /** e.g. [{ param: 'date', descending: true }]; default order is _lastUpdated descending. */
  sort?: Array<{ param: string; descending: boolean }>;
  /** Count all matches (costs a second query). */
  total?: boolean;
}

export interface SearchPage {
  resources: Resource[];
  /** Present when total was requested. */
  total?: number;
  /** True when there is at least one more match after this page. */
  hasMore: boolean;
}

export interface LoggedEntry extends ChangeEntry {
  /** Local, strictly increasing position of the entry in this store's log; a replication cursor. */
  seq: number;
}

export interface StoreTransaction {
  write(requests: WriteRequest[]): Promise<WriteOutcome[]>;
  read(resourceType: string, id: string): Promise<StoredResource | undefined>;
  search(request: SearchRequest): Promise<SearchPage>;
  /** For capability tables (migrations registered at open); commits with the records. */
  readonly db: Transaction<Database>;
}

export interface RecordStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** This node's id (origin of every entry it writes). */
  readonly nodeId: string;
  /** ODS code of the practice whose record this store holds. */
  readonly practice: string;
  /** The query layer, for capability tables outside a transaction (reads). */
  readonly db: Kysely<Database>;

  /** Apply writes in one transaction: all succeed or nothing is written. */
  write(requests: WriteRequest[], ctx: WriteContext): Promise<WriteOutcome[]>;
  /** Install the check every local write passes (not entries applied from other nodes: they were checked where they were written). */
  setWriteCheck(check: WriteCheck | undefined): void;
  /** Run several writes and capability-table changes in one transaction. */
  transaction<T>(ctx: WriteContext, fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;

  read(resourceType: string, id: string): Promise<StoredResource | undefined>;
  vread(resourceType: string, id: string, versionId: string): Promise<StoredResource | undefined>;
  /** Versions of one resource, newest first. */
  history(resourceType: string, id: string, options?: { count?: number; offset?: number }): Promise<StoredResource[]>;
  search(request: SearchRequest): Promise<SearchPage>;

  /** Log entries with seq greater than `afterSeq`, oldest first, for replication and export. */
  changesSince(afterSeq: number, limit: number): Promise<LoggedEntry[]>;
  /**
   * Apply entries written elsewhere (another node of the same practice, or the hub). Idempotent on
   * entryId: an entry already in the log is skipped. Projections follow the rules of sync/conflicts.
   */
  applyRemote(entries: ChangeEntry[]): Promise<{ applied: number; skipped: number }>;

  /**
   * The rows of another practice in the same database, with this node's id: a hub serves each
   * practice this way, and a practice node keeps copies of records other practices share with it.
   * Closing a view closes nothing.
   */
  practiceView(practice: string): RecordStore;
  /**
   * Remove every version of these resources and their index rows. Only for copies of another
   * practice's records whose sharing has ended; a practice's own log is never edited.
   */
  forget(resources: ReadonlyArray<{ resourceType: string; id: string }>): Promise<number>;

  close(): Promise<void>;
}
