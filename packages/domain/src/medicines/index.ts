/**
 * Medicines, pure: the bundled dm+d subset and rule data (both replaceable), product search, the
 * prescribing safety checks and the override rule. Imported by the server and the browser alike.
 * See docs/medicines.md.
 */
import { STEADFAST_FHIR_BASE } from '../systems.ts';

export type * from './types.ts';
export { bundledSubset, bundledRules, bundledKnowledge, productByCode, productOfConcept, productOfRequest, substanceWords, DMD_SYSTEM, SNOMED_SCT_SYSTEM, type MedicinesKnowledge } from './products.ts';
export { searchProducts } from './search.ts';
export { checkPrescription, currentMedicines, matches, UnknownProductError, ACUTE_CURRENT_DAYS, type PrescriptionCandidate, type CheckContext } from './checks.ts';
export { applyOverrides, isValidOverrideReason, OVERRIDE_REASON_MIN, OVERRIDE_REASON_MAX } from './overrides.ts';
export { PRESCRIPTION_ORDER_NUMBER_SYSTEM, newPrescriptionId, isValidPrescriptionId } from './prescription-id.ts';

/** Extension on a MedicationRequest recording an overridden alert (alert id, kind, severity, reason, who). */
export const ALERT_OVERRIDE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/medicine-alert-override`;
