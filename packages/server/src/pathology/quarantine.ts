/**
 * Messages kept for a person: what could not be parsed or filed is stored whole in
 * `pathology_inbox` as `quarantined`, with the reason, never half-filed.
 */
import type { StoreTransaction } from '@steadfast/store';
import { guessMessageId } from './hl7-ack.ts';
import { ackFor, describe, sha256, type IngestDeps, type IngestOutcome, type InboxRowInput } from './outcome.ts';
import { ptx, type InboxState } from './tables.ts';

/** States a message can be filed from: being filed now, waiting for the filer, or waiting for a person. */
export const OPEN_STATES: InboxState[] = ['accepted', 'received', 'unmatched', 'quarantined'];

/** A message that could not be parsed: kept whole in quarantine with the reason, answered AR (or AE). */
export async function keepUnreadable(keep: (q: QuarantineInput) => Promise<void>, row: InboxRowInput, err: unknown): Promise<IngestOutcome> {
  const reason = describe(err);
  const messageId = guessMessageId(row.raw);
  await keep({ ...row, reason, lab: '', messageId });
  return { inboxId: row.inboxId, state: 'quarantined', reason, ack: ackFor(err), reports: [], messageId };
}

export interface QuarantineInput extends InboxRowInput {
  reason: string;
  lab: string;
  messageId: string;
}

export async function keepQuarantined(deps: IngestDeps, q: QuarantineInput): Promise<void> {
  await deps.store.transaction({ author: `system:pathology-${q.source}` }, (tx) => writeQuarantined(tx, deps.store.practice, q));
}

export async function writeQuarantined(tx: StoreTransaction, practice: string, q: QuarantineInput): Promise<void> {
  const db = ptx(tx);
  if (q.reprocess) {
    // Never over a message that was filed meanwhile.
    await db
      .updateTable('pathology_inbox')
      .set({ state: 'quarantined', reason: q.reason, updated_at: q.receivedAt })
      .where('practice', '=', practice)
      .where('id', '=', q.inboxId)
      .where('state', 'in', OPEN_STATES)
      .execute();
    return;
  }
  await db
    .insertInto('pathology_inbox')
    .values({
      id: q.inboxId,
      practice,
      received_at: q.receivedAt,
      source: q.source,
      lab: q.lab,
      message_id: q.messageId.slice(0, 250),
      format: q.format,
      raw: q.raw,
      sha256: sha256(q.raw),
      state: 'quarantined',
      reason: q.reason,
      patient_id: null,
      reports_filed: 0,
      reports_duplicate: 0,
      updated_at: q.receivedAt,
    })
    .execute();
}
