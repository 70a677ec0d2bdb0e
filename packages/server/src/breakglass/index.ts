/**
 * Break-glass: emergency access to one patient's record beyond the user's role, or to a record marked
 * sensitive. `POST /api/break-glass {patientId, reason, scope?, minutes?}` grants the signed-in user (in
 * this session only) read access for a limited time; the records capability honours it and audits every
 * read under it. Practice-admins see every use (`GET /api/break-glass`) and acknowledge each one
 * (`POST /api/break-glass/:id/review`). Grants end at their time limit or at sign-out, whichever is first.
 */
import type { FastifyInstance } from 'fastify';
import type { Patient } from '@medplum/fhirtypes';
import { canAccess, isRestrictedPatient, SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { breakGlassOf } from './grants.ts';
import type { Capability } from '../capability.ts';
import { breakGlassMigrations } from './tables.ts';

export { breakGlassOf, breakGlassDetail, type BreakGlassConfig, type BreakGlassGrant } from './grants.ts';

export { breakGlassMigrations };

function displayName(p: Patient | undefined): string | undefined {
  const n = p?.name?.[0];
  if (!n) return undefined;
  return [n.given?.join(' '), n.family].filter(Boolean).join(' ') || n.text;
}

async function registerBreakGlass(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const service = breakGlassOf(deps);
  const admin = { preHandler: requireRole('practice-admin') };

  app.post('/api/break-glass', async (request, reply) => {
    const req = service.parseRequest(request.body);
    const token = request.authToken;
    if (!token) throw new SteadfastError('unauthenticated', 'Sign in first');
    const stored = await deps.store.read('Patient', req.patient.slice('Patient/'.length));
    if (!stored || stored.deleted) throw new SteadfastError('not-found', `${req.patient} was not found`, { field: 'patientId', hint: 'Search for the patient first' });
    const restricted = isRestrictedPatient(stored.resource as Patient);
    if (!restricted && canAccess(request.user.role, 'Observation', 'read')) {
      throw new SteadfastError('invalid', `You can already see ${req.patient}'s record; emergency access is not needed`, { field: 'patientId' });
    }
    const grant = await service.create(request.user, token, req);
    await deps.audit.append([
      {
        actor: actorOf(request.user),
        event: 'break-glass',
        resource: req.patient,
        patient: req.patient,
        outcome: 'success',
        detail: `break-glass: ${grant.reason} (grant ${grant.id}, ${req.scope}, until ${grant.expiresAt}${restricted ? ', sensitive record' : ''})`.slice(0, 500),
      },
    ]);
    return reply.code(201).send(grant);
  });

  /** The signed-in user's open grant for a patient (the web app's banner after a reload). */
  app.get<{ Querystring: { patient?: string } }>('/api/break-glass/active', async (request) => {
    const raw = request.query.patient ?? '';
    if (!raw) throw new SteadfastError('required', 'patient is required', { field: 'patient' });
    const patient = raw.startsWith('Patient/') ? raw : `Patient/${raw}`;
    return { grant: (await service.active(request.user, request.authToken, patient)) ?? null };
  });

  app.get<{ Querystring: { unreviewed?: string } }>('/api/break-glass', admin, async (request) => {
    const grants = await service.list({ unreviewed: request.query.unreviewed === 'true' });
    const names = new Map<string, string | undefined>();
    for (const g of grants) {
      if (names.has(g.patient)) continue;
      const p = await deps.store.read('Patient', g.patient.slice('Patient/'.length));
      names.set(g.patient, p && !p.deleted ? displayName(p.resource as Patient) : undefined);
    }
    return { grants: grants.map((g) => ({ ...g, patientName: names.get(g.patient) ?? null })), unreviewed: await service.unreviewedCount() };
  });

  app.get('/api/break-glass/summary', admin, async () => ({ unreviewed: await service.unreviewedCount() }));

  app.post<{ Params: { id: string }; Body: { note?: unknown } | undefined }>('/api/break-glass/:id/review', admin, async (request) => {
    const note = request.body?.note;
    if (note !== undefined && typeof note !== 'string') throw new SteadfastError('invalid', 'note must be text', { field: 'note' });
    return service.review(request.params.id, request.user, note?.slice(0, 500));
  });

  // Sign-out ends the session's grants (the token no longer works anyway; this records when they ended).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'POST' && request.routeOptions.url === '/api/auth/logout' && reply.statusCode === 200 && request.authToken) {
      await service.endSession(request.authToken, 'signed out');
    }
    return payload;
  });
}

export const breakGlass: Capability = { name: 'break-glass', migrations: breakGlassMigrations, routes: registerBreakGlass };
