/**
 * Receive now, file next (the MLLP listener): pathology's use of the generic durable inbox
 * (../inbox). A message is stored raw in `pathology_inbox` and checked against every delivery
 * already filed, and that commit is what the laboratory's ACK confirms; a new report is filed moments
 * later by the filer (filer.ts), in arrival order, from the stored row. A flood of resends is
 * absorbed here without touching the record.
 */
import { DurableInbox, type InboxCapability, type InboxStorage } from '../inbox/durable-inbox.ts';
import { guessMessageId } from './hl7-ack.ts';
import { deliveryKey, fileBatch, countDuplicate, prepare } from './file.ts';
import { parseOru, type ResultMessage } from './oru.ts';
import { ackFor, describe, type AckCode, type IngestDeps } from './outcome.ts';
import { ptx, type InboxSource } from './tables.ts';

/** Pathology keeps its own tables: the inbox rows carry lab, message id and filing counts. */
export const PATHOLOGY_INBOX_STORAGE: InboxStorage = { table: 'pathology_inbox', scope: {}, keysTable: 'pathology_deliveries', keyColumn: 'delivery_key' };

/** The durable inbox of HL7 v2 results; `parsed` (optional) is shared between receipt and filer. */
export function pathologyInbox(deps: IngestDeps, options: { parsed?: Map<string, ResultMessage>; batchSize?: number; retryMs?: number; onError?: (err: unknown) => void } = {}): DurableInbox<ResultMessage> {
  const capability: InboxCapability<ResultMessage> = {
    name: 'pathology',
    parse: parseOru,
    // One key per report version and patient identity, recorded when the report is filed or found held.
    dedupeKeys: (message) => message.reports.map((r) => deliveryKey(r, message.patient)),
    describeError: describe,
    reasons: { received: 'Received; waiting to be filed', duplicate: 'Duplicate of a report already filed; nothing changed' },
    personStates: ['quarantined', 'unmatched'],
    columns: ({ parsed, raw, state, keys }) => ({
      lab: (parsed?.header.lab ?? '').slice(0, 250),
      message_id: (parsed?.header.messageId ?? guessMessageId(raw)).slice(0, 250),
      format: 'hl7v2',
      patient_id: null,
      reports_filed: 0,
      reports_duplicate: state === 'duplicate' ? keys.length : 0,
    }),
    onDuplicate: async (tx, { parsed, keys, receivedAt }) => {
      for (let i = 0; i < keys.length; i++) await countDuplicate(ptx(tx), deps.store.practice, parsed.header.lab, receivedAt.slice(0, 10));
    },
    // Filing sets each row's final state in the filing transaction (file.ts), with every check of
    // the one-step path; what cannot be filed is quarantined or unmatched for a person.
    process: async (batch) => {
      const prepared = batch.map((item) =>
        item.parsed
          ? prepare({ inboxId: item.id, raw: item.raw, source: item.source as InboxSource, receivedAt: item.receivedAt, format: 'hl7v2', reprocess: true }, item.parsed)
          : { row: { inboxId: item.id, raw: item.raw, source: item.source as InboxSource, receivedAt: item.receivedAt, format: 'hl7v2' as const, reprocess: true }, err: item.error },
      );
      await fileBatch(deps, prepared, `system:pathology-${batch[0]!.source}`);
    },
    refusedMessage: (n) => `${n} received result(s) could not be filed or quarantined: the store refused the writes`,
  };
  return new DurableInbox(deps.store, capability, {
    storage: PATHOLOGY_INBOX_STORAGE,
    ...(deps.now ? { now: deps.now } : {}),
    ...(options.parsed ? { parsed: options.parsed } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.retryMs ? { retryMs: options.retryMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}

export interface ReceiveOutcome {
  inboxId: string;
  /** `received`: new, the filer files it next; `duplicate`: every report already held for this patient. */
  state: 'received' | 'duplicate' | 'quarantined';
  reason: string;
  ack: AckCode;
  messageId: string;
}

/**
 * Store each message raw and recognise resends, in one transaction per batch; this commit is what
 * the ACK confirms. Nothing is mapped or filed here: new messages wait as `received` for the
 * `ResultFiler`; a message whose reports are all already held (same content, same patient identity)
 * is a duplicate and counted; one that cannot be parsed is quarantined and answered AR; a store
 * failure is answered AE (the laboratory resends).
 * `parsed` (optional) keeps each received message's parse for the filer, which re-parses otherwise.
 */
export async function receiveHl7Batch(deps: IngestDeps, items: Array<{ raw: string; source: InboxSource }>, parsed?: Map<string, ResultMessage>): Promise<ReceiveOutcome[]> {
  const results = await pathologyInbox(deps, parsed ? { parsed } : {}).receiveBatch(items);
  return results.map((r, i) => {
    const messageId = r.parsed?.header.messageId ?? guessMessageId(items[i]!.raw);
    if (r.state === 'refused') return { inboxId: r.id, state: 'quarantined', reason: r.reason, ack: 'AE', messageId };
    return { inboxId: r.id, state: r.state, reason: r.reason, ack: r.state === 'quarantined' ? ackFor(r.error) : 'AA', messageId };
  });
}

/** Keep raw bytes that never became a message (an oversized or truncated MLLP frame). */
export async function quarantineRaw(deps: IngestDeps, raw: string, source: InboxSource, reason: string): Promise<string> {
  return pathologyInbox(deps).quarantineRaw(raw, source, reason);
}
