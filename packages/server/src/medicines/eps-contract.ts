/**
 * The wire contract of NHS England's Electronic Prescription Service FHIR API, as far as Steadfast uses
 * it: the prescriber's two calls, and the shape of the message Bundle both carry. The production client
 * (eps.ts) builds messages that pass `checkEpsMessage`; the local EPS server (testing/fake-eps.ts)
 * refuses, with the API's own OperationOutcome shape, any that do not.
 *
 *   POST {base}/FHIR/R4/$prepare          a prescription-order Bundle (no signature)
 *        -> 200 Parameters { digest (base64 XML-DSig SignedInfo), timestamp, algorithm }
 *   POST {base}/FHIR/R4/$process-message  the same Bundle plus a Provenance carrying the XML-DSig over
 *        that digest (prescription-order), or a prescription-order-update (cancellation)
 *        -> 200 OperationOutcome information/informational ("Message Sent")
 *        -> 400 OperationOutcome error (MISSING_FIELD, INVALID_VALUE, duplicate "0002", not found "0007")
 *
 * Headers: `X-Request-ID` (a UUID; EPS de-duplicates repeated requests by it and a re-send must reuse it),
 * optional `X-Correlation-ID`, `Authorization: Bearer` (user-restricted in production),
 * `Content-Type: application/fhir+json`.
 *
 * Source: NHS England, "Electronic Prescription Service (FHIR) API" OpenAPI specification and examples
 * (github.com/NHSDigital/electronic-prescription-service-api: specification/, examples/primary-care/).
 */
import type { Bundle, BundleEntry, MedicationRequest, MessageHeader, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { explainInvalidNhsNumber, NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';
import { explainInvalidPrescriptionId, PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines/prescription-id';

export const EPS_PREPARE_PATH = '/FHIR/R4/$prepare';
export const EPS_PROCESS_PATH = '/FHIR/R4/$process-message';

export const MESSAGE_EVENT_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-event';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const PRESCRIPTION_UUID_SYSTEM = 'https://fhir.nhs.uk/Id/prescription';
export const PRESCRIPTION_ID_EXTENSION = 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId';
export const PRESCRIPTION_TYPE_EXTENSION = 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType';
export const PRESCRIPTION_TYPE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/prescription-type';
export const ORDER_ITEM_SYSTEM = 'https://fhir.nhs.uk/Id/prescription-order-item-number';
export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode';
export const COURSE_OF_THERAPY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy';
export const SNOMED = 'http://snomed.info/sct';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** EPS holds at most four items on one prescription. */
export const MAX_ITEMS = 4;

export type EpsEvent = 'prescription-order' | 'prescription-order-update';

/** One reason a message does not follow the contract (field: where, as a FHIRPath-like path). */
export interface EpsProblem {
  code: 'MISSING_FIELD' | 'INVALID_VALUE' | 'INCORRECT_RESOURCETYPE';
  field: string;
  message: string;
}

/** The OperationOutcome EPS answers a refused message with. */
export function epsError(status: 'processing' | 'value' | 'required' | 'duplicate' | 'not-found' | 'security' | 'transient', code: string, display: string, field?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: status, details: { coding: [{ system: SPINE_ERROR_SYSTEM, version: '1', code, display }] }, ...(field ? { expression: [field] } : {}) }],
  };
}

export function epsProblemsOutcome(problems: EpsProblem[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: problems.map((p) => ({
      severity: 'error' as const,
      code: p.code === 'MISSING_FIELD' ? ('required' as const) : ('value' as const),
      details: { coding: [{ system: SPINE_ERROR_SYSTEM, version: '1', code: p.code, display: p.message }] },
      expression: [p.field],
    })),
  };
}

export const MESSAGE_SENT: OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'information', code: 'informational', diagnostics: 'Message Sent' }],
};

/** The words of an EPS OperationOutcome, for a person (the outbox screen). */
export function epsOutcomeText(outcome: unknown): string {
  const issues = (outcome as OperationOutcome | undefined)?.issue ?? [];
  const parts = issues.map((i) => {
    const c = i.details?.coding?.[0];
    return [c?.code, c?.display ?? i.diagnostics].filter(Boolean).join(' ');
  });
  return parts.filter(Boolean).join('; ') || 'no detail';
}

function resolve(bundle: Bundle, reference: string | undefined): Resource | undefined {
  if (!reference) return undefined;
  return bundle.entry?.find((e) => e.fullUrl === reference)?.resource;
}

/** The message's event code, or undefined when the Bundle has no MessageHeader first. */
export function epsEventOf(bundle: Bundle): string | undefined {
  const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  return header?.resourceType === 'MessageHeader' ? header.eventCoding?.code : undefined;
}

/** The short-form prescription id every MedicationRequest of the message carries (the first one's). */
export function epsPrescriptionIdOf(bundle: Bundle): string | undefined {
  const mr = bundle.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource as MedicationRequest | undefined;
  return mr?.groupIdentifier?.value;
}

/**
 * Everything wrong with a prescription message, or [] when it follows the contract. `signed`: the
 * message must carry a Provenance with a signature (a prescription-order sent to $process-message).
 */
export function checkEpsMessage(body: unknown, options: { signed: boolean }): EpsProblem[] {
  const problems: EpsProblem[] = [];
  const missing = (field: string, what: string) => problems.push({ code: 'MISSING_FIELD', field, message: `Required field ${field} is missing: ${what}` });
  const invalid = (field: string, what: string) => problems.push({ code: 'INVALID_VALUE', field, message: `Invalid value in ${field}: ${what}` });
  const bundle = body as Bundle;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    return [{ code: 'INCORRECT_RESOURCETYPE', field: 'resourceType', message: 'The message must be a FHIR Bundle' }];
  }
  if (bundle.type !== 'message') invalid('Bundle.type', 'must be "message"');
  if (!bundle.identifier?.value || !UUID.test(bundle.identifier.value)) missing('Bundle.identifier.value', 'a UUID naming this message');
  const entries: BundleEntry[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  if (!entries.length) {
    missing('Bundle.entry', 'the message has no resources');
    return problems;
  }
  entries.forEach((e, i) => {
    if (!e.fullUrl) missing(`Bundle.entry[${i}].fullUrl`, 'every entry needs a fullUrl (urn:uuid:...) to be referenced');
  });
  const header = entries[0]!.resource as MessageHeader | undefined;
  if (header?.resourceType !== 'MessageHeader') {
    problems.push({ code: 'INCORRECT_RESOURCETYPE', field: 'Bundle.entry[0].resource', message: 'The first entry must be the MessageHeader' });
    return problems;
  }
  const event = header.eventCoding?.code;
  if (header.eventCoding?.system !== MESSAGE_EVENT_SYSTEM || (event !== 'prescription-order' && event !== 'prescription-order-update')) {
    invalid('MessageHeader.eventCoding', `system ${MESSAGE_EVENT_SYSTEM}, code prescription-order or prescription-order-update`);
  }
  if (header.sender?.identifier?.system !== ODS_SYSTEM || !header.sender.identifier.value) missing('MessageHeader.sender.identifier', "the sending practice's ODS code");
  if (!header.source?.endpoint) missing('MessageHeader.source.endpoint', 'the sending system');
  for (const [i, f] of (header.focus ?? []).entries()) {
    if (!resolve(bundle, f.reference)) invalid(`MessageHeader.focus[${i}]`, `${f.reference ?? '(none)'} is not an entry of the message`);
  }

  const items = entries.map((e) => e.resource).filter((r): r is MedicationRequest => r?.resourceType === 'MedicationRequest');
  if (!items.length) missing('MedicationRequest', 'a prescription needs at least one item');
  if (items.length > MAX_ITEMS) invalid('MedicationRequest', `a prescription holds at most ${MAX_ITEMS} items, this one has ${items.length}`);
  const ids = new Set<string>();
  const itemNumbers = new Set<string>();
  const subjects = new Set<string>();
  items.forEach((mr, i) => {
    const at = `MedicationRequest[${i}]`;
    if (mr.intent !== 'order') invalid(`${at}.intent`, 'must be "order"');
    const wantStatus = event === 'prescription-order-update' ? 'cancelled' : 'active';
    if (mr.status !== wantStatus) invalid(`${at}.status`, `must be "${wantStatus}" for ${event}`);
    if (event === 'prescription-order-update' && !mr.statusReason?.coding?.[0]?.code && !mr.statusReason?.text) missing(`${at}.statusReason`, 'the reason for the cancellation');
    const coding = mr.medicationCodeableConcept?.coding?.find((c) => c.system === SNOMED);
    if (!coding?.code || !/^\d{6,18}$/.test(coding.code)) missing(`${at}.medicationCodeableConcept.coding`, 'a dm+d (SNOMED CT) code for the medicine');
    const group = mr.groupIdentifier;
    if (group?.system !== PRESCRIPTION_ORDER_NUMBER_SYSTEM || !group.value) missing(`${at}.groupIdentifier`, `the short-form prescription id (${PRESCRIPTION_ORDER_NUMBER_SYSTEM})`);
    else {
      const why = explainInvalidPrescriptionId(group.value);
      if (why) invalid(`${at}.groupIdentifier.value`, why);
      ids.add(group.value);
      const uuid = group.extension?.find((x) => x.url === PRESCRIPTION_ID_EXTENSION)?.valueIdentifier;
      if (uuid?.system !== PRESCRIPTION_UUID_SYSTEM || !uuid.value || !UUID.test(uuid.value)) missing(`${at}.groupIdentifier.extension`, 'the long-form prescription id (a UUID)');
    }
    const item = mr.identifier?.find((x) => x.system === ORDER_ITEM_SYSTEM)?.value;
    if (!item) missing(`${at}.identifier`, `an item number (${ORDER_ITEM_SYSTEM})`);
    else if (itemNumbers.has(item)) invalid(`${at}.identifier`, `item number ${item} is used twice`);
    else itemNumbers.add(item);
    if (!mr.extension?.some((x) => x.url === PRESCRIPTION_TYPE_EXTENSION && x.valueCoding?.system === PRESCRIPTION_TYPE_SYSTEM && x.valueCoding.code)) missing(`${at}.extension`, 'the prescription type');
    if (!mr.courseOfTherapyType?.coding?.some((c) => c.system === COURSE_OF_THERAPY_SYSTEM && c.code)) missing(`${at}.courseOfTherapyType`, 'acute, continuous or continuous-repeat-dispensing');
    if (!mr.dosageInstruction?.[0]?.text) missing(`${at}.dosageInstruction[0].text`, 'the dose as the patient will read it');
    const q = mr.dispenseRequest?.quantity;
    if (!q || typeof q.value !== 'number' || !(q.value > 0) || !q.unit) missing(`${at}.dispenseRequest.quantity`, 'a quantity above zero with its unit');
    if (!mr.authoredOn || Number.isNaN(Date.parse(mr.authoredOn))) missing(`${at}.authoredOn`, 'when it was prescribed');
    const patient = resolve(bundle, mr.subject?.reference);
    if (patient?.resourceType !== 'Patient') invalid(`${at}.subject`, 'must reference the Patient entry of the message');
    else subjects.add(mr.subject!.reference!);
    const role = resolve(bundle, mr.requester?.reference);
    if (role?.resourceType !== 'PractitionerRole') invalid(`${at}.requester`, 'must reference the PractitionerRole entry of the message');
    else {
      if (resolve(bundle, role.practitioner?.reference)?.resourceType !== 'Practitioner') invalid(`${at}.requester`, 'the PractitionerRole must reference a Practitioner entry');
      if (resolve(bundle, role.organization?.reference)?.resourceType !== 'Organization') invalid(`${at}.requester`, 'the PractitionerRole must reference an Organization entry');
    }
  });
  if (ids.size > 1) invalid('MedicationRequest.groupIdentifier', `every item of one prescription has the same prescription id (found ${[...ids].join(', ')})`);
  if (subjects.size > 1) invalid('MedicationRequest.subject', 'every item of one prescription is for the same patient');

  const patient = entries.map((e) => e.resource).find((r) => r?.resourceType === 'Patient');
  if (!patient || patient.resourceType !== 'Patient') missing('Patient', 'the patient the prescription is for');
  else {
    const nhs = patient.identifier?.find((x) => x.system === NHS_NUMBER_SYSTEM)?.value;
    if (!nhs) missing('Patient.identifier', 'the NHS number');
    else {
      const why = explainInvalidNhsNumber(nhs);
      if (why) invalid('Patient.identifier', why);
    }
    if (!patient.name?.[0]?.family) missing('Patient.name', "the patient's name");
    if (!patient.birthDate) missing('Patient.birthDate', "the patient's date of birth");
  }

  if (options.signed && event === 'prescription-order') {
    const provenance = entries.map((e) => e.resource).find((r) => r?.resourceType === 'Provenance');
    if (!provenance || provenance.resourceType !== 'Provenance' || !provenance.signature?.[0]?.data) missing('Provenance.signature', 'a prescription order must be signed ($prepare, then sign the digest)');
  }
  return problems;
}
