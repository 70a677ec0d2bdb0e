/**
 * Document intake, raw first, for every source (IMAP, the scanner folder, upload, FHIR on the API):
 *
 * 1. The bytes as received (the whole .eml, the file as uploaded, the FHIR JSON) are streamed into
 *    the blob store (blobs.ts), named by their hash.
 * 2. A small manifest naming that blob is received by the durable inbox (capability `documents`):
 *    committed before the sender is told it is taken (IMAP: before the message is moved). Its key is
 *    the blob's hash, so the same bytes twice are a duplicate.
 * 3. The inbox worker takes each item apart (email attachments, FHIR attachments), reads each
 *    document's text, looks for identifiers and proposes a patient (domain/documents), and writes one
 *    `documents` row per document, unique by the document's own hash (the same letter in two emails
 *    is one document, its `copies` counted). Whatever cannot be read becomes a document with its
 *    `problem`, never an exception that stops the worker or the mail behind it.
 */
import type { Readable } from 'node:stream';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError } from '@steadfast/domain';
import { findIdentifiers, proposeMatch, type FoundIdentifiers, type MatchCandidate } from '@steadfast/domain/documents';
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import { DurableInbox, type InboxCapability, type InboxHandle, type InboxItem, type ReceiveResult } from '../inbox/index.ts';
import type { BlobStore, StoredBlob } from './blobs.ts';
import { parseEmail } from './email.ts';
import { extractText } from './extract.ts';
import { documentId, writeDocumentRecord, writeDocumentRecordOf } from './replica.ts';
import { ddb, type DocumentsTable } from './tables.ts';

export const INBOX_CAPABILITY = 'documents';
/** Inbox state once an item has become its documents. */
export const TAKEN = 'taken';
/** Inbox state of an item whose bytes were already taken apart from another item (a re-delivery). */
export const ALREADY_TAKEN = 'already-taken';

export type DocumentSource = 'imap' | 'folder' | 'upload' | 'fhir';
export type ItemForm = 'email' | 'file' | 'fhir';

/** What the inbox keeps for an item: the blob it names, and where it came from. */
export interface Manifest {
  v: 1;
  form: ItemForm;
  blob: string;
  size: number;
  filename: string;
  declaredType: string;
  /** E.g. the mailbox and UID, or the uploading user. */
  origin: Record<string, string>;
}

interface Part {
  blob: string;
  size: number;
  filename: string;
  declaredType: string;
  /** Known before reading (no attachment, an attachment by URL only). */
  problem?: string;
}

export function parseManifest(raw: string): Manifest {
  const m = JSON.parse(raw) as Manifest;
  if (m?.v !== 1 || !/^[0-9a-f]{64}$/.test(m.blob) || !['email', 'file', 'fhir'].includes(m.form)) {
    throw new SteadfastError('invalid', 'Not a documents manifest', { hint: 'A defect: the raw bytes are in the blob store' });
  }
  return m;
}

export interface IntakeOptions {
  onError?: (err: unknown) => void;
  now?: () => Date;
}

export class DocumentIntake {
  readonly inbox: DurableInbox<Manifest>;
  /** Receipts share commits when they arrive together. */
  private readonly receive: (raw: string, source: string) => Promise<ReceiveResult<Manifest>>;

  constructor(
    readonly store: RecordStore,
    readonly blobs: BlobStore,
    private readonly options: IntakeOptions = {},
  ) {
    const capability: InboxCapability<Manifest> = {
      name: INBOX_CAPABILITY,
      parse: parseManifest,
      dedupeKeys: (m) => [`blob:${m.blob}`],
      reasons: { received: 'Received; waiting to be read', duplicate: 'The same bytes were received before; kept, not read again' },
      process: (batch, inbox) => this.process(batch, inbox),
    };
    this.inbox = new DurableInbox(store, capability, { onError: options.onError ?? (() => undefined), retryMs: 500, maxRetryMs: 10_000, ...(options.now ? { now: options.now } : {}) });
    this.receive = this.inbox.receiver();
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  /** Keep an item whose bytes are already in the blob store; resolves after the commit (acknowledge then). */
  async receiveBlob(blob: StoredBlob, form: ItemForm, source: DocumentSource, meta: { filename?: string; declaredType?: string; origin?: Record<string, string> } = {}): Promise<ReceiveResult<Manifest>> {
    const manifest: Manifest = { v: 1, form, blob: blob.sha256, size: blob.size, filename: meta.filename ?? '', declaredType: meta.declaredType ?? '', origin: meta.origin ?? {} };
    return this.receive(JSON.stringify(manifest), source);
  }

  /** Stream the bytes into the blob store, then keep the item (raw first). */
  async receiveStream(bytes: Readable | Buffer | string, form: ItemForm, source: DocumentSource, meta: { filename?: string; declaredType?: string; origin?: Record<string, string> } = {}): Promise<ReceiveResult<Manifest> & { blob: StoredBlob }> {
    const blob = await this.blobs.put(bytes);
    return { ...(await this.receiveBlob(blob, form, source, meta)), blob };
  }

  // ---- processing (the inbox worker) -------------------------------------------------------------

  private async process(batch: Array<InboxItem<Manifest>>, inbox: InboxHandle<Manifest>): Promise<void> {
    for (const item of batch) {
      try {
        await this.processOne(item, inbox);
      } catch (err) {
        // The store or the disk refused: leave it received, and the worker tries again later.
        if (!(err instanceof SteadfastError) || err.code === 'unavailable' || err.code === 'internal') throw err;
        await this.store.transaction({ author: 'system:documents' }, (tx) => inbox.quarantine(tx, item.id, `Could not be stored: ${err.message}`));
      }
    }
  }

  private async processOne(item: InboxItem<Manifest>, inbox: InboxHandle<Manifest>): Promise<void> {
    if (!item.parsed) {
      await this.store.transaction({ author: 'system:documents' }, (tx) => inbox.quarantine(tx, item.id, String((item.error as Error)?.message ?? item.error)));
      return;
    }
    const m = item.parsed;
    const db = ddb(this.store.db as never);
    // These bytes were taken apart already, from another item (e.g. fetched again after a crash
    // before the mailbox was told): nothing new.
    const seen = await db.selectFrom('documents').select('id').where('practice', '=', this.store.practice).where('source_blob', '=', m.blob).where('inbox_id', '!=', item.id).executeTakeFirst();
    if (seen) {
      await this.store.transaction({ author: 'system:documents' }, (tx) => inbox.settle(tx, item.id, ALREADY_TAKEN, 'Already taken (the same bytes arrived before)', { keys: [`blob:${m.blob}`] }));
      return;
    }
    const { parts, subject, sender } = await this.partsOf(m);
    const rows: DocumentsTable[] = [];
    for (const part of parts) rows.push(await this.documentRow(item, m, part, subject, sender));
    await this.store.transaction({ author: 'system:documents' }, async (tx) => {
      const t = ddb(tx.db as never);
      for (const row of rows) {
        const existing = await t.selectFrom('documents').select(['id', 'inbox_id']).where('practice', '=', row.practice).where('blob', '=', row.blob).executeTakeFirst();
        // Each document is also a record in the change log, so it replicates (replica.ts).
        if (!existing) {
          await t.insertInto('documents').values(row).execute();
          await writeDocumentRecord(tx, row);
        } else if (existing.inbox_id !== item.id) {
          await t.updateTable('documents').set((eb) => ({ copies: eb('copies', '+', 1), updated_at: this.now() })).where('practice', '=', row.practice).where('id', '=', existing.id).execute();
          await writeDocumentRecordOf(tx, row.practice, existing.id);
        }
      }
      const n = rows.length;
      await inbox.settle(tx, item.id, TAKEN, `Taken: ${n} document${n === 1 ? '' : 's'}`, { keys: [`blob:${m.blob}`] });
    });
  }

  /** The documents in an item: an email's attachments (or its text), a file, a FHIR resource's attachments. */
  private async partsOf(m: Manifest): Promise<{ parts: Part[]; subject: string; sender: string }> {
    const whole: Part = { blob: m.blob, size: m.size, filename: m.filename, declaredType: m.declaredType };
    if (m.form === 'file') return { parts: [whole], subject: m.filename, sender: m.origin.by ?? '' };
    if (m.form === 'email') {
      let email;
      try {
        email = await parseEmail(this.blobs, m.blob);
      } catch (err) {
        if (err instanceof SteadfastError && err.code === 'too-large') throw err;
        return { parts: [{ ...whole, filename: 'message.eml', problem: `The email could not be read (${(err as Error)?.message ?? String(err)}): download the .eml to read it` }], subject: '', sender: '' };
      }
      if (email.attachments.length) return { parts: email.attachments.map((a) => ({ blob: a.sha256, size: a.size, filename: a.filename, declaredType: a.declaredType })), subject: email.subject, sender: email.from };
      // No attachment: the message text is the document (kept as text; the HTML is never shown).
      const body = email.text.trim() || email.html;
      const blob = await this.blobs.put(Buffer.from(body, 'utf8'));
      return {
        parts: [{ blob: blob.sha256, size: blob.size, filename: 'message.txt', declaredType: 'text/plain', problem: 'An email with no attachment: its text is the document. Check whether a letter should have been attached' }],
        subject: email.subject,
        sender: email.from,
      };
    }
    return this.fhirParts(m, whole);
  }

  private async fhirParts(m: Manifest, whole: Part): Promise<{ parts: Part[]; subject: string; sender: string }> {
    let resource: any;
    try {
      resource = JSON.parse((await this.blobs.read(m.blob)).toString('utf8'));
    } catch (err) {
      return { parts: [{ ...whole, problem: `Not FHIR JSON (${(err as Error).message}): download it to read it` }], subject: '', sender: '' };
    }
    const references: any[] = resource?.resourceType === 'Bundle' ? (resource.entry ?? []).map((e: any) => e?.resource).filter((r: any) => r?.resourceType === 'DocumentReference') : resource?.resourceType === 'DocumentReference' ? [resource] : [];
    const binaries: any[] = resource?.resourceType === 'Bundle' ? (resource.entry ?? []).map((e: any) => e?.resource).filter((r: any) => r?.resourceType === 'Binary') : [];
    const parts: Part[] = [];
    const subject = String(references[0]?.description ?? references[0]?.type?.text ?? references[0]?.type?.coding?.[0]?.display ?? 'FHIR document');
    const sender = String(references[0]?.author?.[0]?.display ?? references[0]?.custodian?.display ?? '');
    for (const ref of references) {
      for (const c of ref.content ?? []) {
        const a = c?.attachment ?? {};
        if (typeof a.data === 'string') {
          const blob = await this.blobs.put(Buffer.from(a.data, 'base64'));
          parts.push({ blob: blob.sha256, size: blob.size, filename: String(a.title ?? 'attachment'), declaredType: String(a.contentType ?? '') });
        } else if (typeof a.url === 'string') {
          const bin = binaries.find((b) => a.url === `Binary/${b.id}` || a.url === b.fullUrl || a.url.endsWith(`/Binary/${b.id}`));
          if (bin && typeof bin.data === 'string') {
            const blob = await this.blobs.put(Buffer.from(bin.data, 'base64'));
            parts.push({ blob: blob.sha256, size: blob.size, filename: String(a.title ?? 'attachment'), declaredType: String(bin.contentType ?? a.contentType ?? '') });
          }
        }
      }
    }
    if (!parts.length) {
      return { parts: [{ ...whole, filename: whole.filename || 'document.json', declaredType: 'application/fhir+json', problem: 'FHIR with no attached document (no DocumentReference with attachment data): download the JSON to read it' }], subject, sender };
    }
    return { parts, subject, sender };
  }

  private async documentRow(item: InboxItem<Manifest>, m: Manifest, part: Part, subject: string, sender: string): Promise<DocumentsTable> {
    const read = part.problem && part.blob === m.blob && m.form !== 'file'
      ? { kind: 'unknown' as const, text: '', problem: part.problem }
      : await extractText(this.blobs, part.blob, part.filename, part.declaredType, part.size);
    const problem = part.problem ?? read.problem;
    const kind = part.filename === 'message.txt' && part.problem ? 'email-body' : read.kind;
    const found: FoundIdentifiers = findIdentifiers(`${subject}\n${read.text}`);
    const candidates = await candidatesFor(this.store, found.nhsNumbers);
    const proposal = proposeMatch(`${subject}\n${read.text}`, found, candidates);
    const now = this.now();
    return {
      practice: this.store.practice,
      id: documentId(this.store.practice, part.blob),
      inbox_id: item.id,
      source_blob: m.blob,
      source: item.source,
      received_at: item.receivedAt,
      blob: part.blob,
      size: part.size,
      filename: part.filename.slice(0, 500),
      kind,
      declared_type: part.declaredType.slice(0, 200),
      subject: subject.slice(0, 500),
      sender: sender.slice(0, 500),
      state: proposal.proposed ? 'proposed' : 'unmatched',
      problem: problem ?? null,
      text: read.text,
      identifiers: JSON.stringify(found),
      proposed_patient_id: proposal.proposed?.patientId ?? null,
      proposed_display: proposal.proposed ? `${proposal.proposed.display} (agreed: ${proposal.proposed.agreed.join(', ')})` : null,
      match_notes: JSON.stringify(proposal.notes),
      patient_id: null,
      copies: 1,
      updated_at: now,
      doc_type: null,
      doc_date: null,
      suggestions: '[]',
      assignee_id: null,
      assignee_name: null,
      action: null,
      route_note: null,
      document_reference_id: null,
      filed_at: null,
      history: JSON.stringify([{ at: now, by: 'system', step: 'received', detail: proposal.proposed ? `patient proposed: ${proposal.proposed.display}` : 'no patient proposed' }]),
    };
  }
}

/** Registered patients holding these NHS numbers, as matching needs them. */
export async function candidatesFor(store: Pick<StoreTransaction, 'search'>, nhsNumbers: string[]): Promise<MatchCandidate[]> {
  if (!nhsNumbers.length) return [];
  const page = await store.search({ resourceType: 'Patient', params: [{ name: 'identifier', values: nhsNumbers.slice(0, 20).map((n) => `${NHS_NUMBER_SYSTEM}|${n}`) }], count: 50, offset: 0 });
  const out: MatchCandidate[] = [];
  for (const p of page.resources as Patient[]) {
    for (const id of p.identifier ?? []) {
      if (id.system !== NHS_NUMBER_SYSTEM || !id.value || !nhsNumbers.includes(id.value)) continue;
      const name = p.name?.[0];
      out.push({
        id: p.id!,
        nhsNumber: id.value,
        families: (p.name ?? []).map((n) => n.family ?? '').filter(Boolean),
        givens: (p.name ?? []).flatMap((n) => n.given ?? []),
        ...(p.birthDate ? { birthDate: p.birthDate } : {}),
        postcodes: (p.address ?? []).map((a) => a.postalCode ?? '').filter(Boolean),
        display: `${(name?.family ?? '').toUpperCase()}, ${(name?.given ?? []).join(' ')}`,
      });
    }
  }
  return out;
}
