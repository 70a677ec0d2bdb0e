/**
 * Messaging's options (`deps.config.messaging`) and the `steadfast serve` flags (or environment
 * variables) that set them. The API key, template ids and callback token are the practice's
 * configuration: never in the repository.
 */
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';

export interface NotifyConnection {
  /** https://api.notifications.service.gov.uk, or the local Notify server's URL. */
  baseUrl: string;
  /** `{key_name}-{service_id}-{secret}`. */
  apiKey: string;
  /** Notify template ids, one per channel, each with a ((body)) placeholder (and ((subject)) for email/letter). */
  templates: { sms?: string; email?: string; letter?: string };
  /** The bearer token Notify sends with delivery receipts (set in Notify's API integration page). */
  callbackToken?: string;
  /** The service's daily limit (default 250,000). */
  perDay?: number;
  /** Messages a minute (default and most 3,000). */
  perMinute?: number;
}

export interface MessagingOptions {
  notify?: NotifyConnection;
  /** The practice name used in messages (default "Your GP surgery"). */
  practiceName?: string;
  /** How often delivery statuses are polled and received texts fetched (default 60 s). */
  pollIntervalMs?: number;
  /** How often messages queued without their Communication (a broadcast's) are written into the record (default 5 s). */
  recordIntervalMs?: number;
  /** How often appointments are checked for confirmations and reminders (default 5 min). */
  reminderIntervalMs?: number;
  /** Reminders are sent this long before the appointment (default 24 h). */
  reminderLeadMs?: number;
  /** Booking confirmations and reminders (both on by default once Notify is configured). */
  appointmentMessages?: { confirmations?: boolean; reminders?: boolean };
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    messaging?: MessagingOptions;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function templateId(value: unknown, flag: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !UUID.test(value)) throw new SteadfastError('invalid', `${flag} "${String(value)}" is not a Notify template id`, { field: flag, hint: "Copy the template's ID from GOV.UK Notify (a UUID)" });
  return value;
}

/** The Notify connection from flags, falling back to the NOTIFY_* environment variables. */
export function notifyConnectionOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): NotifyConnection | undefined {
  const pick = (flag: string, name: string) => (values[flag] as string | undefined) ?? env[name];
  const apiKey = pick('notifyApiKey', 'NOTIFY_API_KEY');
  if (!apiKey) return undefined;
  if (!/^.+-[0-9a-f-]{36}-[0-9a-f-]{36}$/i.test(apiKey)) {
    throw new SteadfastError('invalid', 'The Notify API key is not {key_name}-{service_id}-{secret}', { field: '--notify-api-key', hint: 'Create an API key in GOV.UK Notify (API integration) and give the whole key' });
  }
  const baseUrl = pick('notifyUrl', 'NOTIFY_BASE_URL') ?? 'https://api.notifications.service.gov.uk';
  try {
    new URL(baseUrl);
  } catch {
    throw new SteadfastError('invalid', `--notify-url "${baseUrl}" is not a URL`, { field: '--notify-url', hint: 'e.g. https://api.notifications.service.gov.uk' });
  }
  const perDayRaw = pick('notifyDailyLimit', 'NOTIFY_DAILY_LIMIT');
  const perDay = perDayRaw === undefined ? undefined : Number(perDayRaw);
  if (perDay !== undefined && (!Number.isInteger(perDay) || perDay < 1)) throw new SteadfastError('invalid', `--notify-daily-limit "${perDayRaw}" is not a whole number`, { field: '--notify-daily-limit', hint: "Give the service's daily limit from Notify's settings, e.g. 250000" });
  const sms = templateId(pick('notifySmsTemplate', 'NOTIFY_SMS_TEMPLATE'), '--notify-sms-template');
  const email = templateId(pick('notifyEmailTemplate', 'NOTIFY_EMAIL_TEMPLATE'), '--notify-email-template');
  const letter = templateId(pick('notifyLetterTemplate', 'NOTIFY_LETTER_TEMPLATE'), '--notify-letter-template');
  const callbackToken = pick('notifyCallbackToken', 'NOTIFY_CALLBACK_TOKEN');
  return {
    baseUrl,
    apiKey,
    templates: { ...(sms ? { sms } : {}), ...(email ? { email } : {}), ...(letter ? { letter } : {}) },
    ...(callbackToken ? { callbackToken } : {}),
    ...(perDay ? { perDay } : {}),
  };
}

export const messagingCli: CapabilityCli = {
  flags: [
    { flags: '--notify-url <url>', description: 'GOV.UK Notify API base URL (env NOTIFY_BASE_URL; default the live service)' },
    { flags: '--notify-api-key <key>', description: 'GOV.UK Notify API key (env NOTIFY_API_KEY); messaging is off without one' },
    { flags: '--notify-sms-template <id>', description: 'Notify template id for text messages, body ((body)) (env NOTIFY_SMS_TEMPLATE)' },
    { flags: '--notify-email-template <id>', description: 'Notify template id for email, ((subject)) and ((body)) (env NOTIFY_EMAIL_TEMPLATE)' },
    { flags: '--notify-letter-template <id>', description: 'Notify letter template id (env NOTIFY_LETTER_TEMPLATE); letters are sent as precompiled PDFs' },
    { flags: '--notify-callback-token <token>', description: 'Bearer token Notify sends with delivery receipts (env NOTIFY_CALLBACK_TOKEN)' },
    { flags: '--reminder-lead-hours <hours>', description: 'Send appointment reminders this many hours before (env APPOINTMENT_REMINDER_LEAD_HOURS; default 24)' },
    { flags: '--no-appointment-messages', description: 'Do not text booking confirmations and reminders' },
    { flags: '--notify-daily-limit <n>', description: "The Notify service's daily message limit (env NOTIFY_DAILY_LIMIT; default 250000)" },
  ],
  configure(values) {
    const notify = notifyConnectionOf(values);
    if (!notify) return {};
    const leadRaw = (values.reminderLeadHours as string | undefined) ?? process.env.APPOINTMENT_REMINDER_LEAD_HOURS;
    const lead = leadRaw === undefined ? undefined : Number(leadRaw);
    if (lead !== undefined && (!Number.isFinite(lead) || lead < 1 || lead > 24 * 14)) {
      throw new SteadfastError('invalid', `--reminder-lead-hours "${leadRaw}" is not a number of hours from 1 to 336`, { field: '--reminder-lead-hours', hint: 'e.g. 24 for the day before, 48 for two days before' });
    }
    const off = values.appointmentMessages === false;
    return { messaging: { notify, ...(lead ? { reminderLeadMs: Math.round(lead * 60 * 60_000) } : {}), ...(off ? { appointmentMessages: { confirmations: false, reminders: false } } : {}) } };
  },
};
