/**
 * The JSON API of medicines (prescribing, repeats, the dm+d subset and the safety-check rules), shared
 * by the server (packages/server/src/medicines/), the staff web app and the print/EPS half. Types only.
 * The dm+d subset, the rule data and the checks are pure code in `@steadfast/domain/medicines`, so the
 * browser checks as the prescriber types and the server re-runs the very same checks on submit.
 *
 *   GET  /api/medicines/products?q=&limit=                      -> ProductsResponse (first 20 by default)
 *   GET  /api/medicines/rules                                   -> RulesResponse (rules + the products they use)
 *   POST /api/patients/:patientId/prescriptions   PrescribeRequest   -> 201 PrescribeResponse | 409 AlertsOutcome
 *   POST /api/medication-requests/:templateId/issue       IssueRequest       -> 201 IssueResponse (200 for a retry) | 409 AlertsOutcome / OperationOutcome
 *   POST /api/medication-requests/:templateId/reauthorise ReauthoriseRequest -> 200 ReauthoriseResponse
 * Stopping an item is the record's own FHIR update (PUT /fhir/R4/MedicationRequest/:id, If-Match,
 * status 'stopped', statusReason.text).
 *
 * Roles: clinicians prescribe, issue and re-authorise; practice admins read (products, rules);
 * receptionists neither. Errors are OperationOutcome with a 4xx; issue[].expression names the field.
 * Nothing is written when a request is refused (400, 404, 409, 412).
 */
import type { DmdProduct, MedicineAlert, MedicineRules } from '../medicines/types.ts';

export type { DmdProduct, MedicineAlert, MedicineRules } from '../medicines/types.ts';

/** GET /api/medicines/products?q= : best matches first (searchProducts). */
export interface ProductsResponse {
  products: DmdProduct[];
  /** Where the bundled subset came from (DmdSubset.source / release). */
  subset: { source: string; release: string };
}

/** GET /api/medicines/rules : what the browser needs to run checkPrescription itself. */
export interface RulesResponse {
  rules: MedicineRules;
  /** Every product of the subset (classes of the patient's current medicines come from here). */
  products: DmdProduct[];
  subset: { source: string; release: string };
}

export type PrescriptionKind = 'acute' | 'repeat';

/** An alert the prescriber chose to override, with why (audited and written on the MedicationRequest). */
export interface AlertOverride {
  /** MedicineAlert.id, e.g. "allergy:penicillin-class:323510009". */
  alertId: string;
  /** Why it is safe here; at least 5 characters after trimming. */
  reason: string;
}

export interface PrescribeRequest {
  kind: PrescriptionKind;
  /** dm+d VMP id of a product of the subset. */
  vmp: string;
  /** dm+d AMP id (a branded product of that VMP) when the prescriber names a brand. */
  amp?: string;
  /** As the label reads: "One capsule three times a day". */
  dosageText: string;
  /** Units of the product's unitOfMeasure per administration (2 tablets, 5 ml); checked against the dose range. */
  dosePerAdministration?: number;
  /** Administrations a day (3 for "three times a day"); with dosePerAdministration gives the daily dose. */
  frequencyPerDay?: number;
  /** Supply for one issue; unit is the product's unitOfMeasure ("capsule", "ml"). */
  quantity: { value: number; unit: string };
  /** Days of treatment (expectedSupplyDuration). */
  days?: number;
  /** Repeats only. */
  repeat?: {
    /** Issues authorised before a review (the first issue included), 1-24. */
    authorisedIssues: number;
    /** YYYY-MM-DD, today or later. */
    reviewDate: string;
  };
  overrides?: AlertOverride[];
  /** The consultation this was prescribed in (Encounter id), when there is one. */
  encounterId?: string;
  /** A UUID made by the client for this submit and kept across retries: the same key issues once. */
  idempotencyKey: string;
}

/** One issue (an intent 'order' MedicationRequest) with its EPS short-form prescription id. */
export interface IssuedItem {
  /** MedicationRequest id of the issue. */
  id: string;
  /** XXXXXX-XXXXXX-XXXXXC (identifier system PRESCRIPTION_ORDER_NUMBER_SYSTEM of `@steadfast/domain/medicines`). */
  prescriptionId: string;
}

export interface PrescribeResponse {
  issue: IssuedItem;
  /** The repeat template (intent 'plan'), for kind 'repeat'. */
  template?: { id: string };
  /** The alerts that were overridden (with their reasons), as recorded. */
  alerts: Array<MedicineAlert & { overrideReason: string }>;
  /** True when this idempotencyKey had already been used: nothing new was written. */
  duplicate: boolean;
}

/**
 * 409 body: an OperationOutcome (resourceType, issue[]) plus the alerts that still need an override.
 * Resubmit the same request with `overrides` naming each alert id and a reason.
 */
export interface AlertsOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{ severity: 'error'; code: 'business-rule'; diagnostics: string; expression?: string[] }>;
  alerts: MedicineAlert[];
}

export interface IssueRequest {
  idempotencyKey: string;
  /** Overrides for alerts raised at issue (a new interaction or allergy since the template was made). */
  overrides?: AlertOverride[];
}

export interface IssueResponse {
  issue: IssuedItem;
  /** Issues left on the template after this one. */
  issuesLeft: number;
  alerts: Array<MedicineAlert & { overrideReason: string }>;
  duplicate: boolean;
}

export interface ReauthoriseRequest {
  /** New number of issues authorised from now (the issues so far are not counted against it), 1-24. */
  authorisedIssues: number;
  /** YYYY-MM-DD, today or later. */
  reviewDate: string;
}

export interface ReauthoriseResponse {
  template: { id: string; versionId: string };
  issuesLeft: number;
  reviewDate: string;
}
