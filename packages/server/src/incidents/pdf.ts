/**
 * An incident's timeline as a PDF for the post-incident review (pdf-lib): what the incident was, each
 * affected practice's total backlog over the incident as a line, then every update, acknowledgement
 * and report in time order. Backlog samples are drawn, not listed (the CSV has each of them).
 */
import { PDFDocument, rgb, StandardFonts, type PDFFont, type PDFPage } from 'pdf-lib';
import type { IncidentDetail, TimelineRow } from '@steadfast/domain/region';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const COLOURS = [rgb(0, 0.37, 0.72), rgb(0.85, 0.2, 0.1), rgb(0, 0.5, 0.25), rgb(0.5, 0.2, 0.6), rgb(0.9, 0.55, 0), rgb(0.3, 0.3, 0.3)];

/** Standard fonts encode WinAnsi only: accents are dropped, anything else becomes "?". */
function winAnsi(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7E\u00A0-\u00FF\u2018\u2019\u201C\u201D\u2013\u2014\u2022\u20AC]/g, '?');
}

function wrap(font: PDFFont, size: number, text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of winAnsi(text).split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

export async function timelinePdf(detail: IncidentDetail, rows: readonly TimelineRow[], now: Date): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(winAnsi(`Incident timeline: ${detail.title}`));
  doc.setCreator('Steadfast regional hub');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const width = A4[0] - 2 * MARGIN;
  let page: PDFPage = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  const write = (text: string, size = 10, f = font) => {
    for (const line of wrap(f, size, text, width)) {
      if (y < MARGIN + size) {
        page = doc.addPage(A4);
        y = A4[1] - MARGIN;
      }
      page.drawText(line, { x: MARGIN, y: y - size, size, font: f });
      y -= size * 1.35;
    }
  };

  write(`Incident timeline: ${detail.title}`, 16, bold);
  write(`Status: ${detail.status}. Opened ${detail.openedAt}${detail.closedAt ? `, closed ${detail.closedAt}` : ', still open'}. Exported ${now.toISOString()}.`);
  write(`Affected practices: ${detail.practiceViews.map((p) => (p.name ? `${p.name} (${p.practice})` : p.practice)).join(', ')}${detail.pcns.length ? `; PCNs: ${detail.pcns.join(', ')}` : ''}`);
  y -= 8;

  // The backlog curves: each practice's total over every kind it reported, per heartbeat.
  const samples = rows.filter((r) => r.event === 'backlog');
  write('Backlog during the incident (total of every kind reported, per heartbeat)', 12, bold);
  if (!samples.length) write('No heartbeats were received from the affected practices during the incident: their backlog is not known.');
  else {
    const chartHeight = 160;
    const top = y - 4;
    const bottom = top - chartHeight;
    const t0 = Date.parse(detail.openedAt);
    const t1 = Math.max(Date.parse(detail.closedAt ?? now.toISOString()), t0 + 1);
    const max = Math.max(1, ...samples.map((s) => (s.backlog ?? []).reduce((a, b) => a + b.count, 0)));
    page.drawRectangle({ x: MARGIN, y: bottom, width, height: chartHeight, borderColor: rgb(0.6, 0.6, 0.6), borderWidth: 0.5 });
    page.drawText(String(max), { x: MARGIN + 2, y: top - 10, size: 8, font });
    page.drawText('0', { x: MARGIN + 2, y: bottom + 2, size: 8, font });
    const practices = [...new Set(samples.map((s) => s.practice))];
    practices.forEach((practice, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const points = samples
        .filter((s) => s.practice === practice)
        .map((s) => ({ x: MARGIN + ((Date.parse(s.at) - t0) / (t1 - t0)) * width, y: bottom + ((s.backlog ?? []).reduce((a, b) => a + b.count, 0) / max) * chartHeight }));
      for (let k = 1; k < points.length; k++) page.drawLine({ start: points[k - 1]!, end: points[k]!, thickness: 1.5, color: colour });
      for (const p of points) page.drawCircle({ x: p.x, y: p.y, size: 1.8, color: colour });
      page.drawText(winAnsi(practice), { x: MARGIN + i * 80, y: bottom - 14, size: 9, font: bold, color: colour });
    });
    y = bottom - 24;
    write(`From ${detail.openedAt} to ${detail.closedAt ?? now.toISOString()}; ${samples.length} heartbeats. Each kind is listed per heartbeat in the CSV export.`, 8);
  }
  y -= 8;
  write('Timeline', 12, bold);
  for (const r of rows) {
    if (r.event === 'backlog') continue;
    write(`${r.at}  ${r.event}${r.practice ? `  ${r.practice}` : ''}${r.who ? `  ${r.who}` : ''}`, 9, bold);
    write(r.detail, 9);
    y -= 3;
  }
  return doc.save();
}
