/**
 * The receiving side of the protocol (the hub, or a practice's primary node for its standby): checks
 * who is asking, checks the batch, applies it in one transaction and only then acknowledges. It works
 * on SyncRequest/SyncResponse values so the same code runs behind fastify and in the simulation.
 */
import type { Kysely } from 'kysely';
import { SteadfastError, isSteadfastError, type ChangeEntry } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import {
  BATCH_CONTENT_TYPE,
  decodeBatch,
  encodeBatch,
  HEADER_DIGEST,
  HEADER_EXPECTED_CURSOR,
  HEADER_NODE,
  HEADER_SIGNATURE,
  outOfOrder,
  PROTOCOL_VERSION,
  PULL_PATH,
  PULL_SHARED_PATH,
  pullRequestSchema,
  sharedPullRequestSchema,
  PUSH_PATH,
  sha256,
  signatureMatches,
  signResponse,
  type Batch,
  type PushAck,
  type SharedBatch,
  type SharedPullRequest,
  type SyncRequest,
  type SyncResponse,
} from './protocol.ts';
import { syncDb, type SyncPeersTable } from './tables.ts';

export interface ReceiverOptions {
  /** Where sync_peers and sync_rejects live. */
  db: Kysely<any>;
  /** The store holding a practice's log here, or undefined when this receiver does not serve it. */
  storeFor(practice: string): Promise<RecordStore | undefined>;
  /** Run after a pushed batch is applied and before it is acknowledged (conflict follow-up on a node). */
  afterApply?(store: RecordStore, entries: ChangeEntry[]): Promise<void>;
  /**
   * Records other practices share with `practice` (the hub). Without it the receiver holds no shared
   * records and answers a shared-records pull with none (a primary node to its standby).
   */
  sharedFor?(practice: string, request: SharedPullRequest): Promise<SharedBatch>;
  now?: () => Date;
}

const MAX_KEPT_REJECT_BYTES = 1024 * 1024;
/** From a sender that could not be authenticated, keep only the start: anyone can send junk. */
const MAX_KEPT_ANONYMOUS_BYTES = 4096;
const MAX_KEPT_REJECTS_PER_NODE = 100;

export class SyncReceiver {
  /** One exchange per node at a time, so a node's cursor check and advance cannot interleave. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ReceiverOptions) {}

  async handle(request: SyncRequest): Promise<SyncResponse> {
    const node = request.headers[HEADER_NODE] ?? '';
    const previous = this.busy.get(node) ?? Promise.resolve();
    const run = previous.then(
      () => this.handleNow(request),
      () => this.handleNow(request),
    );
    this.busy.set(node, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(node) === run) this.busy.delete(node);
    }
  }

  private async handleNow(request: SyncRequest): Promise<SyncResponse> {
    let peer: SyncPeersTable | undefined;
    try {
      peer = await this.authenticate(request);
      if (request.path === PUSH_PATH) return await this.push(peer, request);
      if (request.path === PULL_SHARED_PATH) return await this.pullShared(peer, request);
      return await this.pull(peer, request);
    } catch (err) {
      const se = isSteadfastError(err)
        ? err
        : new SteadfastError('internal', 'The receiver could not apply the batch', { hint: 'Nothing was acknowledged; the sender retries from its cursor' });
      if (!isSteadfastError(err)) console.error('sync receiver failed', err);
      await this.keepReject(peer, request, se).catch(() => undefined);
      const headers: Record<string, string> = { 'content-type': 'application/fhir+json' };
      const expected = (err as { expectedCursor?: number }).expectedCursor;
      if (expected !== undefined) headers[HEADER_EXPECTED_CURSOR] = String(expected);
      return { status: se.httpStatus, headers, body: Buffer.from(JSON.stringify(se.toOperationOutcome())) };
    }
  }

  private async authenticate(request: SyncRequest): Promise<SyncPeersTable> {
    const node = request.headers[HEADER_NODE];
    if (!node) throw new SteadfastError('unauthenticated', `No ${HEADER_NODE} header`, { field: HEADER_NODE, hint: 'Send the node id and sign the request with its key' });
    const peer = (await syncDb(this.options.db).selectFrom('sync_peers').selectAll().where('node_id', '=', node).executeTakeFirst()) as
      | SyncPeersTable
      | undefined;
    if (!peer) {
      throw new SteadfastError('unauthenticated', `Unknown node ${node}`, {
        field: HEADER_NODE,
        hint: 'Register the node at the hub (steadfast hub add-node) and configure it with the key it prints',
      });
    }
    const digest = request.headers[HEADER_DIGEST] ?? '';
    if (!signatureMatches(peer.node_key, 'POST', request.path, node, digest, request.headers[HEADER_SIGNATURE])) {
      throw new SteadfastError('unauthenticated', `The signature of node ${node} does not match its key`, {
        field: HEADER_SIGNATURE,
        hint: 'Check the node is configured with the key the hub issued to it',
      });
    }
    return { ...peer, push_cursor: Number(peer.push_cursor), pull_cursor: Number(peer.pull_cursor) };
  }

  private async storeOf(practice: string): Promise<RecordStore> {
    const store = await this.options.storeFor(practice);
    if (!store) throw new SteadfastError('not-found', `This receiver does not hold practice ${practice}`, { hint: 'Check the node is pointed at its own hub' });
    return store;
  }

  private ownPracticeOnly(peer: SyncPeersTable, practice: string, nodeId: string): void {
    if (nodeId !== peer.node_id) throw new SteadfastError('forbidden', `The batch names node ${nodeId} but was signed by ${peer.node_id}`, { field: 'batch.nodeId' });
    if (practice !== peer.practice) {
      throw new SteadfastError('forbidden', `Node ${peer.node_id} belongs to practice ${peer.practice} and may not sync practice ${practice}`, {
        field: 'batch.practice',
        hint: 'A node can only push or pull its own practice',
      });
    }
  }

  private async push(peer: SyncPeersTable, request: SyncRequest): Promise<SyncResponse> {
    const batch = decodeBatch(request.body, request.headers[HEADER_DIGEST]);
    this.ownPracticeOnly(peer, batch.practice, batch.nodeId);
    if (batch.fromCursor !== peer.push_cursor) throw Object.assign(outOfOrder(peer.push_cursor, batch.fromCursor), { expectedCursor: peer.push_cursor });
    const store = await this.storeOf(batch.practice);
    // One transaction for the whole batch; a crash before the cursor moves means the sender resends
    // and the entries already applied are skipped by entry id.
    const result = await store.applyRemote(batch.entries);
    if (this.options.afterApply) await this.options.afterApply(store, batch.entries);
    const now = (this.options.now?.() ?? new Date()).toISOString();
    await syncDb(this.options.db)
      .updateTable('sync_peers')
      .set({ push_cursor: batch.toCursor, last_push_at: now })
      .where('practice', '=', peer.practice)
      .where('node_id', '=', peer.node_id)
      .execute();
    const ack: PushAck = {
      protocol: PROTOCOL_VERSION,
      practice: batch.practice,
      nodeId: peer.node_id,
      acknowledgedThrough: batch.toCursor,
      applied: result.applied,
      skipped: result.skipped,
    };
    return this.signed(peer, PUSH_PATH, 'application/json', Buffer.from(JSON.stringify(ack)));
  }

  /** A pull request body: JSON whose SHA-256 is the signed digest. */
  private parsePullBody(request: SyncRequest): unknown {
    const digest = request.headers[HEADER_DIGEST];
    if (digest !== sha256(request.body)) throw new SteadfastError('invalid', 'The pull request does not match its digest', { field: HEADER_DIGEST });
    try {
      return JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new SteadfastError('invalid', 'The pull request is not JSON', { field: 'body' });
    }
  }

  private async pullShared(peer: SyncPeersTable, request: SyncRequest): Promise<SyncResponse> {
    const result = sharedPullRequestSchema.safeParse(this.parsePullBody(request));
    if (!result.success) throw new SteadfastError('invalid', `The shared-records pull is not valid: ${result.error.issues[0]?.message}`, { field: 'body' });
    const req = result.data;
    // The practice comes from the node's registration: a node sees only what is shared with its own.
    this.ownPracticeOnly(peer, req.practice, req.nodeId);
    const batch: SharedBatch = this.options.sharedFor
      ? await this.options.sharedFor(peer.practice, req)
      : { protocol: PROTOCOL_VERSION, practice: peer.practice, streams: [], withdrawn: [] };
    const encoded = encodeBatch(batch);
    return this.signed(peer, PULL_SHARED_PATH, BATCH_CONTENT_TYPE, encoded.body, encoded.digest);
  }

  private async pull(peer: SyncPeersTable, request: SyncRequest): Promise<SyncResponse> {
    const result = pullRequestSchema.safeParse(this.parsePullBody(request));
    if (!result.success) throw new SteadfastError('invalid', `The pull request is not valid: ${result.error.issues[0]?.message}`, { field: 'body' });
    const req = result.data;
    this.ownPracticeOnly(peer, req.practice, req.nodeId);
    const store = await this.storeOf(req.practice);
    if (req.fromCursor > 0 && req.fromEntryId) {
      if (!(await anchorHolds(store, req.fromCursor, req.fromEntryId))) {
        throw Object.assign(
          new SteadfastError('conflict', `This log has no entry ${req.fromEntryId} at position ${req.fromCursor} (it was restored or rebuilt)`, {
            field: 'fromCursor',
            hint: 'Pull again from cursor 0; entries already held are skipped',
          }),
          { expectedCursor: 0 },
        );
      }
    }
    const logged = await store.changesSince(req.fromCursor, req.limit);
    const toCursor = logged.length ? logged[logged.length - 1]!.seq : req.fromCursor;
    const remaining = await countAfter(store, toCursor);
    const batch: Batch = {
      protocol: PROTOCOL_VERSION,
      nodeId: store.nodeId,
      practice: req.practice,
      fromCursor: req.fromCursor,
      toCursor,
      entries: logged.map(({ seq: _seq, ...e }) => e),
      remaining,
    };
    // The node asking from a cursor has applied everything before it.
    const now = (this.options.now?.() ?? new Date()).toISOString();
    await syncDb(this.options.db)
      .updateTable('sync_peers')
      .set({ pull_cursor: req.fromCursor, last_pull_at: now, reported_backlog: req.waitingToPush ?? 0 })
      .where('practice', '=', peer.practice)
      .where('node_id', '=', peer.node_id)
      .execute();
    const encoded = encodeBatch(batch);
    return this.signed(peer, PULL_PATH, BATCH_CONTENT_TYPE, encoded.body, encoded.digest);
  }

  private signed(peer: SyncPeersTable, path: string, type: string, body: Buffer, digest = sha256(body)): SyncResponse {
    return {
      status: 200,
      headers: { 'content-type': type, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signResponse(peer.node_key, path, peer.node_id, digest) },
      body,
    };
  }

  private async keepReject(peer: SyncPeersTable | undefined, request: SyncRequest, err: SteadfastError): Promise<void> {
    await syncDb(this.options.db)
      .insertInto('sync_rejects')
      .values({
        practice: peer?.practice ?? '',
        node_id: peer?.node_id ?? request.headers[HEADER_NODE] ?? '',
        received_at: (this.options.now?.() ?? new Date()).toISOString(),
        status: err.httpStatus,
        reason: err.message,
        body_base64: request.body.subarray(0, peer ? MAX_KEPT_REJECT_BYTES : MAX_KEPT_ANONYMOUS_BYTES).toString('base64'),
      })
      .execute();
    // A node stuck retrying a bad batch must not fill the disk: keep its newest rejects only.
    const nodeId = peer?.node_id ?? request.headers[HEADER_NODE] ?? '';
    const cutoff = await syncDb(this.options.db)
      .selectFrom('sync_rejects')
      .select('received_at')
      .where('node_id', '=', nodeId)
      .orderBy('received_at', 'desc')
      .offset(MAX_KEPT_REJECTS_PER_NODE)
      .limit(1)
      .executeTakeFirst();
    if (cutoff) await syncDb(this.options.db).deleteFrom('sync_rejects').where('node_id', '=', nodeId).where('received_at', '<=', cutoff.received_at).execute();
  }
}

/**
 * Whether this log still holds `entryId` at position `seq` (a puller's anchor). When it does not, the
 * log was restored from an older backup and positions are being reused: the puller starts again.
 */
export async function anchorHolds(store: RecordStore, seq: number, entryId: string): Promise<boolean> {
  const at = await store.db.selectFrom('change_log').select('entry_id').where('practice', '=', store.practice).where('seq', '=', seq).executeTakeFirst();
  return at?.entry_id === entryId;
}

/** Entries after a log position for the store's practice (the backlog a puller still has to fetch). */
export async function countAfter(store: RecordStore, seq: number): Promise<number> {
  const row = await store.db
    .selectFrom('change_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('practice', '=', store.practice)
    .where('seq', '>', seq)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Register a node that may sync a practice with this receiver; returns nothing secret beyond what it is given. */
export async function registerPeer(db: Kysely<any>, peer: { practice: string; nodeId: string; key: string }, now = new Date()): Promise<void> {
  const existing = await syncDb(db).selectFrom('sync_peers').select(['practice']).where('node_id', '=', peer.nodeId).executeTakeFirst();
  if (existing && existing.practice !== peer.practice) {
    throw new SteadfastError('conflict', `Node ${peer.nodeId} is already registered for practice ${existing.practice}`, {
      field: 'nodeId',
      hint: 'Each node belongs to one practice; give the new machine its own data directory (and node id)',
    });
  }
  if (existing) {
    await syncDb(db).updateTable('sync_peers').set({ node_key: peer.key }).where('practice', '=', peer.practice).where('node_id', '=', peer.nodeId).execute();
    return;
  }
  await syncDb(db)
    .insertInto('sync_peers')
    .values({
      practice: peer.practice,
      node_id: peer.nodeId,
      node_key: peer.key,
      push_cursor: 0,
      pull_cursor: 0,
      last_push_at: null,
      last_pull_at: null,
      reported_backlog: 0,
      registered_at: now.toISOString(),
    })
    .execute();
}
