/**
 * The hub's write check (installed on every practice's store at the hub, hub/index.ts). The hub's one
 * exception to never writing records is taking online consultations (hub.ts): so the only writes it
 * accepts are the creation of a new submission, a QuestionnaireResponse of the online consultation
 * Questionnaire marked as received at the hub with no patient matched, and its photo
 * DocumentReferences. Anything else (a triage change, a match, a Task, a delete, an update of a
 * request that already exists) belongs at the practice and is refused, then the same validation as
 * every node write (FHIR R4 structure and bindings) applies. Sync's applied entries do not pass here:
 * the hub relays them as they came.
 */
import type { DocumentReference, QuestionnaireResponse } from '@medplum/fhirtypes';
import { SteadfastError, validateResource } from '@steadfast/domain';
import { QUESTIONNAIRE_URL } from '@steadfast/domain/online-consultations';
import { OC_RECEIVED_VIA_EXTENSION, OC_SUBMISSION_SYSTEM } from '@steadfast/domain/systems';
import type { WriteCheck } from '@steadfast/store';
import { checkWrites } from '../records/write-check.ts';

function refuse(what: string): never {
  throw new SteadfastError('forbidden', `The regional hub does not write ${what}`, { hint: 'Triage and every other change to a request happen at the practice' });
}

export const hubWriteCheck: WriteCheck = async (requests, tx) => {
  for (const r of requests) {
    if (r.kind === 'delete') refuse(`deletes (${r.resourceType}/${r.id})`);
    const res = r.resource;
    if (res.resourceType === 'QuestionnaireResponse') {
      const qr = res as QuestionnaireResponse;
      if (!qr.questionnaire?.startsWith(`${QUESTIONNAIRE_URL}|`)) refuse('QuestionnaireResponses other than online consultations');
      if (qr.subject) refuse('a match to a registered patient');
      if (qr.extension?.find((e) => e.url === OC_RECEIVED_VIA_EXTENSION)?.valueCode !== 'hub') refuse('a request it did not receive');
    } else if (res.resourceType === 'DocumentReference') {
      const d = res as DocumentReference;
      if (!d.identifier?.some((i) => i.system === OC_SUBMISSION_SYSTEM) || !d.context?.related?.some((x) => x.reference?.startsWith('QuestionnaireResponse/'))) refuse('documents other than the photos of a submission');
    } else {
      refuse(`${res.resourceType} resources`);
    }
    if (!res.id) refuse('resources without the id derived from the submission');
    if (await tx.read(res.resourceType, res.id!)) refuse(`changes to ${res.resourceType}/${res.id}, which already exists`);
  }
  await checkWrites(requests, tx);
};

/**
 * Load the FHIR definitions before the first patient submits (several seconds on a loaded machine),
 * so the first submission at a freshly started hub is stored, not only kept raw, before it is answered.
 */
export function warmHubWriteCheck(): void {
  validateResource({ resourceType: 'QuestionnaireResponse', status: 'completed' });
}
