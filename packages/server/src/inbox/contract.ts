/** The durable inbox's contract: what a capability supplies, and what it gets back. See README.md. */
import type { RecordStore, StoreTransaction } from '@steadfast/store';

/** Waiting for the worker. */
export const RECEIVED = 'received';
/** Every content key was already processed: kept (raw), counted, never processed again. */
export const DUPLICATE = 'duplicate';
/** Waiting for a person, with the reason. */
export const QUARANTINED = 'quarantined';

export interface InboxItem<TParsed> {
  id: string;
  raw: string;
  source: string;
  receivedAt: string;
  /** The parse, or why parsing failed (`error`): a processor quarantines such an item. */
  parsed?: TParsed;
  error?: unknown;
}

export interface ReceiveResult<TParsed> {
  id: string;
  /** `refused`: the store failed and nothing was kept; the sender must send again. */
  state: typeof RECEIVED | typeof DUPLICATE | typeof QUARANTINED | 'refused';
  reason: string;
  parsed?: TParsed;
  /** Why it could not be parsed (`quarantined`) or stored (`refused`). */
  error?: unknown;
}

/** Where the rows live. The default is the generic `inbox_items` / `inbox_keys`, scoped by capability. */
export interface InboxStorage {
  /** Has at least: practice, id, received_at, source, raw, sha256, state, reason, arrival, updated_at. */
  table: string;
  /** Extra column = value pairs every row of this capability has (generic table: `{ capability }`). */
  scope: Record<string, string>;
  /** Processed content keys: practice, the scope columns, `keyColumn`. */
  keysTable: string;
  keyColumn: string;
}

export interface InboxCapability<TParsed> {
  /** Short name (`documents`, `consultations`): the generic tables' `capability` column, and authors. */
  name: string;
  /** Throw for an item that can never be processed: it is quarantined at once with the reason. */
  parse(raw: string): TParsed;
  /**
   * Content keys of an item: one whose every key was already processed is a duplicate. Keys become
   * known when the processor settles an item (`settle(..., { keys })`), not on receipt, so a first
   * copy that ends in quarantine never turns a later copy away. [] = never a duplicate.
   */
  dedupeKeys(parsed: TParsed): string[];
  /**
   * Process a batch, oldest first. Every item must leave `received` (via `settle` / `quarantine`, or
   * the capability's own writes) in the same transaction as its effects; an item still `received`
   * afterwards means the store refused, and the worker pauses and tries again.
   */
  process(batch: Array<InboxItem<TParsed>>, inbox: InboxHandle<TParsed>): Promise<void>;
  /** The reason kept for an item that failed to parse or process. */
  describeError?(err: unknown): string;
  /** Values of a custom table's extra columns (the same keys for every row). */
  columns?(item: { parsed?: TParsed; raw: string; source: string; state: string; keys: string[] }): Record<string, unknown>;
  /** In the receive transaction, for each duplicate (e.g. to count it). */
  onDuplicate?(tx: StoreTransaction, item: { parsed: TParsed; keys: string[]; receivedAt: string }): Promise<void>;
  /** The reason kept on receipt (defaults name neither the capability nor its processing). */
  reasons?: { received?: string; duplicate?: string };
  /** States a person may re-process from (default: quarantined). */
  personStates?: string[];
  /** The error message when the store refused to settle `n` items. */
  refusedMessage?(n: number): string;
}

export interface InboxOptions<TParsed> {
  storage?: InboxStorage;
  now?: () => Date;
  /** Parses kept between receipt and processing (shared with the worker); bounded. */
  parsed?: Map<string, TParsed>;
  batchSize?: number;
  /** Pause after the store refused (default 2 s), doubling per failure up to `maxRetryMs` (default: no doubling). */
  retryMs?: number;
  maxRetryMs?: number;
  onError?: (err: unknown) => void;
}

export interface BacklogFigure {
  count: number;
  oldest: string | null;
}

/** What a capability's `process` may use of the inbox. */
export interface InboxHandle<TParsed> {
  readonly store: RecordStore;
  readonly capability: InboxCapability<TParsed>;
  /** Move an open item to `state` (remembering its keys), in the processor's transaction. */
  settle(tx: StoreTransaction, id: string, state: string, reason: string, options?: { keys?: string[] }): Promise<void>;
  /** Keep an item for a person, with the reason, in the processor's transaction. */
  quarantine(tx: StoreTransaction, id: string, reason: string): Promise<void>;
}
