/**
 * The prescribing form's pure half: the draft as typed, the quantity a standard dosage implies, what
 * is wrong with the draft (each problem naming its field, for the NHS.UK error summary), and the
 * request the node is sent. prescribe.test.ts pins it.
 */
import type { AlertOverride, DmdProduct, MedicineAlert, PrescribeRequest } from '@steadfast/domain/api/medicines';

export interface PrescribeDraft {
  product?: DmdProduct;
  amp: string;
  /** Index of the chosen standard dosage, or 'free' for a dosage typed by the prescriber. */
  dosage: string;
  dosageText: string;
  dosePerAdministration: string;
  frequencyPerDay: string;
  quantity: string;
  days: string;
  kind: 'acute' | 'repeat';
  authorisedIssues: string;
  reviewDate: string;
  /** alert id -> the prescriber's reason for going ahead. */
  overrides: Record<string, string>;
}

export const emptyPrescribeDraft = (): PrescribeDraft => ({ amp: '', dosage: 'free', dosageText: '', dosePerAdministration: '', frequencyPerDay: '', quantity: '', days: '', kind: 'acute', authorisedIssues: '6', reviewDate: '', overrides: {} });

export interface Problem {
  field: string;
  text: string;
}

/** An element id for an alert's reason field (alert ids carry ':' and codes). */
export const overrideField = (alertId: string) => `rx-override-${alertId.replace(/[^A-Za-z0-9_-]/g, '-')}`;

const num = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));
const isWhole = (n: number | undefined) => n !== undefined && Number.isInteger(n) && n > 0;

/** Units to supply for a course: dose x times a day x days (undefined when any is missing). */
export function courseQuantity(dosePerAdministration: number | undefined, frequencyPerDay: number | undefined, days: number | undefined): number | undefined {
  if (!dosePerAdministration || !frequencyPerDay || !days) return undefined;
  return Math.ceil(dosePerAdministration * frequencyPerDay * days);
}

/** Choosing a product starts from its first standard dosage (or a free dosage when it has none). */
export function pickProduct(draft: PrescribeDraft, product: DmdProduct): PrescribeDraft {
  const next: PrescribeDraft = { ...draft, product, amp: '', overrides: {} };
  return product.standardDosages.length ? pickDosage(next, '0') : { ...next, dosage: 'free', dosageText: '', dosePerAdministration: '', frequencyPerDay: '', quantity: '', days: '' };
}

/** A standard dosage fills the text, dose, frequency, days and the quantity they imply. */
export function pickDosage(draft: PrescribeDraft, dosage: string): PrescribeDraft {
  const std = dosage === 'free' ? undefined : draft.product?.standardDosages[Number(dosage)];
  if (!std) return { ...draft, dosage: 'free' };
  const days = std.days ?? num(draft.days);
  const quantity = courseQuantity(std.dosePerAdministration, std.frequencyPerDay, days);
  return {
    ...draft,
    dosage,
    dosageText: std.text,
    dosePerAdministration: String(std.dosePerAdministration),
    frequencyPerDay: String(std.frequencyPerDay),
    days: days === undefined ? '' : String(days),
    quantity: quantity === undefined ? draft.quantity : String(quantity),
  };
}

/** What the safety checks are run on: the same fields the node will check, from the draft as it stands. */
export function candidateOf(draft: PrescribeDraft): Omit<PrescribeRequest, 'idempotencyKey' | 'overrides'> | undefined {
  if (!draft.product) return undefined;
  const dose = num(draft.dosePerAdministration);
  const freq = num(draft.frequencyPerDay);
  const quantity = num(draft.quantity);
  const days = num(draft.days);
  return {
    kind: draft.kind,
    vmp: draft.product.vmp,
    ...(draft.amp ? { amp: draft.amp } : {}),
    dosageText: draft.dosageText.trim(),
    ...(dose !== undefined && Number.isFinite(dose) ? { dosePerAdministration: dose } : {}),
    ...(freq !== undefined && Number.isFinite(freq) ? { frequencyPerDay: freq } : {}),
    quantity: { value: quantity !== undefined && Number.isFinite(quantity) ? quantity : 0, unit: draft.product.unitOfMeasure },
    ...(days !== undefined && Number.isFinite(days) ? { days } : {}),
    ...(draft.kind === 'repeat' ? { repeat: { authorisedIssues: num(draft.authorisedIssues) ?? 0, reviewDate: draft.reviewDate } } : {}),
  };
}

/** Authorised issues of one repeat, as the node accepts them. */
export const MAX_ISSUES = 24;
/** The node records an override only with a reason it can audit: at least this many characters. */
export const MIN_REASON = 5;

export function reviewDateProblem(reviewDate: string, today: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(reviewDate)) return 'Enter the review date';
  if (reviewDate < today) return 'The review date must be today or later';
  return undefined;
}

/** Every alert, 'stop' or 'warn', needs the prescriber's reason before the item is prescribed or issued. */
export function overrideProblems(overrides: Record<string, string>, alerts: MedicineAlert[]): Problem[] {
  return alerts
    .filter((a) => (overrides[a.id]?.trim().length ?? 0) < MIN_REASON)
    .map((a) => ({ field: overrideField(a.id), text: `${a.message}: ${a.severity === 'stop' ? 'enter your reason to prescribe anyway' : 'enter why it is right here'} (at least ${MIN_REASON} characters), or change the prescription` }));
}

/** Every problem with the draft, in screen order; an alert that stops prescribing needs a reason. */
export function prescribeProblems(draft: PrescribeDraft, alerts: MedicineAlert[], today: string): Problem[] {
  const out: Problem[] = [];
  if (!draft.product) return [{ field: 'rx-search', text: 'Search for the medicine and choose it from the list' }];
  const name = draft.product.name;
  if (!draft.dosageText.trim()) out.push({ field: 'rx-dosage-text', text: `Enter the dosage instructions for ${name}` });
  for (const [key, label] of [
    ['dosePerAdministration', 'dose'],
    ['frequencyPerDay', 'times a day'],
  ] as const) {
    const n = num(draft[key]);
    if (n !== undefined && !(Number.isFinite(n) && n > 0)) out.push({ field: key === 'dosePerAdministration' ? 'rx-dose' : 'rx-frequency', text: `The ${label} must be a number above 0, like 1 or 0.5` });
  }
  const quantity = num(draft.quantity);
  if (!(quantity !== undefined && Number.isFinite(quantity) && quantity > 0)) out.push({ field: 'rx-quantity', text: `Enter the quantity to supply in ${draft.product.unitOfMeasure}s, a number above 0` });
  if (draft.days.trim() && !isWhole(num(draft.days))) out.push({ field: 'rx-days', text: 'The number of days must be a whole number above 0' });
  if (draft.kind === 'repeat') {
    const issues = num(draft.authorisedIssues);
    if (!isWhole(issues) || issues! > MAX_ISSUES) out.push({ field: 'rx-issues', text: `Enter the number of authorised issues, a whole number from 1 to ${MAX_ISSUES}` });
    const review = reviewDateProblem(draft.reviewDate, today);
    if (review) out.push({ field: 'rx-review', text: review });
  }
  out.push(...overrideProblems(draft.overrides, alerts));
  return out;
}

/** The overrides sent: every alert shown that the prescriber gave a reason for. */
export function overridesOf(overrides: Record<string, string>, alerts: MedicineAlert[]): AlertOverride[] {
  return alerts.filter((a) => overrides[a.id]?.trim()).map((a) => ({ alertId: a.id, reason: overrides[a.id]!.trim() }));
}

export function prescribeRequest(draft: PrescribeDraft, alerts: MedicineAlert[], idempotencyKey: string, encounterId?: string): PrescribeRequest {
  const candidate = candidateOf(draft);
  if (!candidate) throw new Error('no medicine chosen');
  const overrides = overridesOf(draft.overrides, alerts);
  return { ...candidate, ...(overrides.length ? { overrides } : {}), ...(encounterId ? { encounterId } : {}), idempotencyKey };
}

/** The alerts a 409 OperationOutcome carries (the node re-ran the checks and found these unoverridden). */
export function alertsOfOutcome(body: unknown): MedicineAlert[] {
  const alerts = (body as { alerts?: unknown } | undefined)?.alerts;
  return Array.isArray(alerts) ? (alerts as MedicineAlert[]).filter((a) => a && typeof a.id === 'string' && typeof a.message === 'string') : [];
}

/**
 * What a failed submit says about the node's record, and so what the form may do next:
 * - 'nothing-written': the node answered 4xx (bad input, the checks' 409 with alerts, forbidden): a
 *   new key for the next press, and the form may be edited;
 * - 'unknown': a 5xx or no answer at all: the node may have written it, so the key is kept and the
 *   form is locked (pressing again retries exactly what was sent, and cannot issue twice);
 * - 'key-used': a 409 without alerts: this key already made a prescription (the node refuses other
 *   content under it), so the form stays locked and the prescriber checks the record.
 */
export type SubmitFailure = 'nothing-written' | 'unknown' | 'key-used';

export function submitFailure(status: number | undefined, outcome?: unknown): SubmitFailure {
  if (status === undefined || status >= 500 || status < 400) return 'unknown';
  if (status === 409 && alertsOfOutcome(outcome).length === 0) return 'key-used';
  return 'nothing-written';
}
