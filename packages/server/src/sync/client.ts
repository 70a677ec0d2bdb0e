/**
 * The sending side: a practice node (or a standby) exchanging with its peer. Push local entries after
 * the acknowledged cursor; pull the peer's entries after the applied cursor; advance each cursor only
 * after the acknowledgement (push) or the commit (pull), durably, in sync_cursors. All state that
 * matters lives in the store, so a crash at any point loses nothing: the client resumes from cursors.
 * Continuous when connected; exponential backoff with full jitter when not.
 */
import type { ChangeEntry } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import {
  BATCH_CONTENT_TYPE,
  decodeBatch,
  decodeSharedBatch,
  DEFAULT_BATCH_SIZE,
  encodeBatch,
  HEADER_DIGEST,
  HEADER_EXPECTED_CURSOR,
  HEADER_NODE,
  HEADER_SIGNATURE,
  PROTOCOL_VERSION,
  PULL_CONTENT_TYPE,
  PULL_PATH,
  PULL_SHARED_PATH,
  pushAckSchema,
  PUSH_PATH,
  responseSignatureMatches,
  sha256,
  signRequest,
  SyncRejected,
  type Batch,
  type PullRequest,
  type SharedPullRequest,
  type SyncRequest,
  type SyncResponse,
  type SyncTransport,
} from './protocol.ts';
import { SLOW_EXCHANGE_MS } from '@steadfast/domain/region';
import { syncDb } from './tables.ts';
import { countAfter } from './receiver.ts';
import { applySharedBatch, sharedStreams } from './shared.ts';

export interface SyncClientOptions {
  store: RecordStore;
  /** Name of the peer in sync_cursors, e.g. `hub`. */
  peer: string;
  transport: SyncTransport;
  /** This node's key, registered at the peer. */
  key: string;
  batchSize?: number;
  /** Also pull records other practices share with this one (from the hub; default true). */
  pullShared?: boolean;
  /** Conflict follow-up after a pulled batch is applied (before its cursor advances). */
  afterApply?(store: RecordStore, entries: ChangeEntry[]): Promise<void>;
  /** Wait between exchanges while connected (ms). */
  pollMs?: number;
  /** Backoff bounds while disconnected (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => Date;
  random?: () => number;
}

export interface Cursors {
  push: number;
  pull: number;
  /** Entry id at the peer's `pull` position. */
  pullAnchor: string | null;
  lastExchangeAt: string | null;
}

export type ConnectionState = 'connected' | 'disconnected' | 'never-connected';

export interface SyncStatus {
  peer: string;
  state: ConnectionState;
  /** True only while the most recent exchange succeeded and is recent (not a guess). */
  reachable: boolean;
  /** When the current state began (the first failure of an outage, or the reconnection). */
  since: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  /** Local entries not yet acknowledged by the peer. */
  waitingToPush: number;
  /** Entries at the peer not yet applied here, as the peer last reported (null before any pull). */
  waitingToPull: number | null;
  cursors: Cursors;
}

export class SyncClient {
  private state: ConnectionState = 'never-connected';
  private since: string | null = null;
  private lastSuccessAt: string | null = null;
  private lastError: string | null = null;
  private waitingToPull: number | null = null;
  private failures = 0;
  /** Exchanges since this client started: attempted, failed, slow (for the node's health samples). */
  private readonly totals = { exchanges: 0, failed: 0, slow: 0 };
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: SyncClientOptions) {}

  private get store(): RecordStore {
    return this.options.store;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async cursors(): Promise<Cursors> {
    const row = await syncDb(this.store.db)
      .selectFrom('sync_cursors')
      .selectAll()
      .where('practice', '=', this.store.practice)
      .where('peer', '=', this.options.peer)
      .executeTakeFirst();
    return {
      push: Number(row?.push_cursor ?? 0),
      pull: Number(row?.pull_cursor ?? 0),
      pullAnchor: row?.pull_anchor ?? null,
      lastExchangeAt: row?.last_exchange_at ?? null,
    };
  }

  /** Durably move one cursor (one row, one statement; SQLite synchronous=FULL / PostgreSQL commit). */
  private async saveCursor(which: 'push' | 'pull', value: number, anchor: string | null = null): Promise<void> {
    const at = this.now().toISOString();
    const db = syncDb(this.store.db);
    const set = which === 'push' ? { push_cursor: value, last_exchange_at: at } : { pull_cursor: value, pull_anchor: anchor, last_exchange_at: at };
    await db
      .insertInto('sync_cursors')
      .values({
        practice: this.store.practice,
        peer: this.options.peer,
        push_cursor: which === 'push' ? value : 0,
        pull_cursor: which === 'pull' ? value : 0,
        pull_anchor: which === 'pull' ? anchor : null,
        last_exchange_at: at,
      })
      .onConflict((oc) => oc.columns(['practice', 'peer']).doUpdateSet(set))
      .execute();
  }

  private async send(path: SyncRequest['path'], body: Buffer, digest: string): Promise<SyncResponse> {
    const node = this.store.nodeId;
    const response = await this.options.transport.send({
      path,
      headers: {
        'content-type': path === PUSH_PATH ? BATCH_CONTENT_TYPE : PULL_CONTENT_TYPE,
        [HEADER_NODE]: node,
        [HEADER_DIGEST]: digest,
        [HEADER_SIGNATURE]: signRequest(this.options.key, 'POST', path, node, digest),
      },
      body,
    });
    if (response.status !== 200) {
      let message = `HTTP ${response.status}`;
      try {
        const outcome = JSON.parse(response.body.toString('utf8')) as { issue?: Array<{ diagnostics?: string }> };
        message = `${message}: ${outcome.issue?.[0]?.diagnostics ?? ''}`;
      } catch {
        // not an OperationOutcome; the status says enough
      }
      const expected = response.headers[HEADER_EXPECTED_CURSOR];
      throw new SyncRejected(response.status, message, expected !== undefined ? Number(expected) : undefined);
    }
    const responseDigest = response.headers[HEADER_DIGEST] ?? '';
    if (!responseSignatureMatches(this.options.key, path, node, responseDigest, response.headers[HEADER_SIGNATURE])) {
      throw new SyncRejected(502, `The answer from ${this.options.peer} is not signed with this node's key; not trusting it`);
    }
    return response;
  }

  /** Push one batch; returns the number of entries acknowledged (0 when nothing is waiting). */
  async pushOnce(): Promise<number> {
    const { push: from } = await this.cursors();
    const logged = await this.store.changesSince(from, this.options.batchSize ?? DEFAULT_BATCH_SIZE);
    if (!logged.length) return 0;
    const to = logged[logged.length - 1]!.seq;
    const batch: Batch = {
      protocol: PROTOCOL_VERSION,
      nodeId: this.store.nodeId,
      practice: this.store.practice,
      fromCursor: from,
      toCursor: to,
      entries: logged.map(({ seq: _seq, ...e }) => e),
    };
    const encoded = encodeBatch(batch);
    let response: SyncResponse;
    try {
      response = await this.send(PUSH_PATH, encoded.body, encoded.digest);
    } catch (err) {
      // The peer holds a different cursor for us (it restarted from a backup, or it acknowledged a
      // batch whose cursor we did not get to save): resume from where the peer says.
      if (err instanceof SyncRejected && err.status === 409 && err.expectedCursor !== undefined && err.expectedCursor !== from) {
        await this.saveCursor('push', err.expectedCursor);
        return 0;
      }
      throw err;
    }
    const ack = pushAckSchema.parse(JSON.parse(response.body.toString('utf8')));
    if (ack.acknowledgedThrough !== to || ack.practice !== this.store.practice) {
      throw new SyncRejected(502, `The acknowledgement (${ack.practice} through ${ack.acknowledgedThrough}) does not match the batch sent (through ${to})`);
    }
    await this.saveCursor('push', to);
    return logged.length;
  }

  /** Pull one batch; returns the number of entries received. */
  async pullOnce(): Promise<number> {
    const { pull: from, pullAnchor, push } = await this.cursors();
    const request: PullRequest = {
      ...(pullAnchor ? { fromEntryId: pullAnchor } : {}),
      waitingToPush: await countAfter(this.store, push),
      protocol: PROTOCOL_VERSION,
      nodeId: this.store.nodeId,
      practice: this.store.practice,
      fromCursor: from,
      limit: this.options.batchSize ?? DEFAULT_BATCH_SIZE,
    };
    const body = Buffer.from(JSON.stringify(request));
    let response: SyncResponse;
    try {
      response = await this.send(PULL_PATH, body, sha256(body));
    } catch (err) {
      // The peer's log went back (restored from a backup): pull it again from where it says.
      if (err instanceof SyncRejected && err.status === 409 && err.expectedCursor !== undefined) {
        await this.saveCursor('pull', err.expectedCursor, null);
        return 0;
      }
      throw err;
    }
    const batch = decodeBatch(response.body, response.headers[HEADER_DIGEST]);
    if (batch.practice !== this.store.practice || batch.fromCursor !== from) {
      throw new SyncRejected(502, `The pulled batch (${batch.practice} from ${batch.fromCursor}) is not the one asked for (${this.store.practice} from ${from})`);
    }
    if (batch.entries.length) {
      await this.store.applyRemote(batch.entries);
      if (this.options.afterApply) await this.options.afterApply(this.store, batch.entries);
    }
    const last = batch.entries[batch.entries.length - 1];
    if (batch.toCursor !== from && last) await this.saveCursor('pull', batch.toCursor, last.entryId);
    this.waitingToPull = batch.remaining ?? 0;
    return batch.entries.length;
  }

  /**
   * Pull records shared with this practice, one answer (every shared record, from its own cursor);
   * returns the entries received and the most any one record still has to scan.
   */
  async pullSharedOnce(): Promise<{ received: number; remaining: number; forgotten: number }> {
    const streams = await sharedStreams(this.store);
    const request: SharedPullRequest = {
      protocol: PROTOCOL_VERSION,
      nodeId: this.store.nodeId,
      practice: this.store.practice,
      limit: this.options.batchSize ?? DEFAULT_BATCH_SIZE,
      streams: streams.map((s) => ({ owner: s.owner, patientId: s.patientId, fromCursor: s.cursor, ...(s.anchor ? { fromEntryId: s.anchor } : {}) })),
    };
    const body = Buffer.from(JSON.stringify(request));
    const response = await this.send(PULL_SHARED_PATH, body, sha256(body));
    const batch = decodeSharedBatch(response.body, response.headers[HEADER_DIGEST]);
    if (batch.practice !== this.store.practice) throw new SyncRejected(502, `The shared records answer is for ${batch.practice}, not ${this.store.practice}`);
    return applySharedBatch(this.store, batch, this.now());
  }

  private inFlight: Promise<unknown> = Promise.resolve();

  /**
   * Push everything waiting, then pull everything waiting. Throws on the first failure. Calls are
   * serialised (the background loop and an explicit call never interleave their cursor updates).
   */
  exchange(): Promise<{ pushed: number; pulled: number }> {
    const run = this.inFlight.then(
      () => this.exchangeNow(),
      () => this.exchangeNow(),
    );
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  private async exchangeNow(): Promise<{ pushed: number; pulled: number }> {
    let pushed = 0;
    let pulled = 0;
    const started = Date.now();
    this.totals.exchanges++;
    try {
      for (let n = await this.pushOnce(); n > 0; n = await this.pushOnce()) pushed += n;
      for (;;) {
        const n = await this.pullOnce();
        pulled += n;
        if (n === 0 || this.waitingToPull === 0) break;
      }
      // Conflict follow-up may have written entries (merges, review Tasks): send them now.
      for (let n = await this.pushOnce(); n > 0; n = await this.pushOnce()) pushed += n;
      if (this.options.pullShared ?? true) {
        // Bounded: a new share of a long record arrives over a few cycles rather than holding this one.
        for (let round = 0; round < 20; round++) {
          const shared = await this.pullSharedOnce();
          if (shared.remaining === 0) break;
        }
      }
    } catch (err) {
      this.totals.failed++;
      this.recordFailure(err);
      throw err;
    } finally {
      if (Date.now() - started > SLOW_EXCHANGE_MS) this.totals.slow++;
    }
    this.recordSuccess();
    return { pushed, pulled };
  }

  private recordSuccess(): void {
    const at = this.now().toISOString();
    if (this.state !== 'connected') this.since = at;
    this.state = 'connected';
    this.lastSuccessAt = at;
    this.lastError = null;
    this.failures = 0;
  }

  private recordFailure(err: unknown): void {
    if (this.state !== 'disconnected') this.since = this.now().toISOString();
    this.state = 'disconnected';
    this.lastError = err instanceof Error ? err.message : String(err);
    this.failures++;
  }

  /** Exchanges attempted, failed and slow since this client started (counters only rise). */
  exchangeTotals(): { exchanges: number; failed: number; slow: number } {
    return { ...this.totals };
  }

  /** Delay before the next attempt after `failures` consecutive failures: full jitter, capped. */
  backoffMs(failures = this.failures): number {
    const min = this.options.minBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 60_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(failures, 20));
    return Math.round(min + (this.options.random ?? Math.random)() * (ceiling - min));
  }

  async status(): Promise<SyncStatus> {
    const cursors = await this.cursors();
    const waitingToPush = await countAfter(this.store, cursors.push);
    const pollMs = this.options.pollMs ?? 2000;
    // A success long ago does not mean the hub is reachable now.
    const fresh = this.lastSuccessAt !== null && this.now().getTime() - Date.parse(this.lastSuccessAt) < Math.max(30_000, pollMs * 5);
    return {
      peer: this.options.peer,
      state: this.state,
      reachable: this.state === 'connected' && fresh,
      since: this.since,
      lastSuccessAt: this.lastSuccessAt ?? cursors.lastExchangeAt,
      lastError: this.lastError,
      waitingToPush,
      waitingToPull: this.waitingToPull,
      cursors,
    };
  }

  /** Run exchanges until stopped: every pollMs while connected, with backoff while not. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let delay: number;
        try {
          await this.exchange();
          delay = this.options.pollMs ?? 2000;
        } catch {
          delay = this.backoffMs();
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, delay);
        });
      }
    })();
  }

  /** Exchange soon (e.g. after a local write) instead of waiting for the poll. */
  nudge(): void {
    if (this.timer && this.state === 'connected') {
      clearTimeout(this.timer);
      this.wake?.();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }
}
