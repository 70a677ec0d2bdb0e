/**
 * Appending to and checking the audit trail.
 *
 * Each row's hash is SHA-256 over the row's fields and the previous row's hash, so editing, deleting
 * or inserting a row breaks the chain at that point. Appends are serialised: SQLite has one writer,
 * and on PostgreSQL a transaction-scoped advisory lock is taken before reading the chain's head.
 *
 * Writes of records append their audit rows inside the same transaction (`appendInTransaction`), so a
 * write is never acknowledged without its audit row. Reads use `record`, which queues the rows for a
 * group commit (the rows of concurrent requests share one small transaction) without making the
 * answer wait for the disk; `append` does the same but resolves once the rows have committed.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { RecordStore } from '@steadfast/store';
import type { AuditTable, AuditTables } from './tables.ts';

export type AuditEventKind =
  | 'read'
  | 'vread'
  | 'search'
  | 'create'
  | 'update'
  | 'delete'
  | 'history'
  | 'export'
  | 'import'
  | 'login'
  | 'logout'
  | 'login-failed'
  | 'break-glass';

export interface AuditActor {
  id: string;
  name: string;
  role: string;
  workstation: string;
}

export interface AuditInput {
  actor: AuditActor;
  event: AuditEventKind;
  /** `Type/id` */
  resource?: string | undefined;
  /** `Patient/id` */
  patient?: string | undefined;
  outcome: 'success' | 'failure';
  detail?: string | undefined;
}

export interface AuditEntry {
  seq: number;
  recorded: string;
  userId: string;
  userName: string;
  userRole: string;
  workstation: string;
  event: string;
  resource: string | null;
  patient: string | null;
  outcome: string;
  detail: string | null;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
/** How long read entries wait to share a commit; also the most a crash can lose. */
export const RECORD_DELAY_MS = 20;
/** Any fixed 64-bit key; names the audit chain's lock on PostgreSQL. */
const PG_AUDIT_LOCK_KEY = 7_305_318_420_114n;

/** The hash of a row: over every field in a fixed order, including the previous hash. */
export function auditHash(row: Omit<AuditTable, 'hash'>): string {
  const canonical = JSON.stringify([
    row.practice,
    Number(row.seq),
    row.recorded,
    row.user_id,
    row.user_name,
    row.user_role,
    row.workstation,
    row.event,
    row.resource ?? null,
    row.patient ?? null,
    row.outcome,
    row.detail ?? null,
    row.prev_hash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function toEntry(row: AuditTable): AuditEntry {
  return {
    seq: Number(row.seq),
    recorded: row.recorded,
    userId: row.user_id,
    userName: row.user_name,
    userRole: row.user_role,
    workstation: row.workstation,
    event: row.event,
    resource: row.resource,
    patient: row.patient,
    outcome: row.outcome,
    detail: row.detail,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export interface AuditQuery {
  patient?: string;
  /** user id */
  user?: string;
  /** Entries with seq below this (paging newest first). */
  beforeSeq?: number;
  limit?: number;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first seq whose row does not fit the chain. */
  brokenSeq?: number;
  /** The newest entry checked; keep its hash elsewhere to detect later removal of the newest entries. */
  head?: { seq: number; hash: string };
  reason?: string;
}

interface Pending {
  inputs: AuditInput[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditLog {
  private readonly store: RecordStore;
  private readonly db: Kysely<AuditTables>;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(store: RecordStore) {
    this.store = store;
    this.db = store.db as unknown as Kysely<AuditTables>;
  }

  /** Append inside a transaction the caller already holds (e.g. the one writing the record). */
  async appendInTransaction(txDb: Transaction<any> | Kysely<any>, inputs: AuditInput[]): Promise<void> {
    if (!inputs.length) return;
    const db = txDb as Kysely<AuditTables>;
    const practice = this.store.practice;
    if (this.store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_AUDIT_LOCK_KEY})`.execute(db);
    const head = await db.selectFrom('audit_log').select(['seq', 'hash']).where('practice', '=', practice).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = head ? Number(head.seq) : 0;
    let prev = head?.hash ?? GENESIS_HASH;
    const recorded = new Date().toISOString();
    const rows: AuditTable[] = inputs.map((input) => {
      seq += 1;
      const base: Omit<AuditTable, 'hash'> = {
        practice,
        seq,
        recorded,
        user_id: input.actor.id,
        user_name: input.actor.name,
        user_role: input.actor.role,
        workstation: input.actor.workstation,
        event: input.event,
        resource: input.resource ?? null,
        patient: input.patient ?? null,
        outcome: input.outcome,
        detail: input.detail ?? null,
        prev_hash: prev,
      };
      const row = { ...base, hash: auditHash(base) };
      prev = row.hash;
      return row;
    });
    // Keep each statement's parameter count well under SQLite's limit.
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('audit_log').values(rows.slice(i, i + 500)).execute();
  }

  /** Append in its own transaction, grouped with other concurrent appends; resolves once committed. */
  append(inputs: AuditInput[]): Promise<void> {
    if (!inputs.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.store.transaction({ author: 'system:audit' }, (tx) => this.appendInTransaction(tx.db, batch.flatMap((p) => p.inputs)));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Queue entries for the next group commit and return at once: for reads, whose answer should not
   * wait for the disk. A crash can lose only the entries of the last moment's reads; writes never use
   * this (their entries commit in the write's own transaction).
   */
  record(inputs: AuditInput[]): void {
    if (!inputs.length) return;
    this.pending.push({
      inputs,
      resolve: () => {},
      reject: (err: unknown) => {
        this.failures += 1;
        process.stderr.write(`steadfast: audit append failed (${this.failures} so far): ${err instanceof Error ? err.message : String(err)}\n`);
      },
    });
    // Commit after a short pause so that the reads of that pause share one commit (one disk flush):
    // on SQLite a commit blocks the process while the disk syncs.
    if (!this.flushing && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.flushing) this.flushing = this.flush();
      }, RECORD_DELAY_MS);
    }
  }

  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Appends queued with record() that failed since start (shown by the status capability, if wanted). */
  failures = 0;

  /** Wait for queued appends (before closing the store). */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.flushing) this.flushing = this.flush();
    }
    while (this.flushing) await this.flushing;
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.drain(); // a reader of the trail sees every access acknowledged before it
    let q = this.db.selectFrom('audit_log').selectAll().where('practice', '=', this.store.practice);
    if (query.patient) q = q.where('patient', '=', query.patient);
    if (query.user) q = q.where('user_id', '=', query.user);
    if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000))
      .execute();
    return rows.map(toEntry);
  }

  async get(seq: number): Promise<AuditEntry | undefined> {
    await this.drain();
    const row = await this.db.selectFrom('audit_log').selectAll().where('practice', '=', this.store.practice).where('seq', '=', seq).executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  /** Walk the whole chain in order; report the first row that does not fit. */
  async verify(): Promise<VerifyResult> {
    await this.drain();
    let expectedSeq = 1;
    let prev = GENESIS_HASH;
    let checked = 0;
    const PAGE = 5000;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('practice', '=', this.store.practice)
        .where('seq', '>=', expectedSeq)
        .orderBy('seq', 'asc')
        .limit(PAGE)
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expectedSeq) return { ok: false, checked, brokenSeq: expectedSeq, reason: `entry ${expectedSeq} is missing (next found is ${seq})` };
        if (row.prev_hash !== prev) return { ok: false, checked, brokenSeq: seq, reason: `entry ${seq} does not follow entry ${seq - 1} (prev_hash differs)` };
        const { hash, ...rest } = row;
        if (auditHash(rest) !== hash) return { ok: false, checked, brokenSeq: seq, reason: `entry ${seq} has been changed (its hash does not match its contents)` };
        prev = hash;
        expectedSeq += 1;
        checked += 1;
      }
      if (rows.length < PAGE) return { ok: true, checked, ...(checked ? { head: { seq: expectedSeq - 1, hash: prev } } : {}) };
    }
  }
}
