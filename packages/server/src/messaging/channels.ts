/**
 * The GOV.UK Notify channels (notify-sms, notify-email, notify-letter) behind the outbox contract,
 * through the official notifications-node-client. Every send carries the outbox message id as
 * Notify's `reference`, and before any second attempt the channel asks Notify whether a notification
 * with that reference already exists, so a timeout or a crash between "sent" and "recorded" never
 * texts the patient twice. 400/403 stop (shown to a person with Notify's words); 429, 5xx and no
 * answer are retried.
 */
import notifyClient from 'notifications-node-client';
import type { AppDeps } from '../capability.ts';
import type { DeliveryResult, OutboxChannel, QueuedMessage } from '../outbox/contract.ts';
import { applyDeliveryStatus, deliveryStatusOf } from './delivery.ts';
import { buildLetterPdf } from './letter.ts';
import type { NotifyConnection } from './options.ts';
import type { NotifyPayload } from './send.ts';
import { mdb } from './tables.ts';

const { NotifyClient } = notifyClient;
type Client = InstanceType<typeof NotifyClient>;

export const NOTIFY_PER_MINUTE = 3000;
export const NOTIFY_DEFAULT_PER_DAY = 250_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** A message that waited past its use (a reminder while Notify was down until the appointment began): withdrawn, never sent late. */
export const EXPIRED = 'Not sent: it was no longer useful by the time GOV.UK Notify could be reached';

export function notifyClientOf(connection: NotifyConnection): Client {
  return new NotifyClient(connection.baseUrl, connection.apiKey);
}

/** What a failed client call means for the outbox (Notify's error JSON, or no answer at all). */
export function classifyNotifyError(err: unknown): DeliveryResult {
  const e = err as { response?: { status?: number; data?: { errors?: Array<{ error?: string; message?: string }> }; headers?: Record<string, string> }; message?: string; code?: string };
  const status = e.response?.status;
  if (!status) return { outcome: 'retry', error: `GOV.UK Notify could not be reached: ${e.code ?? e.message ?? 'no answer'}` };
  const first = e.response?.data?.errors?.[0];
  const text = `GOV.UK Notify ${status} ${first?.error ?? ''}: ${first?.message ?? 'no detail'}`;
  if (status === 429) return { outcome: 'retry', error: text, retryAfterMs: first?.error === 'TooManyRequestsError' ? 60 * 60_000 : 60_000 };
  if (status >= 500) return { outcome: 'retry', error: text };
  return { outcome: 'failed', error: text };
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), REQUEST_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
}

/** The notification Notify holds for this outbox message, if any (looked up by reference). */
export async function findByReference(client: Client, reference: string): Promise<{ id: string; status: string } | undefined> {
  const res = await withTimeout(client.getNotifications(undefined, undefined, reference));
  const found = (res.data.notifications ?? [])[0];
  return found ? { id: found.id, status: found.status } : undefined;
}

export function notifyChannels(deps: AppDeps, connection: NotifyConnection, client: Client = notifyClientOf(connection)): OutboxChannel[] {
  const practice = deps.store.practice;
  const practiceName = deps.config.messaging?.practiceName ?? 'Your GP surgery';
  const limits = { perMinute: Math.min(connection.perMinute ?? NOTIFY_PER_MINUTE, NOTIFY_PER_MINUTE), perDay: connection.perDay ?? NOTIFY_DEFAULT_PER_DAY };

  async function send(message: QueuedMessage): Promise<DeliveryResult> {
    const p = message.payload as NotifyPayload;
    const reference = message.idempotencyKey;
    const templateId = connection.templates[p.kind];
    if (!templateId && p.kind !== 'letter') return { outcome: 'failed', error: `No GOV.UK Notify ${p.kind} template is configured (--notify-${p.kind}-template)` };
    if (p.kind === 'sms') return sent(await withTimeout(client.sendSms(templateId!, p.to, { personalisation: { body: p.body }, reference })));
    if (p.kind === 'email') return sent(await withTimeout(client.sendEmail(templateId!, p.to, { personalisation: { subject: p.subject ?? '', body: p.body }, reference })));
    const pdf = await buildLetterPdf(p.address ?? [], p.subject ?? '', p.body, practiceName);
    return sent(await withTimeout(client.sendPrecompiledLetter(reference, pdf, 'second')));
  }

  function sent(res: { data: { id: string } }): DeliveryResult {
    return { outcome: 'sent', providerRef: res.data.id };
  }

  const channel = (name: string): OutboxChannel => ({
    name,
    label: 'GOV.UK Notify',
    limits,
    async deliver(message) {
      const expiresAt = (message.payload as NotifyPayload).expiresAt;
      if (expiresAt && Date.parse(expiresAt) <= Date.now()) return { outcome: 'failed', error: `${EXPIRED} (${expiresAt})` };
      try {
        // A second attempt may follow one that reached Notify and timed out: ask first.
        if (message.attempts > 1) {
          const existing = await findByReference(client, message.idempotencyKey);
          if (existing) return { outcome: 'sent', providerRef: existing.id, detail: 'found at GOV.UK Notify by reference' };
        }
        const result = await send(message);
        if (result.outcome === 'sent') await applyDeliveryStatus(deps.store, practice, message.id, 'sending', { notifyId: result.providerRef! });
        return result;
      } catch (err) {
        return classifyNotifyError(err);
      }
    },
    async reconcile(message) {
      try {
        const existing = await findByReference(client, message.idempotencyKey);
        return existing ? { outcome: 'sent', providerRef: existing.id, detail: 'found at GOV.UK Notify by reference' } : undefined;
      } catch (err) {
        // Notify cannot say: do not risk a second text; try the question again later.
        return classifyNotifyError(err).outcome === 'failed' ? undefined : { outcome: 'retry', error: 'GOV.UK Notify could not be asked whether the message was sent' };
      }
    },
    async settled(message, result) {
      if (result.outcome === 'sent') await applyDeliveryStatus(deps.store, practice, message.id, 'sending', result.providerRef ? { notifyId: result.providerRef } : {});
      else if (result.error.startsWith(EXPIRED)) await applyDeliveryStatus(deps.store, practice, message.id, 'cancelled', { error: result.error });
      else if (result.outcome === 'failed') await applyDeliveryStatus(deps.store, practice, message.id, 'failed', { error: result.error });
    },
  });
  return [channel('notify-sms'), channel('notify-email'), channel('notify-letter')];
}

/** Poll Notify for the status of messages still on their way (receipts missed while the node was down). */
export async function pollStatuses(deps: AppDeps, client: Client, limit = 200): Promise<number> {
  const practice = deps.store.practice;
  const rows = await mdb(deps.store.db).selectFrom('messaging_deliveries').select(['outbox_id', 'notify_id']).where('practice', '=', practice).where('status', 'in', ['sending', 'sent']).where('notify_id', 'is not', null).limit(limit).execute();
  let changed = 0;
  for (const row of rows) {
    const res = await withTimeout(client.getNotificationById(row.notify_id!));
    const status = deliveryStatusOf(res.data.status);
    if (status && status !== 'sending') {
      await applyDeliveryStatus(deps.store, practice, row.outbox_id, status);
      changed++;
    }
  }
  return changed;
}
