/**
 * The replication wire protocol, in one file: message types, their schemas, batch encoding (gzip with a
 * SHA-256 digest over the uncompressed batch) and request signing (HMAC-SHA256 with the node's own key).
 * docs/sync-protocol.md is the specification; this file is its implementation.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { SteadfastError, type ChangeEntry } from '@steadfast/domain';

export const PROTOCOL_VERSION = 1;
export const BATCH_CONTENT_TYPE = 'application/x-steadfast-batch+gzip';
export const PUSH_PATH = '/api/sync/push';
/** A pull request is small JSON, sent under its own type so the digest covers the exact bytes. */
export const PULL_CONTENT_TYPE = 'application/x-steadfast-pull+json';
export const PULL_PATH = '/api/sync/pull';
/** Records other practices share with the asking node's practice (JSON request, gzip answer). */
export const PULL_SHARED_PATH = '/api/sync/pull-shared';

export const HEADER_NODE = 'x-steadfast-node';
export const HEADER_DIGEST = 'x-steadfast-digest';
export const HEADER_SIGNATURE = 'x-steadfast-signature';
/** On a 409 out-of-order rejection: the from-cursor the receiver expects. */
export const HEADER_EXPECTED_CURSOR = 'x-steadfast-expected-cursor';

/**
 * Largest batch a sender builds, in entries: each batch is a transaction and a commit at the
 * receiver, so after an outage larger batches reconcile faster (2,000 measured ~15% faster than 500
 * at a PostgreSQL hub); a few MB of JSON at most.
 */
export const DEFAULT_BATCH_SIZE = 2000;

const odsCode = z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code (capital letters and digits)');
const nodeId = z.string().min(1).max(100);
const cursor = z.number().int().min(0);

const changeEntrySchema = z.object({
  entryId: z.string().min(1).max(100),
  originNode: nodeId,
  practice: odsCode,
  hlc: z.string().regex(/^\d{15}-\d{5}-.+$/, 'a hybrid logical clock time'),
  resourceType: z.string().regex(/^[A-Z][A-Za-z]+$/),
  resourceId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
  versionId: z.string().min(1).max(100),
  baseVersionId: z.string().min(1).max(100).nullable(),
  op: z.enum(['put', 'delete']),
  resource: z.looseObject({ resourceType: z.string(), id: z.string().optional() }).nullable(),
  author: z.string().min(1).max(200),
});

/**
 * A batch of entries. For a push, the cursors are the sender's local log positions: the receiver has
 * acknowledged everything up to `fromCursor`, and this batch carries the sender's entries after it up to
 * and including `toCursor`. For a pull, they are the receiver's (hub's) positions for the practice.
 */
const batchSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  /** The node that built the batch. */
  nodeId,
  practice: odsCode,
  fromCursor: cursor,
  toCursor: cursor,
  entries: z.array(changeEntrySchema),
  /** Pull only: entries still waiting after this batch at the sender. */
  remaining: cursor.optional(),
});
export type Batch = Omit<z.infer<typeof batchSchema>, 'entries'> & { entries: ChangeEntry[] };

export const pushAckSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  practice: odsCode,
  nodeId,
  /** The receiver holds everything up to here, durably: the sender may advance its cursor to it. */
  acknowledgedThrough: cursor,
  applied: z.number().int().min(0),
  skipped: z.number().int().min(0),
});
export type PushAck = z.infer<typeof pushAckSchema>;

export const pullRequestSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  nodeId,
  practice: odsCode,
  /** The receiver's log position the node has applied through. */
  fromCursor: cursor,
  limit: z.number().int().min(1).max(5000),
  /**
   * The entry id the node received at `fromCursor`: if the receiver's entry at that position differs
   * (its log was restored from an older backup), it answers 409 with expected cursor 0 and the node
   * pulls again from the start (idempotent) instead of silently missing entries.
   */
  fromEntryId: z.string().min(1).max(100).optional(),
  /** The node's own entries not yet acknowledged, so the hub can show each practice's backlog. */
  waitingToPush: cursor.optional(),
});
export type PullRequest = z.infer<typeof pullRequestSchema>;

/** One patient's record shared with the asking practice, and how far the node has it. */
const sharedStreamCursor = z.object({
  /** ODS code of the practice that holds the record. */
  owner: odsCode,
  patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
  /** The owner's log position at the receiver, scanned through. */
  fromCursor: cursor,
  /** The owner's entry at `fromCursor` (as for a pull), so a receiver restored from a backup is noticed. */
  fromEntryId: z.string().min(1).max(100).optional(),
});

export const sharedPullRequestSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  nodeId,
  practice: odsCode,
  /** Entries per shared record per answer. */
  limit: z.number().int().min(1).max(5000),
  /** What the node already holds; shares it does not list yet start from 0. */
  streams: z.array(sharedStreamCursor).max(10_000),
});
export type SharedPullRequest = z.infer<typeof sharedPullRequestSchema>;

const sharedBatchSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  /** The asking practice. */
  practice: odsCode,
  streams: z.array(
    z.object({
      owner: odsCode,
      patientId: z.string(),
      /** The Consent at the owner that permits this. */
      consentId: z.string(),
      reason: z.string(),
      /** Where this answer starts: the node's cursor, or 0 when the receiver's log went back. */
      fromCursor: cursor,
      /** Scanned through here (entries of other patients in between are not sent). */
      toCursor: cursor,
      toEntryId: z.string().nullable(),
      entries: z.array(changeEntrySchema),
      /** Entries of the owner still to scan after toCursor. */
      remaining: cursor,
      /** Resources that left this patient's record (an entry moved to another patient): delete the copy. */
      forget: z.array(z.object({ resourceType: z.string().regex(/^[A-Z][A-Za-z]+$/), id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/) })).optional(),
    }),
  ),
  /** Shares that were withdrawn (or ended): the node deletes its copy. */
  withdrawn: z.array(z.object({ owner: odsCode, patientId: z.string() })),
});
export type SharedBatch = Omit<z.infer<typeof sharedBatchSchema>, 'streams'> & {
  streams: Array<Omit<z.infer<typeof sharedBatchSchema>['streams'][number], 'entries'> & { entries: ChangeEntry[] }>;
};

// ---- encoding ---------------------------------------------------------------------------------

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface EncodedBatch {
  /** gzip of the batch JSON. */
  body: Buffer;
  /** SHA-256 (hex) of the uncompressed JSON. */
  digest: string;
}

export function encodeBatch(batch: Batch | SharedBatch): EncodedBatch {
  const json = JSON.stringify(batch);
  return { body: gzipSync(json), digest: sha256(json) };
}

function reject(message: string, hint: string, field?: string): SteadfastError {
  return new SteadfastError('invalid', message, { hint, ...(field ? { field } : {}) });
}

/**
 * Decode and check a batch: a truncated or corrupted body, a digest mismatch, or a shape that is not a
 * batch is rejected before anything is applied.
 */
export function decodeBatch(body: Buffer, digest: string | undefined): Batch {
  const result = batchSchema.safeParse(gunzipChecked(body, digest));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw reject(`The batch is not valid: ${issue.message}`, 'Send a batch as docs/sync-protocol.md describes', `batch.${issue.path.join('.')}`);
  }
  const batch = result.data as Batch;
  if (batch.toCursor < batch.fromCursor) {
    throw reject(`The batch's toCursor ${batch.toCursor} is before its fromCursor ${batch.fromCursor}`, 'Cursors only move forward', 'batch.toCursor');
  }
  for (const [i, e] of batch.entries.entries()) {
    if (e.practice !== batch.practice) {
      throw new SteadfastError('forbidden', `Entry ${e.entryId} belongs to practice ${e.practice}, not the batch's ${batch.practice}`, {
        field: `batch.entries[${i}].practice`,
        hint: 'A batch carries one practice only',
      });
    }
  }
  return batch;
}

/** Decode and check the answer to a shared-records pull: each stream carries only its owner's entries. */
export function decodeSharedBatch(body: Buffer, digest: string | undefined): SharedBatch {
  const result = sharedBatchSchema.safeParse(gunzipChecked(body, digest));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw reject(`The shared-records batch is not valid: ${issue.message}`, 'Answer as docs/sync-protocol.md describes', `batch.${issue.path.join('.')}`);
  }
  const batch = result.data as SharedBatch;
  for (const stream of batch.streams) {
    if (stream.toCursor < stream.fromCursor) throw reject(`The stream of ${stream.owner}/${stream.patientId} goes backwards`, 'Cursors only move forward', 'batch.streams');
    const stray = stream.entries.find((e) => e.practice !== stream.owner);
    if (stray) throw new SteadfastError('forbidden', `Entry ${stray.entryId} belongs to practice ${stray.practice}, not ${stream.owner}`, { field: 'batch.streams.entries.practice' });
  }
  return batch;
}

/** Gunzip, check the SHA-256 digest of the uncompressed JSON, parse it. */
function gunzipChecked(body: Buffer, digest: string | undefined): unknown {
  if (!digest || !/^[0-9a-f]{64}$/.test(digest)) {
    throw reject(`The batch has no valid ${HEADER_DIGEST} header`, 'Send the SHA-256 (hex) of the uncompressed batch JSON', HEADER_DIGEST);
  }
  let json: Buffer;
  try {
    json = gunzipSync(body);
  } catch (err) {
    throw reject(`The batch is truncated or corrupted (${(err as Error).message})`, 'Nothing was applied; resend the batch from your cursor', 'body');
  }
  if (sha256(json) !== digest) {
    throw reject('The batch does not match its digest (tampered or damaged in transit)', 'Nothing was applied; resend the batch from your cursor', HEADER_DIGEST);
  }
  try {
    return JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw reject(`The batch is not JSON (${(err as Error).message})`, 'Send the gzip of one JSON batch object', 'body');
  }
}

// ---- signing ----------------------------------------------------------------------------------

/**
 * The signature covers the method, path, node and body digest. There is no timestamp on purpose: a
 * practice PC with a wrong clock must still be able to sync, and a replayed request is harmless (pushes
 * are idempotent and cursor-checked; a pull only returns what the key may read anyway).
 */
export function signRequest(key: string, method: string, path: string, node: string, digest: string): string {
  return createHmac('sha256', key).update(`${method.toUpperCase()}\n${path}\n${node}\n${digest}`).digest('hex');
}

export function signatureMatches(key: string, method: string, path: string, node: string, digest: string, signature: string | undefined): boolean {
  if (!signature || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signRequest(key, method, path, node, digest), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/** Responses are signed with the same key, so a node only trusts an acknowledgement from its real peer. */
export function signResponse(key: string, path: string, node: string, digest: string): string {
  return signRequest(key, 'RESPONSE', path, node, digest);
}

export function responseSignatureMatches(key: string, path: string, node: string, digest: string, signature: string | undefined): boolean {
  return signatureMatches(key, 'RESPONSE', path, node, digest, signature);
}

/** A new node key: 32 random bytes, hex. */
export function newNodeKey(): string {
  return createHash('sha256').update(crypto.getRandomValues(new Uint8Array(32))).digest('hex');
}

// ---- transport -------------------------------------------------------------------------------

/** One HTTP exchange, independent of how it travels (real HTTP, or in memory in the simulation). */
export interface SyncRequest {
  path: typeof PUSH_PATH | typeof PULL_PATH | typeof PULL_SHARED_PATH;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface SyncResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface SyncTransport {
  /** Resolves with the peer's answer (any status); rejects when the peer could not be reached. */
  send(request: SyncRequest): Promise<SyncResponse>;
}

// ---- errors ------------------------------------------------------------------------------------

export function outOfOrder(expected: number, got: number): SteadfastError {
  return new SteadfastError('conflict', `Batch out of order: it starts at cursor ${got} but this receiver has acknowledged through ${expected}`, {
    field: 'batch.fromCursor',
    hint: `Nothing was applied; resend from cursor ${expected} (also in the ${HEADER_EXPECTED_CURSOR} header)`,
  });
}

/** Thrown by a transport when the peer answered with an error: carries the HTTP status and outcome text. */
export class SyncRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly expectedCursor?: number,
  ) {
    super(message);
    this.name = 'SyncRejected';
  }
}
