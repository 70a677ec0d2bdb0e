/**
 * Documents' bytes between nodes and the hub: the second half of document replication (the records
 * go through the change log, replica.ts). Every blob a document names (the raw item as received and
 * the document's own bytes, whatever their size) is sent to the upstream (the hub, or a standby's
 * primary) and fetched from it by a node that lacks it, streamed both ways in chunks (never held
 * whole in memory), content-addressed by SHA-256:
 *
 *   GET  /api/sync/blobs/:sha256?probe=1  → { present, size }      (signed answer)
 *   PUT  /api/sync/blobs/:sha256          body = the bytes         (stored only if they hash to the name)
 *   GET  /api/sync/blobs/:sha256          → the bytes              (the fetcher checks the hash)
 *
 * Requests are signed like sync's (HMAC with the node's key over method, path, node and the blob's
 * name), by the nodes registered in `sync_peers`. A resend is idempotent (the name is the content).
 * Bytes that do not hash to their name are refused and kept apart for a person (`…_rejects`), never
 * stored under the name and never replacing what is there.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, responseSignatureMatches, signatureMatches, signRequest, signResponse } from '../sync/protocol.ts';
import { syncDb } from '../sync/tables.ts';
import type { BlobStore } from './blobs.ts';
import { keepReject } from './mismatch.ts';
import { ddb } from './tables.ts';

export const BLOB_PATH = '/api/sync/blobs/';
export const BLOB_CONTENT_TYPE = 'application/x-steadfast-blob';
const SHA = /^[0-9a-f]{64}$/;

/** Where a receiver keeps the blobs of one practice (a node's blob store, the hub's PostgreSQL). */
export interface BlobSink {
  has(sha256: string): Promise<{ size: number } | undefined>;
  /** Store bytes sent as `claimed`; throws a SteadfastError (kept as a reject) when they hash to something else. */
  receive(bytes: Readable, claimed: string, from: string): Promise<'stored' | 'present'>;
  open(sha256: string): Promise<Readable | undefined>;
}

export function blobMismatch(claimed: string, actual: string): SteadfastError {
  return new SteadfastError('invalid', `The bytes sent as blob ${claimed.slice(0, 12)}… hash to ${actual.slice(0, 12)}…: refused, and kept apart for review`, {
    field: HEADER_DIGEST,
    hint: 'Nothing was replaced; the sender keeps its copy and sends it again. If it repeats, the sender’s disk or the network is damaging files',
  });
}

/** A practice node's blob store as a sink: a blob exists only whole and only under its own hash. */
export function fileSink(blobs: BlobStore, store: RecordStore): BlobSink {
  return {
    async has(sha256) {
      return blobs.has(sha256) ? { size: blobs.size(sha256) } : undefined;
    },
    async receive(bytes, claimed, from) {
      const had = blobs.has(claimed);
      const got = await blobs.put(bytes); // kept under its real hash: it never replaces the claimed one
      if (got.sha256 !== claimed) {
        await keepReject(store, { claimed, actual: got.sha256, size: got.size, peer: from, side: 'received' });
        throw blobMismatch(claimed, got.sha256);
      }
      return had ? 'present' : 'stored';
    },
    async open(sha256) {
      return blobs.has(sha256) ? blobs.open(sha256) : undefined;
    },
  };
}

function pathOf(sha256: string): string {
  return `${BLOB_PATH}${sha256}`;
}

/** The receiving side, on a node (for its standby) and on the hub (for every node). */
export async function registerBlobRoutes(app: FastifyInstance, options: { db: Kysely<any>; sinkFor(practice: string): Promise<BlobSink | undefined> }): Promise<void> {
  async function authenticate(headers: Record<string, unknown>, method: string, sha256: string) {
    if (!SHA.test(sha256)) throw new SteadfastError('invalid', `"${sha256}" is not a SHA-256 blob name`, { field: 'sha256', hint: '64 lower-case hex digits' });
    const node = typeof headers[HEADER_NODE] === 'string' ? (headers[HEADER_NODE] as string) : '';
    const peer = node ? await syncDb(options.db).selectFrom('sync_peers').selectAll().where('node_id', '=', node).executeTakeFirst() : undefined;
    if (!peer) throw new SteadfastError('unauthenticated', `Unknown node ${node || '(none)'}`, { field: HEADER_NODE, hint: 'Register the node (steadfast hub add-node / sync add-standby)' });
    if (headers[HEADER_DIGEST] !== sha256 || !signatureMatches(peer.node_key, method, pathOf(sha256), node, sha256, headers[HEADER_SIGNATURE] as string | undefined)) {
      throw new SteadfastError('unauthenticated', `The signature of node ${node} does not match its key`, { field: HEADER_SIGNATURE, hint: 'Check the node is configured with the key it was issued' });
    }
    const sink = await options.sinkFor(peer.practice);
    if (!sink) throw new SteadfastError('not-found', `Practice ${peer.practice} is not served here`, { hint: 'Check the node is pointed at its own hub' });
    return { peer, sink };
  }

  await app.register(async (scope) => {
    // The body stays a stream: the sink reads it chunk by chunk.
    scope.addContentTypeParser(BLOB_CONTENT_TYPE, (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { sha256: string } }>(`${BLOB_PATH}:sha256`, { config: { public: true } }, async (request, reply) => {
      const { peer, sink } = await authenticate(request.headers, 'PUT', request.params.sha256);
      const body = request.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') throw new SteadfastError('invalid', `Send the bytes as ${BLOB_CONTENT_TYPE}`, { field: 'content-type' });
      const outcome = await sink.receive(body, request.params.sha256, peer.node_id);
      const digest = `${request.params.sha256}:${outcome}`;
      return reply
        .code(outcome === 'stored' ? 201 : 200)
        .header(HEADER_DIGEST, digest)
        .header(HEADER_SIGNATURE, signResponse(peer.node_key, pathOf(request.params.sha256), peer.node_id, digest))
        .send({ sha256: request.params.sha256, outcome });
    });
    scope.get<{ Params: { sha256: string }; Querystring: { probe?: string } }>(`${BLOB_PATH}:sha256`, { config: { public: true }, exposeHeadRoute: false }, async (request, reply) => {
      const { peer, sink } = await authenticate(request.headers, 'GET', request.params.sha256);
      if (request.query.probe) {
        const held = await sink.has(request.params.sha256);
        const digest = `${request.params.sha256}:${held ? 'present' : 'absent'}`;
        return reply
          .header(HEADER_DIGEST, digest)
          .header(HEADER_SIGNATURE, signResponse(peer.node_key, pathOf(request.params.sha256), peer.node_id, digest))
          .send({ present: !!held, size: held?.size ?? 0 });
      }
      const stream = await sink.open(request.params.sha256);
      if (!stream) throw new SteadfastError('not-found', `Blob ${request.params.sha256} is not held here`, { field: 'sha256', hint: 'It arrives when the node that took it in sends it' });
      return reply.header('content-type', 'application/octet-stream').header('cache-control', 'no-store').send(stream);
    });
  });
}

// ---- the sending and fetching side (a practice node) ----------------------------------------------

function send(url: URL, method: string, headers: Record<string, string>, body?: Readable, timeoutMs = 120_000): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, timeout: timeoutMs }, resolve);
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs / 1000} s`)));
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += String(c);
  return s.slice(0, 2000);
}

export interface BlobReplicatorOptions {
  store: RecordStore;
  blobs: BlobStore;
  /** The upstream's name in document_blob_peers (as in sync_cursors: `hub`, or `primary`). */
  peer: string;
  url: string;
  key: string;
  /** Blobs handled per round (default 50). */
  perRound?: number;
}

export interface BlobReplicationStatus {
  peer: string;
  /** Blobs held here that the upstream has not confirmed. */
  waitingToSend: number;
  /** Blobs a document here names that are not here yet (fetched from the upstream). */
  missingHere: number;
  rejects: number;
  lastError: string | null;
  lastRoundAt: string | null;
}

/**
 * Sends every blob the documents here name to the upstream, and fetches those it lacks, until the
 * upstream has confirmed each (document_blob_peers). Idempotent and restartable: a blob sent twice is
 * the same blob.
 */
export class BlobReplicator {
  private lastError: string | null = null;
  private lastRoundAt: string | null = null;
  /** A blob whose bytes did not match (fetched here, or refused by the upstream) waits before it is tried again. */
  private readonly backoff = new Map<string, number>();

  constructor(private readonly o: BlobReplicatorOptions) {}

  private headers(method: string, sha256: string): Record<string, string> {
    return { [HEADER_NODE]: this.o.store.nodeId, [HEADER_DIGEST]: sha256, [HEADER_SIGNATURE]: signRequest(this.o.key, method, pathOf(sha256), this.o.store.nodeId, sha256) };
  }

  private url(sha256: string, probe = false): URL {
    return new URL(`${pathOf(sha256)}${probe ? '?probe=1' : ''}`, this.o.url);
  }

  /** Blobs named by a document here and not yet confirmed by the upstream. */
  private async unconfirmed(limit: number): Promise<string[]> {
    const { practice } = this.o.store;
    const rows = await sql<{ sha256: string }>`
      select b.sha256 from (select blob as sha256 from documents where practice = ${practice} union select source_blob as sha256 from documents where practice = ${practice}) b
      where not exists (select 1 from document_blob_peers p where p.practice = ${practice} and p.peer = ${this.o.peer} and p.sha256 = b.sha256)
      order by b.sha256 limit ${limit}`.execute(this.o.store.db);
    return rows.rows.map((r) => r.sha256);
  }

  private async confirm(sha256: string): Promise<void> {
    await ddb(this.o.store.db)
      .insertInto('document_blob_peers')
      .values({ practice: this.o.store.practice, peer: this.o.peer, sha256, at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['practice', 'peer', 'sha256']).doNothing())
      .execute();
  }

  private signed(res: IncomingMessage, sha256: string, digest: string): boolean {
    return res.headers[HEADER_DIGEST] === digest && responseSignatureMatches(this.o.key, pathOf(sha256), this.o.store.nodeId, digest, res.headers[HEADER_SIGNATURE] as string | undefined);
  }

  /** Is it at the upstream (a signed answer)? */
  private async probe(sha256: string): Promise<boolean> {
    const res = await send(this.url(sha256, true), 'GET', this.headers('GET', sha256));
    const body = await text(res);
    if (res.statusCode !== 200) throw new Error(`probe of ${sha256.slice(0, 12)}: ${res.statusCode} ${body.slice(0, 200)}`);
    const present = (JSON.parse(body) as { present?: boolean }).present === true;
    if (!this.signed(res, sha256, `${sha256}:${present ? 'present' : 'absent'}`)) throw new Error('the upstream’s answer is not signed with this node’s key');
    return present;
  }

  /** Stream it to the upstream; a copy it refuses as a mismatch is checked here and put to a person. */
  private async push(sha256: string): Promise<void> {
    const size = this.o.blobs.size(sha256);
    const res = await send(this.url(sha256), 'PUT', { ...this.headers('PUT', sha256), 'content-type': BLOB_CONTENT_TYPE, 'content-length': String(size) }, this.o.blobs.open(sha256));
    const body = await text(res);
    if (res.statusCode === 400 && body.includes(HEADER_DIGEST)) {
      const own = await this.o.blobs.hashOf(sha256);
      await keepReject(this.o.store, { claimed: sha256, actual: own === sha256 ? '' : own, size, peer: this.o.peer, side: 'refused-upstream' });
      this.backoff.set(sha256, Date.now() + 60_000);
    }
    if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`sending ${sha256.slice(0, 12)}: ${res.statusCode} ${body.slice(0, 300)}`);
    const outcome = res.statusCode === 201 ? 'stored' : 'present';
    if (!this.signed(res, sha256, `${sha256}:${outcome}`)) throw new Error('the upstream’s acknowledgement is not signed with this node’s key');
  }

  /** Stream it from the upstream into the blob store; refused (and kept apart) unless it hashes to its name. */
  private async fetch(sha256: string): Promise<boolean> {
    const res = await send(this.url(sha256), 'GET', this.headers('GET', sha256));
    if (res.statusCode === 404) {
      res.resume();
      return false; // not there yet: the node that took it in has not sent it
    }
    if (res.statusCode !== 200) throw new Error(`fetching ${sha256.slice(0, 12)}: ${res.statusCode} ${await text(res)}`);
    const got = await this.o.blobs.put(res);
    if (got.sha256 !== sha256) {
      await keepReject(this.o.store, { claimed: sha256, actual: got.sha256, size: got.size, peer: this.o.peer, side: 'fetched' });
      this.backoff.set(sha256, Date.now() + 60_000);
      throw blobMismatch(sha256, got.sha256);
    }
    return true;
  }

  /** One round: returns how many blobs were confirmed. Errors are kept for the status and the round goes on. */
  async round(): Promise<number> {
    let done = 0;
    const errors: string[] = [];
    for (const sha256 of await this.unconfirmed(this.o.perRound ?? 50)) {
      if ((this.backoff.get(sha256) ?? 0) > Date.now()) continue;
      try {
        if (this.o.blobs.has(sha256)) {
          if (!(await this.probe(sha256))) await this.push(sha256);
        } else if (!(await this.fetch(sha256))) continue;
        await this.confirm(sha256);
        done++;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    this.lastRoundAt = new Date().toISOString();
    this.lastError = errors[0] ?? null;
    return done;
  }

  /** Rounds until nothing is left to do or a round makes no progress. */
  async drain(): Promise<void> {
    while ((await this.round()) > 0);
  }

  async status(): Promise<BlobReplicationStatus> {
    const all = await this.unconfirmed(1_000_000);
    const here = all.filter((s) => this.o.blobs.has(s)).length;
    const rejects = await ddb(this.o.store.db).selectFrom('document_blob_rejects').select((eb) => eb.fn.countAll().as('n')).where('practice', '=', this.o.store.practice).executeTakeFirst();
    return { peer: this.o.peer, waitingToSend: here, missingHere: all.length - here, rejects: Number(rejects?.n ?? 0), lastError: this.lastError, lastRoundAt: this.lastRoundAt };
  }
}
