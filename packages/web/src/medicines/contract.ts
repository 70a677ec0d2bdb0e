/**
 * TEMPORARY: the medicines API shapes the screens use, mirrored from meds-core's draft of
 * `@steadfast/domain/api/medicines` until that branch commits it. Types only (no logic is copied).
 * At the merge of meds-core this file becomes re-exports of that module, and the committed names win.
 */
export interface DmdProduct {
  vmp: string;
  name: string;
  vtm: string;
  form: string;
  route: string;
  strength: { value: number; unit: string };
  strengthText: string;
  unitOfMeasure: string;
  amps: Array<{ amp: string; name: string; supplier: string }>;
  standardDosages: Array<{ text: string; dosePerAdministration: number; frequencyPerDay: number; days?: number }>;
  classes: string[];
  usuallyRepeat: boolean;
}

export interface MedicineAlert {
  id: string;
  kind: 'allergy' | 'duplicate' | 'interaction' | 'dose';
  severity: 'stop' | 'warn';
  message: string;
  advice?: string;
  source: string;
  vmp: string;
  with?: string;
}

export interface AlertOverride {
  alertId: string;
  reason: string;
}

export interface ProductsResponse {
  products: DmdProduct[];
  subset: { source: string; release: string };
}

export interface PrescribeRequest {
  kind: 'acute' | 'repeat';
  vmp: string;
  amp?: string;
  dosageText: string;
  dosePerAdministration?: number;
  frequencyPerDay?: number;
  quantity: { value: number; unit: string };
  days?: number;
  repeat?: { authorisedIssues: number; reviewDate: string };
  overrides?: AlertOverride[];
  encounterId?: string;
  idempotencyKey: string;
}

export interface IssuedItem {
  id: string;
  prescriptionId: string;
}

export interface PrescribeResponse {
  issue: IssuedItem;
  template?: { id: string };
  alerts: Array<MedicineAlert & { overrideReason: string }>;
  duplicate: boolean;
}

export interface IssueRequest {
  idempotencyKey: string;
  overrides?: AlertOverride[];
}

export interface IssueResponse {
  issue: IssuedItem;
  issuesLeft: number;
  alerts: Array<MedicineAlert & { overrideReason: string }>;
  duplicate: boolean;
}

export interface ReauthoriseRequest {
  authorisedIssues: number;
  reviewDate: string;
}
