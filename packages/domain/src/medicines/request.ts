/**
 * Checking a PrescribeRequest (and the repeat routes' bodies) before anything is looked up or written:
 * every problem names its field and the fix, all problems at once. Pure, so the prescribing form can
 * show the same errors the server would give.
 */
import { combineErrors, SteadfastError } from '../errors.ts';
import { calendarProblem } from '../fhir/dates.ts';
import type { AlertOverride, IssueRequest, PrescribeRequest, ReauthoriseRequest } from '../api/medicines.ts';
import { isValidOverrideReason, OVERRIDE_REASON_MAX, OVERRIDE_REASON_MIN } from './overrides.ts';
import { productByCode, type MedicinesKnowledge } from './products.ts';
import type { MedicationRequest } from '@medplum/fhirtypes';
import type { DmdProduct } from './types.ts';

export const MAX_AUTHORISED_ISSUES = 24;
/** A review date at most this many days ahead (about 15 months). */
export const MAX_REVIEW_DAYS = 456;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

type Problems = SteadfastError[];
const problem = (list: Problems, code: 'invalid' | 'required', field: string, message: string, hint: string) => list.push(new SteadfastError(code, message, { field, hint }));

function fail(list: Problems): never {
  throw combineErrors(list);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function checkKey(body: Record<string, unknown>, list: Problems): void {
  if (typeof body.idempotencyKey !== 'string' || !UUID.test(body.idempotencyKey)) {
    problem(list, body.idempotencyKey === undefined ? 'required' : 'invalid', 'idempotencyKey', 'idempotencyKey must be a UUID made by the client for this submit', 'Make one (crypto.randomUUID()) when the form opens and send the same one on every retry');
  }
}

function checkOverrides(body: Record<string, unknown>, list: Problems): AlertOverride[] {
  if (body.overrides === undefined) return [];
  if (!Array.isArray(body.overrides)) {
    problem(list, 'invalid', 'overrides', 'overrides must be a list of { alertId, reason }', 'Send [] or leave it out when nothing is overridden');
    return [];
  }
  body.overrides.forEach((o: unknown, i) => {
    if (!isObject(o) || typeof o.alertId !== 'string' || !o.alertId) problem(list, 'invalid', `overrides[${i}].alertId`, `overrides[${i}] has no alertId`, 'Name the alert by the id the 409 answer gave');
    else if (!isValidOverrideReason(o.reason)) problem(list, 'invalid', `overrides[${i}].reason`, `The reason for overriding ${o.alertId} must be ${OVERRIDE_REASON_MIN} to ${OVERRIDE_REASON_MAX} characters`, 'Say why it is safe for this patient (e.g. "tolerated amoxicillin in 2024; rash was viral")');
  });
  return body.overrides as AlertOverride[];
}

function checkReview(value: unknown, today: string, field: string, list: Problems): void {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || calendarProblem(value)) {
    problem(list, value === undefined ? 'required' : 'invalid', field, `${field} must be a real date YYYY-MM-DD`, `e.g. ${addDays(today, 180)}`);
  } else if (value < today) {
    problem(list, 'invalid', field, `${field} ${value} has passed`, `Choose today (${today}) or later`);
  } else if (value > addDays(today, MAX_REVIEW_DAYS)) {
    problem(list, 'invalid', field, `${field} ${value} is more than 15 months away`, `Review by ${addDays(today, MAX_REVIEW_DAYS)} at the latest`);
  }
}

function checkAuthorised(value: unknown, field: string, list: Problems): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_AUTHORISED_ISSUES) {
    problem(list, value === undefined ? 'required' : 'invalid', field, `${field} must be a whole number from 1 to ${MAX_AUTHORISED_ISSUES}`, 'e.g. 6 for six monthly issues before a review');
  }
}

/** A PrescribeRequest that can be acted on, with its product; throws a SteadfastError listing every problem. */
export function validatePrescribeRequest(raw: unknown, knowledge: MedicinesKnowledge, today: string): { request: PrescribeRequest; product: DmdProduct } {
  const list: Problems = [];
  if (!isObject(raw)) throw new SteadfastError('invalid', 'The body must be a JSON object (PrescribeRequest)', { field: 'body', hint: 'See packages/domain/src/api/medicines.ts' });
  const b = raw;
  if (b.kind !== 'acute' && b.kind !== 'repeat') problem(list, b.kind === undefined ? 'required' : 'invalid', 'kind', `kind must be "acute" or "repeat", not ${JSON.stringify(b.kind)}`, 'acute for a course, repeat for a repeat template with authorised issues');
  const product = typeof b.vmp === 'string' ? productByCode(b.vmp, knowledge.products) : undefined;
  if (typeof b.vmp !== 'string' || !b.vmp) problem(list, 'required', 'vmp', 'vmp (the dm+d VMP id) is required', 'Pick the medicine from the dm+d search (GET /api/medicines/products?q=)');
  else if (!product) problem(list, 'invalid', 'vmp', `dm+d ${b.vmp} is not a product of this practice's medicines subset`, 'Pick the medicine from the dm+d search (GET /api/medicines/products?q=)');
  if (b.amp !== undefined && product && !product.amps.some((a) => a.amp === b.amp)) {
    problem(list, 'invalid', 'amp', `AMP ${String(b.amp)} is not a brand of ${product.name}`, product.amps.length ? `One of: ${product.amps.map((a) => `${a.amp} ${a.name}`).join('; ')}` : 'Leave it out: no brand of this product is in the subset');
  }
  if (typeof b.dosageText !== 'string' || !b.dosageText.trim()) problem(list, 'required', 'dosageText', 'dosageText (the dose as the label reads) is required', 'e.g. "One capsule three times a day"');
  else if (b.dosageText.length > 1000) problem(list, 'invalid', 'dosageText', 'dosageText is longer than 1000 characters', 'Shorten it; put other instructions in a note');
  if (b.dosePerAdministration !== undefined && !(positive(b.dosePerAdministration) && b.dosePerAdministration <= 1000)) {
    problem(list, 'invalid', 'dosePerAdministration', `dosePerAdministration must be a number above 0 (units of ${product?.unitOfMeasure ?? 'the product'} a dose)`, 'e.g. 1 or 2; leave it out for a free-text dose');
  }
  if (b.frequencyPerDay !== undefined && !(positive(b.frequencyPerDay) && b.frequencyPerDay <= 24)) {
    problem(list, 'invalid', 'frequencyPerDay', 'frequencyPerDay must be a number above 0 and at most 24', 'e.g. 3 for three times a day, 0.142857 for once a week');
  }
  if (!isObject(b.quantity) || !(positive(b.quantity.value) && b.quantity.value <= 10000)) {
    problem(list, b.quantity === undefined ? 'required' : 'invalid', 'quantity.value', 'quantity.value must be a number above 0 (at most 10000)', 'e.g. 21 capsules for one capsule three times a day for 7 days');
  } else if (product && b.quantity.unit !== product.unitOfMeasure) {
    problem(list, 'invalid', 'quantity.unit', `quantity.unit must be "${product.unitOfMeasure}" for ${product.name}, not ${JSON.stringify(b.quantity.unit)}`, `Count the supply in ${product.unitOfMeasure}`);
  }
  if (b.days !== undefined && !(Number.isInteger(b.days) && (b.days as number) >= 1 && (b.days as number) <= 366)) {
    problem(list, 'invalid', 'days', 'days must be a whole number from 1 to 366', 'e.g. 7 for a week; leave it out when taken as required');
  }
  if (b.kind === 'repeat') {
    if (!isObject(b.repeat)) problem(list, 'required', 'repeat', 'A repeat needs repeat.authorisedIssues and repeat.reviewDate', 'e.g. { "authorisedIssues": 6, "reviewDate": "' + addDays(today, 180) + '" }');
    else {
      checkAuthorised(b.repeat.authorisedIssues, 'repeat.authorisedIssues', list);
      checkReview(b.repeat.reviewDate, today, 'repeat.reviewDate', list);
    }
  } else if (b.kind === 'acute' && b.repeat !== undefined) {
    problem(list, 'invalid', 'repeat', 'An acute item has no repeat authorisation', 'Choose kind "repeat", or leave repeat out');
  }
  if (b.encounterId !== undefined && (typeof b.encounterId !== 'string' || !ID.test(b.encounterId))) problem(list, 'invalid', 'encounterId', 'encounterId is not an Encounter id', 'Leave it out when not prescribing in a consultation');
  checkOverrides(b, list);
  checkKey(b, list);
  if (list.length) fail(list);
  return { request: b as unknown as PrescribeRequest, product: product! };
}

export function validateIssueRequest(raw: unknown): IssueRequest {
  const list: Problems = [];
  if (!isObject(raw)) throw new SteadfastError('invalid', 'The body must be a JSON object (IssueRequest)', { field: 'body', hint: 'Send { "idempotencyKey": "<uuid>" }' });
  checkOverrides(raw, list);
  checkKey(raw, list);
  if (list.length) fail(list);
  return raw as unknown as IssueRequest;
}

export function validateReauthoriseRequest(raw: unknown, today: string): ReauthoriseRequest {
  const list: Problems = [];
  if (!isObject(raw)) throw new SteadfastError('invalid', 'The body must be a JSON object (ReauthoriseRequest)', { field: 'body', hint: 'Send { "authorisedIssues": 6, "reviewDate": "YYYY-MM-DD" }' });
  checkAuthorised(raw.authorisedIssues, 'authorisedIssues', list);
  checkReview(raw.reviewDate, today, 'reviewDate', list);
  if (list.length) fail(list);
  return raw as unknown as ReauthoriseRequest;
}

const STOPPING = new Set(['stopped', 'cancelled']);

/**
 * A MedicationRequest that moves to stopped or cancelled (created so, or updated from another status)
 * must say why in statusReason (text or a coded reason), or the next clinician may restart it - a
 * reaction repeated - or cannot tell why it stopped. Throws a SteadfastError naming statusReason.
 * An item already stopped keeps whatever it had (an edit of its note needs no new reason; records
 * imported or synced as they came are not this node's stop).
 */
export function checkStopReason(before: { resourceType?: string; status?: unknown } | undefined, after: { resourceType?: string } | undefined): void {
  if (after?.resourceType !== 'MedicationRequest') return;
  const m = after as MedicationRequest;
  if (!STOPPING.has(m.status)) return;
  if (before?.resourceType === 'MedicationRequest' && before.status === m.status) return;
  if (m.statusReason?.text?.trim() || m.statusReason?.coding?.some((c) => c.code?.trim())) return;
  throw new SteadfastError('required', `MedicationRequest${m.id ? `/${m.id}` : ''} cannot be ${m.status} without a reason (statusReason)`, {
    field: 'MedicationRequest.statusReason',
    hint: 'Say why in statusReason.text (e.g. "Rash after the second dose"), so the next clinician knows whether to restart it',
  });
}
