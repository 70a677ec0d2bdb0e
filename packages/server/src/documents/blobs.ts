/**
 * A content-addressed store of the bytes of every document as received (the whole email, the
 * uploaded file, each attachment), under the data dir: `blobs/ab/cdef...` named by SHA-256. Bytes are
 * streamed to a temp file while hashed, flushed to disk, then renamed into place, so a blob that exists
 * is whole; the same bytes twice are one file. Nothing is held in memory beyond the stream's chunks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, fsyncSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SteadfastError } from '@steadfast/domain';

export interface StoredBlob {
  sha256: string;
  size: number;
}

/** Largest single item kept (an email with a 50 MB attachment is about 70 MB on the wire). */
export const DEFAULT_MAX_BLOB_BYTES = 200 * 1024 * 1024;

export class BlobTooLarge extends SteadfastError {
  constructor(limit: number) {
    super('too-large', `The file is larger than ${Math.round(limit / 1024 / 1024)} MB`, { hint: 'Split it, or send it on paper to be scanned' });
  }
}

export class BlobStore {
  readonly dir: string;
  private readonly tmp: string;

  constructor(
    dataDir: string,
    readonly maxBytes = DEFAULT_MAX_BLOB_BYTES,
  ) {
    this.dir = join(dataDir, 'blobs');
    this.tmp = join(this.dir, 'incoming');
    mkdirSync(this.tmp, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new SteadfastError('invalid', `"${sha256}" is not a blob name`, { field: 'sha256' });
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  size(sha256: string): number {
    return statSync(this.pathOf(sha256)).size;
  }

  /** Stream bytes in; resolves once they are on disk under their hash (the same bytes again cost nothing). */
  async put(source: Readable | Buffer | string): Promise<StoredBlob> {
    const temp = join(this.tmp, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const limit = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new BlobTooLarge(limit));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const input = typeof source === 'string' || Buffer.isBuffer(source) ? [source] : source;
    try {
      await pipeline(Array.isArray(input) ? Readable.from(input) : input, counter, createWriteStream(temp, { flags: 'wx' }));
      fsyncFile(temp);
      const sha256 = hash.digest('hex');
      const target = this.pathOf(sha256);
      if (existsSync(target)) {
        rmSync(temp, { force: true });
      } else {
        mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true });
        renameSync(temp, target);
        fsyncFile(join(this.dir, sha256.slice(0, 2)));
      }
      return { sha256, size };
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  /** The bytes of a blob as a stream (optionally a range, inclusive, as HTTP ranges are). */
  open(sha256: string, range?: { start: number; end?: number }): Readable {
    return createReadStream(this.pathOf(sha256), range ?? {});
  }

  /** The first `n` bytes (to know what kind of file it is). */
  async head(sha256: string, n = 4096): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(this.pathOf(sha256), { start: 0, end: n - 1 })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Whole blob in memory: only for what is small enough to parse (the caller checks the size). */
  async read(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.open(sha256)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** The SHA-256 the blob's bytes have now, read from disk (a damaged disk makes it differ from the name). */
  async hashOf(sha256: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const c of this.open(sha256)) hash.update(c as Buffer);
    return hash.digest('hex');
  }

  /** Temp files left by a crash mid-write (never referenced: the inbox row is written after the rename). */
  sweepIncoming(): void {
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
