/**
 * Reception: register a patient and keep their demographics and contact details up to date.
 *
 *   POST /api/reception/patients       RegistrationInput (+ confirmPossibleDuplicate?) → 201 { patient }
 *   GET  /api/reception/patients/:id   → { registration: RegistrationInput, versionId }
 *   PUT  /api/reception/patients/:id   RegistrationInput + versionId? → { patient }
 *
 * The rules are the domain's (`@steadfast/domain/registration`, the same the form runs), mobile, email
 * and preferences the messaging rules (`@steadfast/domain/contact`). Every write goes through the
 * record store in one transaction with its audit row; a sensitive record needs a break-glass grant,
 * as on the FHIR API (records/gate.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Patient } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import { patientFromRegistration, registrationOf, type RegistrationInput } from '@steadfast/domain/registration';
import type { AppDeps, Capability } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { gateRecord } from '../records/gate.ts';
import { checkNhsNumberUnique } from '../records/patients.ts';

type Body = RegistrationInput & { versionId?: unknown; confirmPossibleDuplicate?: unknown };

/** Only the fields of a registration: anything else in the body is ignored, never written. */
function registrationFrom(body: unknown): RegistrationInput {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['title', 'givenName', 'familyName', 'birthDate', 'gender', 'nhsNumber', 'addressLine1', 'addressLine2', 'town', 'postcode', 'phone', 'mobile', 'email']) {
    if (b[k] === undefined || b[k] === null) continue;
    if (typeof b[k] !== 'string') throw new SteadfastError('invalid', `${k} must be text`, { field: k, hint: 'Send the value as typed, as a string' });
    out[k] = b[k];
  }
  for (const k of ['smsConsent', 'doNotContact']) {
    if (b[k] === undefined) continue;
    if (typeof b[k] !== 'boolean') throw new SteadfastError('invalid', `${k} must be true or false`, { field: k, hint: 'Send true or false' });
    out[k] = b[k];
  }
  if (b.reasonableAdjustments !== undefined) out.reasonableAdjustments = b.reasonableAdjustments;
  return out as RegistrationInput;
}

async function registerReception(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;
  const staff = requireRole('receptionist', 'clinician', 'practice-admin');

  app.post<{ Body: Body }>('/api/reception/patients', { preHandler: staff }, async (request, reply) => {
    const registration = registrationFrom(request.body);
    const patient = patientFromRegistration(registration);
    const created = await store.transaction({ author: request.user.id }, async (tx) => {
      await checkNhsNumberUnique(tx, patient);
      if (request.body?.confirmPossibleDuplicate !== true) {
        // Without an NHS number the same person registered twice is the usual way two records start.
        const same = await tx.search({
          resourceType: 'Patient',
          params: [
            { name: 'family', values: [patient.name![0]!.family!] },
            { name: 'birthdate', values: [patient.birthDate!] },
          ],
          count: 5,
          offset: 0,
        });
        const family = patient.name![0]!.family!.toLowerCase();
        const match = (same.resources as Patient[]).find((p) => p.name?.some((n) => n.family?.toLowerCase() === family) && p.birthDate === patient.birthDate);
        if (match) {
          throw new SteadfastError('conflict', `A patient with last name ${patient.name![0]!.family} born ${patient.birthDate} is already registered (Patient/${match.id})`, {
            field: 'familyName',
            hint: 'Open the existing record if it is the same person; if not, confirm this is a different person (confirmPossibleDuplicate: true)',
          });
        }
      }
      const [out] = await tx.write([{ kind: 'create', resource: patient }]);
      const id = out!.resource!.id!;
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'create', resource: `Patient/${id}`, patient: `Patient/${id}`, outcome: 'success', detail: 'patient registered at reception' }]);
      return out!.resource as Patient;
    });
    void reply.code(201);
    return { patient: created };
  });

  app.get<{ Params: { id: string } }>('/api/reception/patients/:id', { preHandler: staff }, async (request, reply) => {
    const stored = await store.read('Patient', request.params.id);
    if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${request.params.id} was not found`, { field: 'id', hint: 'Find the patient again from the search page' });
    await gateRecord(deps, request, reply, 'Patient', 'read', `Patient/${request.params.id}`, stored.resource);
    return { registration: registrationOf(stored.resource as Patient), versionId: stored.versionId };
  });

  app.put<{ Params: { id: string }; Body: Body }>('/api/reception/patients/:id', { preHandler: staff }, async (request, reply) => {
    const registration = registrationFrom(request.body);
    const versionId = request.body?.versionId;
    if (versionId !== undefined && typeof versionId !== 'string') throw new SteadfastError('invalid', 'versionId must be text', { field: 'versionId', hint: 'Send the versionId the details were read at' });
    const before = await store.read('Patient', request.params.id);
    if (!before || before.deleted) throw new SteadfastError('not-found', `Patient ${request.params.id} was not found`, { field: 'id', hint: 'Find the patient again from the search page' });
    await gateRecord(deps, request, reply, 'Patient', 'write', `Patient/${request.params.id}`, before.resource);
    const updated = await store.transaction({ author: request.user.id }, async (tx) => {
      const stored = await tx.read('Patient', request.params.id);
      if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${request.params.id} was not found`, { field: 'id' });
      if (versionId && versionId !== stored.versionId) {
        throw new SteadfastError('conflict', `These details were changed by someone else while you were editing (you read version ${versionId}, the record is at ${stored.versionId})`, {
          field: 'versionId',
          hint: 'Reload the details, check them and save your change again',
        });
      }
      const next = patientFromRegistration(registration, stored.resource as Patient);
      await checkNhsNumberUnique(tx, next);
      const [out] = await tx.write([{ kind: 'update', resource: next, ifMatch: stored.versionId }]);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'update', resource: `Patient/${request.params.id}`, patient: `Patient/${request.params.id}`, outcome: 'success', detail: 'demographics and contact details changed at reception' }]);
      return out!.resource as Patient;
    });
    return { patient: updated };
  });
}

export const reception: Capability = { name: 'reception', routes: registerReception };
