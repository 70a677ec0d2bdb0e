/**
 * Results in: every raw message is stored in `pathology_inbox`, then mapped and filed in the same
 * store transaction, so a message is either filed whole with its raw text, or kept whole in the
 * quarantine / unmatched list for a person.
 *
 * Two ways in:
 * - here, `ingestHl7` / `ingestHl7Batch` store and file at once (drop folder, FHIR API,
 *   re-processing), since their caller waits for the outcome;
 * - `receiveHl7Batch` (receive.ts) + `ResultFiler` (filer.ts), the MLLP listener: stored raw and
 *   acknowledged first, filed moments later through the generic durable inbox (../inbox).
 *
 * The parts: outcome.ts (types), file.ts (filing), match.ts, tasks.ts, quarantine.ts,
 * fhir-ingest.ts (FHIR Bundles), hl7-ack.ts (ACK code, MSH-10 guess).
 */
import { randomUUID } from 'node:crypto';
import { SteadfastError } from '@steadfast/domain';
import { createBatcher } from './filer.ts';
import { fileBatch, fileParsed, prepare } from './file.ts';
import { ingestFhirBundle } from './fhir-ingest.ts';
import { parseOru, type ResultHeader, type ResultMessage } from './oru.ts';
import type { IngestDeps, IngestOutcome, ReprocessOptions } from './outcome.ts';
import { keepQuarantined, keepUnreadable } from './quarantine.ts';
import { ptx, type InboxSource } from './tables.ts';

// The parts, for callers that knew them all as ingest.ts.
export type { AckCode, IngestDeps, IngestOutcome, InboxRowInput, ReprocessOptions } from './outcome.ts';
export { guessMessageId } from './hl7-ack.ts';
export { fileParsed, deliveryKey } from './file.ts';
export { matchPatient } from './match.ts';
export { RESULT_TASK_CODE } from './tasks.ts';
export { receiveHl7Batch, quarantineRaw, type ReceiveOutcome } from './receive.ts';
export { fileReceived, ResultFiler, createBatcher } from './filer.ts';
export type { ResultHeader };

/** Ingest one HL7 v2 ORU^R01. Never throws for bad input: the outcome says what became of it. */
export async function ingestHl7(deps: IngestDeps, raw: string, source: InboxSource, options: ReprocessOptions = {}): Promise<IngestOutcome> {
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const inboxId = options.reprocessId ?? randomUUID();
  let parsed: ResultMessage;
  try {
    parsed = parseOru(raw);
  } catch (err) {
    return keepUnreadable((q) => keepQuarantined(deps, q), { inboxId, raw, source, receivedAt, format: 'hl7v2', reprocess: !!options.reprocessId }, err);
  }
  return fileParsed(deps, parsed, {
    inboxId, raw, source, receivedAt, format: 'hl7v2', reprocess: !!options.reprocessId,
    ...(options.confirmedPatientId ? { confirmedPatientId: options.confirmedPatientId, confirmedBy: options.confirmedBy ?? '' } : {}),
  });
}


/**
 * Several HL7 messages in one store transaction (group commit): under a flood the cost of each
 * commit's disk sync is shared. Each message is still stored raw and filed or quarantined exactly as
 * `ingestHl7` would; if anything fails inside the shared transaction, it rolls back and every message
 * is ingested on its own, so one bad message never holds up or half-files the others.
 */
export async function ingestHl7Batch(deps: IngestDeps, items: Array<{ raw: string; source: InboxSource }>): Promise<IngestOutcome[]> {
  if (items.length === 1) return [await ingestHl7(deps, items[0]!.raw, items[0]!.source)];
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  return fileBatch(
    deps,
    items.map(({ raw, source }) => prepare({ inboxId: randomUUID(), raw, source, receivedAt, format: 'hl7v2', reprocess: false })),
    `system:pathology-${items[0]?.source ?? 'mllp'}`,
  );
}

/** `createBatcher` over `ingestHl7Batch`: store and file at once. */
export function createIngestBatcher(deps: IngestDeps, maxBatch = 50): (raw: string, source: InboxSource) => Promise<IngestOutcome> {
  return createBatcher((items) => ingestHl7Batch(deps, items), maxBatch);
}

/** Re-run a quarantined or unmatched message after a fix (patient record corrected, catalogue edited, ...). */
export async function reprocessInbox(deps: IngestDeps, inboxId: string, options: Omit<ReprocessOptions, 'reprocessId'> = {}): Promise<IngestOutcome> {
  const row = await ptx({ db: deps.store.db })
    .selectFrom('pathology_inbox')
    .selectAll()
    .where('practice', '=', deps.store.practice)
    .where('id', '=', inboxId)
    .executeTakeFirst();
  if (!row) throw new SteadfastError('not-found', `Inbox message ${inboxId} was not found`, { field: 'id' });
  if (row.state !== 'quarantined' && row.state !== 'unmatched') {
    throw new SteadfastError('conflict', `Inbox message ${inboxId} is ${row.state}; only quarantined or unmatched messages can be re-processed`, { field: 'id' });
  }
  if (options.confirmedPatientId) {
    if (row.state !== 'unmatched') throw new SteadfastError('conflict', `Inbox message ${inboxId} is ${row.state}; a patient can be chosen only for an unmatched message`, { field: 'id' });
    const patient = await deps.store.read('Patient', options.confirmedPatientId);
    if (!patient || patient.deleted) throw new SteadfastError('not-found', `Patient ${options.confirmedPatientId} was not found`, { field: 'patientId' });
  }
  if (row.format === 'fhir') {
    return ingestFhirBundle(deps, row.raw, { ...options, reprocessId: inboxId });
  }
  return ingestHl7(deps, row.raw, row.source, { ...options, reprocessId: inboxId });
}

