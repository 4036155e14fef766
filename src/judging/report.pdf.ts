import type { PDFPage } from 'pdf-lib';
import { A4_PORTRAIT, BLACK, createCjkPdf, wrapText, type CjkPdf } from '../platform/documents/pdf';
import { rgb } from 'pdf-lib';

/**
 * A simple flowing A4 document for reports and sign-off sheets: headings, paragraphs and tables,
 * new pages as needed, a page footer. Described as blocks first (so the CJK font is subset to
 * exactly the characters printed), then laid out.
 */
export type Block =
  | { kind: 'title'; text: string }
  | { kind: 'heading'; text: string }
  | { kind: 'text'; text: string; size?: number }
  | { kind: 'table'; headers: string[]; widths: number[]; rows: string[][]; align?: Array<'left' | 'right'> }
  | { kind: 'space'; height: number }
  | { kind: 'signature'; labels: string[] };

const MARGIN = 48;
const GREY = rgb(0.45, 0.45, 0.45);
const RULE = rgb(0.75, 0.75, 0.75);

export async function renderDocument(blocks: Block[], meta: { title: string; footer: string; size?: [number, number] }): Promise<Uint8Array> {
  const texts: string[] = [meta.title, meta.footer, '第', '页', '共', '0123456789 /'];
  for (const b of blocks) {
    if (b.kind === 'title' || b.kind === 'heading' || b.kind === 'text') texts.push(b.text);
    if (b.kind === 'table') texts.push(...b.headers, ...b.rows.flat());
    if (b.kind === 'signature') texts.push(...b.labels);
  }
  const pdf = await createCjkPdf(texts, { title: meta.title });
  const size = meta.size ?? A4_PORTRAIT;
  const width = size[0] - 2 * MARGIN;
  const pages: PDFPage[] = [];
  let page = pdf.doc.addPage(size);
  pages.push(page);
  let y = size[1] - MARGIN;
  const ensure = (h: number) => {
    if (y - h < MARGIN + 20) {
      page = pdf.doc.addPage(size);
      pages.push(page);
      y = size[1] - MARGIN;
      return true;
    }
    return false;
  };

  for (const b of blocks) {
    if (b.kind === 'space') {
      y -= b.height;
      continue;
    }
    if (b.kind === 'title' || b.kind === 'heading' || b.kind === 'text') {
      const fontSize = b.kind === 'title' ? 18 : b.kind === 'heading' ? 13 : (b.size ?? 10);
      const font = b.kind === 'text' ? pdf.regular : pdf.bold;
      const lines = wrapText(b.text, { font, size: fontSize }, width);
      const gapBefore = b.kind === 'heading' ? 10 : b.kind === 'title' ? 0 : 2;
      // A heading keeps at least a few table rows below it on its page (no heading alone at the foot).
      ensure(gapBefore + fontSize * 1.5 * Math.min(lines.length, 2) + (b.kind === 'heading' ? 90 : 0));
      y -= gapBefore;
      for (const line of lines) {
        ensure(fontSize * 1.5);
        y -= fontSize * 1.3;
        const x = b.kind === 'title' ? (size[0] - font.widthOfTextAtSize(line, fontSize)) / 2 : MARGIN;
        page.drawText(line, { x, y, size: fontSize, font, color: BLACK });
        y -= fontSize * 0.3;
      }
      if (b.kind === 'title') y -= 8;
      continue;
    }
    if (b.kind === 'signature') {
      ensure(60);
      y -= 36;
      const each = width / b.labels.length;
      b.labels.forEach((label, i) => {
        const x = MARGIN + i * each;
        page.drawText(label, { x, y, size: 11, font: pdf.regular, color: BLACK });
        const lw = pdf.regular.widthOfTextAtSize(label, 11);
        page.drawLine({ start: { x: x + lw + 4, y: y - 2 }, end: { x: x + each - 16, y: y - 2 }, thickness: 0.6, color: BLACK });
      });
      y -= 10;
      continue;
    }
    drawTable(
      pdf,
      b,
      () => page,
      (h) => ensure(h),
      () => y,
      (v) => (y = v),
    );
  }

  const total = pages.length;
  pages.forEach((p, i) => {
    const text = `${meta.footer}  第 ${i + 1} 页 / 共 ${total} 页`;
    p.drawText(text, { x: MARGIN, y: MARGIN - 20, size: 8, font: pdf.regular, color: GREY });
  });
  return pdf.doc.save();
}

function drawTable(
  pdf: CjkPdf,
  t: Extract<Block, { kind: 'table' }>,
  page: () => PDFPage,
  ensure: (h: number) => boolean,
  getY: () => number,
  setY: (y: number) => void,
) {
  const fontSize = 9;
  const pad = 3;
  const total = t.widths.reduce((s, w) => s + w, 0);
  const drawRow = (cells: string[], bold: boolean) => {
    const font = bold ? pdf.bold : pdf.regular;
    const wrapped = cells.map((c, i) => wrapText(c, { font, size: fontSize }, t.widths[i] - 2 * pad));
    const lines = Math.max(1, ...wrapped.map((w) => w.length));
    const h = lines * fontSize * 1.35 + 2 * pad;
    const broke = ensure(h);
    if (broke && !bold) drawRow(t.headers, true);
    let y = getY();
    let x = MARGIN;
    wrapped.forEach((ls, i) => {
      ls.forEach((line, k) => {
        const w = font.widthOfTextAtSize(line, fontSize);
        const right = t.align?.[i] === 'right';
        page().drawText(line, {
          x: right ? x + t.widths[i] - pad - w : x + pad,
          y: y - pad - fontSize - k * fontSize * 1.35,
          size: fontSize,
          font,
          color: BLACK,
        });
      });
      x += t.widths[i];
    });
    y -= h;
    page().drawLine({ start: { x: MARGIN, y }, end: { x: MARGIN + total, y }, thickness: bold ? 0.8 : 0.4, color: bold ? BLACK : RULE });
    setY(y);
  };
  ensure(40);
  drawRow(t.headers, true);
  for (const r of t.rows) drawRow(r, false);
  setY(getY() - 6);
}
