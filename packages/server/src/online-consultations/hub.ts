/**
 * Online consultations at the regional hub: the same public routes, for every practice the hub
 * serves, so patients can still ask while their practice's node cannot be reached.
 *
 * Decision (docs/online-consultations.md): the hub otherwise never edits records. Here it *creates*
 * new ones, and only these: a QuestionnaireResponse (and its photo DocumentReferences) whose id is
 * derived from the device's submission id, as a change-log entry of the practice from the hub's node
 * id. It never updates or deletes anything, raises no Task and triages nothing; the node pulls the
 * entry like any other and triage happens at the practice. Should the node take the same submission
 * too, both entries are creates of the same resource id: QuestionnaireResponse is append-only
 * (latest HLC current, both kept in history), so they converge on one request, indexed once.
 */
import type { FastifyInstance } from 'fastify';
import type { RecordStore } from '@steadfast/store';
import { submissionInbox } from './intake.ts';
import { ClientRateLimit, registerPublicSubmissions, type PublicTarget } from './public.ts';
import type { OnlineConsultationOptions } from './options.ts';

export function registerHubSubmissions(app: FastifyInstance, storeFor: (practice: string) => Promise<RecordStore | undefined>, options: OnlineConsultationOptions = {}): { close(): Promise<void> } {
  const targets = new Map<string, PublicTarget>();
  const rl = options.rateLimit ?? { max: 10, windowMs: 60_000 };
  registerPublicSubmissions(app, async (practice) => {
    const existing = targets.get(practice);
    if (existing) return existing;
    const store = await storeFor(practice);
    if (!store) return undefined;
    const inbox = submissionInbox(store, 'hub', () => undefined);
    inbox.nudge();
    const t: PublicTarget = { store, inbox, receive: inbox.receiver(), options, via: 'hub' };
    targets.set(practice, t);
    return t;
  }, new ClientRateLimit(rl.max, rl.windowMs));
  return { close: async () => void (await Promise.all([...targets.values()].map((t) => t.inbox.close()))) };
}
