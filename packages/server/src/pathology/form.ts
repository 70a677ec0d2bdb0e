/**
 * The printable A4 pathology request form (pdf-lib, built-in Helvetica: no network, no font files).
 * Deterministic: the same request renders the same bytes, because every date and id in the PDF
 * comes from the request itself, never from the clock or a random source.
 */
import { PDFDocument, PDFString, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import bwipjs from 'bwip-js';
import { formatNhsNumber } from '@steadfast/domain';

export interface FormTube {
  colour: string;
  additive: string;
  volumeMl: number;
  specimen: string;
  tests: string[];
}

export interface FormData {
  orderNumber: string;
  practice: { name: string; ods: string };
  requester: string;
  patient: { name: string; birthDate: string; sex: string; nhsNumber: string; address: string[] };
  tests: Array<{ code: string; display: string; specimen: string; tube: string }>;
  tubes: FormTube[];
  clinicalDetails: string;
  fasting: boolean;
  urgency: 'routine' | 'urgent';
  /** When the request was made (ISO); also the PDF's creation date, so bytes are stable. */
  authoredOn: string;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 36;

/** 1970-01-05 → 05-Jan-1970 (the unambiguous form labs ask for). */
export function formatDob(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return iso;
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${m[3]}-${months[Number(m[2]) - 1]}-${m[1]}`;
}

/** Standard fonts only encode WinAnsi: replace anything else so a name with an unusual character still prints. */
export function safe(font: PDFFont, text: string): string {
  const out: string[] = [];
  for (const ch of text.normalize('NFC')) {
    try {
      font.encodeText(ch);
      out.push(ch);
    } catch {
      const plain = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      try {
        font.encodeText(plain);
        out.push(plain);
      } catch {
        out.push('?');
      }
    }
  }
  return out.join('');
}

export function wrap(font: PDFFont, text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split(/\r?\n/)) {
    let line = '';
    for (const word of para.split(/\s+/)) {
      const candidate = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(candidate, size) > width && line) {
        lines.push(line);
        line = word;
      } else line = candidate;
    }
    lines.push(line);
  }
  return lines;
}

export async function barcodePng(text: string, kind: 'code128' | 'qrcode' | 'datamatrix', scale = 3): Promise<Buffer> {
  return bwipjs.toBuffer(
    kind === 'code128' ? { bcid: 'code128', text, scale, height: 12, includetext: false } : { bcid: kind, text, scale },
  );
}

export async function renderRequestForm(data: FormData): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const when = new Date(data.authoredOn);
  doc.setTitle(`Pathology request ${data.orderNumber}`);
  doc.setAuthor(data.practice.name);
  doc.setProducer('Steadfast');
  doc.setCreator('Steadfast');
  doc.setCreationDate(when);
  doc.setModificationDate(when);
  // A fixed document id derived from the order number (pdf-lib would otherwise write none; some viewers want one).
  const id = PDFString.of(data.orderNumber);
  doc.context.trailerInfo.ID = doc.context.obj([id, id]);

  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const code128 = await doc.embedPng(await barcodePng(data.orderNumber, 'code128'));
  const qr = await doc.embedPng(await barcodePng(data.orderNumber, 'qrcode'));
  // Labels reuse the header's barcode image (drawn smaller): one generation, one embedded image.
  const labelCode = code128;
  const page = doc.addPage(A4);
  const width = A4[0] - 2 * MARGIN;
  let y = A4[1] - MARGIN;

  const text = (p: PDFPage, s: string, x: number, yy: number, size = 10, f = font) => p.drawText(safe(f, s), { x, y: yy, size, font: f, color: rgb(0, 0, 0) });
  const rule = (yy: number) => page.drawLine({ start: { x: MARGIN, y: yy }, end: { x: A4[0] - MARGIN, y: yy }, thickness: 0.7, color: rgb(0.3, 0.3, 0.3) });

  // Header: practice and order number with its codes
  text(page, 'PATHOLOGY REQUEST', MARGIN, y - 14, 16, bold);
  text(page, `${data.practice.name} (ODS ${data.practice.ods})`, MARGIN, y - 32, 10);
  text(page, `Requested by: ${data.requester}`, MARGIN, y - 46, 10);
  text(page, `Requested: ${data.authoredOn.slice(0, 16).replace('T', ' ')}`, MARGIN, y - 60, 10);
  if (data.urgency === 'urgent') text(page, 'URGENT', MARGIN + 330, y - 14, 16, bold);
  page.drawImage(qr, { x: A4[0] - MARGIN - 70, y: y - 72, width: 70, height: 70 });
  y -= 84;
  page.drawImage(code128, { x: MARGIN, y: y - 40, width: 260, height: 40 });
  text(page, `Order number: ${data.orderNumber}`, MARGIN + 275, y - 24, 12, bold);
  y -= 52;
  rule(y);

  // Patient: the three identifiers labs require, plus sex and address
  y -= 16;
  text(page, 'PATIENT', MARGIN, y, 11, bold);
  y -= 16;
  text(page, `Name: ${data.patient.name}`, MARGIN, y, 11, bold);
  text(page, `NHS number: ${formatNhsNumber(data.patient.nhsNumber)}`, MARGIN + 300, y, 11, bold);
  y -= 15;
  text(page, `Date of birth: ${formatDob(data.patient.birthDate)}`, MARGIN, y, 10);
  text(page, `Sex: ${data.patient.sex}`, MARGIN + 300, y, 10);
  y -= 15;
  text(page, `Address: ${data.patient.address.join(', ')}`, MARGIN, y, 10);
  y -= 10;
  rule(y);

  // Tests and tubes
  y -= 16;
  text(page, 'TESTS', MARGIN, y, 11, bold);
  text(page, 'Specimen', MARGIN + 230, y, 9, bold);
  text(page, 'Tube', MARGIN + 360, y, 9, bold);
  for (const t of data.tests) {
    y -= 14;
    text(page, `${t.display} (${t.code})`, MARGIN, y, 10);
    text(page, t.specimen, MARGIN + 230, y, 9);
    text(page, t.tube, MARGIN + 360, y, 9);
  }
  y -= 18;
  text(page, 'TUBES TO TAKE', MARGIN, y, 11, bold);
  for (const tube of data.tubes) {
    y -= 14;
    text(page, `${tube.colour} top - ${tube.additive}, ${tube.volumeMl} mL (${tube.specimen}): ${tube.tests.join(', ')}`, MARGIN, y, 10);
  }
  y -= 10;
  rule(y);

  // Clinical details, fasting, urgency
  y -= 16;
  text(page, 'CLINICAL DETAILS', MARGIN, y, 11, bold);
  for (const line of wrap(font, safe(font, data.clinicalDetails || '(none given)'), 10, width).slice(0, 6)) {
    y -= 13;
    text(page, line, MARGIN, y, 10);
  }
  y -= 16;
  text(page, `Fasting: ${data.fasting ? 'YES' : 'No'}`, MARGIN, y, 10, bold);
  text(page, `Urgency: ${data.urgency === 'urgent' ? 'URGENT' : 'Routine'}`, MARGIN + 150, y, 10, bold);
  y -= 10;
  rule(y);

  // Collection: filled in by hand
  y -= 20;
  text(page, 'Collection date: ____ / ____ / ________   Time: ____ : ____', MARGIN, y, 10);
  y -= 20;
  text(page, 'Collected by (name): ______________________________   Signature: __________________', MARGIN, y, 10);
  y -= 14;
  rule(y);

  // Specimen labels: one per tube, to cut out and stick on
  y -= 14;
  text(page, 'SPECIMEN LABELS (cut along the lines; one per tube)', MARGIN, y, 9, bold);
  const labelW = (width - 10) / 2;
  const labelH = 70;
  data.tubes.forEach((tube, i) => {
    const col = i % 2;
    const row = Math.floor(i / 2);
    const x = MARGIN + col * (labelW + 10);
    const top = y - 8 - row * (labelH + 8);
    if (top - labelH < MARGIN) return; // more tubes than fit: the form lists them all above
    page.drawRectangle({ x, y: top - labelH, width: labelW, height: labelH, borderColor: rgb(0, 0, 0), borderWidth: 0.5, borderDashArray: [3, 2] });
    text(page, safe(bold, data.patient.name).slice(0, 38), x + 4, top - 11, 8, bold);
    text(page, `DOB ${formatDob(data.patient.birthDate)}  NHS ${formatNhsNumber(data.patient.nhsNumber)}`, x + 4, top - 21, 7);
    text(page, `${tube.colour} ${tube.volumeMl} mL: ${tube.tests.join(', ')}`.slice(0, 60), x + 4, top - 31, 7);
    page.drawImage(labelCode, { x: x + 4, y: top - 60, width: 150, height: 24 });
    text(page, data.orderNumber, x + 4, top - 68, 7);
    text(page, 'Date/time: ________', x + 165, top - 50, 7);
  });

  return doc.save({ useObjectStreams: false });
}
