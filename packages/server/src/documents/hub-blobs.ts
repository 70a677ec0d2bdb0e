/**
 * The hub's copy of every practice's document bytes, in its PostgreSQL database (so the hub's backups
 * hold them with the records): each blob is stored as 1 MB chunks written as they arrive (a 50 MB
 * letter is never held whole), hashed on the way, and named only when the hash matches. Bytes that do
 * not match the name they were sent under stay as an upload in `hub_blob_rejects`, for a person.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';
import { blobMismatch, type BlobSink } from './blob-sync.ts';

const CHUNK = 1024 * 1024;

interface HubBlobsDb {
  hub_blobs: { practice: string; sha256: string; size: number; upload_id: string; stored_at: string };
  hub_blob_chunks: { upload_id: string; n: number; data: Buffer };
  hub_blob_rejects: { practice: string; upload_id: string; claimed: string; actual: string; size: number; peer: string; at: string };
}

export const hubBlobMigrations: Migration[] = [
  {
    name: '1103-hub-document-blobs',
    async up(db) {
      await db.schema
        .createTable('hub_blobs')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('upload_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('stored_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('hub_blobs_pk', ['practice', 'sha256'])
        .execute();
      await db.schema
        .createTable('hub_blob_chunks')
        .addColumn('upload_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('data', 'bytea', (c) => c.notNull())
        .addPrimaryKeyConstraint('hub_blob_chunks_pk', ['upload_id', 'n'])
        .execute();
      await db.schema
        .createTable('hub_blob_rejects')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('upload_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('claimed', 'varchar(64)', (c) => c.notNull())
        .addColumn('actual', 'varchar(64)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('peer', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('hub_blob_rejects_pk', ['practice', 'upload_id'])
        .execute();
    },
  },
];

export function hubBlobSink(database: Kysely<any>, practice: string): BlobSink {
  const db = database as unknown as Kysely<HubBlobsDb>;
  const find = (sha256: string) => db.selectFrom('hub_blobs').select(['size', 'upload_id']).where('practice', '=', practice).where('sha256', '=', sha256).executeTakeFirst();
  return {
    async has(sha256) {
      const row = await find(sha256);
      return row ? { size: Number(row.size) } : undefined;
    },
    async receive(bytes, claimed, from) {
      const uploadId = randomUUID();
      const hash = createHash('sha256');
      let size = 0;
      let n = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (!pendingBytes) return;
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await db.insertInto('hub_blob_chunks').values({ upload_id: uploadId, n: n++, data }).execute();
      };
      try {
        for await (const c of bytes) {
          const chunk = c as Buffer;
          hash.update(chunk);
          size += chunk.length;
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= CHUNK) await flush();
        }
        await flush();
      } catch (err) {
        await db.deleteFrom('hub_blob_chunks').where('upload_id', '=', uploadId).execute();
        throw err;
      }
      const actual = hash.digest('hex');
      if (actual !== claimed) {
        await db.insertInto('hub_blob_rejects').values({ practice, upload_id: uploadId, claimed, actual, size, peer: from, at: new Date().toISOString() }).execute();
        throw blobMismatch(claimed, actual);
      }
      const inserted = await db
        .insertInto('hub_blobs')
        .values({ practice, sha256: claimed, size, upload_id: uploadId, stored_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['practice', 'sha256']).doNothing())
        .returning('sha256')
        .executeTakeFirst();
      if (inserted) return 'stored';
      // Sent again (a resend after a lost answer): the copy already named stays; this one goes.
      await db.deleteFrom('hub_blob_chunks').where('upload_id', '=', uploadId).execute();
      return 'present';
    },
    async open(sha256) {
      const row = await find(sha256);
      if (!row) return undefined;
      async function* chunks() {
        for (let n = 0; ; n++) {
          const c = await db.selectFrom('hub_blob_chunks').select('data').where('upload_id', '=', row!.upload_id).where('n', '=', n).executeTakeFirst();
          if (!c) return;
          yield c.data;
        }
      }
      return Readable.from(chunks());
    },
  };
}
