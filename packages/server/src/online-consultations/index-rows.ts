/**
 * The triage index row of a QuestionnaireResponse, and catching the index up with submissions that
 * arrived by sync (from the hub, or another node of the practice): every QuestionnaireResponse of the
 * online consultation Questionnaire in the change log after the cursor gets a row, once.
 */
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { QUESTIONNAIRE_URL } from '@steadfast/domain/online-consultations';
import type { RecordStore } from '@steadfast/store';
import { readSubmission } from './records.ts';
import { ocdb, type OcRequestsTable } from './tables.ts';

export function indexRow(practice: string, qr: QuestionnaireResponse): OcRequestsTable {
  const s = readSubmission(qr);
  const flags = s.redFlags.filter((f) => f.yes).map((f) => f.linkId);
  const first = s.answers.find((a) => a.linkId === 'symptoms' || a.linkId === 'details') ?? s.answers[0];
  const adminType = s.kind === 'admin' ? s.answers.find((a) => a.linkId === 'admin-type')?.answer ?? null : null;
  return {
    practice,
    id: qr.id!,
    reference: s.reference,
    kind: s.kind,
    admin_type: adminType,
    received_at: s.receivedAt,
    red_flags: JSON.stringify(flags),
    priority_rank: flags.length ? 0 : 1,
    status: 'new',
    urgency: flags.length ? 'urgent' : null,
    category: null,
    assignee_id: null,
    assignee_name: null,
    assignee_role: null,
    patient_name: `${s.identity.givenName} ${s.identity.familyName.toUpperCase()}`.slice(0, 250),
    birth_date: s.identity.birthDate,
    summary: (first?.answer ?? '').slice(0, 160),
    matched_patient_id: null,
    matched_patient_name: null,
    received_via: s.via,
    outcome: null,
    history: JSON.stringify([{ at: s.receivedAt, by: s.via === 'hub' ? 'Regional hub' : 'Online form', action: 'received', detail: `Received at the ${s.via}` }]),
    appointment_id: null,
    encounter_id: null,
    task_id: null,
    updated_at: s.receivedAt,
  };
}

/** Index submissions that arrived by sync since the last call. Cheap when nothing new arrived. */
export async function catchUpIndex(store: RecordStore): Promise<number> {
  const db = ocdb(store.db);
  const row = await db.selectFrom('oc_index_cursor').select('seq').where('practice', '=', store.practice).executeTakeFirst();
  let seq = Number(row?.seq ?? 0);
  let added = 0;
  for (;;) {
    const entries = await store.changesSince(seq, 1000);
    if (!entries.length) break;
    const rows = entries
      .filter((e) => e.resourceType === 'QuestionnaireResponse' && e.op === 'put' && (e.resource as QuestionnaireResponse | null)?.questionnaire?.startsWith(`${QUESTIONNAIRE_URL}|`))
      .map((e) => indexRow(store.practice, e.resource as QuestionnaireResponse));
    seq = entries[entries.length - 1]!.seq;
    await store.db.transaction().execute(async (trx) => {
      const t = ocdb(trx);
      for (const r of rows) {
        const res = await t.insertInto('oc_requests').values(r).onConflict((oc) => oc.columns(['practice', 'id']).doNothing()).executeTakeFirst();
        added += Number(res.numInsertedOrUpdatedRows ?? 0);
      }
      await t.insertInto('oc_index_cursor').values({ practice: store.practice, seq }).onConflict((oc) => oc.column('practice').doUpdateSet({ seq })).execute();
    });
    if (entries.length < 1000) break;
  }
  return added;
}
