/**
 * Taking a submission, the same at the practice's node and at the regional hub: checked (400 naming
 * each field), kept raw through the durable inbox (capability `online-consultations`), written as
 * FHIR through the store's write path, and only then acknowledged with the reference number.
 *
 * De-duplication: the record id is derived from the device's submission id, so a retry, or the same
 * submission taken by the node and the hub while cut off, is one logical QuestionnaireResponse. A
 * retry at the same place is an inbox duplicate (its key is the record id); one already arrived by
 * sync is found by reading the record before writing.
 */
import type { SubmissionAccepted, SubmissionPayload } from '@steadfast/domain/api';
import { combineErrors, SteadfastError } from '@steadfast/domain';
import {
  ADVICE_TEXT, CURRENT_QUESTIONNAIRE, evaluateRedFlags, questionnaireVersion, sniffImageType, submissionRecordId, submissionReference, validateSubmission,
} from '@steadfast/domain/online-consultations';
import type { RecordStore } from '@steadfast/store';
import { DurableInbox, type InboxCapability, type InboxHandle, type InboxItem } from '../inbox/index.ts';
import type { StoreTransaction } from '@steadfast/store';
import { submissionRecords, type ReceivedVia } from './records.ts';
import { indexRow } from './index-rows.ts';
import { ocdb } from './tables.ts';

export const INBOX_CAPABILITY = 'online-consultations';
const STORED = 'stored';
const ALREADY_HELD = 'already-held';

export interface Parsed {
  payload: SubmissionPayload;
  recordId: string;
}

function today(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The checks the form makes, then the photo bytes themselves; throws one error listing every problem. */
export function parseSubmission(raw: string, practice: string): Parsed {
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    throw new SteadfastError('invalid', 'The submission is not JSON', { hint: 'Send application/json' });
  }
  const problems = validateSubmission(input, today());
  const p = input as SubmissionPayload;
  if (!problems.length) {
    (p.photos ?? []).forEach((photo, i) => {
      const bytes = Buffer.from(photo.data, 'base64');
      const actual = sniffImageType(bytes);
      if (!actual) problems.push({ field: `photos[${i}]`, message: 'The selected file is not a photo (JPG, PNG, WEBP or HEIC)' });
      else if (actual !== photo.contentType) problems.push({ field: `photos[${i}]`, message: `The selected file is a ${actual} image but was sent as ${photo.contentType}` });
    });
  }
  if (problems.length) {
    throw combineErrors(problems.map((pr) => new SteadfastError(pr.message.startsWith('Enter') || pr.message.startsWith('Answer') ? 'required' : 'invalid', pr.message, { field: pr.field, hint: 'Correct this answer and send the form again' })));
  }
  return { payload: p, recordId: submissionRecordId(practice, p.submissionId) };
}

export function submissionInbox(store: RecordStore, via: ReceivedVia, onError: (err: unknown) => void): DurableInbox<Parsed> {
  async function storeOne(tx: StoreTransaction, item: InboxItem<Parsed>, inbox: InboxHandle<Parsed>): Promise<void> {
    if (!item.parsed) return inbox.quarantine(tx, item.id, capability.describeError!(item.error));
    const { payload, recordId } = item.parsed;
    if (await tx.read('QuestionnaireResponse', recordId)) {
      // Taken by the hub (or the node) and arrived here by sync first: stored once.
      return inbox.settle(tx, item.id, ALREADY_HELD, 'Already held (arrived by sync)', { keys: [recordId] });
    }
    const records = submissionRecords(store.practice, payload, item.receivedAt, via);
    // 'update' (update-as-create) keeps the derived ids; a 'create' would mint new ones.
    await tx.write([...records.photos.map((resource) => ({ kind: 'update' as const, resource })), { kind: 'update', resource: records.response }]);
    // The triage index lives at the practice; the hub only relays.
    if (via === 'node') await ocdb(tx.db).insertInto('oc_requests').values(indexRow(store.practice, records.response)).onConflict((oc) => oc.columns(['practice', 'id']).doNothing()).execute();
    await inbox.settle(tx, item.id, STORED, 'Stored', { keys: [recordId] });
  }
  const capability: InboxCapability<Parsed> = {
    name: INBOX_CAPABILITY,
    parse: (raw) => parseSubmission(raw, store.practice),
    dedupeKeys: (parsed) => [parsed.recordId],
    describeError: (err) => (err instanceof SteadfastError ? [err, ...err.more].map((e) => `${e.field ?? ''}: ${e.message}`).join('; ') : String(err)),
    reasons: { received: 'Received', duplicate: 'Already received (the same submission id)' },
    async process(batch, inbox) {
      // One transaction per submission: one the write check refuses (a defect here, never the
      // patient's input, which was checked on receipt) is kept for a person, not retried for ever,
      // and does not hold up the others.
      for (const item of batch) {
        try {
          await inbox.store.transaction({ author: `system:online-consultations-${via}` }, (tx) => storeOne(tx, item, inbox));
        } catch (err) {
          if (!(err instanceof SteadfastError) || err.code === 'unavailable' || err.code === 'internal') throw err;
          await inbox.store.transaction({ author: `system:online-consultations-${via}` }, (tx) => inbox.quarantine(tx, item.id, `Could not be stored: ${capability.describeError!(err)}`));
        }
      }
    },
  };
  return new DurableInbox(store, capability, { onError, retryMs: 500, maxRetryMs: 10_000 });
}

/** What the patient is told once the submission is durably stored. */
export function acceptance(practice: string, payload: SubmissionPayload, receivedAt: string, duplicate: boolean): SubmissionAccepted {
  const def = questionnaireVersion(payload.questionnaireVersion) ?? CURRENT_QUESTIONNAIRE;
  const flags = evaluateRedFlags(def, payload.kind, payload.redFlags);
  return {
    reference: submissionReference(practice, payload.submissionId),
    submissionId: payload.submissionId,
    receivedAt,
    duplicate,
    nextSteps:
      payload.kind === 'medical'
        ? 'The practice will read your request and reply by the end of the next working day, by text message or email. Keep your reference number.'
        : 'The practice will deal with your request within 2 working days and reply by text message or email. Keep your reference number.',
    ...(flags.advice ? { urgentAdvice: { advice: flags.advice, message: ADVICE_TEXT[flags.advice] } } : {}),
  };
}
