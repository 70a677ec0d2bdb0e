/**
 * A local GOV.UK Notify server for development and tests: the v2 endpoints Steadfast uses, on
 * loopback, checked by contract.ts. The production client (notifications-node-client) talks to it
 * unchanged, given its base URL. It keeps notifications in memory, moves each to its final status
 * after `deliveryDelayMs` and POSTs the delivery receipt to the configured callback URL with the
 * configured bearer token (retried, like Notify's). Tests can inject faults, cut it off and add
 * received text messages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../../testing/loopback.ts';
import { randomUUID } from 'node:crypto';
import {
  checkEmailNotification,
  checkLetter,
  checkSms,
  isUuid,
  NotifyApiError,
  parseApiKey,
  RATE_LIMIT_PER_MINUTE,
  RateLimiter,
  simulatedOutcome,
  verifyBearer,
  type NotifyTemplate,
  type TemplateType,
} from './contract.ts';

export interface FakeNotifyOptions {
  /** Keys this service accepts, `{key_name}-{service_id}-{secret}`; default: one test key made up. */
  apiKeys?: Array<{ key: string; type: 'test' | 'live' | 'team' }>;
  templates?: NotifyTemplate[];
  /** Delivery receipts are POSTed here, with `callbackToken` as the bearer token. */
  callbackUrl?: string;
  callbackToken?: string;
  /** How long after sending a notification reaches its final status (default 20 ms). */
  deliveryDelayMs?: number;
  perMinute?: number;
  perDay?: number;
  port?: number;
  now?: () => number;
}

export interface FakeNotification {
  id: string;
  reference: string | null;
  type: TemplateType;
  to: string;
  body: string;
  subject: string | null;
  status: string;
  template: NotifyTemplate | undefined;
  createdAt: string;
  sentAt: string | null;
  completedAt: string | null;
  postage: string | null;
  keyType: string;
}

export interface ReceivedText {
  id: string;
  user_number: string;
  notify_number: string;
  created_at: string;
  service_id: string;
  content: string;
}

export const DEMO_SERVICE_ID = '6f2b9c1e-4d7a-4b8e-9c3f-2a1d5e7b8c90';
export const DEMO_SECRET = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
export const DEMO_TEST_KEY = `steadfast_demo-${DEMO_SERVICE_ID}-${DEMO_SECRET}`;

/** Notify templates with one ((body)) placeholder: the practice's own templates are rendered into them. */
export const DEFAULT_TEMPLATES: NotifyTemplate[] = [
  { id: '1d6a7c6e-0f1a-4c55-9b2e-3c4d5e6f7a81', name: 'Steadfast text message', type: 'sms', body: '((body))', version: 1 },
  { id: '2e7b8d7f-1a2b-4d66-8c3f-4d5e6f7a8b92', name: 'Steadfast email', type: 'email', subject: '((subject))', body: '((body))', version: 1 },
  { id: '3f8c9e80-2b3c-4e77-9d40-5e6f7a8b9ca3', name: 'Steadfast letter', type: 'letter', subject: '((subject))', body: '((body))', version: 1 },
];

export class FakeNotify {
  readonly notifications = new Map<string, FakeNotification>();
  readonly received: ReceivedText[] = [];
  /** Every request: method, path, status answered (for tests). */
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  /** Delivery receipts POSTed and what the receiver answered. */
  readonly callbacks: Array<{ id: string; status: string; answered: number | 'unreachable' }> = [];
  readonly templates: Map<string, NotifyTemplate>;
  private readonly keys: Map<string, { secret: string; type: string }>;
  private readonly limiter: RateLimiter;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private faults: Array<{ status: number; error: string; message: string }> = [];
  private cut = false;
  private readonly now: () => number;
  url = '';

  constructor(private readonly options: FakeNotifyOptions = {}) {
    this.now = options.now ?? Date.now;
    this.templates = new Map((options.templates ?? DEFAULT_TEMPLATES).map((t) => [t.id, t]));
    this.keys = new Map();
    for (const { key, type } of options.apiKeys ?? [{ key: DEMO_TEST_KEY, type: 'test' as const }]) {
      const { serviceId, secret } = parseApiKey(key);
      this.keys.set(serviceId, { secret, type });
    }
    this.limiter = new RateLimiter(options.perMinute ?? RATE_LIMIT_PER_MINUTE, options.perDay ?? 250_000);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server, this.sockets, this.options.port);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answer the next `times` sends with this documented error (e.g. 500 Exception, 429 RateLimitError). */
  failNext(times: number, status: number, error = status === 429 ? 'RateLimitError' : status === 403 ? 'AuthError' : status >= 500 ? 'Exception' : 'BadRequestError', message = status >= 500 ? 'Internal server error' : `Simulated ${status}`): void {
    for (let i = 0; i < times; i++) this.faults.push({ status, error, message });
  }

  /** Cut the network: every connection is dropped until `restore()`. */
  cutOff(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }
  restore(): void {
    this.cut = false;
  }

  /** Where delivery receipts go (known only once the receiving node listens). */
  setCallback(url: string, token: string): void {
    this.options.callbackUrl = url;
    this.options.callbackToken = token;
  }

  /** A patient texts the service's number. */
  receiveText(from: string, content: string): ReceivedText {
    const text: ReceivedText = { id: randomUUID(), user_number: from.replace(/^0/, '44'), notify_number: '07700900999', created_at: new Date(this.now()).toISOString(), service_id: [...this.keys.keys()][0]!, content };
    this.received.unshift(text);
    return text;
  }

  byReference(reference: string): FakeNotification[] {
    return [...this.notifications.values()].filter((n) => n.reference === reference);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.cut) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 200;
    let body: unknown;
    try {
      const raw = await readBody(req);
      const keyType = this.authenticate(req.headers.authorization);
      this.limiter.takeRequest(this.now(), keyType);
      body = this.route(req.method ?? 'GET', url, raw, keyType);
      if (req.method === 'POST') status = 201;
    } catch (err) {
      const e = err instanceof NotifyApiError ? err : new NotifyApiError(500, 'Exception', 'Internal server error');
      status = e.statusCode;
      body = e.body();
    }
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private authenticate(authorization: string | undefined): string {
    const serviceId = verifyBearer(authorization, (id) => this.keys.get(id)?.secret, this.now());
    return this.keys.get(serviceId)!.type;
  }

  private route(method: string, url: URL, raw: string, keyType: string): unknown {
    const path = url.pathname;
    if (method === 'POST') {
      const m = /^\/v2\/notifications\/(sms|email|letter)$/.exec(path);
      if (!m) throw new NotifyApiError(404, 'NoResultFound', 'The requested URL was not found on the server.');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        throw new NotifyApiError(400, 'BadRequestError', 'Invalid JSON supplied in POST data');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new NotifyApiError(400, 'BadRequestError', 'Invalid JSON supplied in POST data');
      const fault = this.faults.shift();
      if (fault) throw new NotifyApiError(fault.status, fault.error as never, fault.message);
      const n = this.create(m[1] as TemplateType, body, keyType);
      return this.postResponse(n);
    }
    if (method !== 'GET') throw new NotifyApiError(405, 'BadRequestError', 'The method is not allowed for the requested URL.');
    if (path === '/v2/notifications') {
      const reference = url.searchParams.get('reference');
      const status = url.searchParams.get('status');
      const type = url.searchParams.get('template_type');
      const all = [...this.notifications.values()].reverse().filter((n) => (!reference || n.reference === reference) && (!status || n.status === status) && (!type || n.type === type));
      return { notifications: all.slice(0, 250).map((n) => this.getResponse(n)), links: { current: `${this.url}${path}${url.search}` } };
    }
    if (path === '/v2/received-text-messages') {
      const olderThan = url.searchParams.get('older_than');
      const start = olderThan ? this.received.findIndex((t) => t.id === olderThan) + 1 : 0;
      const page = this.received.slice(start, start + 250);
      return { received_text_messages: page, links: { current: `${this.url}${path}${url.search}`, ...(page.length === 250 ? { next: `${this.url}${path}?older_than=${page.at(-1)!.id}` } : {}) } };
    }
    let m = /^\/v2\/notifications\/([^/]+)$/.exec(path);
    if (m) {
      if (!isUuid(m[1])) throw new NotifyApiError(400, 'ValidationError', 'notification_id is not a valid UUID');
      const n = this.notifications.get(m[1]);
      if (!n) throw new NotifyApiError(404, 'NoResultFound', 'No result found');
      return this.getResponse(n);
    }
    m = /^\/v2\/template\/([^/]+)$/.exec(path);
    if (m) {
      if (!isUuid(m[1])) throw new NotifyApiError(400, 'ValidationError', 'template_id is not a valid UUID');
      const t = this.templates.get(m[1]);
      if (!t) throw new NotifyApiError(404, 'NoResultFound', 'No result found');
      return { id: t.id, name: t.name, type: t.type, created_at: '2026-01-01T00:00:00.000000Z', updated_at: null, created_by: 'steadfast@example.nhs.uk', version: t.version, body: t.body, subject: t.subject ?? null, letter_contact_block: t.type === 'letter' ? 'The Surgery' : null };
    }
    throw new NotifyApiError(404, 'NoResultFound', 'The requested URL was not found on the server.');
  }

  private create(type: TemplateType, body: Record<string, unknown>, keyType: string): FakeNotification {
    const checked = type === 'sms' ? checkSms(body, this.templates) : type === 'email' ? checkEmailNotification(body, this.templates) : checkLetter(body, this.templates);
    this.limiter.takeSend(this.now());
    const to = 'to' in checked ? checked.to : 'address' in checked ? checked.address.join(', ') : '';
    const n: FakeNotification = {
      id: randomUUID(),
      reference: checked.reference,
      type,
      to,
      body: checked.body,
      subject: 'subject' in checked ? checked.subject : null,
      status: 'created',
      template: checked.template,
      createdAt: new Date(this.now()).toISOString(),
      sentAt: null,
      completedAt: null,
      postage: 'postage' in checked ? checked.postage : null,
      keyType,
    };
    this.notifications.set(n.id, n);
    this.later(() => {
      n.status = 'sending';
      n.sentAt = new Date(this.now()).toISOString();
      this.later(() => {
        n.status = type === 'letter' ? 'received' : simulatedOutcome(to, keyType as 'test');
        n.completedAt = new Date(this.now()).toISOString();
        void this.sendCallback(n, 0);
      });
    });
    return n;
  }

  private later(fn: () => void, ms = this.options.deliveryDelayMs ?? 20): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Notify's delivery receipt (callbacks page); retried up to 5 times when the receiver fails. */
  private async sendCallback(n: FakeNotification, attempt: number): Promise<void> {
    if (!this.options.callbackUrl) return;
    const receipt = {
      id: n.id,
      reference: n.reference,
      to: n.to,
      status: n.status,
      created_at: n.createdAt,
      completed_at: n.completedAt,
      sent_at: n.sentAt,
      notification_type: n.type,
      template_id: n.template?.id ?? null,
      template_version: n.template?.version ?? null,
    };
    let answered: number | 'unreachable';
    try {
      const res = await fetch(this.options.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.callbackToken ?? ''}` }, body: JSON.stringify(receipt) });
      answered = res.status;
    } catch {
      answered = 'unreachable';
    }
    this.callbacks.push({ id: n.id, status: n.status, answered });
    if ((answered === 'unreachable' || answered >= 500) && attempt < 5) this.later(() => void this.sendCallback(n, attempt + 1), 200 * (attempt + 1));
  }

  private postResponse(n: FakeNotification): unknown {
    const template = n.template ? { id: n.template.id, version: n.template.version, uri: `${this.url}/services/${[...this.keys.keys()][0]}/templates/${n.template.id}` } : undefined;
    const base = { id: n.id, reference: n.reference, uri: `${this.url}/v2/notifications/${n.id}`, scheduled_for: null };
    if (n.type === 'sms') return { ...base, content: { body: n.body, from_number: 'GPSURGERY' }, template };
    if (n.type === 'email') return { ...base, content: { body: n.body, subject: n.subject ?? '', from_email: 'surgery@notifications.service.gov.uk' }, template, sanitised_content: {} };
    return { ...base, postage: n.postage ?? 'second', content: { body: n.body, subject: n.subject ?? '' }, ...(template ? { template } : {}) };
  }

  private getResponse(n: FakeNotification): unknown {
    const line = (i: number) => (n.type === 'letter' ? (n.to.split(', ')[i] ?? null) : null);
    return {
      id: n.id,
      reference: n.reference,
      email_address: n.type === 'email' ? n.to : null,
      phone_number: n.type === 'sms' ? n.to : null,
      line_1: line(0), line_2: line(1), line_3: line(2), line_4: line(3), line_5: line(4), line_6: line(5),
      postcode: null,
      postage: n.postage,
      type: n.type,
      status: n.status,
      template: n.template ? { id: n.template.id, version: n.template.version, uri: `${this.url}/v2/template/${n.template.id}` } : { id: '00000000-0000-4000-8000-000000000000', version: 1, uri: '' },
      body: n.body,
      subject: n.subject,
      created_at: n.createdAt,
      created_by_name: null,
      sent_at: n.sentAt,
      completed_at: n.completedAt,
      scheduled_for: null,
      is_cost_data_ready: false,
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 8 * 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeNotify(options: FakeNotifyOptions = {}): Promise<FakeNotify> {
  const fake = new FakeNotify(options);
  await fake.start();
  return fake;
}
