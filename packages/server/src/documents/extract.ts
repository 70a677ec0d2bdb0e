/**
 * Reading a stored document: its kind from its bytes, and its text for matching (PDF text through
 * pdfjs-dist; HTML, RTF and plain text directly; no OCR). Whatever cannot be read comes back with a
 * `problem` a person reads: the document is kept and shown either way, never dropped.
 */
import { htmlToText, rtfToText, sniffDocument, type DocumentKind } from '@steadfast/domain/documents';
import type { BlobStore } from './blobs.ts';

/** Above this, text is not extracted (the file is kept and shown; a person reads it). */
export const MAX_EXTRACT_BYTES = 25 * 1024 * 1024;
/** Pages read for matching: identifiers are on the first pages of a letter. */
const MAX_PAGES = 20;
/** Text kept per document. */
export const MAX_TEXT_CHARS = 200_000;

export interface Extracted {
  kind: DocumentKind;
  text: string;
  problem?: string;
}

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<PdfJs> | undefined;
const loadPdfJs = () => (pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs'));

export async function extractText(blobs: BlobStore, sha256: string, filename: string, declaredType: string, size: number): Promise<Extracted> {
  const sniffed = sniffDocument(await blobs.head(sha256), filename, declaredType);
  const kind = sniffed.kind;
  if (sniffed.problem) return { kind, text: '', problem: sniffed.problem };
  if (size === 0) return { kind, text: '', problem: 'The file is empty (0 bytes): ask the sender to send it again' };
  if (kind === 'image' || kind === 'docx') return { kind, text: '', problem: kind === 'image' ? 'A scanned image: no text to match; choose the patient by reading it' : 'A Word document: its text is not read here; download it to read it and choose the patient' };
  if (size > MAX_EXTRACT_BYTES) {
    return { kind, text: '', problem: `Too large to read here (${Math.round(size / 1024 / 1024)} MB; up to ${MAX_EXTRACT_BYTES / 1024 / 1024} MB is read): download it to read it and choose the patient` };
  }
  const bytes = await blobs.read(sha256);
  if (kind === 'pdf') return { kind, ...(await pdfText(bytes)) };
  const decoded = decodeText(bytes);
  const text = kind === 'html' ? htmlToText(decoded.text) : kind === 'rtf' ? rtfToText(decoded.text) : decoded.text;
  return { kind, text: text.slice(0, MAX_TEXT_CHARS), ...(decoded.problem ? { problem: decoded.problem } : {}) };
}

/** UTF-8 when it is valid UTF-8, else Windows-1252 (what older hospital systems send), said so. */
function decodeText(bytes: Buffer): { text: string; problem?: string } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '') };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes) };
  }
}

async function pdfText(bytes: Buffer): Promise<{ text: string; problem?: string }> {
  const lib = await loadPdfJs();
  const task = lib.getDocument({ data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
  try {
    const pdf = await task.promise;
    const parts: string[] = [];
    let length = 0;
    for (let n = 1; n <= Math.min(pdf.numPages, MAX_PAGES) && length < MAX_TEXT_CHARS; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      // Items on one line end with hasEOL; keep lines, so "DOB:" and its date stay together.
      const line = content.items.map((i) => ('str' in i ? i.str + (i.hasEOL ? '\n' : ' ') : '')).join('');
      parts.push(line);
      length += line.length;
      page.cleanup();
    }
    const text = parts.join('\n').slice(0, MAX_TEXT_CHARS);
    return text.trim() ? { text } : { text, problem: 'The PDF has no text (a scan without OCR): choose the patient by reading it' };
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'PasswordException') return { text: '', problem: 'The PDF is password-protected: ask the sender for the password or an unprotected copy' };
    if (name === 'InvalidPDFException' || name === 'FormatError' || name === 'UnknownErrorException') return { text: '', problem: `The PDF is damaged and cannot be read (${(err as Error).message}): ask the sender to send it again` };
    return { text: '', problem: `The PDF could not be read (${(err as Error)?.message ?? String(err)}): download it to read it` };
  } finally {
    await task.destroy().catch(() => undefined);
  }
}
