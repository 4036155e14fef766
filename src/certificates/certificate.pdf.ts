import { rgb, type PDFImage, type PDFPage } from 'pdf-lib';
import QRCode from 'qrcode';
import { A4_LANDSCAPE, createCjkPdf, drawCentered, MM, wrapText, type CjkPdf } from '../platform/documents/pdf';
import { CERTIFICATE_TEXT as T } from './certificate.messages';

/** What a certificate prints: the row as issued (names frozen at issue time). */
export interface CertificateFace {
  number: string;
  kind: 'entry' | 'director' | 'organisation';
  recipient: string;
  awardLabel: string;
  entryTitle: string | null;
  songTitle: string | null;
  schoolName: string | null;
  countyName: string | null;
  issuer: string;
  /** YYYY-MM-DD */
  issuedOn: string;
  verifyUrl: string;
  campaignTitle: string;
  roundName: string;
}

const RED = rgb(0.72, 0.05, 0.1);
const GOLD = rgb(0.76, 0.6, 0.26);
const INK = rgb(0.12, 0.12, 0.12);
const GREY = rgb(0.4, 0.4, 0.4);

const DIGITS = '〇一二三四五六七八九';
/** 2027-06-30 → 二〇二七年六月三十日 (how a Chinese certificate writes its date). */
export function chineseDate(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  const small = (n: number) =>
    n < 10 ? DIGITS[n] : n === 10 ? '十' : n < 20 ? `十${DIGITS[n % 10]}` : `${DIGITS[Math.floor(n / 10)]}十${n % 10 ? DIGITS[n % 10] : ''}`;
  return `${[...String(y)].map((c) => DIGITS[Number(c)]).join('')}年${small(m)}月${small(d)}日`;
}

/** The lines of the certificate's body (after the salutation), by kind. */
function bodyLines(c: CertificateFace): { salutation: string; body: string; closing: string } {
  const activity = `“${c.campaignTitle}”${c.roundName}`;
  const work = `作品《${c.entryTitle ?? ''}》${c.songTitle ? `（演唱曲目《${c.songTitle}》）` : ''}`;
  const where = [c.countyName, c.schoolName].filter(Boolean).join(' ');
  switch (c.kind) {
    case 'entry':
      return { salutation: `${where}：`, body: `你校选送的${work}在${activity}中荣获`, closing: T.closing };
    case 'director':
      return { salutation: `${c.recipient} 老师：`, body: `您指导的${where}${work}在${activity}中荣获`, closing: T.closingDirector };
    case 'organisation':
      return { salutation: `${c.recipient}：`, body: `在${activity}中组织有力、成绩突出，荣获`, closing: T.closing };
  }
}

/** Every string a certificate draws (for the font subset). */
export function certificateTexts(c: CertificateFace): string[] {
  const b = bodyLines(c);
  return [
    T.title,
    b.salutation,
    b.body,
    b.closing,
    c.awardLabel,
    c.issuer,
    chineseDate(c.issuedOn),
    `${T.numberLabel}${c.number}`,
    T.scan,
    T.kindDirector,
    '0123456789',
  ];
}

/**
 * Draws one certificate on a new A4 landscape page of `pdf`: border, title, salutation, body, the
 * award in large type, the issuer and the date at the bottom right with the seal over them (or an
 * empty space for a stamp), and the QR code to the verify page with the number at the bottom left.
 */
export function drawCertificate(pdf: CjkPdf, c: CertificateFace, seal: PDFImage | null): PDFPage {
  const page = pdf.doc.addPage(A4_LANDSCAPE);
  const [w, h] = A4_LANDSCAPE;
  // Borders: an outer red frame and an inner gold line.
  page.drawRectangle({ x: 10 * MM, y: 10 * MM, width: w - 20 * MM, height: h - 20 * MM, borderColor: RED, borderWidth: 6 });
  page.drawRectangle({ x: 14 * MM, y: 14 * MM, width: w - 28 * MM, height: h - 28 * MM, borderColor: GOLD, borderWidth: 1.5 });

  drawCentered(page, T.title, { font: pdf.bold, size: 46, y: h - 44 * MM, color: RED });
  if (c.kind === 'director') drawCentered(page, T.kindDirector, { font: pdf.regular, size: 14, y: h - 52 * MM, color: GREY });

  const b = bodyLines(c);
  const left = 36 * MM;
  const width = w - 72 * MM;
  let y = h - 72 * MM;
  page.drawText(b.salutation, { x: left, y, size: 20, font: pdf.bold, color: INK });
  y -= 34;
  for (const line of wrapText(`\u3000\u3000${b.body}`, { font: pdf.regular, size: 18 }, width)) {
    page.drawText(line, { x: left, y, size: 18, font: pdf.regular, color: INK });
    y -= 30;
  }
  y -= 26;
  drawCentered(page, c.awardLabel, { font: pdf.bold, size: 40, y, color: RED });
  y -= 46;
  page.drawText(`\u3000\u3000${b.closing}`, { x: left, y, size: 18, font: pdf.regular, color: INK });

  // Bottom right: issuer and date; the seal (about 42 mm across) sits over them.
  const dateText = chineseDate(c.issuedOn);
  const rightEdge = w - 40 * MM;
  const issuerWidth = pdf.regular.widthOfTextAtSize(c.issuer, 18);
  const dateWidth = pdf.regular.widthOfTextAtSize(dateText, 16);
  const blockCentre = rightEdge - Math.max(issuerWidth, dateWidth) / 2;
  page.drawText(c.issuer, { x: blockCentre - issuerWidth / 2, y: 44 * MM, size: 18, font: pdf.regular, color: INK });
  page.drawText(dateText, { x: blockCentre - dateWidth / 2, y: 35 * MM, size: 16, font: pdf.regular, color: INK });
  if (seal) {
    const size = 42 * MM;
    const scale = size / Math.max(seal.width, seal.height);
    const sw = seal.width * scale;
    const sh = seal.height * scale;
    page.drawImage(seal, { x: blockCentre - sw / 2, y: 38 * MM - sh / 2, width: sw, height: sh, opacity: 0.9 });
  }

  // Bottom left: the QR code to the public verify page and the number.
  const qrSize = 26 * MM;
  drawQr(page, c.verifyUrl, 24 * MM, 22 * MM, qrSize);
  page.drawText(T.scan, { x: 24 * MM + qrSize + 4 * MM, y: 36 * MM, size: 10, font: pdf.regular, color: GREY });
  page.drawText(`${T.numberLabel}${c.number}`, { x: 24 * MM + qrSize + 4 * MM, y: 28 * MM, size: 12, font: pdf.bold, color: INK });
  return page;
}

/**
 * The QR code drawn as vector squares (runs of dark modules per row) with a two-module quiet zone:
 * sharp at any print size, and ~100× faster than rasterising a PNG per certificate (qrPng took
 * about 2 s of CPU per certificate here, too slow for a 500-certificate round).
 */
function drawQr(page: PDFPage, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  page.drawRectangle({ x, y, width: size, height: size, color: rgb(1, 1, 1) });
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!qr.modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && qr.modules.get(row, col)) col++;
      page.drawRectangle({
        x: x + (quiet + start) * cell,
        y: y + size - (quiet + row + 1) * cell,
        width: (col - start) * cell + 0.01,
        height: cell + 0.01,
        color: rgb(0, 0, 0),
      });
    }
  }
}

/** A PDF of the given certificates, one page each, sharing one font subset (one certificate, or a round's print sheet). */
export async function renderCertificates(faces: CertificateFace[], sealPng: Uint8Array | null, title?: string): Promise<Uint8Array> {
  const pdf = await createCjkPdf(faces.flatMap(certificateTexts), { title: title ?? `${T.title} ${faces[0]?.number ?? ''}` });
  const seal = sealPng ? await pdf.doc.embedPng(sealPng) : null;
  for (const face of faces) drawCertificate(pdf, face, seal);
  return pdf.doc.save();
}
