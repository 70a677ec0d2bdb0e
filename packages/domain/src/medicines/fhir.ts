/**
 * Prescriptions as FHIR R4 MedicationRequests, the shapes the Medications tab reads
 * (packages/web/src/medicines/view.ts) and EPS expects:
 * - an acute item: one intent 'order' (course 'acute') with its dispenseRequest;
 * - a repeat: a template, intent 'plan', course 'continuous', dispenseRequest.numberOfRepeatsAllowed =
 *   issues authorised, validityPeriod.end = the review date; each issue an intent 'order' basedOn it.
 * Every issue carries the EPS short-form prescription id as an identifier. Every id (issue, template,
 * prescription id) is derived from the practice and the client's idempotency key, so a retried or
 * resynced submit names the same resources wherever it lands. Overridden alerts are recorded on the
 * request: an extension per alert (id, kind, severity, message, reason, who, when) and a note.
 * Pure.
 */
import type { Extension, MedicationRequest } from '@medplum/fhirtypes';
import type { PrescribeRequest } from '../api/medicines.ts';
import { deterministicUuid, sha256Hex } from '../sync/sha256.ts';
import { STEADFAST_FHIR_BASE, staffReference } from '../systems.ts';
import { newPrescriptionId, PRESCRIPTION_ORDER_NUMBER_SYSTEM } from './prescription-id.ts';
import { DMD_SYSTEM } from './products.ts';
import type { DmdProduct, MedicineAlert } from './types.ts';

export const COURSE_OF_THERAPY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy';
/** The client's idempotency key of the submit that wrote this request (one per issue / template). */
export const PRESCRIBE_REQUEST_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/prescribe-request`;
export const ALERT_OVERRIDE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/medicine-alert-override`;
/** On a repeat template: the latest issue (each issue edits the template, so two concurrent issues are a conflict sync sends to review). */
export const LAST_ISSUE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/medicine-last-issue`;

export type OverriddenAlert = MedicineAlert & { overrideReason: string };

/** The ids one submit writes, the same at every node for the same practice and key. */
export function prescribeIds(practice: string, idempotencyKey: string): { issueId: string; templateId: string; prescriptionId: string } {
  const key = idempotencyKey.toLowerCase();
  const hex = sha256Hex(`${practice}|prescription-id|${key}`);
  let i = 0;
  const random = () => parseInt(hex[i++ % hex.length]!, 16) / 16;
  return {
    issueId: deterministicUuid(`${practice}|medication-issue|${key}`),
    templateId: deterministicUuid(`${practice}|medication-template|${key}`),
    prescriptionId: newPrescriptionId(practice, random),
  };
}

export interface Prescriber {
  id: string;
  name: string;
}

function course(code: 'acute' | 'continuous') {
  return { coding: [{ system: COURSE_OF_THERAPY_SYSTEM, code, display: code === 'acute' ? 'Short course (acute) therapy' : 'Continuous long term therapy' }] };
}

function medicationOf(product: DmdProduct, amp?: string) {
  const brand = amp ? product.amps.find((a) => a.amp === amp) : undefined;
  return brand
    ? { coding: [{ system: DMD_SYSTEM, code: brand.amp, display: brand.name }, { system: DMD_SYSTEM, code: product.vmp, display: product.name }], text: brand.name }
    : { coding: [{ system: DMD_SYSTEM, code: product.vmp, display: product.name }], text: product.name };
}

/** FHIR Timing for "n times a day": the smallest whole number of days over which it is a whole number of times (weekly: once in 7 days; 1.5 a day: 3 in 2 days). */
function timingOf(frequencyPerDay: number) {
  for (let days = 1; days <= 28; days++) {
    const times = frequencyPerDay * days;
    if (Math.abs(times - Math.round(times)) < 1e-6 && Math.round(times) >= 1) return { repeat: { frequency: Math.round(times), period: days, periodUnit: 'd' as const } };
  }
  return { repeat: { frequency: 1, period: Math.round((1 / frequencyPerDay) * 100) / 100, periodUnit: 'd' as const } };
}

/** The dose per administration and times a day a MedicationRequest's first dosage says, when it is structured. */
export function structuredDose(m: MedicationRequest): { dosePerAdministration?: number; frequencyPerDay?: number } {
  const d = m.dosageInstruction?.[0];
  const dose = d?.doseAndRate?.[0]?.doseQuantity?.value;
  const r = d?.timing?.repeat;
  let perDay: number | undefined;
  if (r?.frequency && r.period) {
    const days = r.periodUnit === 'h' ? r.period / 24 : r.periodUnit === 'wk' ? r.period * 7 : r.periodUnit === 'd' ? r.period : undefined;
    if (days) perDay = r.frequency / days;
  }
  return { ...(dose !== undefined ? { dosePerAdministration: dose } : {}), ...(perDay !== undefined ? { frequencyPerDay: perDay } : {}) };
}

function dosageOf(request: PrescribeRequest, product: DmdProduct) {
  return [{
    text: request.dosageText.trim(),
    ...(request.frequencyPerDay !== undefined ? { timing: timingOf(request.frequencyPerDay) } : {}),
    ...(request.dosePerAdministration !== undefined ? { doseAndRate: [{ doseQuantity: { value: request.dosePerAdministration, unit: product.unitOfMeasure } }] } : {}),
  }];
}

/** What the record keeps of an overridden alert: an extension each, and one note a person reads. */
export function overrideRecord(overridden: readonly OverriddenAlert[], by: Prescriber, at: string): Pick<MedicationRequest, 'extension' | 'note'> {
  if (overridden.length === 0) return {};
  const extension: Extension[] = overridden.map((a) => ({
    url: ALERT_OVERRIDE_EXTENSION,
    extension: [
      { url: 'alertId', valueString: a.id },
      { url: 'kind', valueCode: a.kind },
      { url: 'severity', valueCode: a.severity },
      { url: 'message', valueString: a.message },
      { url: 'reason', valueString: a.overrideReason },
      { url: 'by', valueString: by.name },
      { url: 'at', valueDateTime: at },
    ],
  }));
  const text = overridden.map((a) => `Overrode ${a.severity === 'stop' ? 'STOP' : 'warning'} (${a.kind}): ${a.message} Reason: ${a.overrideReason}`).join('\n');
  return { extension, note: [{ text, authorString: by.name, time: at }] };
}

/** The overridden alerts recorded on a MedicationRequest (what overrideRecord wrote), with who overrode each. */
export function recordedOverrides(m: MedicationRequest): Array<OverriddenAlert & { by: string }> {
  return (m.extension ?? []).filter((e) => e.url === ALERT_OVERRIDE_EXTENSION).map((e) => {
    const get = (url: string) => e.extension?.find((x) => x.url === url);
    const id = get('alertId')?.valueString ?? '';
    return {
      id,
      kind: (get('kind')?.valueCode ?? 'allergy') as OverriddenAlert['kind'],
      severity: (get('severity')?.valueCode ?? 'stop') as OverriddenAlert['severity'],
      message: get('message')?.valueString ?? '',
      source: 'as recorded on the MedicationRequest',
      vmp: id.split(':').at(-1) ?? '',
      overrideReason: get('reason')?.valueString ?? '',
      by: get('by')?.valueString ?? '',
    };
  });
}

export interface PrescribeRecords {
  issue: MedicationRequest & { id: string };
  template?: MedicationRequest & { id: string };
  prescriptionId: string;
}

/** The MedicationRequests one prescribe writes (an acute order, or a repeat template and its first issue). */
export function prescribeRecords(input: {
  practice: string;
  patientId: string;
  request: PrescribeRequest;
  product: DmdProduct;
  prescriber: Prescriber;
  overridden: readonly OverriddenAlert[];
  /** ISO instant. */
  now: string;
  /** YYYY-MM-DD (London). */
  today: string;
}): PrescribeRecords {
  const { practice, patientId, request, product, prescriber, overridden, now, today } = input;
  const ids = prescribeIds(practice, request.idempotencyKey);
  const common = {
    resourceType: 'MedicationRequest' as const,
    subject: { reference: `Patient/${patientId}` },
    ...(request.encounterId ? { encounter: { reference: `Encounter/${request.encounterId}` } } : {}),
    medicationCodeableConcept: medicationOf(product, request.amp),
    authoredOn: now,
    requester: staffReference(prescriber),
    dosageInstruction: dosageOf(request, product),
  };
  const supply = {
    quantity: { value: request.quantity.value, unit: request.quantity.unit },
    ...(request.days ? { expectedSupplyDuration: { value: request.days, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } } : {}),
  };
  const key = { system: PRESCRIBE_REQUEST_SYSTEM, value: request.idempotencyKey.toLowerCase() };
  const record = overrideRecord(overridden, prescriber, now);
  const template: (MedicationRequest & { id: string }) | undefined = request.kind === 'repeat'
    ? {
        ...common,
        id: ids.templateId,
        identifier: [key],
        status: 'active',
        intent: 'plan',
        courseOfTherapyType: course('continuous'),
        dispenseRequest: { ...supply, numberOfRepeatsAllowed: request.repeat!.authorisedIssues, validityPeriod: { start: today, end: request.repeat!.reviewDate } },
        extension: [...(record.extension ?? []), { url: LAST_ISSUE_EXTENSION, valueReference: { reference: `MedicationRequest/${ids.issueId}` } }],
        ...(record.note ? { note: record.note } : {}),
      }
    : undefined;
  const issue: MedicationRequest & { id: string } = {
    ...common,
    id: ids.issueId,
    identifier: [{ system: PRESCRIPTION_ORDER_NUMBER_SYSTEM, value: ids.prescriptionId }, key],
    status: 'active',
    intent: 'order',
    courseOfTherapyType: course(template ? 'continuous' : 'acute'),
    dispenseRequest: supply,
    ...(template ? { basedOn: [{ reference: `MedicationRequest/${template.id}` }] } : {}),
    ...record,
  };
  return { issue, ...(template ? { template } : {}), prescriptionId: ids.prescriptionId };
}

/** The next issue of a repeat template (its medicine, dosage and supply), and the template edited to point at it. */
export function issueRecords(input: {
  practice: string;
  template: MedicationRequest & { id: string };
  idempotencyKey: string;
  prescriber: Prescriber;
  overridden: readonly OverriddenAlert[];
  now: string;
}): PrescribeRecords & { template: MedicationRequest & { id: string } } {
  const { practice, template, idempotencyKey, prescriber, overridden, now } = input;
  const ids = prescribeIds(practice, idempotencyKey);
  const issue: MedicationRequest & { id: string } = {
    resourceType: 'MedicationRequest',
    id: ids.issueId,
    identifier: [{ system: PRESCRIPTION_ORDER_NUMBER_SYSTEM, value: ids.prescriptionId }, { system: PRESCRIBE_REQUEST_SYSTEM, value: idempotencyKey.toLowerCase() }],
    status: 'active',
    intent: 'order',
    subject: template.subject!,
    ...(template.medicationCodeableConcept ? { medicationCodeableConcept: template.medicationCodeableConcept } : {}),
    authoredOn: now,
    requester: staffReference(prescriber),
    courseOfTherapyType: course('continuous'),
    ...(template.dosageInstruction ? { dosageInstruction: template.dosageInstruction } : {}),
    dispenseRequest: {
      ...(template.dispenseRequest?.quantity ? { quantity: template.dispenseRequest.quantity } : {}),
      ...(template.dispenseRequest?.expectedSupplyDuration ? { expectedSupplyDuration: template.dispenseRequest.expectedSupplyDuration } : {}),
    },
    basedOn: [{ reference: `MedicationRequest/${template.id}` }],
    ...overrideRecord(overridden, prescriber, now),
  };
  const edited: MedicationRequest & { id: string } = {
    ...template,
    extension: [...(template.extension ?? []).filter((e) => e.url !== LAST_ISSUE_EXTENSION), { url: LAST_ISSUE_EXTENSION, valueReference: { reference: `MedicationRequest/${issue.id}` } }],
  };
  return { issue, template: edited, prescriptionId: ids.prescriptionId };
}
