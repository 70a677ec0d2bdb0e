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
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { SteadfastError } from '@steadfast/domain';
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
  | 'break-glass'
  // two-factor sign-in (auth/twofactor.ts)
  | 'two-factor-enrolled'
  | 'two-factor-reset'
  | 'two-factor-policy'
  // staff accounts changed by a practice-admin (admin/staff.ts)
  | 'account-created'
  | 'account-disabled'
  | 'account-enabled'
  | 'account-password-reset'
  | 'account-unlocked';

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
  /** When the access happened (ISO instant); defaults to the commit time. Queued reads carry it. */
  at?: string | undefined;
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
  /** Only this kind of event (AuditEventKind). */
  event?: string;
  /** Recorded at or after / before these ISO instants. */
  since?: string;
  until?: string;
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
  /** When the entries were queued (ms since epoch): the age of the queue's head is its health. */
  queuedAt: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the status bar and `steadfast status` show of the audit queue. */
export interface AuditHealth {
  /** Entries waiting to commit. */
  queued: number;
  /** When the oldest waiting entry was queued. */
  oldestQueuedAt?: string;
  /** Group commits that failed since start (each is retried until it commits). */
  failures: number;
  /** Failures in a row: 0 when the last commit went through. */
  failingSince?: string;
  lastError?: string;
  lastCommitAt?: string;
  /** Entries written to the spill file at a shutdown that could not commit them, recovered at next open. */
  recovered: number;
}

export interface AuditLogOptions {
  /**
   * Where entries that could not be committed by shutdown are kept (NDJSON), to be appended at the
   * next open. Without it they are reported on stderr and lost with the process.
   */
  spillFile?: string;
  /** A read is refused (503) once queued entries have waited this long without a commit (default 5 s). */
  unhealthyAfterMs?: number;
  /** How long `append` waits for its commit before answering 503 (its entries stay queued; default 10 s). */
  appendTimeoutMs?: number;
  now?: () => number;
}

/** Entries committed together at most; a flood of reads becomes several transactions, not one huge one. */
const MAX_BATCH_ENTRIES = 2000;
/** More queued than this and reads are refused: memory must not grow without bound while the disk refuses. */
const MAX_QUEUED_ENTRIES = 100_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 5000;

function auditUnavailable(reason: string): SteadfastError {
  return new SteadfastError('unavailable', `The audit trail cannot be written (${reason}), so this cannot be done until it can`, {
    hint: 'Every access to a record must be audited. Check the disk (space, permissions) and `steadfast status`; the node retries by itself',
  });
}

/**
 * The queue of audit entries not yet committed. One invariant keeps it from stalling: whenever the
 * queue is not empty, either a flush is running, a flush is scheduled (group-commit pause) or a retry
 * is scheduled. `kick()` is the only way a flush starts, and it never leaves `flushing` set to a
 * finished flush (the bug that stalled sign-in: an empty flush finished before it was stored).
 */
export class AuditLog {
  private readonly store: RecordStore;
  private readonly db: Kysely<AuditTables>;
  private readonly options: AuditLogOptions;
  private readonly now: () => number;
  private queue: Pending[] = [];
  /** The batch being committed now (taken off the queue; put back if the commit fails). */
  private inFlight: Pending[] = [];
  private queuedEntries = 0;
  private flushing: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = RETRY_MIN_MS;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private lastCommitAt: number | undefined;
  private recovered = 0;
  private closed = false;

  /** Group commits that failed since start (each retried until it commits). */
  failures = 0;

  constructor(store: RecordStore, options: AuditLogOptions = {}) {
    this.store = store;
    this.db = store.db as unknown as Kysely<AuditTables>;
    this.options = options;
    this.now = options.now ?? Date.now;
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
    const recorded = new Date(this.now()).toISOString();
    const rows: AuditTable[] = inputs.map((input) => {
      seq += 1;
      const base: Omit<AuditTable, 'hash'> = {
        practice,
        seq,
        recorded: input.at ?? recorded,
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

  /**
   * Append in a transaction of its own, at once, not through the group-commit queue: for sign-in,
   * which must never wait behind queued reads.
   */
  async appendNow(inputs: AuditInput[]): Promise<void> {
    await this.store.db.transaction().execute((trx) => this.appendInTransaction(trx, inputs));
  }

  /**
   * Append in its own transaction, grouped with other concurrent appends; resolves once committed.
   * Rejects with 503 when the trail has not committed within `appendTimeoutMs` (the entries stay
   * queued and are written when the disk allows), so no request waits on the audit trail for ever.
   */
  append(inputs: AuditInput[]): Promise<void> {
    if (!inputs.length) return Promise.resolve();
    this.refuseWhenUnhealthy();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.options.appendTimeoutMs ?? 10_000;
      const timeout = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(auditUnavailable(`no commit within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ''}`));
      }, timeoutMs);
      timeout.unref();
      const done = (err?: unknown) => {
        clearTimeout(timeout);
        if (settled) return;
        settled = true;
        if (err === undefined) resolve();
        else reject(err);
      };
      this.enqueue(stamp(inputs, this.now()), () => done(), (err) => done(err));
      this.kick();
    });
  }

  /**
   * Queue entries for the next group commit and return at once: for reads, whose answer should not
   * wait for the disk. Throws 503 instead when the trail is not committing (a read that cannot be
   * audited is not served), so the caller must call it before sending the answer.
   */
  record(inputs: AuditInput[]): void {
    if (!inputs.length) return;
    this.refuseWhenUnhealthy();
    this.enqueue(stamp(inputs, this.now()), () => {}, () => {});
    // Commit after a short pause so that the reads of that pause share one commit (one disk flush):
    // on SQLite a commit blocks the process while the disk syncs.
    if (!this.flushing && !this.timer && !this.retryTimer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, RECORD_DELAY_MS);
    }
  }

  /** The queue's state, for the status bar and `steadfast status`. */
  health(): AuditHealth {
    const head = this.queue[0];
    return {
      queued: this.queuedEntries,
      ...(head ? { oldestQueuedAt: new Date(head.queuedAt).toISOString() } : {}),
      failures: this.failures,
      ...(this.failingSince !== undefined ? { failingSince: new Date(this.failingSince).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.lastCommitAt !== undefined ? { lastCommitAt: new Date(this.lastCommitAt).toISOString() } : {}),
      recovered: this.recovered,
    };
  }

  /** Is the trail committing? False once queued entries have waited past `unhealthyAfterMs`. */
  healthy(): boolean {
    return this.unhealthyReason() === undefined;
  }

  private unhealthyReason(): string | undefined {
    if (this.closed) return 'the node is shutting down';
    if (this.queuedEntries >= MAX_QUEUED_ENTRIES) return `${this.queuedEntries} entries are waiting to be written`;
    const head = this.queue[0];
    const limit = this.options.unhealthyAfterMs ?? 5000;
    if (head && this.failingSince !== undefined && this.now() - head.queuedAt > limit) {
      return `entries have waited ${Math.round((this.now() - head.queuedAt) / 1000)} s: ${this.lastError ?? 'commits are failing'}`;
    }
    return undefined;
  }

  private refuseWhenUnhealthy(): void {
    const reason = this.unhealthyReason();
    if (reason) throw auditUnavailable(reason);
  }

  private enqueue(inputs: AuditInput[], resolve: () => void, reject: (err: unknown) => void): void {
    this.queue.push({ inputs, queuedAt: this.now(), resolve, reject });
    this.queuedEntries += inputs.length;
  }

  /** Start a flush unless one is running or a retry is waiting for its time. */
  private kick(): void {
    if (this.flushing || this.retryTimer || this.closed || !this.queue.length) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = this.flushAll();
    this.flushing = run;
    void run.then(() => {
      if (this.flushing === run) this.flushing = undefined;
      // Entries queued while the last batch committed, with nothing scheduled for them.
      if (this.queue.length && !this.timer && !this.retryTimer) this.kick();
    });
  }

  /** Commit the queue batch by batch; on failure keep the batch at the head and schedule a retry. Never rejects. */
  private async flushAll(): Promise<void> {
    await Promise.resolve(); // never finish synchronously: kick() stores this promise first
    while (this.queue.length) {
      const batch: Pending[] = [];
      let entries = 0;
      while (this.queue.length && (entries === 0 || entries + this.queue[0]!.inputs.length <= MAX_BATCH_ENTRIES)) {
        const p = this.queue.shift()!;
        batch.push(p);
        entries += p.inputs.length;
      }
      this.inFlight = batch;
      try {
        await this.store.transaction({ author: 'system:audit' }, (tx) => this.appendInTransaction(tx.db, batch.flatMap((p) => p.inputs)));
      } catch (err) {
        this.inFlight = [];
        this.queue.unshift(...batch);
        this.failures += 1;
        this.failingSince ??= this.now();
        this.lastError = err instanceof Error ? err.message : String(err);
        process.stderr.write(`steadfast: audit commit failed (${this.failures} so far, ${this.queuedEntries} entries waiting, retrying in ${this.retryDelay} ms): ${this.lastError}\n`);
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
        }
        return;
      }
      this.inFlight = [];
      this.queuedEntries -= entries;
      this.failingSince = undefined;
      this.retryDelay = RETRY_MIN_MS;
      this.lastCommitAt = this.now();
      for (const p of batch) p.resolve();
    }
  }

  /**
   * Commit everything queued, waiting at most `timeoutMs` (default 5 s). Entries still uncommitted
   * then (the disk refuses) are written to the spill file, so shutdown always completes and loses
   * nothing. Used before closing the store.
   */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = this.now() + timeoutMs;
    while (this.queue.length || this.flushing) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      this.kick();
      const left = deadline - this.now();
      if (left <= 0) break;
      await Promise.race([this.flushing ?? Promise.resolve(), sleep(Math.min(left, 100))]);
      if (this.failingSince !== undefined && this.queue.length && !this.flushing) await sleep(Math.min(Math.max(deadline - this.now(), 0), this.retryDelay));
    }
  }

  /** Stop taking entries, commit what is queued (or spill it), and let the store close. */
  async close(timeoutMs = 5000): Promise<void> {
    await this.drain(timeoutMs);
    this.closed = true;
    for (const t of [this.timer, this.retryTimer]) if (t) clearTimeout(t);
    this.timer = this.retryTimer = undefined;
    // A commit under way either lands or puts its batch back at the head of the queue; wait for it.
    if (this.flushing) await Promise.race([this.flushing, sleep(timeoutMs)]);
    // Still under way (the database hangs): spill its batch too. If it lands later, the next start
    // writes those entries a second time: a duplicate in the trail is better than a gap.
    const waiting = [...this.inFlight.filter((p) => !this.queue.includes(p)), ...this.queue];
    if (!waiting.length) return;
    this.queue = [];
    this.queuedEntries = 0;
    const lines = waiting.flatMap((p) => p.inputs.map((i) => JSON.stringify(i))).join('\n') + '\n';
    const file = this.options.spillFile;
    if (file) {
      appendFileSync(file, lines, { mode: 0o600 });
      fsyncFile(file);
      process.stderr.write(`steadfast: ${waiting.length} audit batches could not be committed before shutdown; kept in ${file} and written at next start\n`);
    } else {
      process.stderr.write(`steadfast: audit entries could not be committed before shutdown and are lost:\n${lines}`);
    }
    for (const p of waiting) p.reject(auditUnavailable('the node shut down before they could be written'));
  }

  /** Append entries a previous shutdown could not commit (the spill file), then remove the file. */
  async recoverSpilled(): Promise<number> {
    const file = this.options.spillFile;
    if (!file || !existsSync(file)) return 0;
    const inputs = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as AuditInput];
        } catch {
          process.stderr.write(`steadfast: skipped an unreadable line of ${file}: ${l.slice(0, 200)}\n`);
          return [];
        }
      });
    if (inputs.length) await this.store.transaction({ author: 'system:audit' }, (tx) => this.appendInTransaction(tx.db, inputs));
    unlinkSync(file);
    this.recovered += inputs.length;
    return inputs.length;
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.drain(); // a reader of the trail sees every access acknowledged before it
    let q = this.db.selectFrom('audit_log').selectAll().where('practice', '=', this.store.practice);
    if (query.patient) q = q.where('patient', '=', query.patient);
    if (query.user) q = q.where('user_id', '=', query.user);
    if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
    if (query.event) q = q.where('event', '=', query.event);
    if (query.since) q = q.where('recorded', '>=', query.since);
    if (query.until) q = q.where('recorded', '<', query.until);
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000))
      .execute();
    return rows.map(toEntry);
  }

  /** Every workstation staff have signed in from, with the last sign-in there (for the rooms screen). */
  async signInWorkstations(): Promise<Array<{ workstation: string; lastSignIn: string; signIns: number }>> {
    await this.drain();
    const rows = await this.db
      .selectFrom('audit_log')
      .select(['workstation', (eb) => eb.fn.max('recorded').as('last'), (eb) => eb.fn.countAll().as('count')])
      .where('practice', '=', this.store.practice)
      .where('event', '=', 'login')
      .where('workstation', '!=', '')
      .groupBy('workstation')
      .orderBy('workstation')
      .execute();
    return rows.map((r) => ({ workstation: r.workstation, lastSignIn: String(r.last), signIns: Number(r.count) }));
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Entries queued for later keep the time of the access, not of the commit. */
function stamp(inputs: AuditInput[], now: number): AuditInput[] {
  const at = new Date(now).toISOString();
  return inputs.map((i) => (i.at ? i : { ...i, at }));
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
