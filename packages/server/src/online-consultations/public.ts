/**
 * The public routes (no staff session), the same at the node and at the hub:
 *   GET  /api/public/online-consultations/:practice/opening
 *   GET  /api/public/online-consultations/:practice/questionnaire
 *   POST /api/public/online-consultations/:practice/submissions
 * Protection: a per-client fixed-window limit on submissions (one address flooding is refused with 429
 * while others go on), a body limit sized for the photos allowed, JSON only (a form on another site
 * cannot post it, and the cross-site check refuses browsers that say cross-site), no patient data in
 * the URL, and nothing of the body logged (fastify logs method, URL and status only).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServiceOpening, SubmissionPayload } from '@steadfast/domain/api';
import { SteadfastError } from '@steadfast/domain';
import { CURRENT_QUESTIONNAIRE, PHOTO_MAX_BYTES, PHOTO_MAX_COUNT, URGENT_ADVICE } from '@steadfast/domain/online-consultations';
import type { RecordStore } from '@steadfast/store';
import type { DurableInbox } from '../inbox/index.ts';
import { acceptance, INBOX_CAPABILITY, type Parsed } from './intake.ts';
import { CORE_HOURS, type OnlineConsultationOptions } from './options.ts';
import type { ReceivedVia } from './records.ts';

/** Photos in base64 (4/3) plus the answers. */
export const SUBMISSION_BODY_LIMIT = Math.ceil((PHOTO_MAX_BYTES * PHOTO_MAX_COUNT * 4) / 3) + 256 * 1024;
const ACK_WAIT_MS = 10_000;

export interface PublicTarget {
  store: RecordStore;
  inbox: DurableInbox<Parsed>;
  receive: (raw: string, source: string) => ReturnType<DurableInbox<Parsed>['receive']>;
  options: OnlineConsultationOptions;
  via: ReceivedVia;
}

/** A fixed window per client address; memory bounded by sweeping expired windows. */
export class ClientRateLimit {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly max: number, private readonly windowMs: number) {}

  /** Seconds to wait, or 0 when this request may go on. */
  take(client: string, now = Date.now()): number {
    if (this.windows.size > 50_000) for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    const w = this.windows.get(client);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.set(client, { start: now, count: 1 });
      return 0;
    }
    if (w.count >= this.max) return Math.ceil((w.start + this.windowMs - now) / 1000);
    w.count++;
    return 0;
  }
}

function londonNow(now: Date): { day: number; time: string; date: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!);
  return { day, time: `${parts.hour}:${parts.minute}`, date: `${parts.year}-${parts.month}-${parts.day}` };
}

/** Submissions taken today (Europe/London), counted from the inbox: the same at node and hub. */
async function takenToday(store: RecordStore, now: Date): Promise<number> {
  const since = new Date(now.getTime() - 36 * 3600_000).toISOString();
  const { date } = londonNow(now);
  const rows = await (store.db as any)
    .selectFrom('inbox_items')
    .select('received_at')
    .where('practice', '=', store.practice)
    .where('capability', '=', INBOX_CAPABILITY)
    .where('state', 'in', ['received', 'stored'])
    .where('received_at', '>=', since)
    .execute();
  return (rows as Array<{ received_at: string }>).filter((r) => londonNow(new Date(r.received_at)).date === date).length;
}

export async function openingOf(target: PublicTarget, now = new Date()): Promise<ServiceOpening> {
  const o = target.options;
  const hours = o.hours ?? CORE_HOURS;
  const { day, time } = londonNow(now);
  const inHours = hours.some((h) => h.day === day && h.opens <= time && time < h.closes);
  const capacity = o.dailyCapacity ?? null;
  const remaining = capacity === null ? null : Math.max(0, capacity - (await takenToday(target.store, now)));
  const closedReason = o.enabled === false ? 'closed' : !inHours ? 'hours' : remaining === 0 ? 'capacity' : undefined;
  const messages = {
    closed: 'Online requests are switched off at the moment. Please phone the practice.',
    hours: 'Online requests are closed outside the practice\u2019s opening hours. Please try again when we open.',
    capacity: 'We have taken as many online requests as we can safely deal with today. Please try again tomorrow, or phone the practice.',
  };
  return {
    practice: target.store.practice,
    practiceName: o.practiceName ?? target.store.practice,
    open: !closedReason,
    ...(closedReason ? { closedReason, closedMessage: o.closedMessage ?? messages[closedReason] } : {}),
    hours,
    dailyCapacity: capacity,
    remainingToday: remaining,
    urgentAdvice: URGENT_ADVICE,
    answeredBy: target.via,
  };
}

function clientOf(request: FastifyRequest): string {
  return request.ip;
}

export function registerPublicSubmissions(app: FastifyInstance, targetFor: (practice: string) => Promise<PublicTarget | undefined>, limit: ClientRateLimit): void {
  const base = '/api/public/online-consultations/:practice';
  const target = async (practice: string): Promise<PublicTarget> => {
    const t = /^[A-Z0-9]{3,10}$/.test(practice) ? await targetFor(practice) : undefined;
    if (!t) throw new SteadfastError('not-found', `No online consultation service for practice ${practice}`, { field: 'practice', hint: 'Check the practice code in the link' });
    return t;
  };
  app.get<{ Params: { practice: string } }>(`${base}/opening`, { config: { public: true } }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    return openingOf(await target(request.params.practice));
  });
  app.get<{ Params: { practice: string } }>(`${base}/questionnaire`, { config: { public: true } }, async (request) => {
    await target(request.params.practice);
    return CURRENT_QUESTIONNAIRE;
  });
  app.post<{ Params: { practice: string } }>(
    `${base}/submissions`,
    {
      config: { public: true },
      bodyLimit: SUBMISSION_BODY_LIMIT,
      onRequest: async (request) => {
        const wait = limit.take(clientOf(request));
        if (wait) throw new SteadfastError('too-many-requests', 'Too many requests have been sent from this device', { hint: `Wait ${wait} seconds and try again` });
      },
      errorHandler: (err, _request, reply) => {
        if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          const e = new SteadfastError('too-large', `The request is larger than ${Math.round(SUBMISSION_BODY_LIMIT / 1024 / 1024)} MB`, {
            field: 'photos',
            hint: `Each photo must be smaller than ${PHOTO_MAX_BYTES / 1024 / 1024} MB, and at most ${PHOTO_MAX_COUNT} photos`,
          });
          return reply.code(413).type('application/fhir+json').send(e.toOperationOutcome());
        }
        throw err;
      },
    },
    async (request, reply) => {
      const t = await target(request.params.practice);
      // Kept raw by the inbox as the parsed JSON re-serialised (the node's JSON parser owns the bytes).
      const raw = JSON.stringify(request.body ?? null);
      const opening = await openingOf(t);
      if (!opening.open) {
        throw new SteadfastError('unavailable', opening.closedMessage ?? 'Online requests are closed', { hint: URGENT_ADVICE });
      }
      const received = await t.receive(raw, t.via === 'hub' ? 'hub' : 'web');
      if (received.state === 'refused') throw new SteadfastError('unavailable', 'Your request could not be saved', { hint: 'Nothing was kept. Send it again in a minute' });
      if (received.state === 'quarantined') throw received.error instanceof SteadfastError ? received.error : new SteadfastError('invalid', String(received.error));
      const payload = received.parsed!.payload as SubmissionPayload;
      // Acknowledge once the raw item is committed; wait (bounded) for the record too, so the reference
      // the patient gets is already in the record when the worker keeps up.
      if (received.state === 'received') await Promise.race([t.inbox.awaitProcessed([received.id]), new Promise((r) => setTimeout(r, ACK_WAIT_MS))]);
      const item = await t.inbox.item(received.id);
      if (item?.state === 'quarantined') throw new SteadfastError('invalid', 'Your request could not be stored', { hint: 'The practice has been told. Please phone the practice instead' });
      const duplicate = received.state === 'duplicate' || item?.state === 'already-held';
      // 202: kept raw (durably) but not yet in the record; it will be, and the reference stands.
      if (item?.state === 'received') return reply.code(202).send(acceptance(t.store.practice, payload, item.received_at, false));
      return reply.code(duplicate ? 200 : 201).send(acceptance(t.store.practice, payload, item?.received_at ?? new Date().toISOString(), duplicate));
    },
  );
}

