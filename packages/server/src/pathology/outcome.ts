/** What an ingest answers, and the few helpers every step of results-in shares. */
import { createHash } from 'node:crypto';
import { isSteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AckCode } from './hl7-ack.ts';
import type { InboxSource, InboxState } from './tables.ts';

export type { AckCode };

export interface IngestOutcome {
  inboxId: string;
  state: InboxState;
  reason: string;
  ack: AckCode;
  /** What happened to each report in the message (empty when quarantined or unmatched). */
  reports: Array<{ reportId: string; outcome: 'created' | 'updated' | 'duplicate' | 'stale'; flags: string[] }>;
  messageId: string;
}

export interface IngestDeps {
  store: RecordStore;
  now?: () => Date;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Parse failures get AR (resending the same bytes cannot help); anything else unexpected gets AE. */
export function ackFor(err: unknown): AckCode {
  return isSteadfastError(err) && (err.code === 'invalid' || err.code === 'not-supported' || err.code === 'required' || err.code === 'too-large') ? 'AR' : 'AE';
}

export function describe(err: unknown): string {
  if (isSteadfastError(err)) return [err.field ? `${err.field}: ` : '', err.message, err.hint ? `. ${err.hint}` : ''].join('');
  return `Internal error while filing: ${(err as Error)?.message ?? String(err)}`;
}


export interface ReprocessOptions {
  reprocessId?: string;
  /** A person chose the patient for an unmatched message (user id in confirmedBy). */
  confirmedPatientId?: string;
  confirmedBy?: string;
}

export interface InboxRowInput {
  inboxId: string;
  raw: string;
  source: InboxSource;
  receivedAt: string;
  format: 'hl7v2' | 'fhir';
  reprocess: boolean;
  confirmedPatientId?: string;
  confirmedBy?: string;
}
