/** Cancelling messages not yet sent (a stopped broadcast, a cancelled appointment's reminder). */
import type { RecordStore } from '@steadfast/store';
import { odb } from '../outbox/tables.ts';
import { applyDeliveryStatus } from './delivery.ts';

export async function cancelPending(store: RecordStore, keyPrefix: string): Promise<number> {
  const practice = store.practice;
  const rows = await odb(store.db).selectFrom('outbox_messages').select('id').where('practice', '=', practice).where('source', '=', 'messaging').where('state', '=', 'pending').where('message_key', 'like', `${keyPrefix}%`).execute();
  for (const { id } of rows) {
    const res = await odb(store.db).updateTable('outbox_messages').set({ state: 'cancelled', updated_at: new Date().toISOString() }).where('practice', '=', practice).where('id', '=', id).where('state', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) await applyDeliveryStatus(store, practice, id, 'cancelled');
  }
  return rows.length;
}
