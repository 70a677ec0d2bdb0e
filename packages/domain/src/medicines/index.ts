/**
 * Medicines, pure: the bundled dm+d subset and rule data (both replaceable), product search, the
 * prescribing safety checks and the override rule. Imported by the server and the browser alike.
 * See docs/medicines.md.
 */
export type * from './types.ts';
export { bundledSubset, bundledRules, bundledKnowledge, productByCode, productOfConcept, productOfRequest, substanceWords, DMD_SYSTEM, SNOMED_SCT_SYSTEM, type MedicinesKnowledge } from './products.ts';
export { searchProducts } from './search.ts';
export { checkPrescription, currentMedicines, matches, UnknownProductError, ACUTE_CURRENT_DAYS, type PrescriptionCandidate, type CheckContext } from './checks.ts';
export { applyOverrides, isValidOverrideReason, OVERRIDE_REASON_MIN, OVERRIDE_REASON_MAX } from './overrides.ts';
export { PRESCRIPTION_ORDER_NUMBER_SYSTEM, newPrescriptionId, isValidPrescriptionId } from './prescription-id.ts';
export {
  prescribeIds, prescribeRecords, issueRecords, overrideRecord, recordedOverrides, structuredDose,
  ALERT_OVERRIDE_EXTENSION, LAST_ISSUE_EXTENSION, PRESCRIBE_REQUEST_SYSTEM, COURSE_OF_THERAPY_SYSTEM,
  type OverriddenAlert, type Prescriber, type PrescribeRecords,
} from './fhir.ts';
export { validatePrescribeRequest, validateIssueRequest, validateReauthoriseRequest, checkStopReason, MAX_AUTHORISED_ISSUES, MAX_REVIEW_DAYS } from './request.ts';
