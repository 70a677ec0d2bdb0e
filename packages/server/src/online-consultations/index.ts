/**
 * Online consultations: patients ask the practice in writing (a medical or admin request), at the
 * practice's node or, when the node cannot be reached, at the regional hub (hub.ts); staff triage
 * them here. See docs/online-consultations.md for the flow and decisions.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps, Capability } from '../capability.ts';
import { submissionInbox } from './intake.ts';
import { onlineConsultationsCli } from './options.ts';
import { ClientRateLimit, registerPublicSubmissions, type PublicTarget } from './public.ts';
import { onlineConsultationMigrations } from './tables.ts';
import { registerTriage, triageBacklog } from './triage.ts';

const targets = new WeakMap<object, PublicTarget>();

function targetOf(deps: AppDeps): PublicTarget {
  let t = targets.get(deps.store);
  if (!t) {
    const inbox = submissionInbox(deps.store, 'node', () => undefined);
    t = { store: deps.store, inbox, receive: inbox.receiver(), options: deps.config.onlineConsultations ?? {}, via: 'node' };
    targets.set(deps.store, t);
  }
  return t;
}

async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const t = targetOf(deps);
  const rl = deps.config.onlineConsultations?.rateLimit ?? { max: 10, windowMs: 60_000 };
  registerPublicSubmissions(app, async (practice) => (practice === deps.store.practice ? t : undefined), new ClientRateLimit(rl.max, rl.windowMs));
  await registerTriage(app, deps);
}

export const onlineConsultations: Capability = {
  name: 'online-consultations',
  migrations: onlineConsultationMigrations,
  cli: onlineConsultationsCli,
  routes,
  services: (deps) => [
    {
      name: 'online consultation intake',
      async start() {
        targetOf(deps).inbox.nudge(); // whatever was received before a restart
      },
      async stop() {
        await targetOf(deps).inbox.close();
      },
    },
  ],
  status: (deps) => ({
    'online-consultations': {
      label: 'Online consultations',
      report: async () => {
        const b = await triageBacklog(deps);
        return {
          state: b.urgentOverThreshold > 0 ? 'degraded' : 'connected',
          lastContact: new Date().toISOString(),
          queued: b.untriaged,
          detail: b.urgentOverThreshold > 0
            ? `${b.urgentOverThreshold} urgent request(s) waiting over ${b.urgentThresholdMinutes} minutes`
            : `${b.untriaged} waiting for triage${b.oldestAgeMinutes ? `, oldest ${b.oldestAgeMinutes} min` : ''}${b.urgentOpen ? `; ${b.urgentOpen} urgent open` : ''}`,
        };
      },
    },
  }),
  backlog: async (deps) => {
    const b = await triageBacklog(deps);
    return [
      { kind: 'consultations-untriaged', label: 'Online consultations waiting for triage', count: b.untriaged, ...(b.oldestUntriaged ? { oldest: b.oldestUntriaged } : {}) },
      { kind: 'consultations-urgent-open', label: 'Urgent or red-flagged online consultations still open', count: b.urgentOpen, ...(b.oldestUrgent ? { oldest: b.oldestUrgent } : {}) },
    ];
  },
};
