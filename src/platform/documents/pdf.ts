/**
 * Chinese PDFs (certificates, reports, sign-off sheets, templates) on pdf-lib. Every document embeds
 * a subset of the CJK face from fonts.ts holding only the characters it prints, so glyphs render
 * anywhere (no reliance on the reader's fonts) and a page stays a few tens of KB.
 *
 *   const pdf = await createCjkPdf([title, school, …all strings the document will draw]);
 *   const page = pdf.doc.addPage(A4_LANDSCAPE);
 *   drawCentered(page, title, { font: pdf.bold, size: 36, y: 420 });
 *   const bytes = await pdf.doc.save();
 */
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFPage, type RGB } from 'pdf-lib';
import QRCode from 'qrcode';
import { cjkFontSubset } from './fonts';

/** Page sizes in PDF points (1/72 inch). */
export const A4_PORTRAIT: [number, number] = [595.28, 841.89];
export const A4_LANDSCAPE: [number, number] = [841.89, 595.28];
export const MM = 72 / 25.4;

export interface CjkPdf {
  doc: PDFDocument;
  regular: PDFFont;
  bold: PDFFont;
}

/** A new document with regular and bold CJK faces subset to the characters of `texts`. */
export async function createCjkPdf(texts: Iterable<string>, meta: { title?: string; author?: string } = {}): Promise<CjkPdf> {
  const chars = [...new Set([...texts].join(''))].join('');
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const [regularBytes, boldBytes] = await Promise.all([cjkFontSubset(chars, 'regular'), cjkFontSubset(chars, 'bold')]);
  // Shaping features off: pdf-lib writes the shaped glyph ids but each glyph's own width, so with the
  // subset Noto face's features on, digits after a digit came out with a gap ("A-0 0 1", "2 0 2 6").
  const features = { calt: false, kern: false, liga: false, locl: false, ccmp: false };
  const [regular, bold] = await Promise.all([doc.embedFont(regularBytes, { subset: false, features }), doc.embedFont(boldBytes, { subset: false, features })]);
  if (meta.title) doc.setTitle(meta.title, { showInWindowTitleBar: true });
  doc.setAuthor(meta.author ?? '吕梁市教育局');
  doc.setCreator('唱响');
  doc.setProducer('唱响');
  doc.setLanguage('zh-CN');
  return { doc, regular, bold };
}

export interface TextStyle {
  font: PDFFont;
  size: number;
  color?: RGB;
}

export const BLACK = rgb(0, 0, 0);

/** Draws `text` centred on the page horizontally at baseline `y`. */
export function drawCentered(page: PDFPage, text: string, style: TextStyle & { y: number }): void {
  const width = style.font.widthOfTextAtSize(text, style.size);
  page.drawText(text, { x: (page.getWidth() - width) / 2, y: style.y, size: style.size, font: style.font, color: style.color ?? BLACK });
}

/**
 * Breaks `text` into lines no wider than `maxWidth`. Chinese wraps between any two characters;
 * a run of Latin letters or digits is kept together when it fits on a line of its own.
 */
export function wrapText(text: string, style: TextStyle, maxWidth: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    const tokens = paragraph.match(/[A-Za-z0-9@._\-/:]+|\s+|./gu) ?? [];
    let line = '';
    for (const token of tokens) {
      const candidate = line + token;
      if (line && style.font.widthOfTextAtSize(candidate, style.size) > maxWidth) {
        lines.push(line.trimEnd());
        line = token.trimStart();
      } else {
        line = candidate;
      }
      while (style.font.widthOfTextAtSize(line, style.size) > maxWidth && line.length > 1) {
        let cut = line.length - 1;
        while (cut > 1 && style.font.widthOfTextAtSize(line.slice(0, cut), style.size) > maxWidth) cut--;
        lines.push(line.slice(0, cut));
        line = line.slice(cut);
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/** A QR code for `text` as PNG bytes (error correction M), for `doc.embedPng`. */
export function qrPng(text: string, sizePx = 300): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 1, width: sizePx });
}
