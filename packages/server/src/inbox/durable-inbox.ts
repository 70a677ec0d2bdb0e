/**
 * One durable queue for everything that arrives from outside (laboratory results, documents, online
 * consultations): stored raw first, exactly as received, with its source and received time; checked
 * against the content keys of what was already processed; acknowledged only after that commit;
 * processed in arrival order by a background worker that pauses and tries again when the store
 * refuses; kept for a person (quarantine, with the reason) when it cannot be processed; re-processed
 * by a person; and counted (backlog by state). See README.md in this folder.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { SteadfastError, isSteadfastError } from '@steadfast/domain';
import { statement, type RecordStore, type StoreTransaction } from '@steadfast/store';
import { createBatcher } from './batcher.ts';
import { DUPLICATE, QUARANTINED, RECEIVED, type BacklogFigure, type InboxCapability, type InboxHandle, type InboxItem, type InboxOptions, type InboxStorage, type ReceiveResult } from './contract.ts';

export * from './contract.ts';

/** A worker keeps at most this many parses; beyond it, it parses again from the stored raw text. */
const MAX_CACHED_PARSES = 2000;

/** Arrival order within this process; with received_at it orders every item the worker takes. */
let arrivals = 0;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function defaultDescribe(err: unknown): string {
  if (isSteadfastError(err)) return [err.field ? `${err.field}: ` : '', err.message, err.hint ? `. ${err.hint}` : ''].join('');
  return `Internal error: ${(err as Error)?.message ?? String(err)}`;
}

export function genericStorage(capability: string): InboxStorage {
  return { table: 'inbox_items', scope: { capability }, keysTable: 'inbox_keys', keyColumn: 'key' };
}

export class DurableInbox<TParsed> implements InboxHandle<TParsed> {
  readonly storage: InboxStorage;
  readonly parsed: Map<string, TParsed>;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    readonly store: RecordStore,
    readonly capability: InboxCapability<TParsed>,
    private readonly options: InboxOptions<TParsed> = {},
  ) {
    this.storage = options.storage ?? genericStorage(capability.name);
    this.parsed = options.parsed ?? new Map();
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private describe(err: unknown): string {
    return (this.capability.describeError ?? defaultDescribe)(err);
  }

  /** Rows of this capability in this practice. */
  private scoped<Q extends { where: (...a: any[]) => Q }>(q: Q, table = this.storage.table): Q {
    let out = q.where(`${table}.practice`, '=', this.store.practice);
    for (const [column, value] of Object.entries(this.storage.scope)) out = out.where(`${table}.${column}`, '=', value);
    return out;
  }

  private db(tx?: StoreTransaction): Kysely<any> | Transaction<any> {
    return (tx ? tx.db : this.store.db) as unknown as Kysely<any>;
  }

  // ---- receive -----------------------------------------------------------------------------------

  /** Store one item raw and check it for duplicates; resolves after the commit (acknowledge then). */
  async receive(raw: string, source: string): Promise<ReceiveResult<TParsed>> {
    return (await this.receiveBatch([{ raw, source }]))[0]!;
  }

  /**
   * Store several items in one transaction (group commit). If the shared transaction fails, each is
   * tried on its own, so one item the store refuses never costs the others their place.
   */
  async receiveBatch(items: Array<{ raw: string; source: string }>): Promise<Array<ReceiveResult<TParsed>>> {
    const receivedAt = this.now();
    const prepared = items.map(({ raw, source }) => {
      const id = randomUUID();
      try {
        const parsed = this.capability.parse(raw);
        return { id, raw, source, parsed, keys: this.capability.dedupeKeys(parsed) };
      } catch (error) {
        return { id, raw, source, error, keys: [] as string[] };
      }
    });
    const run = async (batch: typeof prepared) => {
      const out = await this.store.transaction({ author: `system:${this.capability.name}-${batch[0]?.source ?? 'inbox'}` }, (tx) => this.storeBatch(tx, batch, receivedAt));
      // Only what committed is cached for the worker, and only so much.
      for (const r of out) if (r.state === RECEIVED && r.parsed !== undefined && this.parsed.size < MAX_CACHED_PARSES) this.parsed.set(r.id, r.parsed);
      return out;
    };
    const refused = (p: (typeof prepared)[number], error: unknown): ReceiveResult<TParsed> => ({ id: p.id, state: 'refused', reason: this.describe(error), error });
    try {
      return await run(prepared);
    } catch (err) {
      if (prepared.length === 1) return [refused(prepared[0]!, err)];
      const out: Array<ReceiveResult<TParsed>> = [];
      for (const p of prepared) out.push(...(await run([p]).catch((e) => [refused(p, e)])));
      return out;
    }
  }

  private async storeBatch(
    tx: StoreTransaction,
    batch: Array<{ id: string; raw: string; source: string; parsed?: TParsed; error?: unknown; keys: string[] }>,
    receivedAt: string,
  ): Promise<Array<ReceiveResult<TParsed>>> {
    const db = this.db(tx);
    const { table, scope, keysTable, keyColumn } = this.storage;
    const dialect = this.store.dialect;
    const scopeColumns = Object.keys(scope);
    // Written once as SQL: with the commit, this is the whole cost of acknowledging an item.
    const wanted = [...new Set(batch.flatMap((p) => p.keys))];
    const known = new Set<string>();
    const scopeSql = scopeColumns.map((c) => ` AND ${c} = ?`).join('');
    for (let i = 0; i < wanted.length; i += 500) {
      const part = wanted.slice(i, i + 500);
      const rows = await db.executeQuery<Record<string, string>>(
        statement(dialect, `SELECT ${keyColumn} AS k FROM ${keysTable} WHERE practice = ?${scopeSql} AND ${keyColumn} IN (${part.map(() => '?').join(', ')})`, [this.store.practice, ...Object.values(scope), ...part]),
      );
      for (const r of rows.rows) known.add(r.k!);
    }
    const out: Array<ReceiveResult<TParsed>> = [];
    const rows: Array<Record<string, unknown>> = [];
    for (const p of batch) {
      let state: string;
      let reason: string;
      if (p.parsed === undefined) {
        state = QUARANTINED;
        reason = this.describe(p.error);
        out.push({ id: p.id, state: QUARANTINED, reason, error: p.error });
      } else {
        const duplicate = p.keys.length > 0 && p.keys.every((k) => known.has(k));
        state = duplicate ? DUPLICATE : RECEIVED;
        reason = duplicate ? (this.capability.reasons?.duplicate ?? 'Duplicate of an item already processed; nothing changed') : (this.capability.reasons?.received ?? 'Received; waiting to be processed');
        if (duplicate) await this.capability.onDuplicate?.(tx, { parsed: p.parsed, keys: p.keys, receivedAt });
        // A second copy later in this batch is still received: the first may yet fail, and then
        // the second must not have been dropped. The processor finds it already done.
        out.push({ id: p.id, state: duplicate ? DUPLICATE : RECEIVED, reason, parsed: p.parsed });
      }
      const extra = this.capability.columns?.({ ...(p.parsed !== undefined ? { parsed: p.parsed } : {}), raw: p.raw, source: p.source, state, keys: p.keys }) ?? {};
      rows.push({
        id: p.id, practice: this.store.practice, ...scope, received_at: receivedAt, source: p.source, raw: p.raw, sha256: sha256(p.raw), state, reason, updated_at: receivedAt, arrival: ++arrivals, ...extra,
      });
    }
    if (rows.length) {
      const columns = Object.keys(rows[0]!);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      await db.executeQuery(statement(dialect, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`, rows.flatMap((r) => columns.map((c) => r[c]))));
    }
    return out;
  }

  /** Keep bytes that never became an item (an oversized or truncated frame) for a person. */
  async quarantineRaw(raw: string, source: string, reason: string): Promise<string> {
    const id = randomUUID();
    const receivedAt = this.now();
    const extra = this.capability.columns?.({ raw, source, state: QUARANTINED, keys: [] }) ?? {};
    await this.store.transaction({ author: `system:${this.capability.name}-${source}` }, async (tx) => {
      await this.db(tx)
        .insertInto(this.storage.table)
        .values({ id, practice: this.store.practice, ...this.storage.scope, received_at: receivedAt, source, raw, sha256: sha256(raw), state: QUARANTINED, reason, updated_at: receivedAt, ...extra })
        .execute();
    });
    return id;
  }

  // ---- settle (inside the processor's transaction) -------------------------------------------------

  /**
   * Move an item from an open state (`received`, or a person's state while re-processing) to `state`,
   * remembering its content keys (generic storage only). Throws a conflict when the item was settled
   * meanwhile, so the caller's transaction rolls back instead of processing it twice.
   */
  async settle(tx: StoreTransaction, id: string, state: string, reason: string, options: { keys?: string[] } = {}): Promise<void> {
    const db = this.db(tx);
    const open = [RECEIVED, ...(this.capability.personStates ?? [QUARANTINED])];
    const done = await this.scoped(db.updateTable(this.storage.table).set({ state, reason, updated_at: this.now() }))
      .where('id', '=', id)
      .where('state', 'in', open)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) throw new SteadfastError('conflict', `Inbox item ${id} was processed or re-processed meanwhile`, { field: 'id', hint: 'Reload the list' });
    if (options.keys?.length) {
      if (this.storage.keysTable !== 'inbox_keys') throw new SteadfastError('internal', `Inbox ${this.capability.name} keeps its own keys table; remember keys there`);
      await db
        .insertInto('inbox_keys')
        .values(options.keys.map((key) => ({ practice: this.store.practice, capability: this.capability.name, key, item_id: id })))
        .onConflict((oc) => oc.columns(['practice', 'capability', 'key']).doNothing())
        .execute();
    }
  }

  /** Keep an item for a person, with the reason (inside the processor's transaction). */
  quarantine(tx: StoreTransaction, id: string, reason: string): Promise<void> {
    return this.settle(tx, id, QUARANTINED, reason);
  }

  // ---- process -----------------------------------------------------------------------------------

  private async load(ids?: string[], limit = this.options.batchSize ?? 50): Promise<Array<InboxItem<TParsed>>> {
    let q = this.scoped(this.db().selectFrom(this.storage.table).select(['id', 'raw', 'source', 'received_at']));
    q = ids ? q.where('id', 'in', ids) : q.where('state', '=', RECEIVED);
    const rows = (await q.orderBy('received_at').orderBy('arrival').orderBy('id').limit(limit).execute()) as Array<{ id: string; raw: string; source: string; received_at: string }>;
    return rows.map((r) => {
      const item: InboxItem<TParsed> = { id: r.id, raw: r.raw, source: r.source, receivedAt: r.received_at };
      const cached = this.parsed.get(r.id);
      this.parsed.delete(r.id);
      if (cached !== undefined) return { ...item, parsed: cached };
      try {
        return { ...item, parsed: this.capability.parse(r.raw) };
      } catch (error) {
        return { ...item, error };
      }
    });
  }

  /** Process up to `limit` received items, oldest first, as one batch; returns how many were taken. */
  async processNext(limit = this.options.batchSize ?? 50): Promise<number> {
    const batch = await this.load(undefined, limit);
    if (!batch.length) return 0;
    await this.capability.process(batch, this);
    // Every item taken is settled now, unless the store itself refused (even the quarantine write):
    // then say so, rather than take the same items again at once.
    const left = await this.scoped(this.db().selectFrom(this.storage.table).select('id'))
      .where('state', '=', RECEIVED)
      .where('id', 'in', batch.map((b) => b.id))
      .execute();
    if (left.length) {
      throw new SteadfastError('internal', this.capability.refusedMessage?.(left.length) ?? `${left.length} received ${this.capability.name} item(s) could not be processed or quarantined: the store refused the writes`, {
        hint: 'They stay received (nothing is lost) and the worker tries again; check the disk and the database',
      });
    }
    return batch.length;
  }

  /**
   * A person re-processes an item waiting for them (after fixing its cause): processed now, on its
   * own; resolves to its state and reason afterwards.
   */
  async reprocess(id: string): Promise<{ state: string; reason: string }> {
    const row = await this.item(id);
    if (!row) throw new SteadfastError('not-found', `Inbox item ${id} was not found`, { field: 'id' });
    const personStates = this.capability.personStates ?? [QUARANTINED];
    if (!personStates.includes(row.state)) {
      throw new SteadfastError('conflict', `Inbox item ${id} is ${row.state}; only ${personStates.join(' or ')} items can be re-processed`, { field: 'id', hint: 'Reload the list' });
    }
    await this.capability.process(await this.load([id], 1), this);
    const after = (await this.item(id))!;
    return { state: after.state, reason: after.reason };
  }

  /**
   * For a caller that waits for the outcome (a drop folder, an upload): resolves once each of these
   * items has left `received`, processing received items (oldest first) itself when no worker has
   * taken them. Rejects when the store refuses; the items stay received for the worker.
   */
  async awaitProcessed(ids: string[]): Promise<Array<{ id: string; state: string; reason: string }>> {
    if (!ids.length) return [];
    for (;;) {
      await this.settled();
      const rows = (await this.scoped(this.db().selectFrom(this.storage.table).select(['id', 'state', 'reason'])).where('id', 'in', ids).execute()) as Array<{ id: string; state: string; reason: string }>;
      if (rows.every((r) => r.state !== RECEIVED)) {
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? { id, state: 'refused', reason: 'Not stored' });
      }
      // Another worker (another process, or this one between batches) may hold them: wait a moment.
      if ((await this.processNext()) === 0) await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** One item as stored (raw, state, reason), or undefined. */
  async item(id: string): Promise<{ id: string; raw: string; source: string; state: string; reason: string; received_at: string } | undefined> {
    return (await this.scoped(this.db().selectFrom(this.storage.table).select(['id', 'raw', 'source', 'state', 'reason', 'received_at']))
      .where('id', '=', id)
      .executeTakeFirst()) as never;
  }

  /** Count and oldest received time by state (only these states, when given: cheaper on a long history). */
  async backlog(states?: string[]): Promise<Record<string, BacklogFigure>> {
    let q = this.scoped(this.db().selectFrom(this.storage.table).select((eb: any) => ['state', eb.fn.countAll().as('n'), eb.fn.min('received_at').as('oldest')]));
    if (states) q = q.where('state', 'in', states);
    const rows = (await q
      .groupBy('state')
      .execute()) as Array<{ state: string; n: number | string; oldest: string | null }>;
    return Object.fromEntries(rows.map((r) => [r.state, { count: Number(r.n), oldest: r.oldest ?? null }]));
  }

  // ---- the background worker ------------------------------------------------------------------------

  /** Process what is received, now and after each receipt; first whatever was left before a restart. */
  nudge(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && (await this.processNext()) > 0) this.failures = 0;
    } catch (err) {
      this.options.onError?.(err);
      this.failures++;
      if (!this.closed && !this.retry) {
        const base = this.options.retryMs ?? 2000;
        const pause = Math.min(this.options.maxRetryMs ?? base, base * 2 ** (this.failures - 1));
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.nudge();
        }, pause);
      }
    }
  }

  /** Resolves when the worker is idle (everything received so far processed, or waiting for a retry). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.settled();
  }

  /** `receive` with concurrent callers sharing commits; the worker is nudged after each commit. */
  receiver(maxBatch = 50): (raw: string, source: string) => Promise<ReceiveResult<TParsed>> {
    return createBatcher(async (items) => {
      const out = await this.receiveBatch(items);
      if (out.some((o) => o.state === RECEIVED)) this.nudge();
      return out;
    }, maxBatch);
  }
}
