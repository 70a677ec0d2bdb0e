/**
 * The one write path: every local write of every capability (tasks, appointments, pathology filing,
 * sharing, sync's review Tasks...) passes this check before it reaches the change log, the same
 * validation the FHIR API gives a client's write: FHIR R4 structure and required bindings, NHS number
 * Modulus 11, real dates, reference target types, and patient references that resolve. Installed on
 * the store when a node opens (node/open.ts), so a capability cannot write around it.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { Resource } from '@medplum/fhirtypes';
import { SteadfastError, validateResource } from '@steadfast/domain';
import type { WriteCheck } from '@steadfast/store';
import { checkPatientReferences } from './patients.ts';

export const checkWrites: WriteCheck = async (requests, tx) => {
  const known = new Set<string>();
  // Patients created in this same batch are known by the id they are written with.
  for (const r of requests) if (r.kind !== 'delete' && r.resource.resourceType === 'Patient' && r.resource.id) known.add(`Patient/${r.resource.id}`);
  for (const [i, r] of requests.entries()) {
    if (r.kind === 'delete') continue;
    try {
      validateResource(r.resource as Resource);
      await checkPatientReferences(tx, r.resource as Resource, known);
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
