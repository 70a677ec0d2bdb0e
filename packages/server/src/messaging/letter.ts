/** A letter as a precompiled PDF (A4, the address in the envelope window), built with pdf-lib. */
import { PDFDocument, StandardFonts } from 'pdf-lib';

const MM = 72 / 25.4;

function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/)) {
      if ((line + ' ' + word).trim().length > max) {
        lines.push(line);
        line = word;
      } else line = (line + ' ' + word).trim();
    }
    lines.push(line);
  }
  return lines;
}

export async function buildLetterPdf(address: string[], subject: string, body: string, practiceName: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage([210 * MM, 297 * MM]);
  const top = 297 * MM;
  // Notify's address block: 24.6 mm from the left, from 39.5 mm below the top.
  address.slice(0, 7).forEach((line, i) => page.drawText(line, { x: 24.6 * MM, y: top - 45 * MM - i * 12, size: 10, font }));
  page.drawText(practiceName, { x: 125 * MM, y: top - 20 * MM, size: 10, font: bold });
  page.drawText(subject, { x: 24.6 * MM, y: top - 110 * MM, size: 12, font: bold });
  wrap(body, 90).forEach((line, i) => page.drawText(line, { x: 24.6 * MM, y: top - 122 * MM - i * 14, size: 11, font }));
  return Buffer.from(await doc.save());
}
