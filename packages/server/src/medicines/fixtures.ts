/** Test fixtures for the medicines capability: a patient, an allergy, a prescribe body. */
import { randomUUID } from 'node:crypto';
import type { AllergyIntolerance, Patient } from '@medplum/fhirtypes';
import type { PrescribeRequest } from '@steadfast/domain/api';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';

export const VMP = {
  amox500: '39732411000001106',
  paracetamol: '322236009',
  diazepam: '321196004',
  morphine10: '36126511000001106',
  salbutamol: '39113611000001102',
};

let nhs = 16_000;
export function patient(family = 'Okafor'): Patient {
  return { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(nhs++) }], name: [{ family, given: ['Ada'] }], birthDate: '1970-03-04', gender: 'female' };
}

export function penicillinAllergy(patientId: string): AllergyIntolerance {
  return {
    resourceType: 'AllergyIntolerance',
    patient: { reference: `Patient/${patientId}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] },
  };
}

export function inDays(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function acute(vmp = VMP.amox500, extra: Partial<PrescribeRequest> = {}): PrescribeRequest {
  return { kind: 'acute', vmp, dosageText: 'One capsule three times a day for 5 days', dosePerAdministration: 1, frequencyPerDay: 3, quantity: { value: 15, unit: 'capsule' }, days: 5, idempotencyKey: randomUUID(), ...extra };
}

export function repeat(vmp = VMP.salbutamol, extra: Partial<PrescribeRequest> = {}): PrescribeRequest {
  return {
    kind: 'repeat', vmp, dosageText: 'One or two puffs up to four times a day when required', dosePerAdministration: 2, frequencyPerDay: 4,
    quantity: { value: 200, unit: 'dose' }, repeat: { authorisedIssues: 2, reviewDate: inDays(180) }, idempotencyKey: randomUUID(), ...extra,
  };
}
