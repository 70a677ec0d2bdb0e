/**
 * Patient messaging through GOV.UK Notify: the notify-sms/-email/-letter outbox channels, the
 * practice's templates, messages from the record and the results inbox, service disruption
 * broadcasts, delivery receipts (callbacks and polling) and patients' replies. Off (no channels, no
 * pollers) until a Notify API key is configured; the routes still answer so the screens can explain.
 */
import type { BackgroundService, Capability } from '../capability.ts';
import { notifyChannels, notifyClientOf, pollStatuses } from './channels.ts';
import { appointmentMessageSettingsOf, sweepReminders } from './appointment-messages.ts';
import { resumeBroadcasts } from './broadcast.ts';
import { messagingCli } from './options.ts';
import { recordPending } from './record.ts';
import { fetchReplies } from './replies.ts';
import { registerMessagingRoutes } from './routes.ts';
import { mdb, messagingMigrations } from './tables.ts';

export { queueContactMessage, queuePatientMessage } from './send.ts';
export { appointmentBooked, appointmentCancelled, appointmentMessageSettingsOf, appointmentMoved } from './appointment-messages.ts';

function every(name: string, ms: number, work: () => Promise<unknown>, onError: (err: unknown) => void, first?: () => Promise<unknown>): BackgroundService {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    name,
    async start() {
      if (first) running = running.then(first).catch(onError);
      timer = setInterval(() => {
        running = running.then(work).catch(onError);
      }, ms);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export const messaging: Capability = {
  name: 'messaging',
  migrations: messagingMigrations,
  cli: messagingCli,
  routes: registerMessagingRoutes,
  outboxChannels(deps) {
    const notify = deps.config.messaging?.notify;
    return notify ? notifyChannels(deps, notify) : [];
  },
  services(deps, log) {
    // Whether or not Notify is configured: a broadcast a crash interrupted is resumed, and messages
    // queued without their Communication (a broadcast's) are written into the record.
    const practiceName = deps.config.messaging?.practiceName ?? 'Your GP surgery';
    const recorder = every('Messages into the record', deps.config.messaging?.recordIntervalMs ?? 5_000, () => recordPending(deps.store), (err) => log.warn({ err }, 'writing queued messages into the record failed; will try again'), () => resumeBroadcasts(deps.store, practiceName).then(() => recordPending(deps.store)));
    const notify = deps.config.messaging?.notify;
    if (!notify) return [recorder];
    const client = notifyClientOf(notify);
    const ms = deps.config.messaging?.pollIntervalMs ?? 60_000;
    const warn = (what: string) => (err: unknown) => log.warn({ err }, `GOV.UK Notify ${what} failed; will try again`);
    const appointments = appointmentMessageSettingsOf(deps.config);
    const reminders = appointments?.reminders ? [every('Appointment reminders', appointments.intervalMs, () => sweepReminders(deps.store, appointments), warn('appointment reminder sweep'))] : [];
    return [recorder, ...reminders, every('GOV.UK Notify delivery status poller', ms, () => pollStatuses(deps, client), warn('status poll')), every('GOV.UK Notify received text messages', ms, () => fetchReplies(deps.store, client), warn('received texts fetch'))];
  },
  async backlog(deps) {
    const m = mdb(deps.store.db);
    const practice = deps.store.practice;
    const awaiting = await m.selectFrom('messaging_deliveries').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')]).where('practice', '=', practice).where('status', 'in', ['sending', 'sent']).executeTakeFirst();
    const unread = await m.selectFrom('messaging_replies').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('received_at').as('oldest')]).where('practice', '=', practice).where('read_at', 'is', null).executeTakeFirst();
    return [
      { kind: 'messages-awaiting-receipt', label: 'Messages awaiting a delivery receipt', count: Number(awaiting?.n ?? 0), ...(awaiting?.oldest ? { oldest: String(awaiting.oldest) } : {}) },
      { kind: 'replies-unread', label: 'Patient replies unread', count: Number(unread?.n ?? 0), ...(unread?.oldest ? { oldest: String(unread.oldest) } : {}) },
    ];
  },
};
