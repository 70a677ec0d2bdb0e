/** Synthetic patients and issues for the prescriptions-out tests (NHS numbers from the 999 range). */
import type { MedicationRequest, Patient } from '@medplum/fhirtypes';
import { newPrescriptionId, PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines/prescription-id';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain/nhs-number';
import { Random } from '@steadfast/domain/random';
import { staffReference } from '@steadfast/domain/systems';

export const EPS_PATIENT: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(5150) }],
  name: [{ family: 'Okafor', given: ['Adaeze'], prefix: ['Ms'] }],
  birthDate: '1961-03-09',
  gender: 'female',
  address: [{ line: ['4 Mill Lane'], city: 'Shildon', postalCode: 'DL4 2HP' }],
};

const random = new Random('prescriptions-out fixtures');
const rng = () => random.next();

/** An issue as the prescribing route writes it (intent order, with its prescription id). */
export function issueFor(patientId: string, prescriber: { id: string; name: string }, ods: string, overrides: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    identifier: [{ system: PRESCRIPTION_ORDER_NUMBER_SYSTEM, value: newPrescriptionId(ods, rng) }],
    medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '323509004', display: 'Amoxicillin 500mg capsules' }], text: 'Amoxicillin 500mg capsules' },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: '2026-12-04T10:15:00Z',
    requester: staffReference(prescriber),
    dosageInstruction: [{ text: 'One capsule three times a day' }],
    dispenseRequest: { quantity: { value: 15, unit: 'capsule' }, expectedSupplyDuration: { value: 5, unit: 'day', system: 'http://unitsofmeasure.org', code: 'd' } },
    ...overrides,
  };
}

/** A repeat template as the prescribing route writes it (intent plan, continuous). */
export function template(patientId: string, name: string, code: string): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'plan',
    medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code, display: name }], text: name },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: '2026-10-01T09:00:00Z',
    courseOfTherapyType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] },
    dosageInstruction: [{ text: 'One tablet daily' }],
    dispenseRequest: { numberOfRepeatsAllowed: 6, quantity: { value: 28, unit: 'tablet' }, validityPeriod: { start: '2026-10-01', end: '2027-04-01' } },
  };
}
