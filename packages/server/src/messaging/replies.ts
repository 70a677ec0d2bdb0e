/**
 * Text messages patients send back, fetched from Notify on a schedule and kept (de-duplicated by
 * Notify's id) for staff: each is matched to the patient whose mobile it came from, when exactly one
 * record has that number, and listed as unread until someone reads it.
 */
import type { Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf, isUkMobile, normaliseUkMobile } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type notifyClient from 'notifications-node-client';
import { mdb } from './tables.ts';

type Client = InstanceType<typeof notifyClient.NotifyClient>;

/** Fetch received texts newer than the newest we hold; returns how many were new. */
export async function fetchReplies(store: RecordStore, client: Client): Promise<number> {
  const practice = store.practice;
  const m = mdb(store.db);
  const res = await client.getReceivedTexts();
  let added = 0;
  for (const text of res.data.received_text_messages ?? []) {
    const known = await m.selectFrom('messaging_replies').select('id').where('practice', '=', practice).where('id', '=', text.id).executeTakeFirst();
    if (known) continue;
    const from = isUkMobile(text.user_number) ? normaliseUkMobile(text.user_number) : text.user_number;
    const patientId = await patientWithMobile(store, from);
    await m.insertInto('messaging_replies').values({ practice, id: text.id, from_number: from, content: text.content, received_at: text.created_at, patient_id: patientId ?? null, read_at: null, read_by: null }).execute();
    added++;
  }
  return added;
}

async function patientWithMobile(store: RecordStore, mobile: string): Promise<string | undefined> {
  const page = await store.search({ resourceType: 'Patient', params: [{ name: 'phone', values: [mobile] }], count: 3, offset: 0 }).catch(() => undefined);
  const matches = (page?.resources ?? []).filter((p) => contactPreferencesOf(p as Patient).mobile === mobile);
  return matches.length === 1 ? matches[0]!.id : undefined;
}
