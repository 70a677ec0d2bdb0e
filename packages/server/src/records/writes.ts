/**
 * The rules every write of a record follows, whether it comes from REST, a transaction Bundle or an
 * import: patient references must resolve, one NHS number belongs to one Patient, and an edit based on
 * an old version is refused rather than silently overwriting someone else's change.
 */
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, patientReferenceParam, SteadfastError, searchParameters, type SupportedResourceType } from '@steadfast/domain';
import type { StoreTransaction, TokenMatch, WriteOutcome } from '@steadfast/store';
import { checkNhsNumberUnique, checkPatientReferences, nhsNumberOf, patientDetailsClash } from './patients.ts';

/** `identifier=system|value` (the If-None-Exist header) → a token match; 400 when it cannot be used. */
export function parseIfNoneExist(type: SupportedResourceType, header: string | string[] | undefined): TokenMatch | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  const query = raw.startsWith('?') ? raw.slice(1) : raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : raw;
  const params = [...new URLSearchParams(query)];
  const first = params[0];
  if (params.length !== 1 || !first) {
    throw new SteadfastError('not-supported', `If-None-Exist "${raw}" must hold exactly one token parameter`, { field: 'If-None-Exist', hint: 'Use identifier=system|value' });
  }
  const [param, value] = first;
  const def = searchParameters[type]?.[param];
  if (!def || def.kind !== 'token') {
    throw new SteadfastError('not-supported', `If-None-Exist parameter "${param}" is not a token parameter of ${type}`, { field: 'If-None-Exist', hint: 'Use identifier=system|value' });
  }
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1) {
    throw new SteadfastError('invalid', `If-None-Exist value "${value}" needs a system and a value`, { field: 'If-None-Exist', hint: `e.g. identifier=${NHS_NUMBER_SYSTEM}|9991234564` });
  }
  return { param, system: value.slice(0, bar), value: value.slice(bar + 1) };
}

/** The live resource matching a token, if any. */
export async function findByToken(tx: Pick<StoreTransaction, 'search'>, type: string, match: TokenMatch): Promise<Resource | undefined> {
  const page = await tx.search({ resourceType: type, params: [{ name: match.param, values: [`${match.system}|${match.value}`] }], count: 1, offset: 0 });
  return page.resources[0];
}

/**
 * A Patient with an NHS number is always created conditionally on that number: when it already
 * exists with the same details nothing is written and the existing Patient is returned (200); when
 * the details clash the request fails with 409 so that a person can look.
 */
export function nhsMatchFor(resource: Resource): TokenMatch | undefined {
  const nhs = nhsNumberOf(resource);
  return nhs ? { param: 'identifier', system: NHS_NUMBER_SYSTEM, value: nhs } : undefined;
}

export function assertSamePatient(existing: Resource, incoming: Resource): void {
  const clash = patientDetailsClash(existing, incoming);
  if (clash) {
    const nhs = nhsNumberOf(incoming);
    throw new SteadfastError('conflict', `NHS number ${nhs} already belongs to Patient/${existing.id}, whose ${clash}`, {
      field: 'Patient.identifier',
      hint: 'Check the NHS number with the patient; open the existing record rather than creating a second one',
    });
  }
}

export async function createResource(tx: StoreTransaction, input: Resource, ifNoneExist?: TokenMatch): Promise<WriteOutcome> {
  const { id: _serverAssigns, ...resource } = input as Resource & { id?: string };
  await checkPatientReferences(tx, resource as Resource);
  const nhsMatch = nhsMatchFor(resource as Resource);
  if (nhsMatch) {
    const existing = await findByToken(tx, 'Patient', nhsMatch);
    if (existing) {
      assertSamePatient(existing, resource as Resource);
      return { status: 'existing', resource: existing };
    }
  }
  const [outcome] = await tx.write([{ kind: 'create', resource: resource as Resource, ...(ifNoneExist ? { ifNoneExist } : {}) }]);
  return outcome!;
}

export async function updateResource(tx: StoreTransaction, resource: Resource, ifMatch: string | undefined, options: { checkReferences?: boolean } = {}): Promise<WriteOutcome> {
  if (options.checkReferences !== false) await checkPatientReferences(tx, resource);
  const current = await tx.read(resource.resourceType, resource.id!);
  const basedOn = resource.meta?.versionId;
  if (ifMatch === undefined && basedOn && current && !current.deleted && basedOn !== current.versionId) {
    throw new SteadfastError('conflict', `${resource.resourceType}/${resource.id} was changed by someone else: your copy is version ${basedOn}, the record is now at ${current.versionId}`, {
      field: 'meta.versionId',
      hint: 'Reload the record, re-apply your change and save again',
    });
  }
  await checkNhsNumberUnique(tx, resource);
  const [outcome] = await tx.write([{ kind: 'update', resource, ...(ifMatch !== undefined ? { ifMatch } : {}) }]);
  return outcome!;
}

export async function deleteResource(tx: StoreTransaction, type: string, id: string, ifMatch: string | undefined): Promise<{ outcome: WriteOutcome; previous: Resource }> {
  const current = await tx.read(type, id);
  if (!current || current.deleted) throw new SteadfastError('not-found', `${type}/${id} was not found`);
  if (type === 'Patient') await assertNoRecordsFor(tx, id);
  const [outcome] = await tx.write([{ kind: 'delete', resourceType: type, id, ...(ifMatch !== undefined ? { ifMatch } : {}) }]);
  return { outcome: outcome!, previous: current.resource };
}

/** A Patient that still has records is not deleted: the records would be left pointing at nobody. */
async function assertNoRecordsFor(tx: StoreTransaction, id: string): Promise<void> {
  const holding: string[] = [];
  for (const [type, param] of Object.entries(patientReferenceParam)) {
    const page = await tx.search({ resourceType: type, params: [{ name: param, values: [`Patient/${id}`] }], count: 1, offset: 0 });
    if (page.resources.length) holding.push(type);
  }
  if (holding.length) {
    throw new SteadfastError('conflict', `Patient/${id} still has records (${holding.join(', ')}) and cannot be deleted`, {
      hint: 'Mark the patient inactive (Patient.active = false) instead, or move the records to the right patient first',
    });
  }
}
