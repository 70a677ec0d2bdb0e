import type { OperationOutcome } from '@medplum/fhirtypes';

/**
 * Every expected failure in Steadfast is a SteadfastError: a code a program can act on, the input
 * that caused it (a FHIRPath-like expression such as `Patient.identifier[0].value`), and a hint that
 * tells a person how to fix it. The HTTP layer maps these to OperationOutcome in one place.
 *
 * One way to make one: `new SteadfastError(code, message naming the input, { field, hint naming the
 * fix })`. (Short helpers without a hint were here once and went unused: every error needs its hint.)
 */
export type ErrorCode =
  | 'invalid' // the input is malformed or breaks a rule
  | 'required' // a required element is missing
  | 'not-found'
  | 'deleted'
  | 'conflict' // a version or uniqueness conflict
  | 'precondition-failed' // If-Match did not match
  | 'unauthenticated'
  | 'forbidden'
  | 'too-large'
  | 'not-supported'
  | 'locked'
  | 'unavailable'
  | 'too-many-requests' // a client sent more than its share; wait and try again
  | 'internal';

const httpStatusByCode: Record<ErrorCode, number> = {
  invalid: 400,
  required: 400,
  'not-found': 404,
  deleted: 410,
  conflict: 409,
  'precondition-failed': 412,
  unauthenticated: 401,
  forbidden: 403,
  'too-large': 413,
  'not-supported': 400,
  locked: 423,
  unavailable: 503,
  'too-many-requests': 429,
  internal: 500,
};

/** FHIR issue-type codes (http://hl7.org/fhir/issue-type) for each of our codes. */
const issueTypeByCode: Record<ErrorCode, NonNullable<OperationOutcome['issue']>[number]['code']> = {
  invalid: 'invalid',
  required: 'required',
  'not-found': 'not-found',
  deleted: 'deleted',
  conflict: 'conflict',
  'precondition-failed': 'conflict',
  unauthenticated: 'login',
  forbidden: 'forbidden',
  'too-large': 'too-costly',
  'not-supported': 'not-supported',
  locked: 'lock-error',
  unavailable: 'transient',
  'too-many-requests': 'throttled',
  internal: 'exception',
};

export interface ErrorDetail {
  /** Where in the input the problem is, e.g. `Patient.birthDate` or `line 12`. */
  field?: string;
  /** What the person should do about it. */
  hint?: string;
}

export class SteadfastError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  /** Further problems found in the same input, so a person can fix them all at once. */
  readonly more: SteadfastError[];

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}, more: SteadfastError[] = []) {
    super(message);
    this.name = 'SteadfastError';
    this.code = code;
    this.field = detail.field;
    this.hint = detail.hint;
    this.more = more;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }

  toOperationOutcome(): OperationOutcome {
    return {
      resourceType: 'OperationOutcome',
      issue: [this, ...this.more].map((e) => ({
        severity: e.code === 'internal' ? 'fatal' : 'error',
        code: issueTypeByCode[e.code],
        diagnostics: e.hint ? `${e.message}. ${e.hint}` : e.message,
        ...(e.field ? { expression: [e.field] } : {}),
      })),
    };
  }
}

export function isSteadfastError(err: unknown): err is SteadfastError {
  return err instanceof SteadfastError;
}

/** Combine several validation errors into one thrown error that lists them all. */
export function combineErrors(errors: SteadfastError[]): SteadfastError {
  const [first, ...rest] = errors;
  if (!first) throw new Error('combineErrors needs at least one error');
  return new SteadfastError(first.code, first.message, { field: first.field, hint: first.hint }, rest);
}

/** A successful outcome, for operations that have nothing else to return. */
export function informationOutcome(message: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: message }] };
}
