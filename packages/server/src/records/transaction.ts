/**
 * Transaction Bundles (all or nothing) and batch Bundles (each entry on its own), POSTed to /fhir/R4.
 *
 * A transaction is checked whole before anything is written: every resource is validated and every
 * entry's access checked; then, in one store transaction, conditional creates are resolved, new
 * resources get their ids, `urn:uuid:` references are rewritten to those ids, entries are written
 * (DELETE, then POST, then PUT, as FHIR orders them), patient references are checked against the
 * result, and the audit rows are appended. Any failure rolls the whole Bundle back.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Patient, Resource } from '@medplum/fhirtypes';
import { SteadfastError, isRestrictedPatient, isSteadfastError, validateResource, type SupportedResourceType } from '@steadfast/domain';
import { checkStopReason } from '@steadfast/domain/medicines';
import type { StoreTransaction, TokenMatch, WriteOutcome } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf, type AuditInput } from '../audit/index.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { outcomeFor } from '../http/errors.ts';
import { assertAccess, resourceTypeOf } from './access.ts';
import { checkConfidentialityChange, checkTaskChangeOf } from './gate.ts';
import { parseIfMatch } from './http.ts';
import { checkPatientReferences, nhsNumberOf, patientOf } from './patients.ts';
import { assertSamePatient, createResource, deleteResource, findByToken, nhsMatchFor, parseIfNoneExist, updateResource } from './writes.ts';

interface PlannedEntry {
  index: number;
  method: 'POST' | 'PUT' | 'DELETE';
  type: SupportedResourceType;
  id?: string;
  resource?: Resource;
  ifMatch?: string;
  ifNoneExist?: TokenMatch;
  fullUrl?: string;
}

const MAX_ENTRIES = 5000;

/** Re-label an error so it names the entry it came from. */
function atEntry(index: number, err: unknown): unknown {
  if (!isSteadfastError(err)) return err;
  const field = err.field ? `Bundle.entry[${index}].${err.field.replace(/^(resource\.)?/, 'resource.')}` : `Bundle.entry[${index}]`;
  return new SteadfastError(err.code, `Bundle.entry[${index}]: ${err.message}`, { field, ...(err.hint ? { hint: err.hint } : {}) }, err.more.map((m) => atEntry(index, m) as SteadfastError));
}

function plan(bundle: Bundle, user: SessionUser, firstIndex = 0): PlannedEntry[] {
  const entries = bundle.entry ?? [];
  if (entries.length > MAX_ENTRIES) throw new SteadfastError('too-large', `The Bundle has ${entries.length} entries; at most ${MAX_ENTRIES} are accepted`, { field: 'Bundle.entry', hint: 'Split it into several Bundles' });
  // What each `urn:uuid:` fullUrl will be, so a reference to another entry is checked against the
  // types its element allows just like a reference to a stored resource.
  const typeOfFullUrl = new Map<string, string>();
  for (const e of entries) {
    const type = (e?.resource as { resourceType?: unknown } | undefined)?.resourceType;
    if (typeof e?.fullUrl === 'string' && typeof type === 'string') typeOfFullUrl.set(e.fullUrl, type);
  }
  const referenceType = (ref: string) => typeOfFullUrl.get(ref);
  return entries.map((e: BundleEntry, i) => {
    const index = firstIndex + i;
    try {
      const method = e.request?.method;
      const url = e.request?.url;
      if (!method || !url) throw new SteadfastError('required', 'request.method and request.url are required', { field: 'request' });
      if (method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
        throw new SteadfastError('not-supported', `request.method ${method} is not supported in a Bundle`, { field: 'request.method', hint: 'Use POST, PUT or DELETE' });
      }
      const [path] = url.split('?');
      const [typeRaw, id, ...rest] = (path ?? '').replace(/^\//, '').split('/');
      if (!typeRaw || rest.length) throw new SteadfastError('invalid', `request.url "${url}" must be Type or Type/id`, { field: 'request.url' });
      const type = resourceTypeOf(typeRaw);
      if (type === 'AuditEvent') throw new SteadfastError('forbidden', 'Audit events are written by the system only');
      assertAccess(user, type, 'write');
      const planned: PlannedEntry = { index, method, type, ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}) };
      if (method === 'POST' && id) throw new SteadfastError('invalid', `POST goes to "${type}", not "${url}"`, { field: 'request.url' });
      if (method !== 'POST' && !id) throw new SteadfastError('required', `${method} needs request.url Type/id`, { field: 'request.url' });
      if (id) planned.id = id;
      if (method !== 'DELETE') {
        const body = e.resource as Record<string, unknown> | undefined;
        if (method === 'PUT' && body && typeof body === 'object' && body.id === undefined) body.id = id;
        const resource = validateResource(body, type, { referenceType });
        if (method === 'PUT' && resource.id !== id) throw new SteadfastError('invalid', `resource.id "${resource.id}" differs from request.url "${url}"`, { field: 'resource.id' });
        planned.resource = resource;
      }
      const ifMatch = parseIfMatch(e.request?.ifMatch);
      if (ifMatch !== undefined) planned.ifMatch = ifMatch;
      const ifNoneExist = method === 'POST' ? parseIfNoneExist(type, e.request?.ifNoneExist) : undefined;
      if (ifNoneExist) planned.ifNoneExist = ifNoneExist;
      return planned;
    } catch (err) {
      throw atEntry(index, err);
    }
  });
}

/** Replace every `reference` found in the map (deep), in place. */
function rewriteReferences(value: unknown, map: Map<string, string>): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, map);
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'reference' && typeof v === 'string' && map.has(v)) o[k] = map.get(v);
      else if (typeof v === 'object') rewriteReferences(v, map);
    }
  }
}

const statusLine: Record<WriteOutcome['status'], string> = { created: '201 Created', updated: '200 OK', deleted: '204 No Content', existing: '200 OK' };

async function runTransaction(deps: AppDeps, user: SessionUser, planned: PlannedEntry[], base: string): Promise<Bundle> {
  return deps.store.transaction({ author: user.id, prevalidated: true }, async (tx: StoreTransaction) => {
    const outcomes = new Map<number, WriteOutcome>();
    const refMap = new Map<string, string>();
    const nhsInBundle = new Map<string, number>();
    // Conditional creates first, so that references to them point at the existing record.
    for (const p of planned.filter((q) => q.method === 'POST')) {
      try {
        const nhs = nhsNumberOf(p.resource!);
        if (nhs) {
          const earlier = nhsInBundle.get(nhs);
          if (earlier !== undefined) throw new SteadfastError('invalid', `NHS number ${nhs} is also in Bundle.entry[${earlier}]`, { field: 'resource.identifier', hint: 'Send each patient once' });
          nhsInBundle.set(nhs, p.index);
        }
        const match = nhsMatchFor(p.resource!) ?? p.ifNoneExist;
        const existing = match ? await findByToken(tx, p.type, match) : undefined;
        if (existing) {
          if (nhs) assertSamePatient(existing, p.resource!);
          outcomes.set(p.index, { status: 'existing', resource: existing });
          if (p.fullUrl) refMap.set(p.fullUrl, `${p.type}/${existing.id}`);
          continue;
        }
        const id = randomUUID();
        p.id = id;
        if (p.fullUrl) refMap.set(p.fullUrl, `${p.type}/${id}`);
      } catch (err) {
        throw atEntry(p.index, err);
      }
    }
    for (const p of planned) if (p.resource) rewriteReferences(p.resource, refMap);
    const audit: AuditInput[] = [];
    const order: PlannedEntry['method'][] = ['DELETE', 'POST', 'PUT'];
    for (const method of order) {
      for (const p of planned.filter((q) => q.method === method)) {
        if (outcomes.has(p.index)) continue;
        try {
          let out: WriteOutcome;
          let patient: string | undefined;
          await checkSensitive(tx, user, p);
          if (p.method === 'DELETE') {
            const { outcome, previous } = await deleteResource(tx, p.type, p.id!, p.ifMatch);
            out = outcome;
            patient = patientOf(previous);
          } else if (p.method === 'POST') {
            // The id was assigned above so that references could be rewritten; write it as an update-as-create.
            [out] = (await tx.write([{ kind: 'update', resource: { ...p.resource!, id: p.id! } }])) as [WriteOutcome];
            patient = patientOf(out.resource!);
          } else {
            out = await updateResource(tx, p.resource!, p.ifMatch, { checkReferences: false });
            patient = patientOf(out.resource!);
          }
          outcomes.set(p.index, out);
          audit.push({ actor: actorOf(user), event: p.method === 'DELETE' ? 'delete' : out.status === 'created' ? 'create' : 'update', resource: `${p.type}/${p.id}`, patient, outcome: 'success', detail: 'transaction' });
        } catch (err) {
          throw atEntry(p.index, err);
        }
      }
    }
    // References are checked once everything is written, so entries may refer to each other in any order.
    for (const p of planned) {
      const out = outcomes.get(p.index);
      if (p.method !== 'DELETE' && out?.status !== 'existing' && out?.resource) {
        try {
          await checkPatientReferences(tx, out.resource);
        } catch (err) {
          throw atEntry(p.index, err);
        }
      }
    }
    await deps.audit.appendInTransaction(tx.db, audit);
    return {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: planned.map((p) => responseEntry(outcomes.get(p.index)!, p, base)),
    } satisfies Bundle;
  });
}

function responseEntry(out: WriteOutcome, p: PlannedEntry, base: string): BundleEntry {
  const r = out.resource;
  const versionId = r?.meta?.versionId ?? out.entry?.versionId;
  return {
    ...(r ? { fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r } : {}),
    response: {
      status: statusLine[out.status],
      ...(r ? { location: `${p.type}/${r.id}${versionId ? `/_history/${versionId}` : ''}` } : {}),
      ...(versionId ? { etag: `W/"${versionId}"` } : {}),
      ...(r?.meta?.lastUpdated ? { lastModified: r.meta.lastUpdated } : {}),
    },
  };
}

/** Each entry on its own: failures become an OperationOutcome in that entry's response. */
async function runBatch(deps: AppDeps, user: SessionUser, bundle: Bundle, base: string): Promise<Bundle> {
  const entries: BundleEntry[] = [];
  for (const [index, e] of (bundle.entry ?? []).entries()) {
    try {
      const [p] = plan({ resourceType: 'Bundle', type: 'transaction', entry: [e] }, user, index);
      if (p!.method === 'POST') {
        const out = await deps.store.transaction({ author: user.id, prevalidated: true }, async (tx) => {
          const o = await createResource(tx, p!.resource!, p!.ifNoneExist);
          await deps.audit.appendInTransaction(tx.db, [{ actor: actorOf(user), event: 'create', resource: `${p!.type}/${o.resource!.id}`, patient: patientOf(o.resource!), outcome: 'success', detail: 'batch' }]);
          return o;
        });
        entries.push(responseEntry(out, p!, base));
      } else {
        const [response] = (await runTransaction(deps, user, [p!], base)).entry ?? [];
        entries.push(response!);
      }
    } catch (err) {
      const { status, outcome } = outcomeFor(err);
      entries.push({ response: { status: String(status), outcome } });
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: entries };
}

const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/**
 * The JSON shape the planning relies on (entry an array of objects; request, method, url and the
 * conditional headers strings), so a malformed Bundle is a 400 naming the element, not a crash.
 */
function checkBundleShape(bundle: Bundle): void {
  const entries: unknown = bundle.entry;
  if (entries === undefined) return;
  if (!Array.isArray(entries)) throw new SteadfastError('invalid', 'Bundle.entry must be an array of entries', { field: 'Bundle.entry', hint: 'Send "entry": [{ "resource": {...}, "request": {...} }]' });
  entries.forEach((e: unknown, i) => {
    const at = `Bundle.entry[${i}]`;
    if (!isObject(e)) throw new SteadfastError('invalid', `${at} must be an object`, { field: at, hint: 'Each entry is { "resource": {...}, "request": { "method": ..., "url": ... } }' });
    if (e.fullUrl !== undefined && typeof e.fullUrl !== 'string') throw new SteadfastError('invalid', `${at}.fullUrl must be a string`, { field: `${at}.fullUrl`, hint: 'Use e.g. "urn:uuid:<uuid>"' });
    if (e.request === undefined) return;
    if (!isObject(e.request)) throw new SteadfastError('invalid', `${at}.request must be an object`, { field: `${at}.request`, hint: 'Send "request": { "method": "POST", "url": "Patient" }' });
    for (const key of ['method', 'url', 'ifMatch', 'ifNoneExist'] as const) {
      const v = e.request[key];
      if (v !== undefined && typeof v !== 'string') throw new SteadfastError('invalid', `${at}.request.${key} must be a string`, { field: `${at}.request.${key}`, hint: key === 'method' ? 'Use "POST", "PUT" or "DELETE"' : key === 'url' ? 'Use "Type" or "Type/id"' : 'Send it as a string' });
    }
  });
}

export async function processBundle(deps: AppDeps, user: SessionUser, body: unknown, base: string): Promise<Bundle> {
  if (!body || typeof body !== 'object' || (body as Resource).resourceType !== 'Bundle') {
    throw new SteadfastError('invalid', 'POST to the base URL needs a Bundle of type transaction or batch', { field: 'resourceType', hint: 'To create one resource, POST it to /fhir/R4/<Type>' });
  }
  const bundle = body as Bundle;
  checkBundleShape(bundle);
  if (bundle.type === 'batch') return runBatch(deps, user, bundle, base);
  if (bundle.type !== 'transaction') {
    throw new SteadfastError('invalid', `Bundle.type "${bundle.type}" cannot be processed`, { field: 'Bundle.type', hint: 'Use "transaction" (all or nothing) or "batch"' });
  }
  const planned = plan(bundle, user);
  return runTransaction(deps, user, planned, base);
}

/**
 * Sensitive records (Confidentiality R/V) are not changed through a Bundle: a Bundle carries no
 * break-glass grant. Nor may a receptionist add or remove the mark through one.
 */
async function checkSensitive(tx: Pick<StoreTransaction, 'read'>, user: SessionUser, p: PlannedEntry): Promise<void> {
  const before = p.id ? await tx.read(p.type, p.id) : undefined;
  const previous = before && !before.deleted ? before.resource : undefined;
  if (p.resource) checkConfidentialityChange(user.role, previous, p.resource);
  checkTaskChangeOf(user.role, previous, p.resource, p.type);
  checkStopReason(previous, p.resource);
  const concerned = new Set([previous && patientOf(previous), p.resource && p.type !== 'Patient' ? patientOf(p.resource) : undefined].filter((x): x is string => Boolean(x)));
  for (const ref of concerned) {
    const stored = ref === `${p.type}/${p.id}` ? before : await tx.read('Patient', ref.slice('Patient/'.length));
    if (stored && !stored.deleted && isRestrictedPatient(stored.resource as Patient)) {
      throw new SteadfastError('forbidden', `${ref} is a sensitive record; it is not changed through a Bundle`, { hint: `Take emergency access (POST /api/break-glass) and change it with PUT/POST/DELETE on ${p.type}` });
    }
  }
}
