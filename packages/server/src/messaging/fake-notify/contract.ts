/**
 * GOV.UK Notify's published API contract, as the local Notify server checks it: every rule in one
 * place, named after the documentation (docs.notifications.service.gov.uk/rest-api, and the OpenAPI
 * and JSON Schemas in shared/fixtures/notify), so the two can be compared line by line.
 *
 *   auth            Authorization: Bearer <JWT HS256 {iss: service id, iat}>, iat within 30 s
 *   errors          {"errors":[{"error","message"}],"status_code"} with 400/403/404/429/500
 *   sms             phone_number a UK mobile, template_id a uuid of an sms template, personalisation
 *                   complete, content at most 918 characters
 *   email           email_address valid, template of type email, personalisation complete
 *   letter          precompiled: reference + base64 PDF content (postage first|second|economy); or a
 *                   letter template with address_line_1, 2 and a postcode-like last line
 *   rate limits     3,000 requests per 60 s per key (RateLimitError), a daily limit (TooManyRequestsError)
 *   test key        07700900003 / temp-fail@simulator.notify: temporary-failure;
 *                   07700900002 / perm-fail@simulator.notify: permanent-failure
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CLOCK_SKEW_SECONDS = 30;
export const SMS_MAX_CHARACTERS = 918;
export const RATE_LIMIT_PER_MINUTE = 3000;
export const PRECOMPILED_MAX_BYTES = 5 * 1024 * 1024;

export type NotifyErrorName = 'ValidationError' | 'BadRequestError' | 'AuthError' | 'RateLimitError' | 'TooManyRequestsError' | 'NoResultFound' | 'Exception';

export interface NotifyErrorBody {
  errors: Array<{ error: NotifyErrorName; message: string }>;
  status_code: number;
}

/** A documented error: thrown by the checks below, answered as Notify's error JSON. */
export class NotifyApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorName: NotifyErrorName,
    message: string,
  ) {
    super(message);
  }
  body(): NotifyErrorBody {
    return { errors: [{ error: this.errorName, message: this.message }], status_code: this.statusCode };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** An API key is `{key_name}-{service_id}-{secret}`: the last 36 characters the secret, the 36 before them the service id. */
export function parseApiKey(key: string): { keyName: string; serviceId: string; secret: string } {
  const secret = key.slice(-36);
  const serviceId = key.slice(-73, -37);
  const keyName = key.slice(0, -74);
  if (!isUuid(secret) || !isUuid(serviceId) || key.at(-37) !== '-' || !keyName) {
    throw new Error('An API key is {key_name}-{service_id}-{secret}, the last two UUIDs');
  }
  return { keyName, serviceId, secret };
}

const b64url = (buf: Buffer) => buf.toString('base64url');

/** Checks the bearer token and returns the JWT's issuer (the service id), or throws a 403 AuthError. */
export function verifyBearer(authorization: string | undefined, secretOf: (serviceId: string) => string | undefined, nowMs: number): string {
  if (!authorization) throw new NotifyApiError(403, 'AuthError', 'Unauthorized: authentication token must be provided');
  const m = /^Bearer (\S+)$/.exec(authorization);
  if (!m) throw new NotifyApiError(403, 'AuthError', 'Unauthorized: authentication bearer scheme must be used');
  const parts = m[1]!.split('.');
  if (parts.length !== 3) throw new NotifyApiError(403, 'AuthError', 'Invalid token: signature, api token is not valid');
  let header: { alg?: string; typ?: string };
  let claims: { iss?: string; iat?: number };
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new NotifyApiError(403, 'AuthError', 'Invalid token: signature, api token is not valid');
  }
  if (header.alg !== 'HS256') throw new NotifyApiError(403, 'AuthError', 'Invalid token: algorithm used is not HS256');
  if (!claims.iss) throw new NotifyApiError(403, 'AuthError', 'Invalid token: iss field not provided');
  const secret = secretOf(claims.iss);
  if (!secret) throw new NotifyApiError(403, 'AuthError', 'Invalid token: service not found');
  const expected = Buffer.from(b64url(createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest()));
  const given = Buffer.from(parts[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new NotifyApiError(403, 'AuthError', 'Invalid token: signature, api token not found');
  if (typeof claims.iat !== 'number') throw new NotifyApiError(403, 'AuthError', 'Invalid token: iat field not provided');
  if (Math.abs(nowMs / 1000 - claims.iat) > CLOCK_SKEW_SECONDS) throw new NotifyApiError(403, 'AuthError', 'Error: Your system clock must be accurate to within 30 seconds');
  return claims.iss;
}

export type TemplateType = 'sms' | 'email' | 'letter';

export interface NotifyTemplate {
  id: string;
  name: string;
  type: TemplateType;
  body: string;
  subject?: string;
  version: number;
}

/** The ((placeholders)) of a template's subject and body (Notify's syntax; `((name??text))` is optional content). */
export function placeholdersOf(template: Pick<NotifyTemplate, 'body' | 'subject'>): string[] {
  const names = new Set<string>();
  for (const m of `${template.subject ?? ''}\n${template.body}`.matchAll(/\(\(([^()?]+)(\?\?[^()]*)?\)\)/g)) names.add(m[1]!.trim());
  return [...names];
}

export function render(text: string, personalisation: Record<string, unknown>): string {
  return text.replace(/\(\(([^()?]+)(\?\?([^()]*))?\)\)/g, (_, name: string, cond: string | undefined, shown: string | undefined) => {
    const value = personalisation[name.trim()];
    if (cond !== undefined) return value ? (shown ?? '') : '';
    return Array.isArray(value) ? value.map((v) => `* ${v}`).join('\n') : String(value ?? '');
  });
}

function requireTemplate(body: Record<string, unknown>, templates: Map<string, NotifyTemplate>, type: TemplateType): NotifyTemplate {
  if (body.template_id === undefined) throw new NotifyApiError(400, 'ValidationError', 'template_id is a required property');
  if (!isUuid(body.template_id)) throw new NotifyApiError(400, 'ValidationError', 'template_id is not a valid UUID');
  const template = templates.get(body.template_id);
  if (!template) throw new NotifyApiError(400, 'BadRequestError', 'Template not found');
  if (template.type !== type) throw new NotifyApiError(400, 'BadRequestError', `${type} template is not suitable for ${template.type} notification`);
  return template;
}

function checkPersonalisation(template: NotifyTemplate, body: Record<string, unknown>): Record<string, unknown> {
  const p = body.personalisation ?? {};
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new NotifyApiError(400, 'ValidationError', 'personalisation {} is not of type object');
  const given = p as Record<string, unknown>;
  const missing = placeholdersOf(template).filter((name) => !/\?\?/.test(name) && (given[name] === undefined || given[name] === null));
  if (missing.length) throw new NotifyApiError(400, 'BadRequestError', `Missing personalisation: ${missing.join(', ')}`);
  return given;
}

function checkReference(body: Record<string, unknown>): string | null {
  if (body.reference === undefined || body.reference === null) return null;
  if (typeof body.reference !== 'string') throw new NotifyApiError(400, 'ValidationError', 'reference is not of type string');
  if (body.reference.length > 1000) throw new NotifyApiError(400, 'ValidationError', 'reference is too long');
  return body.reference;
}

/** Notify's own UK mobile check (the same rule as @steadfast/domain/contact, answered Notify's way). */
export function checkUkMobile(value: unknown): string {
  if (value === undefined) throw new NotifyApiError(400, 'ValidationError', 'phone_number is a required property');
  if (typeof value !== 'string') throw new NotifyApiError(400, 'ValidationError', 'phone_number is not of type string');
  let n = value.replace(/[\s\-().]/g, '');
  if (!/^\+?\d+$/.test(n)) throw new NotifyApiError(400, 'ValidationError', 'phone_number Must not contain letters or symbols');
  if (n.startsWith('+44')) n = '0' + n.slice(3);
  else if (n.startsWith('0044')) n = '0' + n.slice(4);
  else if (n.startsWith('44') && n.length === 12) n = '0' + n.slice(2);
  if (!n.startsWith('07')) throw new NotifyApiError(400, 'ValidationError', 'phone_number Not a UK mobile number');
  if (n.length > 11) throw new NotifyApiError(400, 'ValidationError', 'phone_number Too many digits');
  if (n.length < 11) throw new NotifyApiError(400, 'ValidationError', 'phone_number Not enough digits');
  return n;
}

export function checkEmail(value: unknown): string {
  if (value === undefined) throw new NotifyApiError(400, 'ValidationError', 'email_address is a required property');
  if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(value.trim()) || value.includes('..')) {
    throw new NotifyApiError(400, 'ValidationError', 'email_address Not a valid email address');
  }
  return value.trim();
}

export interface CheckedSms { template: NotifyTemplate; to: string; body: string; reference: string | null }
export interface CheckedEmail { template: NotifyTemplate; to: string; body: string; subject: string; reference: string | null }
export interface CheckedLetter { template?: NotifyTemplate; body: string; subject: string; reference: string | null; postage: string; precompiled: boolean; address: string[] }

export function checkSms(body: Record<string, unknown>, templates: Map<string, NotifyTemplate>): CheckedSms {
  const to = checkUkMobile(body.phone_number);
  const template = requireTemplate(body, templates, 'sms');
  const text = render(template.body, checkPersonalisation(template, body));
  if (text.length > SMS_MAX_CHARACTERS) {
    throw new NotifyApiError(400, 'BadRequestError', `Text messages cannot be longer than ${SMS_MAX_CHARACTERS} characters. Your message is ${text.length} characters`);
  }
  return { template, to, body: text, reference: checkReference(body) };
}

export function checkEmailNotification(body: Record<string, unknown>, templates: Map<string, NotifyTemplate>): CheckedEmail {
  const to = checkEmail(body.email_address);
  const template = requireTemplate(body, templates, 'email');
  const p = checkPersonalisation(template, body);
  return { template, to, body: render(template.body, p), subject: render(template.subject ?? '', p), reference: checkReference(body) };
}

const POSTAGE = new Set(['first', 'second', 'economy', 'europe', 'rest-of-world']);

export function checkLetter(body: Record<string, unknown>, templates: Map<string, NotifyTemplate>): CheckedLetter {
  if (body.content !== undefined) {
    if (typeof body.reference !== 'string' || !body.reference) throw new NotifyApiError(400, 'ValidationError', 'reference is a required property');
    if (typeof body.content !== 'string') throw new NotifyApiError(400, 'ValidationError', 'content is not of type string');
    const pdf = Buffer.from(body.content, 'base64');
    if (pdf.length > PRECOMPILED_MAX_BYTES) throw new NotifyApiError(400, 'ValidationError', 'File size of the letter is too large. Maximum file size is 5MB');
    if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new NotifyApiError(400, 'ValidationError', 'Letter content is not a valid PDF');
    const postage = body.postage === undefined ? 'second' : body.postage;
    if (typeof postage !== 'string' || !POSTAGE.has(postage)) throw new NotifyApiError(400, 'ValidationError', `postage invalid. It must be either first, second or economy.`);
    return { body: '', subject: 'Pre-compiled PDF', reference: body.reference, postage, precompiled: true, address: [] };
  }
  const template = requireTemplate(body, templates, 'letter');
  const p = checkPersonalisation(template, body);
  const address = [1, 2, 3, 4, 5, 6, 7].map((i) => p[`address_line_${i}`]).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (address.length < 3) throw new NotifyApiError(400, 'ValidationError', 'Address must be at least 3 lines');
  if (!/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i.test(address.at(-1)!.trim())) throw new NotifyApiError(400, 'ValidationError', 'Must be a real UK postcode');
  return { template, body: render(template.body, p), subject: render(template.subject ?? '', p), reference: checkReference(body), postage: 'second', precompiled: false, address };
}

/** Test-key simulated outcomes (docs: "Testing"): what a notification to this address becomes. */
export function simulatedOutcome(to: string, keyType: 'test' | 'live' | 'team'): 'delivered' | 'temporary-failure' | 'permanent-failure' {
  if (keyType !== 'test') return 'delivered';
  if (to === '07700900003' || to === 'temp-fail@simulator.notify') return 'temporary-failure';
  if (to === '07700900002' || to === 'perm-fail@simulator.notify') return 'permanent-failure';
  return 'delivered';
}

/** A sliding 60-second window per key (RateLimitError) and a count per day (TooManyRequestsError). */
export class RateLimiter {
  private readonly window: number[] = [];
  private day = '';
  private today = 0;
  constructor(
    private readonly perMinute: number,
    private readonly perDay: number,
  ) {}
  /** Every authenticated request counts towards the minute's limit. */
  takeRequest(nowMs: number, keyType: string): void {
    while (this.window.length && this.window[0]! <= nowMs - 60_000) this.window.shift();
    if (this.window.length >= this.perMinute) {
      throw new NotifyApiError(429, 'RateLimitError', `Exceeded rate limit for key type ${keyType.toUpperCase()} of ${this.perMinute} requests per 60 seconds`);
    }
    this.window.push(nowMs);
  }
  /** Every notification sent counts towards the day's limit. */
  takeSend(nowMs: number): void {
    const day = new Date(nowMs).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.today = 0;
    }
    if (this.today >= this.perDay) throw new NotifyApiError(429, 'TooManyRequestsError', `Exceeded send limits (${this.perDay}) for today`);
    this.today++;
  }
}
