/**
 * Synthetic documents for tests, the drill and benchmarks: hospital letters as real PDFs (pdf-lib),
 * and emails carrying them as real MIME (base64 attachments, CRLF). Synthetic patients only, NHS
 * numbers from the 999 test range.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { RecordStore } from '@steadfast/store';
import { ddb, type DocumentsTable } from './tables.ts';

export const FIXTURE_DIR = new URL('../../../../fixtures/documents/', import.meta.url);

export interface LetterPatient {
  nhsNumber: string;
  given: string;
  family: string;
  /** YYYY-MM-DD */
  birthDate: string;
  postcode?: string;
}

export const ALEX: LetterPatient = { nhsNumber: '9990000018', given: 'Alex', family: 'Testpatient', birthDate: '1980-03-12', postcode: 'LS1 4AP' };

const ukDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
const spaced = (n: string) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

/** A one-page hospital letter about a patient, as a PDF with real text. */
export async function letterPdf(p: LetterPatient, title = 'Discharge summary', body = 'Admitted with community-acquired pneumonia. Treated with amoxicillin. Please review in 6 weeks.'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  const page = doc.addPage([595, 842]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const lines = [
    'Leeds Teaching Hospitals (synthetic test letter)',
    title,
    `Patient: ${p.given} ${p.family.toUpperCase()}`,
    `NHS number: ${spaced(p.nhsNumber)}`,
    `Date of birth: ${ukDate(p.birthDate)}`,
    ...(p.postcode ? [`Address: 1 Park Row, Leeds ${p.postcode}`] : []),
    '',
    body,
  ];
  lines.forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 20, size: 12, font }));
  return Buffer.from(await doc.save());
}

export function passwordProtectedPdf(): Buffer {
  return readFileSync(new URL('password-protected.pdf', FIXTURE_DIR));
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** One RFC 5322 message, CRLF line ends, attachments base64 in lines of 76. */
export function email(options: { subject: string; from?: string; to?: string; text?: string; attachments?: MailAttachment[]; messageId?: string; headers?: string[]; bodyCharset?: string; rawBody?: Buffer }): Buffer {
  const boundary = `=_steadfast_${randomBytes(8).toString('hex')}`;
  const head = [
    `From: ${options.from ?? 'Discharge Team <discharges@ltht.example.nhs.uk>'}`,
    `To: ${options.to ?? 'practice.documents@nhs.example.net'}`,
    `Subject: ${options.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${options.messageId ?? `<${randomBytes(12).toString('hex')}@ltht.example.nhs.uk>`}`,
    'MIME-Version: 1.0',
    ...(options.headers ?? []),
  ];
  const textPart = (charset: string) => [`Content-Type: text/plain; charset=${charset}`, 'Content-Transfer-Encoding: 8bit', ''];
  const chunks: Buffer[] = [];
  const push = (s: string) => chunks.push(Buffer.from(s, 'latin1'));
  if (!options.attachments?.length) {
    push([...head, ...textPart(options.bodyCharset ?? 'utf-8'), ''].join('\r\n'));
    chunks.push(options.rawBody ?? Buffer.from(options.text ?? '', 'utf8'));
    push('\r\n');
    return Buffer.concat(chunks);
  }
  push([...head, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', `--${boundary}`, ...textPart('utf-8'), ''].join('\r\n'));
  chunks.push(Buffer.from(options.text ?? 'Please find the attached letter.', 'utf8'));
  push('\r\n');
  for (const a of options.attachments) {
    const b64 = a.content.toString('base64').replace(/(.{76})/g, '$1\r\n');
    push([`--${boundary}`, `Content-Type: ${a.contentType}; name="${a.filename}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${a.filename}"`, '', ''].join('\r\n'));
    push(b64);
    push('\r\n');
  }
  push(`--${boundary}--\r\n`);
  return Buffer.concat(chunks);
}

/** A zip whose one entry claims to inflate to 10 GB (never opened: the node does not open archives). */
export function zipBomb(): Buffer {
  const name = Buffer.from('letter.pdf');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(8, 8); // deflate
  header.writeUInt32LE(1024, 18); // compressed size
  header.writeUInt32LE(0xffffffff, 22); // uncompressed size: far beyond anything read
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, Buffer.alloc(1024)]);
}

/** A documents row made directly (benchmarks and backlog tests at scale; no intake, no bytes). */
export function syntheticDocumentRow(practice: string, i: number, receivedAt: string, fields: Partial<DocumentsTable> = {}): DocumentsTable {
  const sha = i.toString(16).padStart(64, '0');
  return {
    practice, id: `synthetic-${i}`, inbox_id: `synthetic-${i}`, source_blob: sha, source: 'imap', received_at: receivedAt, blob: sha, size: 4000, filename: `letter-${i}.pdf`, kind: 'pdf', declared_type: 'application/pdf',
    subject: `Letter ${i}`, sender: 'Synthetic hospital', state: 'unmatched', problem: null, text: '', identifiers: '{"nhsNumbers":[],"invalidNhsNumbers":[],"dates":[],"birthDates":[],"postcodes":[]}',
    proposed_patient_id: null, proposed_display: null, match_notes: '[]', patient_id: null, copies: 1, updated_at: receivedAt, doc_type: null, doc_date: null, suggestions: '[]', assignee_id: null, assignee_name: null, action: null, route_note: null, document_reference_id: null, filed_at: null, history: '[]',
    ...fields,
  };
}

/** Synthetic rows written straight into a node's documents table (browser tests of the backlog screen). */
export async function insertSyntheticDocuments(store: RecordStore, rows: Array<{ i: number; receivedAt: string; fields?: Partial<DocumentsTable> }>): Promise<void> {
  await ddb(store.db)
    .insertInto('documents')
    .values(rows.map((r) => syntheticDocumentRow(store.practice, r.i, r.receivedAt, r.fields)))
    .execute();
}
