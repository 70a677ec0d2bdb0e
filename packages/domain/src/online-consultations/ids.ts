/**
 * Ids derived from the id the patient's device made, so the node and the hub, taking the same
 * submission while cut off from each other, write the same logical record (the same
 * QuestionnaireResponse id) and give the patient the same reference; sync then converges on one.
 */
import { sha256Hex, deterministicUuid } from '../sync/sha256.ts';

/** The QuestionnaireResponse id of a submission at a practice. */
export function submissionRecordId(practice: string, submissionId: string): string {
  return deterministicUuid(`online-consultation|${practice.toUpperCase()}|${submissionId.toLowerCase()}`);
}

/** The id of a photo (Binary) of a submission. */
export function submissionPhotoId(practice: string, submissionId: string, index: number): string {
  return deterministicUuid(`online-consultation-photo|${practice.toUpperCase()}|${submissionId.toLowerCase()}|${index}`);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** "OC-7K3M-Q9TD": 40 bits of the submission's hash in Crockford base 32 (no I, L, O, U to misread). */
export function submissionReference(practice: string, submissionId: string): string {
  const hex = sha256Hex(`online-consultation-ref|${practice.toUpperCase()}|${submissionId.toLowerCase()}`).slice(0, 10);
  let n = BigInt(`0x${hex}`);
  let out = '';
  for (let i = 0; i < 8; i++) { out = CROCKFORD[Number(n & 31n)]! + out; n >>= 5n; }
  return `OC-${out.slice(0, 4)}-${out.slice(4)}`;
}
