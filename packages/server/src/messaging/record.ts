/**
 * The recorder: writes into the record the Communications of messages queued without one (a
 * broadcast's thousands, see queueComposedMessages in send.ts). Each pass takes the oldest waiting
 * delivery rows, writes their Communications through the one write path (validated, change log,
 * search index) with the status each row has at that moment, plus reception's task for one already
 * known not delivered, and clears the rows' pending_record, all in one transaction: a crash loses
 * nothing and writes nothing twice (keyed by outbox id; a row no longer pending is not written
 * again). Transactions are small and the recorder yields between them, so staff requests keep going.
 */
import type { Communication } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import type { DeliveryStatus } from '@steadfast/domain/api';
import type { RecordStore, WriteRequest } from '@steadfast/store';
import { statusWrites } from './delivery.ts';
import { mdb } from './tables.ts';

/** Communications per transaction: about as long as one ordinary write batch holds the database. */
const BATCH = 100;

export interface RecordPass {
  recorded: number;
  /** Still waiting (another pass will take them). */
  left: boolean;
}

/** Write one batch of waiting Communications. */
export async function recordPendingOnce(store: RecordStore, limit = BATCH): Promise<RecordPass> {
  const practice = store.practice;
  return store.transaction({ author: 'system:messaging' }, async (tx) => {
    const m = mdb(tx.db);
    const rows = await m.selectFrom('messaging_deliveries').selectAll().where('practice', '=', practice).where('pending_record', 'is not', null).orderBy('created_at').limit(limit + 1).execute();
    const now = new Date().toISOString();
    const writes: WriteRequest[] = [];
    const taken = rows.slice(0, limit);
    for (const row of taken) {
      const comm = JSON.parse(row.pending_record!) as Communication;
      if (row.status === 'queued') writes.push({ kind: 'update', resource: comm });
      else writes.push(...statusWrites(comm, row, row.status as DeliveryStatus, row.error || undefined, row.updated_at || now));
    }
    if (writes.length) await tx.write(writes);
    for (let i = 0; i < taken.length; i += 500) {
      const ids = taken.slice(i, i + 500).map((r) => r.outbox_id);
      await m.updateTable('messaging_deliveries').set({ pending_record: null }).where('practice', '=', practice).where('outbox_id', 'in', ids).execute();
    }
    return { recorded: taken.length, left: rows.length > limit };
  });
}

/** Record everything waiting, one small transaction at a time, yielding between them. */
export async function recordPending(store: RecordStore, onProgress?: (recorded: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const pass = await recordPendingOnce(store);
    total += pass.recorded;
    if (pass.recorded) onProgress?.(total);
    if (!pass.left) return total;
    await new Promise((r) => setImmediate(r)); // let staff requests in between transactions
  }
}

/** How many of the messages whose outbox key starts with this are not yet in the record (a broadcast's progress). */
export async function unrecordedCount(store: RecordStore, keyPrefix: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM messaging_deliveries d JOIN outbox_messages o ON o.practice = d.practice AND o.id = d.outbox_id WHERE d.practice = ${store.practice} AND d.pending_record IS NOT NULL AND o.message_key LIKE ${`${keyPrefix}%`}`.execute(store.db);
  return Number(rows[0]?.n ?? 0);
}
