import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
