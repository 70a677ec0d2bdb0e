/**
 * The one write path: every local write of every capability (tasks, appointments, pathology filing,
 * sharing, sync's review Tasks...) passes this check before it reaches the change log, the same
 * validation the FHIR API gives a client's write: FHIR R4 structure and required bindings, NHS number
 * Modulus 11, real dates, reference target types, patient references that resolve, and a reason for
 * any MedicationRequest stopped or cancelled (domain medicines checkStopReason). Installed on
 * the store when a node opens (node/open.ts), so a capability cannot write around it.
 *
 * Structural validation is a pure function of a resource's content, and the slow part of a big write
 * (1-2 ms a resource: 5,000 Observations of one pathology report took 8 s, with the node's one
 * SQLite connection held and the event loop blocked, so sign-in waited behind it). A caller that
 * knows what it is about to write may `prevalidate` it first, outside its transaction, in slices that
 * give way to other work; the check then finds those exact contents already validated and skips only
 * the structural part. Anything else (a different byte of content, a resource never prevalidated, a
 * failed one) is validated here as before, and patient references are always checked in the
 * transaction. So prevalidation can make a write faster, never let a different one through.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { SteadfastError, validateResource } from '@steadfast/domain';
import { checkStopReason } from '@steadfast/domain/medicines';
import type { WriteCheck } from '@steadfast/store';
import { checkPatientReferences } from './patients.ts';

/** Content digests of resources validated ahead of their write, with when, oldest first (bounded). */
const validatedAhead = new Map<string, number>();
/** Enough for a few of the largest reports waiting at once; the oldest is forgotten beyond it (then validated again). */
const MAX_VALIDATED_AHEAD = 50_000;
/**
 * A prevalidation is for the write about to happen, not for ever: after this it is forgotten (so one
 * never written costs later writes nothing, and a rule that depends on today's date is applied today).
 */
const VALIDATED_AHEAD_MS = 10 * 60_000;
/** How long one slice of prevalidation may run before it gives way to the event loop. */
const SLICE_MS = 8;

const digestOf = (resource: unknown): string => createHash('sha256').update(JSON.stringify(resource)).digest('base64');
const giveWay = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Validate resources about to be written, outside any transaction, giving way to the event loop every
 * few milliseconds. Resolves to how many passed; those that fail are simply not remembered (their
 * write is refused, with the full error, by the check in the transaction). Never throws for bad input.
 */
export async function prevalidate(resources: readonly Resource[]): Promise<number> {
  let passed = 0;
  let sliceStart = performance.now();
  for (const resource of resources) {
    if (performance.now() - sliceStart >= SLICE_MS) {
      await giveWay();
      sliceStart = performance.now();
    }
    try {
      validateResource(resource);
    } catch {
      continue;
    }
    const digest = digestOf(resource);
    validatedAhead.delete(digest);
    validatedAhead.set(digest, Date.now());
    if (validatedAhead.size > MAX_VALIDATED_AHEAD) validatedAhead.delete(validatedAhead.keys().next().value!);
    passed++;
  }
  return passed;
}

/** Structural validation, unless this exact content was prevalidated (each prevalidation is used once). */
function validateStructure(resource: Resource): void {
  forgetExpired();
  if (validatedAhead.size) {
    const digest = digestOf(resource);
    const at = validatedAhead.get(digest);
    validatedAhead.delete(digest);
    if (at !== undefined) return;
  }
  validateResource(resource);
}

function forgetExpired(): void {
  const before = Date.now() - VALIDATED_AHEAD_MS;
  for (const [digest, at] of validatedAhead) {
    if (at >= before) return;
    validatedAhead.delete(digest);
  }
}

export const checkWrites: WriteCheck = async (requests, tx) => {
  const known = new Set<string>();
  // Patients created in this same batch are known by the id they are written with.
  for (const r of requests) if (r.kind !== 'delete' && r.resource.resourceType === 'Patient' && r.resource.id) known.add(`Patient/${r.resource.id}`);
  for (const [i, r] of requests.entries()) {
    if (r.kind === 'delete') continue;
    try {
      validateStructure(r.resource as Resource);
      await checkPatientReferences(tx, r.resource as Resource, known);
      if (r.resource.resourceType === 'MedicationRequest') {
        // A stop or cancel needs its reason, whichever capability writes it (the FHIR routes check it themselves).
        const before = r.resource.id ? await tx.read('MedicationRequest', r.resource.id) : undefined;
        checkStopReason(before && !before.deleted ? before.resource : undefined, r.resource);
      }
    } catch (err) {
      if (!(err instanceof SteadfastError) || requests.length === 1) throw err;
      // Name the write within the batch, so a capability's bug is found from the message alone.
      throw new SteadfastError(err.code, `${err.message} (write ${i + 1} of ${requests.length}: ${r.resource.resourceType}${r.resource.id ? `/${r.resource.id}` : ''})`, {
        ...(err.field ? { field: err.field } : {}),
        ...(err.hint ? { hint: err.hint } : {}),
      }, err.more);
    }
  }
};
