/**
 * The audit trail for practice-admins: `GET /api/audit?patient=&user=&event=&from=&to=` (JSON for the web app;
 * from/to are London days, YYYY-MM-DD, both included) and
 * `GET /fhir/R4/AuditEvent?patient=&agent=` (FHIR). Audit events are written by the system only.
 */
import type { FastifyInstance } from 'fastify';
import type { Bundle } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import { londonDayStart } from '@steadfast/domain/london-time';
import type { AppDeps } from '../capability.ts';
import { requireRole, type SessionUser } from '../auth/index.ts';
import { FHIR_JSON } from '../http/errors.ts';
import { toAuditEvent } from './fhir.ts';
import type { StatusProvider } from '../status/providers.ts';
import type { Capability } from '../capability.ts';
import type { AuditActor, AuditQuery } from './log.ts';
import { auditMigrations } from './tables.ts';

export { AuditLog, auditHash, GENESIS_HASH } from './log.ts';
export type { AuditActor, AuditEntry, AuditEventKind, AuditInput, VerifyResult } from './log.ts';

export { auditMigrations };

export function actorOf(user: SessionUser): AuditActor {
  return { id: user.id, name: user.name, role: user.role, workstation: user.workstation };
}

const one = (v: unknown): string | undefined => (Array.isArray(v) ? (v[0] as string | undefined) : typeof v === 'string' ? v : undefined);

function parseLimit(raw: string | undefined, field: string): number {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new SteadfastError('invalid', `${field} must be a whole number from 1 to 1000`, { field });
  return n;
}

function patientRef(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  return raw.startsWith('Patient/') ? raw : `Patient/${raw}`;
}

/** `agent` may be a user id, `identifier` form `system|id`, or a username. */
async function resolveUser(deps: AppDeps, raw: string | undefined): Promise<string | undefined> {
  if (!raw) return undefined;
  const value = raw.includes('|') ? raw.slice(raw.indexOf('|') + 1) : raw;
  if (await deps.accounts.getUser(value)) return value;
  const byName = (await deps.accounts.listUsers()).find((u) => u.username === value.toLowerCase());
  return byName?.id ?? value;
}

async function registerAudit(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const admin = { preHandler: requireRole('practice-admin') };
  const source = { practice: deps.store.practice, nodeId: deps.store.nodeId };

  app.get<{ Querystring: Record<string, string | string[]> }>('/api/audit', admin, async (request) => {
    const q = request.query;
    const query: AuditQuery = { limit: parseLimit(one(q.limit), 'limit') };
    const patient = patientRef(one(q.patient));
    if (patient) query.patient = patient;
    const user = await resolveUser(deps, one(q.user));
    if (user) query.user = user;
    const event = one(q.event);
    if (event) query.event = event;
    const from = one(q.from);
    const to = one(q.to);
    for (const [field, value] of [['from', from], ['to', to]] as const) {
      if (value && (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value)))) {
        throw new SteadfastError('invalid', `${field === 'from' ? 'From' : 'To'} date "${value}" is not a date`, { field, hint: 'Use YYYY-MM-DD, e.g. 2026-12-01' });
      }
    }
    if (from && to && to < from) throw new SteadfastError('invalid', `The "to" date ${to} is before the "from" date ${from}`, { field: 'to', hint: 'Swap the dates' });
    if (from) query.since = londonDayStart(from, 0);
    if (to) query.until = londonDayStart(to, 1);
    const before = one(q.before);
    if (before !== undefined) {
      if (!/^\d+$/.test(before)) throw new SteadfastError('invalid', 'before must be an audit sequence number', { field: 'before' });
      query.beforeSeq = Number(before);
    }
    const entries = await deps.audit.list(query);
    const last = entries.at(-1);
    return { entries, ...(entries.length === query.limit && last ? { next: last.seq } : {}) };
  });

  const allowed = new Set(['patient', 'agent', '_count', 'before', '_format']);
  app.get<{ Querystring: Record<string, string | string[]> }>('/fhir/R4/AuditEvent', admin, async (request, reply) => {
    const q = request.query;
    for (const name of Object.keys(q)) {
      if (!allowed.has(name)) {
        throw new SteadfastError('invalid', `Unknown search parameter "${name}" for AuditEvent`, { field: name, hint: 'Valid parameters: patient, agent, _count' });
      }
    }
    const query: AuditQuery = { limit: parseLimit(one(q._count), '_count') };
    const patient = patientRef(one(q.patient));
    if (patient) query.patient = patient;
    const user = await resolveUser(deps, one(q.agent));
    if (user) query.user = user;
    const before = one(q.before);
    if (before && /^\d+$/.test(before)) query.beforeSeq = Number(before);
    const entries = await deps.audit.list(query);
    const base = `${request.protocol}://${request.host}/fhir/R4/AuditEvent`;
    const params = new URLSearchParams();
    if (query.patient) params.set('patient', query.patient);
    const agent = one(q.agent);
    if (agent) params.set('agent', agent);
    params.set('_count', String(query.limit));
    const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: `${base}?${params}` }];
    const last = entries.at(-1);
    if (entries.length === query.limit && last) link.push({ relation: 'next', url: `${base}?${params}&before=${last.seq}` });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link,
      entry: entries.map((e) => ({ fullUrl: `${base}/${e.seq}`, resource: toAuditEvent(e, source), search: { mode: 'match' } })),
    };
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: { id: string } }>('/fhir/R4/AuditEvent/:id', admin, async (request, reply) => {
    const seq = /^\d+$/.test(request.params.id) ? Number(request.params.id) : NaN;
    const entry = Number.isFinite(seq) ? await deps.audit.get(seq) : undefined;
    if (!entry) throw new SteadfastError('not-found', `AuditEvent/${request.params.id} was not found`);
    return reply.type(FHIR_JSON).send(toAuditEvent(entry, source));
  });

  const systemOnly = async () => {
    throw new SteadfastError('forbidden', 'Audit events are written by the system only', { hint: 'Every read and write is audited automatically' });
  };
  app.post('/fhir/R4/AuditEvent', systemOnly);
  app.put('/fhir/R4/AuditEvent/:id', systemOnly);
  app.delete('/fhir/R4/AuditEvent/:id', systemOnly);
}

/** The audit queue in the status bar: a failing trail is visible before anyone is refused a record. */
function auditStatus(deps: AppDeps): Record<string, StatusProvider> {
  return {
    audit: {
      label: 'Audit trail',
      report: () => {
        const h = deps.audit.health();
        const ok = h.failingSince === undefined;
        return {
          state: ok ? 'connected' : 'degraded',
          queued: h.queued,
          // "connected" means the last commit went through; an idle queue has nothing to commit.
          lastContact: h.queued === 0 ? new Date().toISOString() : (h.lastCommitAt ?? new Date().toISOString()),
          ...(ok ? {} : { since: h.failingSince, detail: `audit entries are not being written (${h.failures} failed commits, retrying): ${h.lastError ?? ''}` }),
        };
      },
      staleAfterMs: 30_000,
    },
  };
}

export const audit: Capability = { name: 'audit', migrations: auditMigrations, routes: registerAudit, status: auditStatus };
