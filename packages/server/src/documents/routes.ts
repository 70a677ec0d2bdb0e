/**
 * Documents' HTTP routes: upload (multipart, each file streamed into the blob store), FHIR
 * DocumentReference / Bundle (kept byte for byte as sent), the list and one document, its bytes
 * (served so the browser never runs what a sender put in them), and the backlog figures.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SelectQueryBuilder } from 'kysely';
import type { Binary } from '@medplum/fhirtypes';
import multipart from '@fastify/multipart';
import { SteadfastError } from '@steadfast/domain';
import type { DocumentListPage } from '@steadfast/domain/api';
import { datesBetween, KIND_MEDIA_TYPE, londonDate, sniffDocument, type DocumentKind } from '@steadfast/domain/documents';
import { londonDayStart } from '@steadfast/domain/london-time';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { documentBacklog, documentDaily, MAX_DAILY_DAYS } from './backlog.ts';
import type { DocumentIntake } from './intake.ts';
import { ddb, type DocumentsDb } from './tables.ts';
import { BLOB_TAG_SYSTEM, documentView } from './view.ts';

export { documentView } from './view.ts';

const FHIR_TYPES = ['application/fhir+json', 'application/json'];

const LIST_COLUMNS = [
  'practice', 'id', 'inbox_id', 'source_blob', 'source', 'received_at', 'blob', 'size', 'filename', 'kind', 'declared_type', 'subject', 'sender', 'state', 'problem', 'identifiers',
  'proposed_patient_id', 'proposed_display', 'match_notes', 'patient_id', 'copies', 'updated_at', 'doc_type', 'doc_date', 'suggestions', 'assignee_id', 'assignee_name', 'action', 'route_note',
  'document_reference_id', 'filed_at', 'history',
] as const;

/** A real calendar date, YYYY-MM-DD. */
function isDate(value: string): boolean {
  const d = new Date(`${value}T12:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** "Arrived since DATE": from the start of that day in London (the practice's day, BST in summer). */
function sinceInstant(since: string): string {
  if (!isDate(since)) throw new SteadfastError('invalid', `"${since}" is not a date`, { field: 'since', hint: 'Give the date as YYYY-MM-DD' });
  return londonDayStart(since, 0);
}

/** The list's keyset cursor: `<received_at>~<id>` of the last row shown. */
function parseCursor(after: string): { at: string; id: string } {
  const i = after.indexOf('~');
  const at = after.slice(0, i);
  if (i < 0 || !/^\d{4}-\d{2}-\d{2}T/.test(at) || !after.slice(i + 1)) throw new SteadfastError('invalid', `"${after}" is not a list cursor`, { field: 'after', hint: 'Pass the `next` value of the page before, unchanged' });
  return { at, id: after.slice(i + 1) };
}

/**
 * Only a PDF (known from its bytes) shows inline, in the browser's PDF viewer, framed by the staff app
 * only; everything else downloads, as bytes the browser must not sniff, under a sandbox CSP. (The
 * node's security hook drops the CSP for PDFs: Chromium's viewer will not open under one.)
 */
function safeHeaders(reply: FastifyReply, kind: DocumentKind, filename: string, size: number, download: boolean): void {
  const inline = !download && kind === 'pdf';
  const safeName = (filename || 'document').replace(/[^\w.\- ]+/g, '_').slice(0, 100);
  void reply
    .header('content-type', KIND_MEDIA_TYPE[kind] ?? 'application/octet-stream')
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${safeName}"`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'")
    .header('x-frame-options', 'SAMEORIGIN')
    .header('cache-control', 'private, no-store')
    .header('cross-origin-resource-policy', 'same-origin')
    .header('content-length', String(size));
}

export async function registerDocumentRoutes(app: FastifyInstance, deps: AppDeps, intakeOf: () => DocumentIntake | undefined): Promise<void> {
  const { store } = deps;
  const staff = requireRole('receptionist', 'clinician', 'practice-admin');
  const need = (): DocumentIntake => {
    const intake = intakeOf();
    if (!intake) throw new SteadfastError('unavailable', 'Documents need a data directory for their files', { hint: 'Start the node with --data-dir' });
    return intake;
  };
  const audit = (request: { user: Parameters<typeof actorOf>[0] }, event: 'create' | 'read', resource: string, detail: string) =>
    deps.audit.append([{ actor: actorOf(request.user), event, resource, outcome: 'success', detail }]);

  // ---- in: upload (paper scanned at the desk, a letter brought in on a memory stick) -------------
  await app.register(async (scoped) => {
    const limit = deps.config.documents?.maxBlobBytes ?? 200 * 1024 * 1024;
    await scoped.register(multipart, { limits: { fileSize: limit, files: 50, fields: 10, parts: 60 }, throwFileSizeLimit: true });
    scoped.post('/api/documents/upload', { preHandler: staff, bodyLimit: limit + 1024 * 1024 }, async (request, reply) => {
      const intake = need();
      if (!request.isMultipart()) throw new SteadfastError('invalid', 'Send the files as multipart/form-data', { field: 'file', hint: 'Choose one or more files and upload them' });
      const received: Array<{ inboxId: string; filename: string; state: string; reason: string }> = [];
      try {
        for await (const part of request.parts()) {
          if (part.type !== 'file') continue;
          const r = await intake.receiveStream(part.file, 'file', 'upload', { filename: part.filename ?? 'upload', declaredType: part.mimetype ?? '', origin: { by: request.user.name } });
          if (r.state === 'refused') throw new SteadfastError('unavailable', `${part.filename} could not be kept: ${r.reason}`, { field: 'file', hint: 'Nothing was kept; upload it again' });
          received.push({ inboxId: r.id, filename: part.filename ?? '', state: r.state, reason: r.reason });
        }
      } catch (err) {
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || (err as { code?: string }).code === 'too-large') {
          throw new SteadfastError('too-large', `A file is larger than ${Math.round(limit / 1024 / 1024)} MB and was not kept`, { field: 'file', hint: 'Split it, or scan it in parts' });
        }
        throw err;
      }
      if (!received.length) throw new SteadfastError('required', 'Choose a file to upload', { field: 'file', hint: 'Add at least one file' });
      // Read now, so the person uploading sees each document (or its problem) at once.
      const outcomes = await intake.inbox.awaitProcessed(received.filter((r) => r.state === 'received').map((r) => r.inboxId));
      const docs = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', store.practice).where('inbox_id', 'in', received.map((r) => r.inboxId)).execute();
      await audit(request, 'create', 'Document', `${received.length} file(s) uploaded`);
      return reply.code(201).send({ received: received.map((r) => ({ ...r, ...(outcomes.find((o) => o.id === r.inboxId) ?? {}) })), documents: docs.map((d) => documentView(d)) });
    });
  });

  // ---- in: FHIR DocumentReference or Bundle, kept exactly as sent ------------------------------------
  await app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser(FHIR_TYPES, { parseAs: 'buffer', bodyLimit: deps.config.documents?.maxBlobBytes ?? 50 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scoped.post('/api/documents/fhir', { preHandler: staff, bodyLimit: deps.config.documents?.maxBlobBytes ?? 50 * 1024 * 1024 }, async (request, reply) => {
      const intake = need();
      const body = request.body as Buffer;
      let resource: { resourceType?: string } | undefined;
      try {
        resource = JSON.parse(body.toString('utf8'));
      } catch {
        throw new SteadfastError('invalid', 'The body is not JSON', { field: 'body', hint: 'Send a FHIR DocumentReference or Bundle as application/fhir+json' });
      }
      if (resource?.resourceType !== 'DocumentReference' && resource?.resourceType !== 'Bundle') {
        throw new SteadfastError('invalid', `Expected a DocumentReference or Bundle, not ${resource?.resourceType ?? 'a resource without resourceType'}`, { field: 'resourceType', hint: 'Send the discharge summary as a DocumentReference, or a Bundle holding one' });
      }
      const r = await intake.receiveStream(body, 'fhir', 'fhir', { filename: `${resource.resourceType}.json`, declaredType: 'application/fhir+json', origin: { by: request.user.name } });
      if (r.state === 'refused') throw new SteadfastError('unavailable', `Not kept: ${r.reason}`, { hint: 'Send it again' });
      if (r.state === 'received') await intake.inbox.awaitProcessed([r.id]);
      const docs = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', store.practice).where('inbox_id', '=', r.id).execute();
      await audit(request, 'create', 'Document', `FHIR ${resource.resourceType} received`);
      return reply.code(r.state === 'duplicate' ? 200 : 201).send({ inboxId: r.id, state: r.state, reason: r.reason, documents: docs.map((d) => documentView(d)) });
    });
  });

  // ---- the list, one document, its bytes ---------------------------------------------------------
  // One page at a time, oldest first, by keyset (`after` = the last row's cursor): every page costs
  // the same walk of the (practice, received_at, id) index, however deep into a backlog it is.
  app.get<{ Querystring: { state?: string; since?: string; limit?: string; problems?: string; after?: string } }>('/api/documents', { preHandler: staff }, async (request): Promise<DocumentListPage<ReturnType<typeof documentView>>> => {
    const { state, since, problems, after } = request.query;
    const sinceAt = since === undefined ? undefined : sinceInstant(since);
    const cursor = after === undefined ? undefined : parseCursor(after);
    const limit = Math.min(500, Math.max(1, Number(request.query.limit ?? 100) || 100));
    const states = state ? state.split(',') : undefined;
    const db = ddb(store.db);
    const filtered = <Q extends SelectQueryBuilder<DocumentsDb, 'documents', object>>(q: Q): Q => {
      let out = q.where('practice', '=', store.practice) as Q;
      if (states) out = out.where('state', 'in', states) as Q;
      if (sinceAt) out = out.where('received_at', '>=', sinceAt) as Q;
      if (problems === 'true') out = out.where('problem', 'is not', null) as Q;
      return out;
    };
    // Every column but the text (up to 200,000 characters each): the list never shows it.
    let q = filtered(db.selectFrom('documents').select(LIST_COLUMNS).select((eb) => eb.val('').as('text')));
    if (cursor) q = q.where((eb) => eb.or([eb('received_at', '>', cursor.at), eb.and([eb('received_at', '=', cursor.at), eb('id', '>', cursor.id)])]));
    const [rows, total] = await Promise.all([
      q.orderBy('received_at').orderBy('id').limit(limit + 1).execute(),
      cursor ? undefined : filtered(db.selectFrom('documents').select((eb) => eb.fn.countAll<number>().as('n'))).executeTakeFirst(),
    ]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    await audit(request, 'read', 'Document', `document list (${page.length})`);
    return {
      documents: page.map((r) => documentView(r)),
      ...(rows.length > limit && last ? { next: `${last.received_at}~${last.id}` } : {}),
      ...(total ? { total: Number(total.n) } : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/api/documents/:id', { preHandler: staff }, async (request) => {
    const row = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', store.practice).where('id', '=', request.params.id).executeTakeFirst();
    if (!row) throw new SteadfastError('not-found', `Document ${request.params.id} was not found`, { field: 'id', hint: 'Reload the list' });
    await audit(request, 'read', `Document/${row.id}`, 'document opened');
    return documentView(row, true);
  });

  app.get<{ Params: { id: string }; Querystring: { download?: string } }>('/api/documents/:id/content', { preHandler: staff }, async (request, reply) => {
    const intake = need();
    const row = await ddb(store.db).selectFrom('documents').selectAll().where('practice', '=', store.practice).where('id', '=', request.params.id).executeTakeFirst();
    if (!row) throw new SteadfastError('not-found', `Document ${request.params.id} was not found`, { field: 'id', hint: 'Reload the list' });
    await audit(request, 'read', `Document/${row.id}`, 'document content viewed');
    const kind = row.kind as DocumentKind;
    safeHeaders(reply, kind, row.filename, Number(row.size), request.query.download === 'true');
    return reply.send(intake.blobs.open(row.blob));
  });

  // The bytes of a filed document, from its Binary in the record (the record's documents tab).
  app.get<{ Params: { binaryId: string }; Querystring: { download?: string } }>('/api/documents/binary/:binaryId', { preHandler: requireRole('clinician', 'practice-admin') }, async (request, reply) => {
    const stored = await store.read('Binary', request.params.binaryId);
    if (!stored || stored.deleted) throw new SteadfastError('not-found', `Binary ${request.params.binaryId} was not found`, { field: 'binaryId' });
    const binary = stored.resource as Binary;
    const patient = binary.securityContext?.reference;
    await deps.audit.append([{ actor: actorOf(request.user), event: 'read', resource: `Binary/${binary.id}`, ...(patient ? { patient } : {}), outcome: 'success', detail: 'filed document viewed' }]);
    const blob = binary.meta?.tag?.find((t) => t.system === BLOB_TAG_SYSTEM)?.code;
    if (binary.data) {
      const bytes = Buffer.from(binary.data, 'base64');
      safeHeaders(reply, sniffDocument(bytes.subarray(0, 4096)).kind, 'document', bytes.length, request.query.download === 'true');
      return reply.send(bytes);
    }
    if (!blob || !intakeOf()?.blobs.has(blob)) throw new SteadfastError('not-found', 'The bytes of this document are not on this node', { hint: 'They are on the node that received it; ask the practice' });
    const blobs = intakeOf()!.blobs;
    safeHeaders(reply, sniffDocument(await blobs.head(blob)).kind, 'document', blobs.size(blob), request.query.download === 'true');
    return reply.send(blobs.open(blob));
  });

  app.get('/api/documents/backlog', { preHandler: staff }, async () => documentBacklog(store));

  // Arrivals and filings per day (the backlog's chart and its table): default the last 30 days.
  app.get<{ Querystring: { from?: string; to?: string } }>('/api/documents/backlog/daily', { preHandler: staff }, async (request) => {
    const today = londonDate(new Date());
    const to = request.query.to ?? today;
    if (!isDate(to)) throw new SteadfastError('invalid', `"${to}" is not a date`, { field: 'to', hint: 'Give the date as YYYY-MM-DD' });
    const from = request.query.from ?? addDays(to, -29);
    if (!isDate(from)) throw new SteadfastError('invalid', `"${from}" is not a date`, { field: 'from', hint: 'Give the date as YYYY-MM-DD' });
    if (from > to) throw new SteadfastError('invalid', `from (${from}) is after to (${to})`, { field: 'from', hint: 'Give a from date on or before the to date' });
    if (datesBetween(from, to).length > MAX_DAILY_DAYS) throw new SteadfastError('invalid', `${from} to ${to} is more than ${MAX_DAILY_DAYS} days`, { field: 'from', hint: `Ask for ${MAX_DAILY_DAYS} days or fewer` });
    return documentDaily(store, from, to);
  });
}
