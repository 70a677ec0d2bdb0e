/**
 * Prescribing, issuing a repeat and re-authorising it. Each route re-runs the safety checks against the
 * record as it is now (never trusting the browser's), answers 409 with the alerts that lack an
 * override reason (nothing written), and otherwise writes the MedicationRequests and the audit entries
 * in one transaction through the record's write path (validated, change-logged, synced).
 *
 * Idempotency: the issue's id, the template's id and the EPS prescription id all derive from the
 * practice and the client's key (domain medicines/fhir.ts), so a retried submit finds what the first
 * one wrote and answers it again (200, duplicate) instead of issuing twice - at this node, and after
 * sync at any node of the practice.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AllergyIntolerance, Encounter, MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { AlertsOutcome, IssueResponse, PrescribeRequest, PrescribeResponse, ReauthoriseResponse } from '@steadfast/domain/api';
import { SteadfastError } from '@steadfast/domain';
import {
  applyOverrides, checkPrescription, issueRecords, prescribeIds, prescribeRecords, productOfRequest, PRESCRIPTION_ORDER_NUMBER_SYSTEM,
  recordedOverrides, structuredDose, validateIssueRequest, validatePrescribeRequest, validateReauthoriseRequest,
  type CheckContext, type DmdProduct, type MedicineAlert, type OverriddenAlert, type PrescriptionCandidate,
} from '@steadfast/domain/medicines';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import type { AuditInput } from '../audit/log.ts';
import { requireRole } from '../auth/index.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { FHIR_JSON } from '../http/errors.ts';
import { gateRecord } from '../records/gate.ts';
import type { NodeMedicines } from './knowledge.ts';

/** Today's date in London (prescriptions, review dates and courses run on UK dates). */
export function londonToday(at: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

type Stored = MedicationRequest & { id: string };

const ENDED = new Set(['stopped', 'cancelled', 'completed', 'entered-in-error']);

export function isTemplate(m: MedicationRequest): boolean {
  return !m.basedOn?.length && m.intent === 'plan' && (m.courseOfTherapyType?.coding ?? []).some((c) => c.code === 'continuous' || c.code === 'seasonal');
}

const templateOf = (m: MedicationRequest) => m.basedOn?.find((b) => b.reference?.startsWith('MedicationRequest/'))?.reference?.slice('MedicationRequest/'.length);
const prescriptionIdOf = (m: MedicationRequest) => m.identifier?.find((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM)?.value ?? '';
const patientOf = (m: MedicationRequest) => m.subject?.reference ?? '';

function alertsOutcome(alerts: readonly MedicineAlert[]): AlertsOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: alerts.map((a) => ({
      severity: 'error',
      code: 'business-rule',
      diagnostics: `${a.severity === 'stop' ? 'STOP' : 'Warning'} (${a.kind}): ${a.message}${a.advice ? ` ${a.advice}` : ''} To go ahead, resubmit with overrides [{ "alertId": "${a.id}", "reason": "..." }].`,
      expression: ['overrides'],
    })),
    alerts: [...alerts],
  };
}

export function registerPrescribing(app: FastifyInstance, deps: AppDeps, medicines: NodeMedicines): void {
  const { store, audit } = deps;
  const prescribers = { preHandler: requireRole('clinician') };
  const practice = store.practice;

  async function patientRecord(patientRef: string): Promise<Pick<CheckContext, 'allergies' | 'medications'>> {
    const search = async (resourceType: string) => {
      const out: Resource[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = await store.search({ resourceType, params: [{ name: 'patient', values: [patientRef] }], count: 500, offset });
        out.push(...page.resources);
        if (page.resources.length < 500) return out;
      }
    };
    return { allergies: (await search('AllergyIntolerance')) as AllergyIntolerance[], medications: (await search('MedicationRequest')) as MedicationRequest[] };
  }

  async function readRequest(id: string): Promise<{ resource: Stored; versionId: string } | undefined> {
    const stored = await store.read('MedicationRequest', id);
    if (!stored || stored.deleted) return undefined;
    return { resource: stored.resource as Stored, versionId: stored.versionId };
  }

  /** Run the checks; 409 (and a failure audit entry) when any alert has no override reason. */
  async function checked(request: FastifyRequest, reply: FastifyReply, product: DmdProduct, candidate: PrescriptionCandidate, context: CheckContext, overrides: PrescriptionOverrides, patientRef: string, what: string) {
    const alerts = checkPrescription(candidate, context, medicines);
    const { unresolved, overridden } = applyOverrides(alerts, overrides);
    if (unresolved.length) {
      await audit.append([{ actor: actorOf(request.user), event: 'create', resource: 'MedicationRequest', patient: patientRef, outcome: 'failure', detail: `${what} ${product.name} refused: ${unresolved.length} alert(s) not overridden (${unresolved.map((a) => a.id).join(', ')})` }]);
      void reply.code(409).type(FHIR_JSON).send(alertsOutcome(unresolved));
      return undefined;
    }
    return overridden;
  }

  function auditEntries(user: SessionUser, issue: Stored, patientRef: string, detail: string, overridden: readonly OverriddenAlert[]): AuditInput[] {
    return [
      { actor: actorOf(user), event: 'create', resource: `MedicationRequest/${issue.id}`, patient: patientRef, outcome: 'success', detail },
      ...overridden.map((a): AuditInput => ({
        actor: actorOf(user), event: 'create', resource: `MedicationRequest/${issue.id}`, patient: patientRef, outcome: 'success',
        detail: `medicine alert overridden: ${a.id} (${a.severity}) "${a.message}" reason: ${a.overrideReason}`,
      })),
    ];
  }

  // ---- prescribe (acute, or a repeat template and its first issue) ------------------------------------

  app.post<{ Params: { patientId: string } }>('/api/patients/:patientId/prescriptions', prescribers, async (request, reply): Promise<PrescribeResponse | undefined> => {
    const today = londonToday();
    const { request: body, product } = validatePrescribeRequest(request.body, medicines, today);
    const patientRef = `Patient/${request.params.patientId}`;
    await gateRecord(deps, request, reply, 'MedicationRequest', 'write', patientRef);
    const patient = await store.read('Patient', request.params.patientId);
    if (!patient || patient.deleted) throw new SteadfastError('not-found', `${patientRef} was not found`, { field: 'patientId', hint: 'Open the patient from the search, then prescribe' });

    const ids = prescribeIds(practice, body.idempotencyKey);
    const again = await readRequest(ids.issueId);
    if (again) return replay(again.resource, patientRef, body, reply);

    if (body.encounterId) {
      const enc = await store.read('Encounter', body.encounterId);
      if (!enc || enc.deleted || (enc.resource as Encounter).subject?.reference !== patientRef) {
        throw new SteadfastError('invalid', `Encounter/${body.encounterId} is not a consultation of ${patientRef}`, { field: 'encounterId', hint: "Prescribe from this patient's open consultation, or leave encounterId out" });
      }
    }
    const context = { ...(await patientRecord(patientRef)), today };
    const candidate = { vmp: product.vmp, ...(body.dosePerAdministration !== undefined ? { dosePerAdministration: body.dosePerAdministration } : {}), ...(body.frequencyPerDay !== undefined ? { frequencyPerDay: body.frequencyPerDay } : {}) };
    const overridden = await checked(request, reply, product, candidate, context, body.overrides ?? [], patientRef, `prescribing ${body.kind}`);
    if (!overridden) return undefined;

    const now = new Date().toISOString();
    const records = prescribeRecords({ practice, patientId: request.params.patientId, request: body, product, prescriber: request.user, overridden, now, today });
    const user = request.user;
    const written = await store.transaction({ author: user.id }, async (tx) => {
      const raced = await tx.read('MedicationRequest', records.issue.id);
      if (raced && !raced.deleted) return raced.resource as Stored;
      await tx.write([
        ...(records.template ? [{ kind: 'update' as const, resource: records.template }] : []),
        { kind: 'update', resource: records.issue },
      ]);
      const what = records.template
        ? `prescribed repeat ${product.name} (${body.repeat!.authorisedIssues} issues, review ${body.repeat!.reviewDate}), template MedicationRequest/${records.template.id}, first issue prescription ${records.prescriptionId}`
        : `prescribed acute ${product.name}, prescription ${records.prescriptionId}`;
      await audit.appendInTransaction(tx.db, auditEntries(user, records.issue, patientRef, what, overridden));
      return undefined;
    });
    if (written) return replay(written, patientRef, body, reply);
    void reply.code(201);
    return {
      issue: { id: records.issue.id, prescriptionId: records.prescriptionId },
      ...(records.template ? { template: { id: records.template.id } } : {}),
      alerts: overridden,
      duplicate: false,
    };
  });

  /**
   * A key already used: the same answer again, or 409 when it was used for something else - another
   * patient, or the same patient with other content (medicine, dose, quantity...: a retry of an edited
   * form must not be answered with the earlier prescription as if the edit had been prescribed).
   */
  function replay(issue: Stored, patientRef: string, body: PrescribeRequest, reply: FastifyReply): PrescribeResponse {
    if (patientOf(issue) !== patientRef) {
      throw new SteadfastError('conflict', `This idempotencyKey was already used for a prescription of another patient`, { field: 'idempotencyKey', hint: 'Make a new key for each new prescription; reuse a key only to retry the same submit' });
    }
    const differs = replayMismatch(issue, body);
    if (differs.length) {
      throw new SteadfastError('conflict', `This idempotencyKey was already used for a prescription with other content (${differs.join(', ')} differ from what was prescribed), so this submit was not prescribed`, {
        field: differs[0]!,
        hint: "Check the patient's Medications tab for what was prescribed; to prescribe something else, start a new prescription (a new key)",
      });
    }
    void reply.code(200);
    const template = templateOf(issue);
    return { issue: { id: issue.id, prescriptionId: prescriptionIdOf(issue) }, ...(template ? { template: { id: template } } : {}), alerts: recordedOverrides(issue).map(({ by: _by, ...a }) => a), duplicate: true };
  }

  // ---- issue from a repeat template ---------------------------------------------------------------------

  async function templateFor(id: string, request: FastifyRequest, reply: FastifyReply): Promise<{ template: Stored; versionId: string; patientRef: string }> {
    const found = await readRequest(id);
    if (!found) throw new SteadfastError('not-found', `MedicationRequest/${id} was not found`, { field: 'templateId', hint: "Pick the repeat from the patient's Medications tab" });
    if (!isTemplate(found.resource)) {
      throw new SteadfastError('invalid', `MedicationRequest/${id} is not a repeat template (intent plan, continuous course)`, { field: 'templateId', hint: 'Issue from the repeat template, not from one of its issues or an acute item' });
    }
    const patientRef = patientOf(found.resource);
    await gateRecord(deps, request, reply, 'MedicationRequest', 'write', patientRef);
    return { template: found.resource, versionId: found.versionId, patientRef };
  }

  const issuesOf = (templateId: string, medications: readonly MedicationRequest[]) => medications.filter((m) => templateOf(m) === templateId && m.status !== 'entered-in-error');

  app.post<{ Params: { templateId: string } }>('/api/medication-requests/:templateId/issue', prescribers, async (request, reply): Promise<IssueResponse | undefined> => {
    const today = londonToday();
    const body = validateIssueRequest(request.body);
    const { template, versionId, patientRef } = await templateFor(request.params.templateId, request, reply);
    const ids = prescribeIds(practice, body.idempotencyKey);
    const record = await patientRecord(patientRef);
    const authorised = template.dispenseRequest?.numberOfRepeatsAllowed ?? 0;
    const again = await readRequest(ids.issueId);
    if (again) {
      if (templateOf(again.resource) !== template.id) throw new SteadfastError('conflict', 'This idempotencyKey was already used for another prescription', { field: 'idempotencyKey', hint: 'Make a new key for each issue; reuse a key only to retry the same submit' });
      void reply.code(200);
      return { issue: { id: again.resource.id, prescriptionId: prescriptionIdOf(again.resource) }, issuesLeft: Math.max(0, authorised - issuesOf(template.id, record.medications).length), alerts: recordedOverrides(again.resource).map(({ by: _by, ...a }) => a), duplicate: true };
    }
    const name = template.medicationCodeableConcept?.text ?? 'this repeat';
    if (ENDED.has(template.status) || template.status === 'on-hold' || template.status === 'draft') {
      const why = template.statusReason?.text ? ` (${template.statusReason.text})` : '';
      throw new SteadfastError('conflict', `${name} is ${template.status}${why}: it cannot be issued`, { field: 'templateId', hint: template.status === 'on-hold' ? 'Re-authorise it to make it active again' : 'Prescribe it again if the patient should restart it' });
    }
    const issued = issuesOf(template.id, record.medications).length;
    if (issued >= authorised) {
      throw new SteadfastError('conflict', `${name} has no issues left (${issued} of ${authorised} issued)`, { field: 'templateId', hint: 'Review the medicine and re-authorise it (POST .../reauthorise) before the next issue' });
    }
    const review = template.dispenseRequest?.validityPeriod?.end?.slice(0, 10);
    if (review && review < today) {
      throw new SteadfastError('conflict', `${name} was due for review on ${review}`, { field: 'templateId', hint: 'Review the medicine and re-authorise it (POST .../reauthorise) before the next issue' });
    }
    const product = productOfRequest(template, medicines.products);
    if (!product) throw new SteadfastError('invalid', `${name} is not coded with a product of this practice's dm+d subset, so it cannot be checked`, { field: 'templateId', hint: 'Stop it and prescribe the medicine again from the dm+d search' });
    const context: CheckContext = { ...record, today, exclude: [template.id, ...issuesOf(template.id, record.medications).map((m) => m.id!)] };
    const overridden = await checked(request, reply, product, { vmp: product.vmp, ...structuredDose(template) }, context, body.overrides ?? [], patientRef, 'issuing repeat');
    if (!overridden) return undefined;

    const records = issueRecords({ practice, template, idempotencyKey: body.idempotencyKey, prescriber: request.user, overridden, now: new Date().toISOString() });
    const user = request.user;
    await store.transaction({ author: user.id }, async (tx) => {
      // If-Match on the template: two issues of one repeat at this node cannot both pass the counts above.
      await tx.write([{ kind: 'update', resource: records.template, ifMatch: versionId }, { kind: 'update', resource: records.issue }]);
      await audit.appendInTransaction(tx.db, auditEntries(user, records.issue, patientRef, `issued repeat ${product.name} (issue ${issued + 1} of ${authorised}) from MedicationRequest/${template.id}, prescription ${records.prescriptionId}`, overridden));
    });
    void reply.code(201);
    return { issue: { id: records.issue.id, prescriptionId: records.prescriptionId }, issuesLeft: authorised - issued - 1, alerts: overridden, duplicate: false };
  });

  // ---- re-authorise ---------------------------------------------------------------------------------------------

  app.post<{ Params: { templateId: string } }>('/api/medication-requests/:templateId/reauthorise', prescribers, async (request, reply): Promise<ReauthoriseResponse> => {
    const today = londonToday();
    const body = validateReauthoriseRequest(request.body, today);
    const { template, versionId, patientRef } = await templateFor(request.params.templateId, request, reply);
    const ifMatch = request.headers['if-match']?.replace(/^W\//, '').replace(/"/g, '') || versionId;
    const name = template.medicationCodeableConcept?.text ?? 'this repeat';
    if (ENDED.has(template.status)) {
      throw new SteadfastError('conflict', `${name} is ${template.status}: it cannot be re-authorised`, { field: 'templateId', hint: 'Prescribe it again if the patient should restart it' });
    }
    const issued = issuesOf(template.id, (await patientRecord(patientRef)).medications).length;
    const next: Stored = {
      ...template,
      status: 'active',
      dispenseRequest: { ...template.dispenseRequest, numberOfRepeatsAllowed: issued + body.authorisedIssues, validityPeriod: { start: today, end: body.reviewDate } },
    };
    const user = request.user;
    const [out] = await store.transaction({ author: user.id }, async (tx) => {
      const result = await tx.write([{ kind: 'update', resource: next, ifMatch }]);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(user), event: 'update', resource: `MedicationRequest/${template.id}`, patient: patientRef, outcome: 'success', detail: `re-authorised ${name}: ${body.authorisedIssues} more issue(s), review ${body.reviewDate}` }]);
      return result;
    });
    return { template: { id: template.id, versionId: out!.resource!.meta!.versionId! }, issuesLeft: body.authorisedIssues, reviewDate: body.reviewDate };
  });
}

/** The fields of a retried PrescribeRequest whose content is not what the stored issue of its key says (empty: the same submit). */
export function replayMismatch(issue: MedicationRequest, body: PrescribeRequest): string[] {
  const codes = (issue.medicationCodeableConcept?.coding ?? []).map((c) => c.code);
  const dose = structuredDose(issue);
  const stored = issue.dispenseRequest;
  const sameNumber = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? a === b : Math.abs(a - b) < 1e-6);
  const checks: Array<[string, boolean]> = [
    ['vmp', codes.includes(body.vmp)],
    ['amp', body.amp ? codes[0] === body.amp : codes.length === 1],
    ['kind', (body.kind === 'repeat') === Boolean(templateOf(issue))],
    ['dosageText', (issue.dosageInstruction?.[0]?.text ?? '') === body.dosageText.trim()],
    ['dosePerAdministration', sameNumber(dose.dosePerAdministration, body.dosePerAdministration)],
    // frequencyPerDay is stored as a whole-number Timing (once in 7 days), so compare to the Timing's precision.
    ['frequencyPerDay', dose.frequencyPerDay === undefined || body.frequencyPerDay === undefined ? dose.frequencyPerDay === body.frequencyPerDay : Math.abs(dose.frequencyPerDay - body.frequencyPerDay) < 1e-3],
    ['quantity', sameNumber(stored?.quantity?.value, body.quantity.value) && stored?.quantity?.unit === body.quantity.unit],
    ['days', sameNumber(stored?.expectedSupplyDuration?.value, body.days)],
  ];
  return checks.filter(([, same]) => !same).map(([field]) => field);
}

type PrescriptionOverrides = NonNullable<Parameters<typeof applyOverrides>[1]>;
