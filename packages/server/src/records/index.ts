/**
 * FHIR R4 REST for the practice record at /fhir/R4: read, vread, history, create (conditional on an
 * identifier; always conditional on the NHS number for Patients), update with If-Match, delete,
 * search with paging, transaction Bundles and the CapabilityStatement. Every access is audited; writes
 * commit their audit rows in the same transaction.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { SteadfastError, validateResource } from '@steadfast/domain';
import type { AppDeps } from '../app.ts';
import { actorOf, type AuditInput } from '../audit/index.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { FHIR_JSON } from '../http/errors.ts';
import { assertAccess, resourceTypeOf } from './access.ts';
import { fhirBase, parseIfMatch, sendResource } from './http.ts';
import { capabilityStatement } from './metadata.ts';
import { patientOf } from './patients.ts';
import { pageQuery, parseSearch, type Query } from './search.ts';
import { processBundle } from './transaction.ts';
import { createResource, deleteResource, parseIfNoneExist, updateResource } from './writes.ts';

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

export async function registerRecords(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;
  const ctx = (user: SessionUser) => ({ author: user.id });
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

  app.get('/fhir/R4/metadata', { config: { public: true } }, async (request, reply) => reply.type(FHIR_JSON).send(capabilityStatement(fhirBase(request), deps)));

  app.get<{ Params: IdParams }>('/fhir/R4/:type/:id', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    await guard(request, type, 'read', ref);
    const stored = await store.read(type, request.params.id);
    if (!stored) throw new SteadfastError('not-found', `${ref} was not found`);
    if (stored.deleted) throw new SteadfastError('deleted', `${ref} has been deleted`, { hint: `Its history is at ${ref}/_history` });
    audit.record([entry(request.user, { event: 'read', resource: ref, patient: patientOf(stored.resource) })]);
    return sendResource(reply, stored.resource);
  });

  app.get<{ Params: VersionParams }>('/fhir/R4/:type/:id/_history/:vid', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    await guard(request, type, 'read', ref, 'vread');
    const stored = await store.vread(type, request.params.id, request.params.vid);
    if (!stored) throw new SteadfastError('not-found', `${ref}/_history/${request.params.vid} was not found`);
    if (stored.deleted) throw new SteadfastError('deleted', `Version ${request.params.vid} of ${ref} is its deletion`);
    audit.record([entry(request.user, { event: 'vread', resource: ref, patient: patientOf(stored.resource) })]);
    return sendResource(reply, stored.resource);
  });

  app.get<{ Params: IdParams; Querystring: Query }>('/fhir/R4/:type/:id/_history', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    const ref = `${type}/${request.params.id}`;
    await guard(request, type, 'read', ref, 'history');
    const countRaw = request.query._count;
    const count = typeof countRaw === 'string' && /^\d+$/.test(countRaw) ? Math.min(Math.max(Number(countRaw), 1), 1000) : 100;
    const versions = await store.history(type, request.params.id, { count });
    if (!versions.length) throw new SteadfastError('not-found', `${ref} was not found`);
    const base = fhirBase(request);
    const patient = versions.map((v) => (v.deleted ? undefined : patientOf(v.resource))).find(Boolean);
    audit.record([entry(request.user, { event: 'history', resource: ref, patient })]);
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
    await guard(request, type, 'read', undefined, 'search');
    const search = parseSearch(type, request.query);
    const page = await store.search(search);
    const base = fhirBase(request);
    // One audit row per patient whose data the search returned, so each patient's audit shows it.
    const detail = `${type}?${new URLSearchParams(request.query as Record<string, string>).toString()}`.slice(0, 500);
    const patients = [...new Set(page.resources.map(patientOf).filter((p): p is string => Boolean(p)))];
    audit.record(
      patients.length
        ? patients.map((patient) => entry(request.user, { event: 'search', patient, detail }))
        : [entry(request.user, { event: 'search', detail })],
    );
    const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: `${base}/${type}?${pageQuery(request.query, search.offset, search.count)}` }];
    if (page.hasMore) link.push({ relation: 'next', url: `${base}/${type}?${pageQuery(request.query, search.offset + search.count, search.count)}` });
    if (search.offset > 0) link.push({ relation: 'previous', url: `${base}/${type}?${pageQuery(request.query, Math.max(0, search.offset - search.count), search.count)}` });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link,
      entry: page.resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
    };
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.post<{ Params: TypeParams }>('/fhir/R4/:type', async (request, reply) => {
    const type = resourceTypeOf(request.params.type);
    await guard(request, type, 'write', undefined, 'create');
    const resource = validateResource(request.body, type);
    const ifNoneExist = parseIfNoneExist(type, request.headers['if-none-exist']);
    const user = request.user;
    const outcome = await store.transaction(ctx(user), async (tx) => {
      const out = await createResource(tx, resource, ifNoneExist);
      const written = out.resource!;
      await audit.appendInTransaction(tx.db, [
        entry(user, {
          event: 'create',
          resource: `${type}/${written.id}`,
          patient: patientOf(written),
          ...(out.status === 'existing' ? { detail: 'matched an existing record; nothing written' } : {}),
        }),
      ]);
      return out;
    });
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
    const outcome = await store.transaction(ctx(user), async (tx) => {
      const out = await updateResource(tx, resource, ifMatch);
      await audit.appendInTransaction(tx.db, [entry(user, { event: out.status === 'created' ? 'create' : 'update', resource: ref, patient: patientOf(out.resource!) })]);
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
    await store.transaction(ctx(user), async (tx) => {
      const { previous } = await deleteResource(tx, type, request.params.id, ifMatch);
      await audit.appendInTransaction(tx.db, [entry(user, { event: 'delete', resource: ref, patient: patientOf(previous) })]);
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
