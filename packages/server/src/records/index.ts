/**
 * FHIR R4 REST for the practice record at /fhir/R4: read, vread, history, create (conditional on an
 * identifier; always conditional on the NHS number for Patients), update with If-Match, delete,
 * search with paging, transaction Bundles and the CapabilityStatement. Every access is audited; writes
 * commit their audit rows in the same transaction.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { canAccess, SteadfastError, validateResource, type SupportedResourceType } from '@steadfast/domain';
import { checkStopReason } from '@steadfast/domain/medicines';
import type { AppDeps } from '../capability.ts';
import { actorOf, type AuditInput } from '../audit/index.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { breakGlassDetail, breakGlassOf, type BreakGlassGrant } from '../breakglass/grants.ts';
import { FHIR_JSON } from '../http/errors.ts';
import { assertAccess, resourceTypeOf } from './access.ts';
import { BreakGlassNeeded, checkConfidentialityChange, checkTaskChangeOf, gateRecord, patientRestricted, searchedPatient, subsettedPatient } from './gate.ts';
import { fhirBase, parseIfMatch, sendResource } from './http.ts';
import { capabilityStatement } from './metadata.ts';
import { patientOf } from './patients.ts';
import { pageQuery, parseSearch, type Query } from './search.ts';
import { processBundle } from './transaction.ts';
import { createResource, deleteResource, parseIfNoneExist, updateResource } from './writes.ts';
import type { Capability } from '../capability.ts';

export { importNdjson, type ImportOptions, type ImportReport } from './import.ts';
export { exportNdjson } from './export.ts';
export { patientOf } from './patients.ts';

interface TypeParams {
  type: string;
}
interface IdParams extends TypeParams {
  id: string;
}
interface VersionParams extends IdParams {
  vid: string;
}

async function registerRecords(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;
  // The routes validate each body themselves (naming the element and, in a Bundle, the entry), so
  // the store's write check need not run again.
  const ctx = (user: SessionUser) => ({ author: user.id, prevalidated: true });
  const entry = (user: SessionUser, rest: Omit<AuditInput, 'actor' | 'outcome'> & { outcome?: AuditInput['outcome'] }): AuditInput => ({
    actor: actorOf(user),
    outcome: 'success',
    ...rest,
  });

  /** Audit a refused access to a patient's record, then refuse. */
  async function guard(request: FastifyRequest, type: ReturnType<typeof resourceTypeOf>, access: 'read' | 'write', resource?: string, event: AuditInput['event'] = 'read') {
    try {
      assertAccess(request.user, type, access);
    } catch (err) {
      audit.record([entry(request.user, { event, resource, outcome: 'failure', detail: 'forbidden' })]);
      throw err;
    }
  }

  const breakGlass = breakGlassOf(deps);
  /** The role, the sensitive mark and break-glass grants decide; a refusal is audited. */
  async function gate(
    request: FastifyRequest,
    reply: FastifyReply,
    type: SupportedResourceType,
    access: 'read' | 'write',
    event: AuditInput['event'],
    resource: string | undefined,
    patient: string | undefined,
    known?: Resource,
  ): Promise<BreakGlassGrant | undefined> {
    try {
      return await gateRecord(deps, request, reply, type, access, patient, known);
    } catch (err) {
      const detail = err instanceof BreakGlassNeeded ? 'forbidden (emergency access not taken)' : 'forbidden';
      audit.record([entry(request.user, { event, resource, patient, outcome: 'failure', detail })]);
      throw err;
    }
  }
  /** The audit detail of an access: flagged when it used a break-glass grant (and kept in the grant's report). */
  async function underGrant(grant: BreakGlassGrant | undefined, event: string, what: string, detail?: string): Promise<{ detail?: string }> {
    if (!grant) return detail ? { detail } : {};
    await breakGlass.recordRead(grant, event, what);
    return { detail: `${breakGlassDetail(grant)}${detail ? ` ${detail}` : ''}`.slice(0, 500) };
  }

  app.get('/fhir/R4/metadata', { config: { public: true } }, async (request, reply) => reply.type(FHIR_JSON).send(capabilityStatement(fhirBase(request), deps)));

  app.get<{ Params: IdParams }>('/fhir/R4/:type/:id', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    const byRole = canAccess(request.user.role, type, 'read');
    const stored = await store.read(type, request.params.id);
    if (!byRole && (!stored || stored.deleted)) await guard(request, type, 'read', ref);
    if (!stored) throw new SteadfastError('not-found', `${ref} was not found`);
    if (stored.deleted) throw new SteadfastError('deleted', `${ref} has been deleted`, { hint: `Its history is at ${ref}/_history` });
    const patient = patientOf(stored.resource);
    const grant = await gate(request, reply, type, 'read', 'read', ref, patient, stored.resource);
    audit.record([entry(request.user, { event: 'read', resource: ref, patient, ...(await underGrant(grant, 'read', ref)) })]);
    return sendResource(reply, stored.resource);
  });

  app.get<{ Params: VersionParams }>('/fhir/R4/:type/:id/_history/:vid', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    const byRole = canAccess(request.user.role, type, 'read');
    const stored = await store.vread(type, request.params.id, request.params.vid);
    if (!byRole && (!stored || stored.deleted)) await guard(request, type, 'read', ref, 'vread');
    if (!stored) throw new SteadfastError('not-found', `${ref}/_history/${request.params.vid} was not found`);
    if (stored.deleted) throw new SteadfastError('deleted', `Version ${request.params.vid} of ${ref} is its deletion`);
    const patient = patientOf(stored.resource);
    // The sensitive mark of the patient as it is now decides, not as it was in this version.
    const grant = await gate(request, reply, type, 'read', 'vread', ref, patient);
    audit.record([entry(request.user, { event: 'vread', resource: ref, patient, ...(await underGrant(grant, 'vread', `${ref}/_history/${request.params.vid}`)) })]);
    return sendResource(reply, stored.resource);
  });

  app.get<{ Params: IdParams; Querystring: Query }>('/fhir/R4/:type/:id/_history', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    const byRole = canAccess(request.user.role, type, 'read');
    const countRaw = request.query._count;
    const count = typeof countRaw === 'string' && /^\d+$/.test(countRaw) ? Math.min(Math.max(Number(countRaw), 1), 1000) : 100;
    const versions = await store.history(type, request.params.id, { count });
    const patient = versions.map((v) => (v.deleted ? undefined : patientOf(v.resource))).find(Boolean);
    if (!byRole && (!versions.length || !patient)) await guard(request, type, 'read', ref, 'history');
    if (!versions.length) throw new SteadfastError('not-found', `${ref} was not found`);
    const base = fhirBase(request);
    const grant = await gate(request, reply, type, 'read', 'history', ref, patient);
    audit.record([entry(request.user, { event: 'history', resource: ref, patient, ...(await underGrant(grant, 'history', `${ref}/_history`)) })]);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'history',
      total: versions.length,
      link: [{ relation: 'self', url: `${base}/${ref}/_history` }],
      entry: versions.map((v) =>
        v.deleted
          ? { fullUrl: `${base}/${ref}`, request: { method: 'DELETE', url: ref }, response: { status: '204 No Content', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated } }
          : { fullUrl: `${base}/${ref}`, resource: v.resource, request: { method: 'PUT', url: ref }, response: { status: '200 OK', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated } },
      ),
    };
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: TypeParams; Querystring: Query }>('/fhir/R4/:type', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const search = parseSearch(type, request.query);
    const detail = `${type}?${new URLSearchParams(request.query as Record<string, string>).toString()}`.slice(0, 500);
    // Beyond the role, a search is allowed only when limited to one patient the user holds a grant for.
    let limitedTo: string | undefined;
    if (!canAccess(request.user.role, type, 'read')) {
      limitedTo = searchedPatient(type, search);
      if (!limitedTo) await guard(request, type, 'read', undefined, 'search');
      await gate(request, reply, type, 'read', 'search', undefined, limitedTo);
    }
    const page = await store.search(search);
    const base = fhirBase(request);
    // Sensitive patients' data leaves a search only under a grant; their Patient shows as a subset.
    const grants = new Map<string, BreakGlassGrant | undefined>();
    const hidden = new Set<string>();
    const resources: Resource[] = [];
    for (const r of page.resources) {
      const p = patientOf(r);
      if (limitedTo && p !== limitedTo) continue;
      if (p && !grants.has(p) && !hidden.has(p)) {
        const needs = limitedTo === p || (await patientRestricted(deps, p, r.resourceType === 'Patient' ? r : undefined));
        const grant = needs ? await breakGlass.active(request.user, request.authToken, p) : undefined;
        if (needs && !grant) hidden.add(p);
        else grants.set(p, grant);
      }
      if (p && hidden.has(p)) {
        if (r.resourceType === 'Patient') resources.push(subsettedPatient(r as Patient));
        continue;
      }
      resources.push(r);
    }
    // One audit row per patient whose data the search returned, so each patient's audit shows it.
    const patients = [...new Set(resources.map(patientOf).filter((p): p is string => Boolean(p)))];
    const rows: AuditInput[] = [];
    for (const patient of patients) rows.push(entry(request.user, { event: 'search', patient, ...(await underGrant(grants.get(patient), 'search', detail, detail)) }));
    audit.record(rows.length ? rows : [entry(request.user, { event: 'search', detail })]);
    const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: `${base}/${type}?${pageQuery(request.query, search.offset, search.count)}` }];
    if (page.hasMore) link.push({ relation: 'next', url: `${base}/${type}?${pageQuery(request.query, search.offset + search.count, search.count)}` });
    if (search.offset > 0) link.push({ relation: 'previous', url: `${base}/${type}?${pageQuery(request.query, Math.max(0, search.offset - search.count), search.count)}` });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link,
      entry: resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
    };
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.post<{ Params: TypeParams }>('/fhir/R4/:type', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    await guard(request, type, 'write', undefined, 'create');
    const resource = validateResource(request.body, type);
    const ifNoneExist = parseIfNoneExist(type, request.headers['if-none-exist']);
    const user = request.user;
    checkConfidentialityChange(user.role, undefined, resource);
    checkStopReason(undefined, resource);
    const grant = type === 'Patient' ? undefined : await gate(request, reply, type, 'write', 'create', undefined, patientOf(resource));
    const flagged = grant ? await underGrant(grant, 'create', type) : {};
    const outcome = await store.transaction(ctx(user), async (tx) => {
      const out = await createResource(tx, resource, ifNoneExist);
      const written = out.resource!;
      await audit.appendInTransaction(tx.db, [
        entry(user, {
          event: 'create',
          resource: `${type}/${written.id}`,
          patient: patientOf(written),
          ...(out.status === 'existing' ? { detail: 'matched an existing record; nothing written' } : flagged),
        }),
      ]);
      return out;
    });
    // A conditional create that matched a sensitive record must not hand that record back without a grant.
    if (outcome.status === 'existing') await gate(request, reply, type, 'read', 'read', `${type}/${outcome.resource!.id}`, patientOf(outcome.resource!), outcome.resource!);
    return sendResource(reply, outcome.resource!, outcome.status === 'existing' ? 200 : 201, fhirBase(request));
  });

  app.put<{ Params: IdParams }>('/fhir/R4/:type/:id', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    await guard(request, type, 'write', ref, 'update');
    const body = request.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      if (body.id === undefined) body.id = request.params.id;
      else if (body.id !== request.params.id) {
        throw new SteadfastError('invalid', `The body's id "${String(body.id)}" differs from the URL's id "${request.params.id}"`, { field: `${type}.id`, hint: 'PUT to the URL of the resource you send' });
      }
    }
    const resource = validateResource(body, type);
    const ifMatch = parseIfMatch(request.headers['if-match']);
    const user = request.user;
    const before = await store.read(type, request.params.id);
    const previous = before && !before.deleted ? before.resource : undefined;
    checkConfidentialityChange(user.role, previous, resource);
    checkTaskChangeOf(user.role, previous, resource, type);
    checkStopReason(previous, resource);
    // The patient the record belonged to and the one it will belong to must both be open to the user.
    let grant: BreakGlassGrant | undefined;
    const concerned = type === 'Patient' ? (previous ? [ref] : []) : [previous && patientOf(previous), patientOf(resource)];
    for (const p of new Set(concerned)) grant = (await gate(request, reply, type, 'write', 'update', ref, p, type === 'Patient' ? previous : undefined)) ?? grant;
    const flagged = await underGrant(grant, 'update', ref);
    const outcome = await store.transaction(ctx(user), async (tx) => {
      const out = await updateResource(tx, resource, ifMatch);
      await audit.appendInTransaction(tx.db, [entry(user, { event: out.status === 'created' ? 'create' : 'update', resource: ref, patient: patientOf(out.resource!), ...flagged })]);
      return out;
    });
    return sendResource(reply, outcome.resource!, outcome.status === 'created' ? 201 : 200, fhirBase(request));
  });

  app.delete<{ Params: IdParams }>('/fhir/R4/:type/:id', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    await guard(request, type, 'write', ref, 'delete');
    const ifMatch = parseIfMatch(request.headers['if-match']);
    const user = request.user;
    const before = await store.read(type, request.params.id);
    if (before && !before.deleted) checkTaskChangeOf(user.role, before.resource, undefined, type);
    const grant = before && !before.deleted ? await gate(request, reply, type, 'write', 'delete', ref, patientOf(before.resource), before.resource) : undefined;
    const flagged = await underGrant(grant, 'delete', ref);
    await store.transaction(ctx(user), async (tx) => {
      const { previous } = await deleteResource(tx, type, request.params.id, ifMatch);
      await audit.appendInTransaction(tx.db, [entry(user, { event: 'delete', resource: ref, patient: patientOf(previous), ...flagged })]);
    });
    return reply.code(204).send();
  });

  app.post('/fhir/R4', async (request, reply) => {
    const result = await processBundle(deps, request.user, request.body, fhirBase(request));
    return reply.type(FHIR_JSON).send(result);
  });

  // Anything else under the base: say so as FHIR would (rather than a bare 404 or 405).
  app.route({
    method: ['PATCH'],
    url: '/fhir/R4/:type/:id',
    handler: async () => {
      throw new SteadfastError('not-supported', 'PATCH is not supported', { hint: 'GET the resource, change it, and PUT it back with If-Match' });
    },
  });
}

export type { Resource };

/** The practice record over FHIR R4 (read, search, write, transactions) and the CapabilityStatement. */
export const records: Capability = { name: 'records', routes: registerRecords };
