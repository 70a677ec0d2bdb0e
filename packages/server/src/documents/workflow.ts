/**
 * Document workflow, as practices run it: a trained administrator (a receptionist the practice has
 * given the document-workflow right, or any clinician or practice administrator) opens a document
 * beside the record, confirms the patient, sets the type and date, codes suggested diagnoses and
 * medication changes for a clinician, and files it or routes it to a clinician with an action (read,
 * action, urgent). Filing writes a Binary (the bytes) and a DocumentReference to the record. Every
 * step is kept on the document (history) and in the audit trail.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Binary, DocumentReference, Patient } from '@medplum/fhirtypes';
import { combineErrors, SteadfastError } from '@steadfast/domain';
import { DOCUMENT_TYPES, documentType, KIND_MEDIA_TYPE, SNOMED, type DocumentKind } from '@steadfast/domain/documents';
import type { AppDeps } from '../capability.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import type { DocumentIntake } from './intake.ts';
import { BLOB_TAG_SYSTEM, documentView } from './view.ts';
import { writeDocumentRecord } from './replica.ts';
import { ddb, type DocumentsTable } from './tables.ts';

export const ACTIONS = ['read', 'action', 'urgent'] as const;
export type RouteAction = (typeof ACTIONS)[number];

export interface Suggestion {
  kind: 'diagnosis' | 'medication-change';
  /** SNOMED CT concept id, when coded. */
  code?: string;
  display: string;
}

interface HistoryEntry {
  at: string;
  by: string;
  step: string;
  detail: string;
}

/** Inline in the Binary up to this size; larger bytes stay in the blob store, named by hash in the Binary. */
export const INLINE_BINARY_BYTES = 8 * 1024 * 1024;

/** Who may work documents: clinicians and practice administrators, and receptionists granted the right. */
export async function hasWorkflowRight(deps: AppDeps, user: SessionUser): Promise<boolean> {
  if (user.role === 'clinician' || user.role === 'practice-admin') return true;
  const grant = await ddb(deps.store.db).selectFrom('document_workflow_grants').select('user_id').where('practice', '=', deps.store.practice).where('user_id', '=', user.id).executeTakeFirst();
  return !!grant;
}

export async function registerWorkflowRoutes(app: FastifyInstance, deps: AppDeps, intakeOf: () => DocumentIntake | undefined): Promise<void> {
  const { store } = deps;
  const practice = store.practice;
  const now = () => new Date().toISOString();
  const workflow = async (request: FastifyRequest) => {
    if (!request.user) throw new SteadfastError('unauthenticated', 'Sign in first');
    if (!(await hasWorkflowRight(deps, request.user))) {
      throw new SteadfastError('forbidden', 'Working documents needs the document-workflow right', { hint: 'Ask a practice administrator to give you the document-workflow right' });
    }
  };

  async function load(id: string): Promise<DocumentsTable> {
    const row = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
    if (!row) throw new SteadfastError('not-found', `Document ${id} was not found`, { field: 'id', hint: 'Reload the list' });
    return row;
  }

  /** One step: the row changed only if it is still as it was read (no two people overwriting each other). */
  async function step(request: FastifyRequest, row: DocumentsTable, change: Partial<DocumentsTable>, stepName: string, detail: string, extra?: (tx: import('@steadfast/store').StoreTransaction) => Promise<void>, filed?: DocumentReference) {
    const history = JSON.parse(row.history) as HistoryEntry[];
    history.push({ at: now(), by: request.user.name, step: stepName, detail });
    const patient = change.patient_id ?? row.patient_id;
    const next: DocumentsTable = { ...row, ...change, history: JSON.stringify(history), updated_at: now() };
    await store.transaction({ author: request.user.id }, async (tx) => {
      await extra?.(tx);
      // The step is a change-log entry too (the document's DocumentReference), so it replicates.
      await writeDocumentRecord(tx, next, filed);
      const done = await ddb(tx.db)
        .updateTable('documents')
        .set({ ...change, history: next.history, updated_at: next.updated_at })
        .where('practice', '=', practice)
        .where('id', '=', row.id)
        .where('updated_at', '=', row.updated_at)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) throw new SteadfastError('conflict', 'Someone else changed this document meanwhile', { field: 'id', hint: 'Reload the document and check their change' });
      await deps.audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'update', resource: `Document/${row.id}`, ...(patient ? { patient: `Patient/${patient}` } : {}), outcome: 'success', detail: `${stepName}: ${detail}` }]);
    });
    return documentView(await load(row.id), true);
  }

  const notFiled = (row: DocumentsTable) => {
    if (row.state === 'filed') throw new SteadfastError('conflict', 'This document is already filed', { hint: 'Open it from the patient record' });
  };

  // ---- confirm the patient ------------------------------------------------------------------------
  app.post<{ Params: { id: string }; Body: { patientId?: unknown } }>('/api/documents/:id/patient', { preHandler: workflow }, async (request) => {
    const row = await load(request.params.id);
    notFiled(row);
    const patientId = request.body?.patientId;
    if (typeof patientId !== 'string' || !patientId) throw new SteadfastError('required', 'Choose the patient this document is about', { field: 'patientId', hint: 'Confirm the proposed patient, or search for the patient by name or NHS number' });
    const stored = await store.read('Patient', patientId);
    if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${patientId} was not found`, { field: 'patientId', hint: 'Search for the patient again' });
    const p = stored.resource as Patient;
    const display = `${(p.name?.[0]?.family ?? '').toUpperCase()}, ${(p.name?.[0]?.given ?? []).join(' ')}`;
    const how = row.proposed_patient_id === patientId ? 'proposed patient confirmed' : row.proposed_patient_id ? 'a different patient from the one proposed chosen' : 'patient chosen by hand';
    return step(request, row, { patient_id: patientId, state: row.state === 'with-clinician' ? row.state : 'matched' }, 'patient', `${how}: ${display}`);
  });

  // ---- type, date, suggested codes ---------------------------------------------------------------------
  app.put<{ Params: { id: string }; Body: { type?: unknown; date?: unknown; suggestions?: unknown } }>('/api/documents/:id/coding', { preHandler: workflow }, async (request) => {
    const row = await load(request.params.id);
    notFiled(row);
    const { type, date, suggestions } = request.body ?? {};
    const problems: SteadfastError[] = [];
    if (typeof type !== 'string' || !documentType(type)) problems.push(new SteadfastError('required', 'Choose the document type', { field: 'type', hint: `One of: ${DOCUMENT_TYPES.map((t) => t.label).join(', ')}` }));
    if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) problems.push(new SteadfastError('required', 'Enter the date of the document', { field: 'date', hint: 'As a real date, for example 2026-12-01' }));
    else if (date > now().slice(0, 10)) problems.push(new SteadfastError('invalid', 'The date of the document must be today or in the past', { field: 'date', hint: 'Enter the date written on the letter' }));
    const list: Suggestion[] = [];
    if (suggestions !== undefined) {
      if (!Array.isArray(suggestions)) problems.push(new SteadfastError('invalid', 'Suggestions must be a list', { field: 'suggestions' }));
      else {
        suggestions.forEach((s: any, i) => {
          if (!s || (s.kind !== 'diagnosis' && s.kind !== 'medication-change') || typeof s.display !== 'string' || !s.display.trim()) {
            problems.push(new SteadfastError('invalid', `Suggestion ${i + 1} needs a kind (diagnosis or medication change) and a description`, { field: `suggestions[${i}]` }));
          } else if (s.code !== undefined && (typeof s.code !== 'string' || !/^\d{6,18}$/.test(s.code))) {
            problems.push(new SteadfastError('invalid', `Suggestion ${i + 1}: "${String(s.code)}" is not a SNOMED CT code`, { field: `suggestions[${i}].code`, hint: 'Pick the code from the search, or leave it blank' }));
          } else list.push({ kind: s.kind, display: s.display.trim().slice(0, 300), ...(s.code ? { code: s.code } : {}) });
        });
      }
    }
    if (problems.length) throw combineErrors(problems);
    const t = documentType(type as string)!;
    return step(request, row, { doc_type: t.key, doc_date: date as string, suggestions: JSON.stringify(list) }, 'coding', `${t.label} dated ${date as string}${list.length ? `; ${list.length} suggestion(s) for a clinician` : ''}`);
  });

  // ---- route to a clinician ----------------------------------------------------------------------
  app.post<{ Params: { id: string }; Body: { clinicianId?: unknown; action?: unknown; note?: unknown } }>('/api/documents/:id/route', { preHandler: workflow }, async (request) => {
    const row = await load(request.params.id);
    notFiled(row);
    const { clinicianId, action, note } = request.body ?? {};
    const problems: SteadfastError[] = [];
    if (!row.patient_id) problems.push(new SteadfastError('required', 'Confirm the patient before routing the document', { field: 'patientId', hint: 'A letter goes to a clinician only with its patient confirmed' }));
    const clinician = typeof clinicianId === 'string' ? await deps.accounts.getUser(clinicianId) : undefined;
    if (!clinician || clinician.disabled || clinician.role !== 'clinician') problems.push(new SteadfastError('required', 'Choose the clinician to send it to', { field: 'clinicianId', hint: 'Pick a clinician from the list' }));
    if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) problems.push(new SteadfastError('required', 'Choose what the clinician must do: read, action or urgent', { field: 'action' }));
    if (problems.length) throw combineErrors(problems);
    return step(request, row, { state: 'with-clinician', assignee_id: clinician!.id, assignee_name: clinician!.name, action: action as string, route_note: typeof note === 'string' ? note.slice(0, 1000) : null }, 'routed', `to ${clinician!.name} to ${action as string}`);
  });

  // ---- file to the record --------------------------------------------------------------------------
  app.post<{ Params: { id: string } }>('/api/documents/:id/file', { preHandler: workflow }, async (request) => {
    const row = await load(request.params.id);
    notFiled(row);
    const problems: SteadfastError[] = [];
    if (!row.patient_id) problems.push(new SteadfastError('required', 'Confirm the patient before filing', { field: 'patientId', hint: 'Never file a letter without its patient confirmed' }));
    if (!row.doc_type || !row.doc_date) problems.push(new SteadfastError('required', 'Set the document type and date before filing', { field: 'type' }));
    if (row.state === 'with-clinician' && request.user.role !== 'clinician' && request.user.id !== row.assignee_id) {
      problems.push(new SteadfastError('forbidden', `This document is with ${row.assignee_name} to ${row.action}`, { hint: 'The clinician files it once seen' }));
    }
    if (problems.length) throw combineErrors(problems);
    const intake = intakeOf();
    if (!intake) throw new SteadfastError('unavailable', 'Documents need a data directory for their files', { hint: 'Start the node with --data-dir' });
    const type = documentType(row.doc_type!)!;
    const binaryId = randomUUID();
    // The document's own DocumentReference (replica.ts) becomes the filed one: one per document.
    const referenceId = row.id;
    const size = Number(row.size);
    const contentType = KIND_MEDIA_TYPE[row.kind as DocumentKind] ?? 'application/octet-stream';
    const inline = size <= INLINE_BINARY_BYTES;
    const bytes = inline ? await intake.blobs.read(row.blob) : undefined;
    const binary: Binary = {
      resourceType: 'Binary',
      id: binaryId,
      contentType,
      securityContext: { reference: `Patient/${row.patient_id}` },
      ...(bytes ? { data: bytes.toString('base64') } : { meta: { tag: [{ system: BLOB_TAG_SYSTEM, code: row.blob }] } }),
    };
    const suggestions = JSON.parse(row.suggestions) as Suggestion[];
    const reference: DocumentReference = {
      resourceType: 'DocumentReference',
      id: referenceId,
      status: 'current',
      docStatus: 'final',
      type: { coding: [{ system: SNOMED, code: type.code, display: type.display }], text: type.label },
      subject: { reference: `Patient/${row.patient_id}` },
      date: new Date(`${row.doc_date}T12:00:00Z`).toISOString(),
      description: (row.subject || row.filename).slice(0, 500),
      ...(row.sender ? { author: [{ display: row.sender.slice(0, 200) }] } : {}),
      content: [{ attachment: { contentType, url: `Binary/${binaryId}`, size, title: row.filename, creation: row.received_at, hash: createHash('sha1').update(bytes ?? Buffer.alloc(0)).digest('base64') } }],
      ...(suggestions.length ? { extension: [{ url: 'https://steadfast.example/fhir/StructureDefinition/document-suggestions', valueString: JSON.stringify(suggestions) }] } : {}),
    };
    if (!bytes) delete reference.content[0]!.attachment.hash;
    return step(request, row, { state: 'filed', document_reference_id: referenceId, filed_at: now() }, 'filed', `${type.label} filed to the record`, async (tx) => {
      await tx.write([{ kind: 'update', resource: binary }]);
    }, reference);
  });

  // ---- queues ----------------------------------------------------------------------------------------
  app.get('/api/documents/queue/mine', { preHandler: requireRole('clinician') }, async (request) => {
    const rows = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', practice).where('assignee_id', '=', request.user.id).where('state', '=', 'with-clinician').orderBy('received_at').execute();
    const rank = (a: string | null) => (a === 'urgent' ? 0 : a === 'action' ? 1 : 2);
    rows.sort((a, b) => rank(a.action) - rank(b.action) || a.received_at.localeCompare(b.received_at));
    await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: 'Document', outcome: 'success', detail: `own document queue (${rows.length})` }]);
    return { documents: rows.map((r) => ({ ...documentView(r), action: r.action, note: r.route_note, type: r.doc_type, date: r.doc_date, suggestions: JSON.parse(r.suggestions) as Suggestion[] })) };
  });

  app.get<{ Params: { patientId: string } }>('/api/documents/patient/:patientId', { preHandler: requireRole('clinician', 'practice-admin') }, async (request) => {
    const rows = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', practice).where('patient_id', '=', request.params.patientId).where('state', '=', 'filed').orderBy('doc_date', 'desc').execute();
    await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: 'DocumentReference', patient: `Patient/${request.params.patientId}`, outcome: 'success', detail: `documents tab (${rows.length})` }]);
    return {
      documents: rows.map((r) => ({ id: r.id, documentReferenceId: r.document_reference_id, type: documentType(r.doc_type ?? '')?.label ?? r.doc_type, date: r.doc_date, description: r.subject || r.filename, filename: r.filename, kind: r.kind, filedAt: r.filed_at })),
    };
  });

  // ---- the right ---------------------------------------------------------------------------------------
  app.get('/api/documents/workflow-staff', { preHandler: requireRole('practice-admin') }, async () => {
    const rows = await ddb(store.db).selectFrom('document_workflow_grants').selectAll().where('practice', '=', practice).execute();
    return { grants: rows.map((r) => ({ userId: r.user_id, grantedBy: r.granted_by, grantedAt: r.granted_at })) };
  });
  app.put<{ Params: { userId: string }; Body: { granted?: unknown } }>('/api/documents/workflow-staff/:userId', { preHandler: requireRole('practice-admin') }, async (request) => {
    const user = await deps.accounts.getUser(request.params.userId);
    if (!user) throw new SteadfastError('not-found', `User ${request.params.userId} was not found`, { field: 'userId' });
    if (typeof request.body?.granted !== 'boolean') throw new SteadfastError('required', 'Say whether the right is granted', { field: 'granted', hint: 'true or false' });
    await store.transaction({ author: request.user.id }, async (tx) => {
      const t = ddb(tx.db);
      if (request.body.granted) await t.insertInto('document_workflow_grants').values({ practice, user_id: user.id, granted_by: request.user.name, granted_at: now() }).onConflict((oc) => oc.columns(['practice', 'user_id']).doNothing()).execute();
      else await t.deleteFrom('document_workflow_grants').where('practice', '=', practice).where('user_id', '=', user.id).execute();
      await deps.audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'update', resource: `User/${user.id}`, outcome: 'success', detail: `document-workflow right ${request.body.granted ? 'granted' : 'removed'}` }]);
    });
    return { userId: user.id, granted: request.body.granted };
  });
}
