import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import type request from 'supertest';

/** supertest parser that collects a binary body (XLSX, ZIP, video) into a Buffer. */
export function binaryParser(res: NodeJS.ReadableStream, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
  res.on('error', (err: Error) => callback(err, Buffer.alloc(0)));
}

/** A downloaded workbook's first sheet as rows of cell values (row 1 = header). */
export async function readXlsx(bytes: Buffer): Promise<unknown[][]> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cx-xlsx-')), 'book.xlsx');
  fs.writeFileSync(file, bytes);
  try {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    const rows: unknown[][] = [];
    workbook.worksheets[0].eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    return rows;
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/** GET a binary download with supertest. */
export function downloadBinary(test: request.Test): request.Test {
  return test.buffer(true).parse(binaryParser as never);
}

/** One zip entry: `data` is deflated here, or `deflated` is used as is (with its declared size and CRC). */
export interface ZipPart {
  name: string;
  data?: Buffer | string;
  deflated?: { bytes: Buffer; uncompressedSize: number; crc32: number };
}

/** A minimal zip writer (deflate, no data descriptors): enough to hand-build XLSX files and zip bombs. */
export function buildZip(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const raw = part.data === undefined ? null : Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data, 'utf8');
    const body = part.deflated?.bytes ?? zlib.deflateRawSync(raw!, { level: 9 });
    const size = part.deflated?.uncompressedSize ?? raw!.length;
    const crc = part.deflated?.crc32 ?? zlib.crc32(raw!);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(Math.min(size, 0xfffffffe), 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(Math.min(size, 0xfffffffe), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>';
const ROOT_RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>';
const WORKBOOK =
  '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="学校" sheetId="1" r:id="rId1"/></sheets></workbook>';
const WORKBOOK_RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>';
const SHEET_OPEN = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
const SHEET_CLOSE = '</sheetData></worksheet>';

/** An XLSX with the given sheet XML rows (inside <sheetData>) and shared strings. */
export function buildXlsx(opts: { sheetRows?: string; sheet?: ZipPart['deflated']; sharedStrings?: string[]; shared?: ZipPart['deflated'] }): Buffer {
  const sst = (opts.sharedStrings ?? ['学校名称', '所属县区']).map((s) => `<si><t>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</t></si>`).join('');
  return buildZip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES },
    { name: '_rels/.rels', data: ROOT_RELS },
    { name: 'xl/workbook.xml', data: WORKBOOK },
    { name: 'xl/_rels/workbook.xml.rels', data: WORKBOOK_RELS },
    opts.shared
      ? { name: 'xl/sharedStrings.xml', deflated: opts.shared }
      : {
          name: 'xl/sharedStrings.xml',
          data: `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${sst}</sst>`,
        },
    opts.sheet
      ? { name: 'xl/worksheets/sheet1.xml', deflated: opts.sheet }
      : { name: 'xl/worksheets/sheet1.xml', data: `${SHEET_OPEN}${opts.sheetRows ?? ''}${SHEET_CLOSE}` },
  ]);
}

/**
 * A raw-deflate stream of `head`, then `block` repeated until the compressed stream reaches
 * `compressedBytes`, then `tail`: each part is compressed on its own with a sync flush (byte
 * aligned, no back-reference across parts), so the parts concatenate into one valid stream. This
 * builds multi-GB bombs in milliseconds. The CRC is not computed (0): a reader that stops at its
 * cap never gets to the end where it would be checked.
 */
export function repeatedDeflate(head: string, block: string, tail: string, compressedBytes: number): NonNullable<ZipPart['deflated']> {
  const flush = (text: string) => zlib.deflateRawSync(Buffer.from(text, 'utf8'), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const headBytes = flush(head);
  const blockBytes = flush(block);
  const tailBytes = zlib.deflateRawSync(Buffer.from(tail, 'utf8'), { level: 9 }); // final block
  const repeats = Math.max(1, Math.floor((compressedBytes - headBytes.length - tailBytes.length) / blockBytes.length));
  const bytes = Buffer.concat([headBytes, ...Array.from({ length: repeats }, () => blockBytes), tailBytes]);
  const uncompressedSize = Buffer.byteLength(head) + repeats * Buffer.byteLength(block) + Buffer.byteLength(tail);
  return { bytes, uncompressedSize, crc32: 0 };
}

export const XLSX_SHEET_OPEN = SHEET_OPEN;
export const XLSX_SHEET_CLOSE = SHEET_CLOSE;
