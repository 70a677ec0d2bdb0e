/**
 * Prescriptions out, as one part the medicines capability declares: its tables (1650-), the 'eps'
 * outbox channel (when an EPS URL is configured), the queue that hands every new issue to the outbox,
 * the print and status routes, the prescriber's queue of patients' repeat requests, and the backlog of
 * repeat requests waiting. See docs/medicines.md ("Prescriptions out", "Repeat requests").
 */
import type { FastifyInstance } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { PrescriptionOutStatus } from '@steadfast/domain/api/prescriptions';
import type { AppDeps, BackgroundService, Capability } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { epsChannel } from './eps.ts';
import { prescriptionsOutCli } from './out-options.ts';
import { prescriptionsOutMigrations } from './out-tables.ts';
import { catchUpEpsQueue, epsChannelHooks, prescriptionOutStatus, printIssue } from './prescriptions-out.ts';
import { registerRepeatRequestRoutes, repeatRequestBacklog, type IssueFromTemplate } from './repeat-requests.ts';

export interface PrescriptionsOutWiring {
  /** How the repeat-request queue issues from a template (default: the medicines issue route, `viaIssueRoute`). */
  issueFromTemplate?: IssueFromTemplate;
}

const FORWARDED = ['authorization', 'cookie', 'origin', 'host', 'sec-fetch-site', 'x-steadfast-workstation', 'user-agent'] as const;

/**
 * Issue through the medicines capability's own route (POST /api/medication-requests/:templateId/issue)
 * as the signed-in prescriber, so every check of issuing (safety checks, issues left, review date,
 * idempotency) applies unchanged. The route's refusal comes back as the same kind of error.
 */
export const viaIssueRoute: IssueFromTemplate = async (request, templateId, idempotencyKey) => {
  const headers: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const res = await request.server.inject({ method: 'POST', url: `/api/medication-requests/${encodeURIComponent(templateId)}/issue`, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ idempotencyKey }) });
  const body = (() => {
    try {
      return res.json() as { issue?: unknown };
    } catch {
      return {};
    }
  })();
  if (res.statusCode === 200 || res.statusCode === 201) {
    const made = body.issue as { id?: string; prescriptionId?: string } | undefined;
    if (made?.id && made.prescriptionId) return { issueId: made.id, prescriptionId: made.prescriptionId };
    throw new SteadfastError('internal', `Issuing from MedicationRequest/${templateId} answered without the issue`);
  }
  const words = ((Array.isArray(body.issue) ? body.issue : []) as Array<{ diagnostics?: string }>).map((i) => i.diagnostics).filter(Boolean).join('; ') || `status ${res.statusCode}`;
  const code = res.statusCode === 404 ? 'not-found' : res.statusCode === 409 ? 'conflict' : res.statusCode === 403 ? 'forbidden' : res.statusCode >= 500 ? 'internal' : 'invalid';
  throw new SteadfastError(code, `MedicationRequest/${templateId} was not issued: ${words}`, { field: 'templateIds', hint: 'Open the patient record to issue it there (overriding an alert needs a reason), re-authorise, or reject the request' });
};

async function routes(app: FastifyInstance, deps: AppDeps, wiring: PrescriptionsOutWiring): Promise<void> {
  const { store, audit } = deps;
  app.get<{ Params: { issueId: string } }>('/api/prescriptions/:issueId', { preHandler: requireRole('clinician', 'practice-admin') }, async (request): Promise<PrescriptionOutStatus> => {
    const status = await prescriptionOutStatus(store, request.params.issueId);
    await audit.append([{ actor: actorOf(request.user), event: 'read', resource: `MedicationRequest/${request.params.issueId}`, outcome: 'success', detail: `prescription ${status.prescriptionId} EPS state ${status.eps}` }]);
    return status;
  });
  app.get<{ Params: { issueId: string } }>('/api/prescriptions/:issueId/print.pdf', { preHandler: requireRole('clinician') }, async (request, reply) => {
    const printed = await printIssue(store, audit, actorOf(request.user), request.params.issueId);
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="prescription-${printed.prescriptionId}${printed.copy ? '-copy' : ''}.pdf"`)
      .send(Buffer.from(printed.pdf));
  });
  await registerRepeatRequestRoutes(app, deps, wiring.issueFromTemplate ?? viaIssueRoute);
}

function queueService(deps: AppDeps, log: { warn: (obj: unknown, msg: string) => void }): BackgroundService {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = running.then(() => catchUpEpsQueue(deps.store)).catch((err) => log.warn({ err }, 'queuing issues for EPS failed; will try again'));
  };
  return {
    name: 'prescriptions to the EPS queue',
    async start() {
      run();
      timer = setInterval(run, deps.config.prescriptionsOut?.queueIntervalMs ?? 2_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/** The prescriptions-out part as a Capability. */
export function prescriptionsOutPart(wiring: PrescriptionsOutWiring = {}): Capability {
  return {
    name: 'prescriptions-out',
    migrations: prescriptionsOutMigrations,
    cli: prescriptionsOutCli,
    routes: (app, deps) => routes(app, deps, wiring),
    services: (deps, log) => (deps.config.prescriptionsOut?.queueDisabled ? [] : [queueService(deps, log)]),
    outboxChannels(deps) {
      const eps = deps.config.prescriptionsOut?.eps;
      return eps ? [epsChannel(eps, epsChannelHooks(deps.store))] : [];
    },
    backlog: (deps) => repeatRequestBacklog(deps.store),
  };
}

/**
 * The medicines capability with prescriptions out in it (its one line: `withPrescriptionsOut({...})`):
 * tables, routes, services, status, backlog, flags and outbox channels of both, the base's first.
 */
export function withPrescriptionsOut(base: Capability, wiring: PrescriptionsOutWiring = {}): Capability {
  const part = prescriptionsOutPart(wiring);
  const both = <T>(a: T[] | undefined, b: T[] | undefined): T[] => [...(a ?? []), ...(b ?? [])];
  return {
    ...base,
    migrations: both([...(base.migrations ?? [])], [...(part.migrations ?? [])]),
    async routes(app, deps) {
      await base.routes?.(app, deps);
      await part.routes?.(app, deps);
    },
    async services(deps, log, context) {
      return both(await base.services?.(deps, log, context), await part.services?.(deps, log, context));
    },
    status: (deps) => ({ ...base.status?.(deps), ...part.status?.(deps) }),
    backlog: async (deps) => both(await base.backlog?.(deps), await part.backlog?.(deps)),
    outboxChannels: (deps) => both(base.outboxChannels?.(deps), part.outboxChannels?.(deps)),
    cli: {
      flags: both(base.cli?.flags, part.cli?.flags),
      configure: (values, node) => ({ ...base.cli?.configure(values, node), ...part.cli?.configure(values, node) }),
    },
  };
}
