/**
 * Requests out: a clinician picks tests; Steadfast writes one ServiceRequest per test (sharing the
 * placer order number as identifier and requisition) and one Specimen per tube, in one transaction
 * with the order number's sequence and (when a lab is connected) the outgoing ORM^O01. The printable
 * form is rendered from those stored resources, so a reprint is the same form.
 */
import type { FastifyInstance } from 'fastify';
import type { Organization, Patient, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import { z } from 'zod';
import { labelLikePatient, NHS_NUMBER_SYSTEM, SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { requireRole, type SessionUser } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { SNOMED, loadCatalogue, resolveTests, tubesFor } from './catalogue.ts';
import { renderRequestForm, type FormData } from './form.ts';
import { derivedId } from './map.ts';
import { formatOrderNumber } from './order-number.ts';
import { buildOrder, enqueueOrder, type LabConnection } from './orm.ts';
import { ptx, pdb } from './tables.ts';
import { PATHOLOGY_TEST_SYSTEM, PLACER_ORDER_SYSTEM, staffReference } from '@steadfast/domain/systems';

const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

export const requestBodySchema = z.object({
  patientId: z.string().min(1).max(64),
  tests: z.array(z.string().min(1).max(32)).min(1).max(40),
  clinicalDetails: z.string().max(2000).default(''),
  fasting: z.boolean().default(false),
  urgency: z.enum(['routine', 'urgent']).default('routine'),
});
export type RequestBody = z.infer<typeof requestBodySchema>;

/** The laboratory link from pathology's options (`--lab`), when the practice has one. */
export function labConnectionOf(config: { pathology?: { lab?: LabConnection } } | undefined): LabConnection | undefined {
  const lab = config?.pathology?.lab;
  return lab && lab.host && lab.port ? lab : undefined;
}

export interface CreatedRequest {
  orderNumber: string;
  serviceRequests: ServiceRequest[];
  specimens: Specimen[];
  queuedForLab: boolean;
}

export async function createRequest(store: RecordStore, user: Pick<SessionUser, 'id' | 'name'>, input: unknown, options: { lab?: LabConnection; now?: Date } = {}): Promise<CreatedRequest> {
  const parsed = requestBodySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SteadfastError('invalid', `Request: ${issue.message}`, { field: issue.path.join('.') || 'body', hint: 'Send { patientId, tests: ["FBC", ...], clinicalDetails, fasting, urgency }' });
  }
  const body = parsed.data;
  const catalogue = await loadCatalogue(store.db, store.practice);
  const tests = resolveTests(catalogue, body.tests);
  const tubes = tubesFor(tests);
  const now = options.now ?? new Date();
  const authoredOn = now.toISOString();
  return store.transaction({ author: user.id }, async (tx) => {
    const patient = (await tx.read('Patient', body.patientId))?.resource as Patient | undefined;
    if (!patient) throw new SteadfastError('not-found', `Patient ${body.patientId} was not found`, { field: 'patientId', hint: 'Choose the patient from a search first' });
    const nhs = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
    if (!nhs || !patient.birthDate || !patient.name?.[0]?.family) {
      throw new SteadfastError('invalid', 'The patient record lacks an NHS number, date of birth or family name, which the laboratory needs on form and tube', {
        field: 'patientId',
        hint: 'Complete the patient record before requesting tests',
      });
    }
    const db = ptx(tx);
    const day = authoredOn.slice(0, 10).replace(/-/g, '');
    await db
      .insertInto('pathology_order_sequence')
      .values({ practice: store.practice, day, seq: 1 })
      .onConflict((oc) => oc.columns(['practice', 'day']).doUpdateSet((eb) => ({ seq: eb('pathology_order_sequence.seq', '+', 1) })))
      .execute();
    const { seq } = await db.selectFrom('pathology_order_sequence').select('seq').where('practice', '=', store.practice).where('day', '=', day).executeTakeFirstOrThrow();
    const orderNumber = formatOrderNumber(store.practice, now, store.nodeId, Number(seq));
    const subject = { reference: `Patient/${patient.id}` };
    const requester = staffReference(user);
    const specimens: Specimen[] = tubes.map((tube, i) => ({
      resourceType: 'Specimen',
      id: derivedId(store.practice, 'Specimen', orderNumber, String(i)),
      identifier: [{ system: PLACER_ORDER_SYSTEM, value: `${orderNumber}/${i + 1}` }],
      status: 'available',
      type: { text: tube.specimen },
      subject,
      container: [{ type: { text: `${tube.colour} top - ${tube.additive}` }, capacity: { value: tube.volumeMl, unit: 'mL' } }],
      note: [{ text: tube.tests.join(', ') }],
    }));
    const serviceRequests: ServiceRequest[] = tests.map((t) => {
      const tubeIndex = tubes.findIndex((tube) => tube.tests.includes(t.code));
      return {
        resourceType: 'ServiceRequest',
        id: derivedId(store.practice, 'ServiceRequest', orderNumber, t.code),
        identifier: [{ system: PLACER_ORDER_SYSTEM, value: orderNumber }],
        requisition: { system: PLACER_ORDER_SYSTEM, value: orderNumber },
        status: 'active',
        intent: 'order',
        priority: body.urgency,
        category: [{ coding: [{ system: SNOMED, code: '108252007', display: 'Laboratory procedure' }] }],
        code: {
          coding: [
            ...(t.snomed ? [{ system: SNOMED, code: t.snomed, display: t.snomedDisplay ?? t.display }] : []),
            { system: PATHOLOGY_TEST_SYSTEM, code: t.code, display: t.display },
          ],
          text: t.display,
        },
        ...(body.fasting ? { orderDetail: [{ text: 'Fasting' }] } : {}),
        subject,
        authoredOn,
        requester,
        specimen: [{ reference: `Specimen/${specimens[tubeIndex]!.id}` }],
        ...(body.clinicalDetails ? { note: [{ text: body.clinicalDetails }] } : {}),
      };
    });
    for (const s of specimens) s.request = serviceRequests.filter((sr) => sr.specimen?.[0]?.reference === `Specimen/${s.id}`).map((sr) => ({ reference: `ServiceRequest/${sr.id}` }));
    const written = await tx.write([...specimens, ...serviceRequests].map((resource) => ({ kind: 'update' as const, resource: labelLikePatient(patient, resource) })));
    if (options.lab) {
      const name = patient.name[0]!;
      const orm = buildOrder(
        {
          orderNumber,
          practice: store.practice,
          patient: { nhsNumber: nhs, family: name.family!, given: name.given ?? [], birthDate: patient.birthDate, sex: patient.gender ?? 'unknown', address: addressLines(patient) },
          requester: { id: user.id, name: user.name },
          tests: tests.map((t) => ({ code: t.code, display: t.display })),
          clinicalDetails: body.clinicalDetails,
          fasting: body.fasting,
          urgency: body.urgency,
          authoredOn,
        },
        options.lab,
      );
      await enqueueOrder(db, store.practice, options.lab, orderNumber, orm, authoredOn);
    }
    return {
      orderNumber,
      specimens: written.slice(0, specimens.length).map((w) => w.resource as Specimen),
      serviceRequests: written.slice(specimens.length).map((w) => w.resource as ServiceRequest),
      queuedForLab: !!options.lab,
    };
  });
}

function addressLines(p: Patient): string[] {
  const a = p.address?.[0];
  return a ? [...(a.line ?? []), a.city, a.district, a.postalCode].filter((x): x is string => !!x) : [];
}

/** Everything the form shows, read from the stored request. */
export async function formDataFor(store: RecordStore, idOrOrderNumber: string): Promise<FormData> {
  let requests = (
    await store.search({ resourceType: 'ServiceRequest', params: [{ name: 'identifier', values: [`${PLACER_ORDER_SYSTEM}|${idOrOrderNumber}`] }], count: 100, offset: 0 })
  ).resources as ServiceRequest[];
  if (!requests.length) {
    const one = (await store.read('ServiceRequest', idOrOrderNumber))?.resource as ServiceRequest | undefined;
    const orderNumber = one?.identifier?.find((i) => i.system === PLACER_ORDER_SYSTEM)?.value;
    if (orderNumber) {
      requests = (await store.search({ resourceType: 'ServiceRequest', params: [{ name: 'identifier', values: [`${PLACER_ORDER_SYSTEM}|${orderNumber}`] }], count: 100, offset: 0 })).resources as ServiceRequest[];
    }
  }
  if (!requests.length) throw new SteadfastError('not-found', `Pathology request ${idOrOrderNumber} was not found`, { field: 'id', hint: 'Use the order number or a ServiceRequest id' });
  requests.sort((a, b) => (a.id! < b.id! ? -1 : 1));
  const first = requests[0]!;
  const orderNumber = first.identifier!.find((i) => i.system === PLACER_ORDER_SYSTEM)!.value!;
  const patient = (await store.read('Patient', first.subject!.reference!.split('/')[1]!))?.resource as Patient | undefined;
  if (!patient) throw new SteadfastError('not-found', `The patient of request ${orderNumber} was not found`);
  const specimenIds = [...new Set(requests.map((r) => r.specimen?.[0]?.reference).filter((x): x is string => !!x))].sort();
  const specimens: Specimen[] = [];
  for (const ref of specimenIds) {
    const s = (await store.read('Specimen', ref.split('/')[1]!))?.resource as Specimen | undefined;
    if (s) specimens.push(s);
  }
  specimens.sort((a, b) => (a.identifier?.[0]?.value ?? '').localeCompare(b.identifier?.[0]?.value ?? ''));
  const org = (await store.search({ resourceType: 'Organization', params: [{ name: 'identifier', values: [`${ODS_SYSTEM}|${store.practice}`] }], count: 1, offset: 0 })).resources[0] as
    | Organization
    | undefined;
  const name = patient.name?.[0];
  const local = (r: ServiceRequest) => r.code?.coding?.find((c) => c.system === PATHOLOGY_TEST_SYSTEM);
  requests.sort((a, b) => (local(a)?.code ?? '').localeCompare(local(b)?.code ?? ''));
  return {
    orderNumber,
    practice: { name: org?.name ?? `Practice ${store.practice}`, ods: store.practice },
    requester: first.requester?.display ?? '',
    patient: {
      name: `${(name?.family ?? '').toUpperCase()}, ${(name?.given ?? []).join(' ')}${name?.prefix?.length ? ` (${name.prefix.join(' ')})` : ''}`,
      birthDate: patient.birthDate ?? '',
      sex: patient.gender ?? 'unknown',
      nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '',
      address: addressLines(patient),
    },
    tests: requests.map((r) => {
      const spec = specimens.find((s) => `Specimen/${s.id}` === r.specimen?.[0]?.reference);
      return { code: local(r)?.code ?? '', display: r.code?.text ?? local(r)?.display ?? '', specimen: spec?.type?.text ?? '', tube: spec?.container?.[0]?.type?.text ?? '' };
    }),
    tubes: specimens.map((s) => {
      const [colour, additive] = (s.container?.[0]?.type?.text ?? '').split(' top - ');
      return { colour: colour ?? '', additive: additive ?? '', volumeMl: s.container?.[0]?.capacity?.value ?? 0, specimen: s.type?.text ?? '', tests: (s.note?.[0]?.text ?? '').split(', ') };
    }),
    clinicalDetails: first.note?.[0]?.text ?? '',
    fasting: !!first.orderDetail?.some((d) => d.text === 'Fasting'),
    urgency: first.priority === 'urgent' ? 'urgent' : 'routine',
    authoredOn: first.authoredOn ?? '1970-01-01T00:00:00.000Z',
  };
}

export async function registerRequestRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const store = deps.store;
  const lab = labConnectionOf(deps.config);
  const clinician = requireRole('clinician');

  app.post('/api/pathology/requests', { preHandler: clinician }, async (request, reply) => {
    const created = await createRequest(store, request.user, request.body, lab ? { lab } : {});
    const patient = created.serviceRequests[0]?.subject?.reference;
    await deps.audit.append([
      { actor: actorOf(request.user), event: 'create', resource: `ServiceRequest/${created.serviceRequests[0]?.id}`, patient, outcome: 'success', detail: `pathology request ${created.orderNumber}` },
    ]);
    return reply.code(201).send({ id: created.orderNumber, ...created, form: `/api/pathology/requests/${encodeURIComponent(created.orderNumber)}/form.pdf` });
  });

  app.get<{ Params: { id: string } }>('/api/pathology/requests/:id/form.pdf', { preHandler: requireRole('clinician', 'practice-admin', 'receptionist') }, async (request, reply) => {
    const data = await formDataFor(store, request.params.id);
    const pdf = await renderRequestForm(data);
    // Every print is logged; the count tells first print from reprint.
    const printed = await pdb(store.db)
      .selectFrom('pathology_audit')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('practice', '=', store.practice)
      .where('action', '=', 'print-form')
      .where('entity', '=', data.orderNumber)
      .executeTakeFirst();
    const n = Number(printed?.n ?? 0) + 1;
    await store.transaction({ author: request.user.id }, async (tx) => {
      await ptx(tx)
        .insertInto('pathology_audit')
        .values({ id: crypto.randomUUID(), practice: store.practice, at: new Date().toISOString(), user_id: request.user.id, action: 'print-form', entity: data.orderNumber, detail: n > 1 ? `reprint ${n - 1}` : 'first print' })
        .execute();
      await deps.audit.appendInTransaction(tx.db, [
        {
          actor: actorOf(request.user),
          event: 'export',
          resource: `ServiceRequest/${request.params.id}`,
          outcome: 'success',
          detail: `pathology request form ${data.orderNumber} printed (${n > 1 ? `reprint ${n - 1}` : 'first print'})`,
        },
      ]);
    });
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${data.orderNumber}.pdf"`).send(Buffer.from(pdf));
  });
}
