/**
 * The printed prescription: an FP10SS-style form (pdf-lib, built-in Helvetica, A5 portrait) for when
 * the Electronic Prescription Service cannot be reached. Like the FP10SS it has the patient box (name,
 * address, date of birth and age, NHS number), the items (name, dose, quantity) closed by a line so
 * nothing can be added, the prescriber's signature and date, the prescriber and practice box, and the
 * prescription id as a Code 128 barcode (as printed on FP10SS forms) with the id in text under it.
 *
 * A second or later print of the same prescription is a COPY, marked across the form as not valid for
 * dispensing and carrying no barcode: one prescription must never be dispensable twice.
 * Deterministic: dates come from the issue, never the clock.
 */
import { PDFDocument, PDFString, StandardFonts, degrees, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { formatNhsNumber } from '@steadfast/domain';
import { barcodePng, formatDob, safe, wrap } from '../pathology/form.ts';

export interface Fp10Item {
  name: string;
  dose: string;
  quantity: string;
}

export interface Fp10Data {
  prescriptionId: string;
  patient: { name: string; address: string[]; birthDate: string; nhsNumber: string };
  items: Fp10Item[];
  days?: number;
  prescriber: string;
  practice: { name: string; ods: string; address: string[]; phone?: string };
  /** When it was prescribed (ISO instant): the date on the form and the PDF's dates. */
  authoredOn: string;
  /** A reprint: marked as a copy, no barcode. */
  copy: boolean;
}

const MM = 72 / 25.4;
const A5: [number, number] = [148 * MM, 210 * MM];
const M = 8 * MM;

/** Age in whole years on `onDate` (both YYYY-MM-DD). */
export function ageOn(birthDate: string, onDate: string): number | undefined {
  const b = /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate);
  const d = /^(\d{4})-(\d{2})-(\d{2})/.exec(onDate);
  if (!b || !d) return undefined;
  let age = Number(d[1]) - Number(b[1]);
  if (Number(d[2]) < Number(b[2]) || (d[2] === b[2] && Number(d[3]) < Number(b[3]))) age--;
  return age;
}

/** The calendar date in London of an instant (the date a prescriber would write). */
export function londonDate(iso: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export async function renderFp10(data: Fp10Data): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const when = new Date(data.authoredOn);
  doc.setTitle(`${data.copy ? 'COPY of prescription' : 'Prescription'} ${data.prescriptionId}`);
  doc.setAuthor(data.practice.name);
  doc.setProducer('Steadfast');
  doc.setCreator('Steadfast');
  doc.setCreationDate(when);
  doc.setModificationDate(when);
  const docId = PDFString.of(`${data.prescriptionId}${data.copy ? '-copy' : ''}`);
  doc.context.trailerInfo.ID = doc.context.obj([docId, docId]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage(A5);
  const [W, H] = A5;
  const text = (s: string, x: number, y: number, size = 9, f: PDFFont = font, p: PDFPage = page) => p.drawText(safe(f, s), { x, y, size, font: f, color: rgb(0, 0, 0) });
  const box = (x: number, y: number, w: number, h: number) => page.drawRectangle({ x, y, width: w, height: h, borderColor: rgb(0.2, 0.45, 0.2), borderWidth: 0.8 });
  const date = londonDate(data.authoredOn);

  // Top band: pharmacy stamp (left), patient (right).
  let y = H - M;
  text('NHS', M, y - 12, 14, bold);
  text('Prescription (FP10SS-style, printed: EPS not used for this item)', M + 34, y - 11, 7.5);
  y -= 20;
  const stampW = 42 * MM;
  const bandH = 44 * MM;
  box(M, y - bandH, stampW, bandH);
  text('Pharmacy stamp', M + 3, y - 10, 7);
  const px = M + stampW + 3 * MM;
  const pw = W - px - M;
  box(px, y - bandH, pw, bandH);
  text('Title, forename, surname & address', px + 3, y - 10, 7);
  text(data.patient.name, px + 3, y - 22, 10, bold);
  data.patient.address.slice(0, 5).forEach((line, i) => text(line, px + 3, y - 34 - i * 10, 9));
  const age = ageOn(data.patient.birthDate, date);
  text(`D.o.B ${formatDob(data.patient.birthDate)}${age !== undefined ? `   Age ${age}` : ''}`, px + 3, y - bandH + 16, 9);
  text(`NHS number ${formatNhsNumber(data.patient.nhsNumber)}`, px + 3, y - bandH + 5, 9, bold);
  y -= bandH + 4 * MM;
  text(`Number of days' treatment: ${data.days ?? 'not stated'}`, M, y, 8);
  y -= 4 * MM;

  // Items: endorsements column (left), items (right), closed by a line.
  const itemsH = 70 * MM;
  box(M, y - itemsH, stampW, itemsH);
  text('Endorsements', M + 3, y - 10, 7);
  box(px, y - itemsH, pw, itemsH);
  let iy = y - 14;
  for (const [n, item] of data.items.entries()) {
    text(`${n + 1}. ${item.name}`, px + 3, iy, 9.5, bold);
    iy -= 12;
    for (const line of wrap(font, item.dose, 9, pw - 12)) {
      text(line, px + 10, iy, 9);
      iy -= 11;
    }
    text(`Supply: ${item.quantity}`, px + 10, iy, 9);
    iy -= 16;
  }
  page.drawLine({ start: { x: px + 3, y: iy + 6 }, end: { x: px + pw - 3, y: iy + 6 }, thickness: 0.8, color: rgb(0, 0, 0) });
  text(`${data.items.length} item${data.items.length === 1 ? '' : 's'} on this form - nothing may be added below this line`, px + 3, iy - 4, 7);
  y -= itemsH + 3 * MM;

  // Signature and date, prescriber box.
  text('Signature of prescriber', M, y - 8, 7);
  page.drawLine({ start: { x: M, y: y - 24 }, end: { x: M + 70 * MM, y: y - 24 }, thickness: 0.6, color: rgb(0, 0, 0) });
  text(`Date ${formatDob(date)}`, M + 75 * MM, y - 20, 9, bold);
  y -= 30;
  const prescH = 26 * MM;
  box(M, y - prescH, W - 2 * M, prescH);
  text(data.prescriber, M + 3, y - 12, 9.5, bold);
  text(`${data.practice.name} (ODS ${data.practice.ods})`, M + 3, y - 24, 8.5);
  data.practice.address.slice(0, 3).forEach((line, i) => text(line, M + 3, y - 35 - i * 10, 8));
  if (data.practice.phone) text(`Tel ${data.practice.phone}`, M + 3, y - prescH + 5, 8);

  // The prescription id: Code 128 (an original only), and in text.
  const codeY = y - prescH - 16 * MM;
  if (!data.copy) {
    const png = await doc.embedPng(await barcodePng(data.prescriptionId, 'code128', 3));
    page.drawImage(png, { x: W - M - 62 * MM, y: codeY + 4 * MM, width: 62 * MM, height: 11 * MM });
  }
  text(`Prescription id ${data.prescriptionId}`, W - M - 62 * MM, codeY, 9, bold);

  if (data.copy) {
    page.drawText('COPY - NOT VALID FOR DISPENSING', { x: M + 14 * MM, y: H * 0.3, size: 22, font: bold, color: rgb(0.75, 0.1, 0.1), rotate: degrees(52), opacity: 0.85 });
    text('COPY - NOT VALID FOR DISPENSING', M, codeY, 9, bold);
  }
  return doc.save();
}
