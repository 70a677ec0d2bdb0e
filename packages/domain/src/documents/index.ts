/**
 * Documents (letters, discharge summaries, reports) that arrive at the practice: the pure rules.
 * What kind of file a document is (from its bytes, not the name the sender gave it), which
 * identifiers its text holds, and when a patient may be proposed for it. Proposing is all the
 * software does: a person confirms every match (a letter filed to the wrong record is the harm).
 */
import { isValidNhsNumber, normaliseNhsNumber } from '../nhs-number.ts';
import { normaliseString } from '../search/parameters.ts';
import type { DocumentDay } from '../api/documents.ts';

// ---- document types ----------------------------------------------------------------------------

export const SNOMED = 'http://snomed.info/sct';

/**
 * Document types a person sets, as SNOMED CT record artefact concepts. Displays are the concepts'
 * own; `label` is what the practice calls them. Checked 2026-12-04 against HL7 Switzerland's
 * DocumentEntry.typeCode value set (CH Term, https://build.fhir.org/ig/hl7ch/ch-rad-order/comparison-v1.0.0/vs-DocumentEntry.typeCode-DocumentEntry.typeCode.html),
 * which lists 373942005, 445300006, 371530004, 4241000179101 and 419891008 with these displays as
 * "(record artifact)" concepts, and an IG's class-code value set naming 371531000 "Report of clinical
 * encounter" (https://build.fhir.org/ig/jkiddo/fhir-ig-sample/ValueSet-vs-doctype-371531000.ttl.html).
 * No UK-specific out-of-hours or outpatient-letter concept was found: the UK edition's document type
 * reference set still needs confirming by the clinical safety officer (docs/safety/hazards/documents.md).
 */
export const DOCUMENT_TYPES = [
  { key: 'discharge-summary', code: '373942005', display: 'Discharge summary', label: 'Discharge summary' },
  { key: 'outpatient-letter', code: '371531000', display: 'Report of clinical encounter', label: 'Outpatient letter' },
  { key: 'ae-attendance', code: '445300006', display: 'Emergency department record', label: 'A&E attendance' },
  { key: 'out-of-hours', code: '371530004', display: 'Clinical consultation report', label: 'Out-of-hours report' },
  { key: 'test-result', code: '4241000179101', display: 'Laboratory report', label: 'Test result' },
  { key: 'other', code: '419891008', display: 'Record artifact', label: 'Other' },
] as const;

export type DocumentTypeKey = (typeof DOCUMENT_TYPES)[number]['key'];

export function documentType(key: string): (typeof DOCUMENT_TYPES)[number] | undefined {
  return DOCUMENT_TYPES.find((t) => t.key === key);
}

// ---- what a file is ----------------------------------------------------------------------------

export type DocumentKind = 'pdf' | 'image' | 'docx' | 'rtf' | 'html' | 'text' | 'email-body' | 'unknown';

/** Media types the browser is given for each kind (never the sender's claim). */
export const KIND_MEDIA_TYPE: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  image: 'application/octet-stream',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  rtf: 'application/rtf',
  html: 'text/plain',
  text: 'text/plain',
  'email-body': 'text/plain',
  unknown: 'application/octet-stream',
};

export interface Sniffed {
  kind: DocumentKind;
  /** For images: png, jpeg, gif, tiff, webp. */
  imageType?: 'png' | 'jpeg' | 'gif' | 'tiff' | 'webp';
  /** Why the node cannot show or read it, when that is so. */
  problem?: string;
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

/**
 * The kind of a file from its first bytes (and, for text-like files, the name as a hint only).
 * `head` is the first few kilobytes.
 */
export function sniffDocument(head: Uint8Array, filename = '', declaredType = ''): Sniffed {
  const name = filename.toLowerCase();
  if (ascii(head, 0, 1024).includes('%PDF-')) return { kind: 'pdf' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47])) return { kind: 'image', imageType: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', imageType: 'jpeg' };
  if (ascii(head, 0, 4) === 'GIF8') return { kind: 'image', imageType: 'gif' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'image', imageType: 'tiff' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { kind: 'image', imageType: 'webp' };
  if (ascii(head, 0, 5) === '{\\rtf') return { kind: 'rtf' };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    // A zip: a Word document carries "word/" entries near the start; anything else is an archive,
    // which is never opened (a zip bomb would cost the node its disk and memory).
    if (ascii(head, 0, head.length).includes('word/') || name.endsWith('.docx')) return { kind: 'docx' };
    return { kind: 'unknown', problem: 'A zip archive: archives are not opened. Ask the sender for the letter itself (PDF)' };
  }
  if (startsWith(head, [0x1f, 0x8b]) || startsWith(head, [0x37, 0x7a, 0xbc, 0xaf]) || ascii(head, 0, 4) === 'Rar!') {
    return { kind: 'unknown', problem: 'A compressed archive: archives are not opened. Ask the sender for the letter itself (PDF)' };
  }
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) return { kind: 'unknown', problem: 'An old Office file (.doc/.xls): the node cannot show it. Download it to read it, or ask for a PDF' };
  const text = looksLikeText(head);
  if (text) {
    const start = ascii(head, 0, 512).trimStart().toLowerCase();
    if (start.startsWith('<!doctype html') || start.startsWith('<html') || /\.html?$/.test(name) || declaredType === 'text/html') return { kind: 'html' };
    return { kind: 'text' };
  }
  return { kind: 'unknown', problem: `The node cannot show this type of file${filename ? ` (${filename})` : ''}. Download it to read it, or ask the sender for a PDF` };
}

/** No NUL bytes and few control characters: text in some 8-bit or UTF encoding. */
function looksLikeText(head: Uint8Array): boolean {
  if (!head.length) return true;
  let control = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b < 9 || (b > 13 && b < 32)) control++;
  }
  return control / head.length < 0.02;
}

/** Plain text of an HTML letter (for matching only; the HTML itself is never rendered). */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style)[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
      .replace(/<[^>]*>/g, ' '),
  ).replace(/[ \t]+/g, ' ');
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return named[e.toLowerCase()] ?? m;
  });
}

/** Plain text of an RTF letter: control words and groups dropped, \'hh escapes decoded (cp1252 as latin-1). */
export function rtfToText(rtf: string): string {
  let out = rtf.replace(/\{\\\*[^{}]*\}/g, '');
  out = out.replace(/\{\\(fonttbl|colortbl|stylesheet|info)[\s\S]*?\}\s*\}/g, '');
  out = out.replace(/\\'([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  out = out.replace(/\\(par|line|row|cell)\b ?/g, '\n');
  out = out.replace(/\\[a-z]+-?\d* ?/gi, '').replace(/\\([{}\\])/g, '$1').replace(/[{}]/g, '');
  return out.replace(/[ \t]+/g, ' ');
}

// ---- identifiers in text -----------------------------------------------------------------------

export interface FoundIdentifiers {
  /** Modulus 11 valid NHS numbers, normalised to 10 digits, in order of first appearance. */
  nhsNumbers: string[];
  /** Ten-digit numbers laid out like NHS numbers that fail the check (shown to the person). */
  invalidNhsNumbers: string[];
  /** Dates (YYYY-MM-DD) in the text: dates of birth among them. */
  dates: string[];
  /** Dates labelled as a date of birth ("DOB", "Date of birth", "D.O.B."). */
  birthDates: string[];
  /** UK postcodes, normalised "LS1 4AP". */
  postcodes: string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 1880 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCMonth() !== m - 1) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const DATE_PATTERNS: Array<{ re: RegExp; read: (m: RegExpExecArray) => string | undefined }> = [
  // 03/12/1980, 3.12.1980, 03-12-1980 (day first, as in England)
  { re: /\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b/g, read: (m) => isoDate(Number(m[3]), Number(m[2]), Number(m[1])) },
  // 1980-12-03
  { re: /\b(\d{4})-(\d{2})-(\d{2})\b/g, read: (m) => isoDate(Number(m[1]), Number(m[2]), Number(m[3])) },
  // 3 December 1980, 3rd Dec 1980, 03-Dec-1980
  {
    re: /\b(\d{1,2})(?:st|nd|rd|th)?[\s-]+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?[\s-]+(\d{4})\b/gi,
    read: (m) => isoDate(Number(m[3]), MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) + 1, Number(m[1])),
  },
];

const DOB_LABEL = /(?:\bd\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born)\s*[:\-]?\s*$/i;

/** Postcode: outward code (A9, A99, A9A, AA9, AA99, AA9A) and inward code (9AA). */
const POSTCODE = /\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[ABD-HJLNP-UW-Z]{2})\b/gi;

/** Ten digits, alone or grouped 3-3-4 with spaces or dashes (how letters print NHS numbers). */
const NHS_LIKE = /(?<![\d])(\d{3}[ -]?\d{3}[ -]?\d{4})(?![\d])/g;

export function findIdentifiers(text: string): FoundIdentifiers {
  const nhsNumbers: string[] = [];
  const invalid: string[] = [];
  for (const m of text.matchAll(NHS_LIKE)) {
    const digits = normaliseNhsNumber(m[1]!);
    if (isValidNhsNumber(digits)) {
      if (!nhsNumbers.includes(digits)) nhsNumbers.push(digits);
    } else if (!invalid.includes(digits)) invalid.push(digits);
  }
  const dates: string[] = [];
  const birthDates: string[] = [];
  for (const { re, read } of DATE_PATTERNS) {
    for (const m of text.matchAll(re)) {
      const iso = read(m);
      if (!iso) continue;
      if (!dates.includes(iso)) dates.push(iso);
      const before = text.slice(Math.max(0, m.index - 20), m.index);
      if (DOB_LABEL.test(before) && !birthDates.includes(iso)) birthDates.push(iso);
    }
  }
  const postcodes: string[] = [];
  for (const m of text.matchAll(POSTCODE)) {
    const pc = `${m[1]!.toUpperCase()} ${m[2]!.toUpperCase()}`;
    if (!postcodes.includes(pc)) postcodes.push(pc);
  }
  return { nhsNumbers, invalidNhsNumbers: invalid.filter((n) => !nhsNumbers.includes(n)), dates, birthDates, postcodes };
}

// ---- proposing a patient -----------------------------------------------------------------------

/** What matching needs of a registered patient (the server reads these from the Patient). */
export interface MatchCandidate {
  id: string;
  nhsNumber: string;
  families: string[];
  givens: string[];
  birthDate?: string;
  postcodes: string[];
  display: string;
}

export type Agreement = 'nhs-number' | 'birth-date' | 'name' | 'postcode';

export interface MatchProposal {
  /** Proposed only when the NHS number and at least one more identifier agree; a person confirms. */
  proposed?: { patientId: string; display: string; agreed: Agreement[] };
  /** Why nothing was proposed, or what else the person should know (several NHS numbers...). */
  notes: string[];
}

const normalisePostcode = (p: string) => p.replace(/\s+/g, '').toUpperCase();

/** Words of the text, normalised, for name matching ("O'Brien" is "obrien"). */
function words(text: string): Set<string> {
  return new Set(text.split(/[\s,.;:()[\]/]+/).map(normaliseString).filter(Boolean));
}

/**
 * Propose a patient for a document. `candidates` are the registered patients holding each NHS
 * number found (the server looks them up). One proposal at most: when two different valid NHS
 * numbers in the text both lead to patients, nothing is proposed (the letter may be about two people).
 */
export function proposeMatch(text: string, found: FoundIdentifiers, candidates: MatchCandidate[]): MatchProposal {
  const notes: string[] = [];
  if (!found.nhsNumbers.length) {
    notes.push(found.invalidNhsNumbers.length ? `No valid NHS number: ${found.invalidNhsNumbers.join(', ')} fail${found.invalidNhsNumbers.length === 1 ? 's' : ''} the Modulus 11 check` : 'No NHS number found in the text');
    return { notes };
  }
  const textWords = words(text);
  const textPostcodes = new Set(found.postcodes.map(normalisePostcode));
  const agreeing: Array<{ c: MatchCandidate; agreed: Agreement[] }> = [];
  for (const nhs of found.nhsNumbers) {
    const holders = candidates.filter((c) => c.nhsNumber === nhs);
    if (!holders.length) {
      notes.push(`NHS number ${formatNhs(nhs)} is not registered here`);
      continue;
    }
    if (holders.length > 1) {
      notes.push(`More than one record has NHS number ${formatNhs(nhs)}`);
      continue;
    }
    const c = holders[0]!;
    const agreed: Agreement[] = ['nhs-number'];
    const dobs = found.birthDates.length ? found.birthDates : found.dates;
    if (c.birthDate && dobs.includes(c.birthDate)) agreed.push('birth-date');
    const family = c.families.map(normaliseString).filter(Boolean);
    const given = c.givens.map(normaliseString).filter(Boolean);
    if (family.some((f) => textWords.has(f)) && given.some((g) => textWords.has(g))) agreed.push('name');
    if (c.postcodes.some((p) => textPostcodes.has(normalisePostcode(p)))) agreed.push('postcode');
    if (agreed.length < 2) {
      notes.push(`NHS number ${formatNhs(nhs)} belongs to ${c.display}, but no name, date of birth or postcode in the document agrees`);
      continue;
    }
    agreeing.push({ c, agreed });
  }
  if (agreeing.length > 1) {
    notes.push(`The document names ${agreeing.length} registered patients (${agreeing.map((a) => a.c.display).join(', ')}): choose the patient by hand`);
    return { notes };
  }
  const only = agreeing[0];
  if (!only) return { notes };
  return { proposed: { patientId: only.c.id, display: only.c.display, agreed: only.agreed }, notes };
}

export function formatNhs(n: string): string {
  return n.length === 10 ? `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}` : n;
}

// ---- the backlog by day ------------------------------------------------------------------------

const LONDON_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The practice's (London) calendar date, YYYY-MM-DD, of a UTC instant. */
export function londonDate(instant: string | Date): string {
  return LONDON_DATE.format(typeof instant === 'string' ? new Date(instant) : instant);
}

/** Every date from `from` to `to` (YYYY-MM-DD, both included). */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T12:00:00Z`); d.toISOString().slice(0, 10) <= to; d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

/**
 * Arrivals and filings per London day, from counts per UTC hour ("YYYY-MM-DDTHH", what the database
 * groups by cheaply): every day from `from` to `to` is present, zeros included, so a chart of an
 * outage shows the days nothing came as well as the day it all arrived.
 */
export function foldDays(from: string, to: string, arrivedByHour: Array<{ hour: string; n: number }>, filedByHour: Array<{ hour: string; n: number }>): DocumentDay[] {
  const days = new Map(datesBetween(from, to).map((date) => [date, { date, arrived: 0, filed: 0 }]));
  const add = (rows: Array<{ hour: string; n: number }>, field: 'arrived' | 'filed') => {
    for (const r of rows) {
      const day = days.get(londonDate(`${r.hour}:00:00Z`));
      if (day) day[field] += Number(r.n);
    }
  };
  add(arrivedByHour, 'arrived');
  add(filedByHour, 'filed');
  return [...days.values()];
}
