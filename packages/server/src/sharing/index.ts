/**
 * Sharing a patient's record with another practice, and reading records other practices share with
 * this one (clinicians and practice administrators; receptionists get 403, as for any clinical record).
 *
 * Owner side (the decision is a FHIR Consent in this practice's record; it replicates to the hub,
 * which then lets the other practice pull the patient's compartment):
 *   POST /api/sharing                   { patientId, withPractice: ODS code, reason } → 201 Consent
 *   GET  /api/sharing?patient=<id>      → { shares: [{ consentId, patientId, withPractice, active, reason, since }] }
 *   POST /api/sharing/:consentId/withdraw                                         → the Consent, inactive
 *
 * Receiving side (read-only copies, pulled from the hub; sync/shared.ts):
 *   GET  /api/shared                    → { records: [{ owner, patientId, name, nhsNumber, birthDate, reason, lastExchangeAt }] }
 *   GET  /api/shared/:owner/:patientId  → Bundle (collection) of the record as the owner holds it; audited
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { FastifyInstance } from 'fastify';
import type { Bundle, Consent, Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, patientReferenceParam, readShareConsent, shareConsent, SHARING_CATEGORY_CODE, SteadfastError, validateResource, type SupportedResourceType } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { FHIR_JSON } from '../http/errors.ts';
import { sharedStreams } from '../sync/shared.ts';
import { SHARING_CATEGORY_SYSTEM } from '@steadfast/domain/systems';
import type { Capability } from '../capability.ts';

const ODS = /^[A-Z0-9]{3,10}$/;
const clinical = requireRole('clinician', 'practice-admin');

/** The current resources of one patient's compartment in a store (the owner's view, for a shared record). */
async function compartment(store: RecordStore, patientId: string): Promise<Resource[]> {
  const out: Resource[] = [];
  const patient = await store.read('Patient', patientId);
  if (!patient || patient.deleted) return out;
  out.push(patient.resource);
  for (const [type, param] of Object.entries(patientReferenceParam) as Array<[SupportedResourceType, string]>) {
    for (let offset = 0; ; offset += 1000) {
      const page = await store.search({ resourceType: type, params: [{ name: param, values: [`Patient/${patientId}`] }], count: 1000, offset });
      out.push(...page.resources);
      if (!page.hasMore) break;
    }
  }
  return out;
}

function shareView(consent: Consent) {
  const share = readShareConsent(consent)!;
  return { consentId: share.consentId, patientId: share.patientId, withPractice: share.withPractice, active: share.active, reason: share.reason, since: consent.dateTime ?? null };
}

async function registerSharing(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;

  app.post<{ Body: Record<string, unknown> }>('/api/sharing', { preHandler: clinical }, async (request, reply) => {
    const b = request.body ?? {};
    const patientId = typeof b.patientId === 'string' ? b.patientId.replace(/^Patient\//, '') : '';
    const withPractice = typeof b.withPractice === 'string' ? b.withPractice.trim().toUpperCase() : '';
    const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
    if (!patientId) throw new SteadfastError('required', 'patientId is required', { field: 'patientId' });
    if (!ODS.test(withPractice)) throw new SteadfastError('invalid', `withPractice "${String(b.withPractice ?? '')}" is not an ODS code`, { field: 'withPractice', hint: 'Use the ODS code of the practice, e.g. C84001' });
    if (withPractice === store.practice) throw new SteadfastError('invalid', 'A record cannot be shared with its own practice', { field: 'withPractice' });
    if (!reason) throw new SteadfastError('required', 'reason is required', { field: 'reason', hint: 'Say why, e.g. "Extended access appointments at the PCN hub"' });
    const consent = validateResource(shareConsent({ patientId, withPractice, reason: reason.slice(0, 500), start: new Date().toISOString() }), 'Consent') as Consent;
    const created = await store.transaction({ author: request.user.id }, async (tx) => {
      const patient = await tx.read('Patient', patientId);
      if (!patient || patient.deleted) throw new SteadfastError('not-found', `Patient/${patientId} was not found`, { field: 'patientId' });
      const [out] = await tx.write([{ kind: 'create', resource: consent }]);
      await audit.appendInTransaction(tx.db, [
        { actor: actorOf(request.user), event: 'create', resource: `Consent/${out!.resource!.id}`, patient: `Patient/${patientId}`, outcome: 'success', detail: `record shared with ${withPractice}` },
      ]);
      return out!.resource as Consent;
    });
    return reply.code(201).type(FHIR_JSON).send(created);
  });

  app.get<{ Querystring: { patient?: string } }>('/api/sharing', { preHandler: clinical }, async (request) => {
    const params = [{ name: 'category', values: [`${SHARING_CATEGORY_SYSTEM}|${SHARING_CATEGORY_CODE}`] }];
    if (request.query.patient) params.push({ name: 'patient', values: [`Patient/${request.query.patient.replace(/^Patient\//, '')}`] });
    const page = await store.search({ resourceType: 'Consent', params, count: 1000, offset: 0 });
    return { shares: (page.resources as Consent[]).filter((c) => readShareConsent(c)).map(shareView) };
  });

  app.post<{ Params: { consentId: string } }>('/api/sharing/:consentId/withdraw', { preHandler: clinical }, async (request) => {
    return store.transaction({ author: request.user.id }, async (tx) => {
      const stored = await tx.read('Consent', request.params.consentId);
      const consent = stored && !stored.deleted ? (stored.resource as Consent) : undefined;
      if (!consent || !readShareConsent(consent)) throw new SteadfastError('not-found', `No record sharing Consent/${request.params.consentId}`, { field: 'consentId' });
      const now = new Date().toISOString();
      const next: Consent = { ...consent, status: 'inactive', provision: { ...consent.provision, period: { ...consent.provision?.period, end: now } } };
      const [out] = await tx.write([{ kind: 'update', resource: next, ifMatch: stored!.versionId }]);
      const share = readShareConsent(consent)!;
      await audit.appendInTransaction(tx.db, [
        { actor: actorOf(request.user), event: 'update', resource: `Consent/${consent.id}`, patient: consent.patient?.reference, outcome: 'success', detail: `sharing with ${share.withPractice} withdrawn` },
      ]);
      return shareView(out!.resource as Consent);
    });
  });

  app.get('/api/shared', { preHandler: clinical }, async () => {
    const records = [];
    for (const s of await sharedStreams(store)) {
      const view = store.practiceView(s.owner);
      const patient = (await view.read('Patient', s.patientId))?.resource as Patient | undefined;
      const consents = await view.search({ resourceType: 'Consent', params: [{ name: 'patient', values: [`Patient/${s.patientId}`] }], count: 100, offset: 0 });
      const share = (consents.resources as Consent[]).map((c) => readShareConsent(c)).find((c) => c?.active && c.withPractice === store.practice);
      const name = patient?.name?.[0];
      records.push({
        owner: s.owner,
        patientId: s.patientId,
        // Until the first entries arrive the record is known only by its id.
        name: name ? [name.family?.toUpperCase(), ...(name.given ?? [])].filter(Boolean).join(', ') : null,
        nhsNumber: patient?.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? null,
        birthDate: patient?.birthDate ?? null,
        reason: share?.reason ?? null,
        lastExchangeAt: s.lastExchangeAt,
      });
    }
    return { records };
  });

  app.get<{ Params: { owner: string; patientId: string } }>('/api/shared/:owner/:patientId', { preHandler: clinical }, async (request, reply) => {
    const { owner, patientId } = request.params;
    const held = (await sharedStreams(store)).some((s) => s.owner === owner && s.patientId === patientId);
    if (!held || owner === store.practice) {
      throw new SteadfastError('not-found', `No record of Patient/${patientId} is shared with this practice by ${owner}`, { hint: 'GET /api/shared lists the records shared with this practice' });
    }
    const resources = await compartment(store.practiceView(owner), patientId);
    audit.record([{ actor: actorOf(request.user), event: 'read', resource: `Patient/${patientId}`, patient: `Patient/${patientId}`, outcome: 'success', detail: `record shared by ${owner}` }]);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      meta: { tag: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', code: owner, display: `Held by ${owner}; read-only copy` }] },
      total: resources.length,
      entry: resources.map((resource) => ({ fullUrl: `urn:steadfast:${owner}:${resource.resourceType}/${resource.id}`, resource })),
    };
    return reply.type(FHIR_JSON).send(bundle);
  });
}

export const sharing: Capability = { name: 'sharing', routes: registerSharing };
