/** Cancelling messages not yet sent (a stopped broadcast, a cancelled appointment's reminder). */
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import { odb } from '../outbox/tables.ts';
import { applyDeliveryStatus, applyDeliveryStatusIn } from './delivery.ts';

export async function cancelPending(store: RecordStore, keyPrefix: string): Promise<number> {
  const practice = store.practice;
  const rows = await odb(store.db).selectFrom('outbox_messages').select('id').where('practice', '=', practice).where('source', '=', 'messaging').where('state', '=', 'pending').where('message_key', 'like', `${keyPrefix}%`).execute();
  for (const { id } of rows) {
    const res = await odb(store.db).updateTable('outbox_messages').set({ state: 'cancelled', updated_at: new Date().toISOString() }).where('practice', '=', practice).where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) await applyDeliveryStatus(store, practice, id, 'cancelled');
  }
  return rows.length;
}

/** The same inside the caller's transaction: the message is withdrawn with the change that withdrew it. */
export async function cancelPendingIn(tx: StoreTransaction, practice: string, keyPrefix: string): Promise<number> {
  const o = odb(tx.db);
  const rows = await o.selectFrom('outbox_messages').select('id').where('practice', '=', practice).where('source', '=', 'messaging').where('state', '=', 'pending').where('message_key', 'like', `${keyPrefix}%`).execute();
  let cancelled = 0;
  for (const { id } of rows) {
    const res = await o.updateTable('outbox_messages').set({ state: 'cancelled', updated_at: new Date().toISOString() }).where('practice', '=', practice).where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) {
      await applyDeliveryStatusIn(tx, practice, id, 'cancelled');
      cancelled++;
    }
  }
  return cancelled;
}
