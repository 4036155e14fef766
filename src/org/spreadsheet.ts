/**
 * Bounded-memory reading of the school import's spreadsheet (issue 13 item 4): XLSX and CSV are
 * streamed and every cap is checked while the bytes flow, so a zip bomb (a 118 KB XLSX of
 * 840,000 rows grew the process by 578 MB with exceljs's whole-workbook reader) costs at most
 * `maxUncompressedBytes` of parsing and a few MB of memory, then a clear Chinese refusal.
 *
 * XLSX: the zip's central directory is read with node:fs and each entry we need (workbook,
 * its relationships, the shared strings, the FIRST worksheet) is inflated with node:zlib and
 * counted byte by byte — the sizes a zip declares are never trusted. Why not a zip library:
 * exceljs's own streaming reader keeps the whole shared-strings table and spools worksheets to
 * temp files; jszip inflates into memory; unzipper 0.10 (in the tree via exceljs) is a
 * bluebird/fstream-era stream whose cap would have to be added around it anyway. The format
 * subset a spreadsheet needs is small (no zip64, no encryption, methods stored/deflate). The XML
 * is parsed by saxes (also exceljs's parser): a streaming, non-validating parser that expands no
 * external or custom entities.
 *
 * CSV: csv-parse's stream API with the same row, cell and cell-length caps.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createInflateRaw } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { SaxesParser } from 'saxes';

export interface SpreadsheetLimits {
  /** Data rows (after the header). */
  maxRows: number;
  /** Columns kept per row; cells further right are read but ignored. */
  maxColumns: number;
  /** Cells read in the whole sheet (including ignored and empty ones). */
  maxCells: number;
  /** Characters in one cell. */
  maxCellChars: number;
  /** Characters of cell text held at once (shared strings + inline cells). */
  maxTextChars: number;
  /** Bytes inflated from the zip, over all entries read. */
  maxUncompressedBytes: number;
  /** Entries in the zip's central directory. */
  maxZipEntries: number;
}

export const IMPORT_LIMITS: Readonly<SpreadsheetLimits> = Object.freeze({
  maxRows: 5000,
  maxColumns: 20,
  maxCells: 200_000,
  maxCellChars: 500,
  maxTextChars: 2_000_000,
  maxUncompressedBytes: 16 * 1024 * 1024,
  maxZipEntries: 1000,
});

/** A file that breaks a cap or is not readable; `row` 0 = the file as a whole. Message in Chinese. */
export class SpreadsheetRejected extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(message);
    this.name = 'SpreadsheetRejected';
  }
}

const tooManyRows = (l: SpreadsheetLimits) => new SpreadsheetRejected(0, `一次最多导入 ${l.maxRows} 所学校，请分成几个文件导入`);
const cellTooLong = (l: SpreadsheetLimits, row: number) =>
  new SpreadsheetRejected(row, `单元格内容超过 ${l.maxCellChars} 个字符${row ? '' : '（表格中有过长的文字）'}`);
const tooManyCells = (l: SpreadsheetLimits) =>
  new SpreadsheetRejected(0, `表格中的单元格过多（超过 ${l.maxCells.toLocaleString('en-US')} 个），请只保留学校名称、所属县区和学段三列`);
const tooMuchText = () => new SpreadsheetRejected(0, '表格中的文字过多，请只保留学校名称、所属县区和学段三列');
const tooBig = (l: SpreadsheetLimits) =>
  new SpreadsheetRejected(
    0,
    `表格解压后超过 ${Math.round(l.maxUncompressedBytes / 1024 / 1024)} MB，不像是学校名单，请只保留学校名称、所属县区和学段三列后另存为 .xlsx`,
  );
const unreadableXlsx = () => new SpreadsheetRejected(0, '无法读取 XLSX 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试');

/** Rows of the first sheet as strings; rows[0] is the header, rows[i] is sheet row i + 1. */
export async function readXlsxRows(filePath: string, limits: SpreadsheetLimits = IMPORT_LIMITS): Promise<string[][]> {
  const zip = await openZip(filePath, limits);
  try {
    const budget = { bytes: limits.maxUncompressedBytes, chars: limits.maxTextChars };
    const sheetPath = await firstSheetPath(zip, budget, limits);
    const shared = zip.entries.has('xl/sharedStrings.xml') ? await readSharedStrings(zip, 'xl/sharedStrings.xml', budget, limits) : [];
    return await readSheet(zip, sheetPath, shared, budget, limits);
  } finally {
    await zip.handle.close();
  }
}

/** CSV rows (UTF-8, BOM allowed), under the same caps. */
export async function readCsvRows(filePath: string, limits: SpreadsheetLimits = IMPORT_LIMITS): Promise<string[][]> {
  const parser = parseCsv({ relax_column_count: true, skip_empty_lines: false, bom: true, max_record_size: limits.maxCellChars * limits.maxColumns * 2 });
  const source = createReadStream(filePath);
  source.pipe(parser);
  const rows: string[][] = [];
  let cells = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const rowNo = rows.length + 1;
      cells += record.length;
      if (cells > limits.maxCells) throw tooManyCells(limits);
      if (record.some((c) => c.length > limits.maxCellChars)) throw cellTooLong(limits, rowNo);
      const kept = record.slice(0, limits.maxColumns);
      if (rowNo > limits.maxRows + 1) {
        if (kept.some((c) => c.trim() !== '')) throw tooManyRows(limits);
        continue; // trailing blank lines
      }
      rows.push(kept);
    }
  } catch (err) {
    if (err instanceof SpreadsheetRejected) throw err;
    const code = (err as { code?: string }).code;
    // csv-parse reads ahead of what the loop has seen: its own line count names the row.
    const line = (err as { lines?: number }).lines;
    const rowNo = typeof line === 'number' && line > 0 ? line : rows.length + 1;
    if (code === 'CSV_MAX_RECORD_SIZE')
      throw new SpreadsheetRejected(
        rowNo,
        `这一行的内容过长（超过 ${limits.maxCellChars * limits.maxColumns * 2} 个字符），请只保留学校名称、所属县区和学段三列`,
      );
    if (typeof code === 'string' && code.startsWith('CSV_')) throw new SpreadsheetRejected(0, 'CSV 文件格式不正确，请使用 UTF-8 编码、逗号分隔');
    throw err;
  } finally {
    source.destroy();
    parser.destroy();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// zip

interface ZipEntry {
  method: number;
  flags: number;
  compressedSize: number;
  localHeaderOffset: number;
}

interface Zip {
  handle: fs.FileHandle;
  path: string;
  size: number;
  entries: Map<string, ZipEntry>;
}

async function openZip(filePath: string, limits: SpreadsheetLimits): Promise<Zip> {
  const handle = await fs.open(filePath, 'r');
  try {
    const { size } = await handle.stat();
    const tailSize = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailSize);
    await handle.read(tail, 0, tailSize, size - tailSize);
    let eocd = -1;
    for (let i = tailSize - 22; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw unreadableXlsx();
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw unreadableXlsx(); // zip64: never a 5 MB spreadsheet
    if (count > limits.maxZipEntries) throw tooBig(limits);
    if (cdOffset + cdSize > size || cdSize > 4 * 1024 * 1024) throw unreadableXlsx();
    const cd = Buffer.alloc(cdSize);
    await handle.read(cd, 0, cdSize, cdOffset);
    const entries = new Map<string, ZipEntry>();
    let at = 0;
    for (let i = 0; i < count; i += 1) {
      if (at + 46 > cd.length || cd.readUInt32LE(at) !== 0x02014b50) throw unreadableXlsx();
      const nameLength = cd.readUInt16LE(at + 28);
      const name = cd.toString('utf8', at + 46, at + 46 + nameLength);
      entries.set(name.replace(/^\/+/, ''), {
        flags: cd.readUInt16LE(at + 8),
        method: cd.readUInt16LE(at + 10),
        compressedSize: cd.readUInt32LE(at + 20),
        localHeaderOffset: cd.readUInt32LE(at + 42),
      });
      at += 46 + nameLength + cd.readUInt16LE(at + 30) + cd.readUInt16LE(at + 32);
    }
    return { handle, path: filePath, size, entries };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Streams one entry's inflated text into `onText`, counting the bytes against `budget.bytes`;
 * stops (destroying the streams) the moment the budget is spent.
 */
async function streamEntry(zip: Zip, name: string, budget: { bytes: number }, limits: SpreadsheetLimits, onText: (text: string) => void): Promise<void> {
  const entry = zip.entries.get(name);
  if (!entry) throw unreadableXlsx();
  if (entry.flags & 0x1) throw unreadableXlsx(); // encrypted
  if (entry.method !== 0 && entry.method !== 8) throw unreadableXlsx();
  const local = Buffer.alloc(30);
  await zip.handle.read(local, 0, 30, entry.localHeaderOffset);
  if (local.readUInt32LE(0) !== 0x04034b50) throw unreadableXlsx();
  const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (start + entry.compressedSize > zip.size) throw unreadableXlsx();
  if (entry.compressedSize === 0) return;
  const raw = createReadStream(zip.path, { start, end: start + entry.compressedSize - 1, highWaterMark: 64 * 1024 });
  const inflater = entry.method === 8 ? createInflateRaw({ chunkSize: 64 * 1024 }) : null;
  const bytes = inflater ? raw.pipe(inflater) : raw;
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      budget.bytes -= chunk.length;
      if (budget.bytes < 0) throw tooBig(limits);
      onText(decoder.write(chunk));
    }
    onText(decoder.end());
  } catch (err) {
    if (err instanceof SpreadsheetRejected) throw err;
    if ((err as { code?: string }).code?.startsWith('Z_')) throw unreadableXlsx();
    throw err;
  } finally {
    raw.destroy();
    inflater?.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// XML

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

/** Runs saxes over one entry; `handlers` see local names (any namespace prefix dropped). */
async function parseEntry(
  zip: Zip,
  name: string,
  budget: { bytes: number },
  limits: SpreadsheetLimits,
  handlers: { open?(tag: string, attrs: Record<string, string>): void; close?(tag: string): void; text?(text: string): void },
): Promise<void> {
  const parser = new SaxesParser({ xmlns: false });
  let failure: unknown = null;
  parser.on('error', (err) => {
    failure ??= err;
  });
  parser.on('opentag', (tag) => {
    if (failure === null) {
      try {
        handlers.open?.(localName(tag.name), tag.attributes as Record<string, string>);
      } catch (err) {
        failure = err;
      }
    }
  });
  parser.on('closetag', (tag) => {
    if (failure === null) {
      try {
        handlers.close?.(localName(tag.name));
      } catch (err) {
        failure = err;
      }
    }
  });
  const onText = (text: string) => {
    if (failure === null) {
      try {
        handlers.text?.(text);
      } catch (err) {
        failure = err;
      }
    }
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  await streamEntry(zip, name, budget, limits, (chunk) => {
    if (failure === null) {
      try {
        parser.write(chunk);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== null) throw failure instanceof SpreadsheetRejected ? failure : unreadableXlsx();
  });
  try {
    parser.close();
  } catch (err) {
    failure ??= err;
  }
  if (failure !== null) throw failure instanceof SpreadsheetRejected ? failure : unreadableXlsx();
}

/** `xl/workbook.xml`'s first <sheet>, resolved through `xl/_rels/workbook.xml.rels`. */
async function firstSheetPath(zip: Zip, budget: { bytes: number }, limits: SpreadsheetLimits): Promise<string> {
  const fallback = 'xl/worksheets/sheet1.xml';
  if (!zip.entries.has('xl/workbook.xml')) {
    if (zip.entries.has(fallback)) return fallback;
    throw unreadableXlsx();
  }
  let relId: string | null = null;
  await parseEntry(zip, 'xl/workbook.xml', budget, limits, {
    open(tag, attrs) {
      if (tag !== 'sheet' || relId !== null) return;
      const key = Object.keys(attrs).find((k) => k === 'id' || k.endsWith(':id'));
      relId = key ? (attrs[key] ?? null) : null;
    },
  });
  let target: string | null = null;
  if (relId !== null && zip.entries.has('xl/_rels/workbook.xml.rels')) {
    await parseEntry(zip, 'xl/_rels/workbook.xml.rels', budget, limits, {
      open(tag, attrs) {
        if (tag === 'Relationship' && attrs.Id === relId && target === null) target = attrs.Target ?? null;
      },
    });
  }
  if (target === null) return zip.entries.has(fallback) ? fallback : Promise.reject(unreadableXlsx());
  const resolved = (target as string).startsWith('/') ? (target as string).slice(1) : `xl/${target as string}`;
  const normal = resolved
    .split('/')
    .reduce<string[]>((parts, p) => (p === '..' ? parts.slice(0, -1) : p === '.' ? parts : [...parts, p]), [])
    .join('/');
  if (!zip.entries.has(normal)) throw unreadableXlsx();
  return normal;
}

/** The shared-strings table: text of each <si> (runs joined, phonetic <rPh> runs left out). */
async function readSharedStrings(zip: Zip, name: string, budget: { bytes: number; chars: number }, limits: SpreadsheetLimits): Promise<string[]> {
  const strings: string[] = [];
  let current: string | null = null;
  let inText = false;
  let phonetic = 0;
  await parseEntry(zip, name, budget, limits, {
    open(tag) {
      if (tag === 'si') {
        if (strings.length >= limits.maxCells) throw tooManyCells(limits);
        current = '';
      } else if (tag === 'rPh') phonetic += 1;
      else if (tag === 't') inText = true;
    },
    close(tag) {
      if (tag === 'si' && current !== null) {
        strings.push(current);
        current = null;
      } else if (tag === 'rPh') phonetic -= 1;
      else if (tag === 't') inText = false;
    },
    text(text) {
      if (current === null || !inText || phonetic > 0) return;
      current += text;
      budget.chars -= text.length;
      if (current.length > limits.maxCellChars) throw cellTooLong(limits, 0);
      if (budget.chars < 0) throw tooMuchText();
    },
  });
  return strings;
}

/** "AB12" → 27 (0-based column). */
function columnOf(ref: string | undefined): number | null {
  const match = ref ? /^([A-Z]{1,3})\d*$/i.exec(ref) : null;
  if (!match?.[1]) return null;
  let n = 0;
  for (const ch of match[1].toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

async function readSheet(zip: Zip, name: string, shared: string[], budget: { bytes: number; chars: number }, limits: SpreadsheetLimits): Promise<string[][]> {
  const rows: string[][] = [];
  let rowNo = 0;
  let row: string[] | null = null;
  let cells = 0;
  let nextColumn = 0;
  let cell: { column: number; type: string; text: string; collecting: boolean } | null = null;
  let inInlineText = false;

  const finishCell = () => {
    if (!cell || !row) return;
    const { column, type, text } = cell;
    cell = null;
    if (column >= limits.maxColumns) return;
    let value = text;
    if (type === 's') value = shared[Number(text)] ?? '';
    else if (type === 'b') value = text === '1' ? 'TRUE' : 'FALSE';
    else if (type === 'e') value = '';
    if (value === '') return;
    while (row.length < column) row.push('');
    row[column] = value;
  };

  await parseEntry(zip, name, budget, limits, {
    open(tag, attrs) {
      if (tag === 'row') {
        const declared = Number(attrs.r);
        rowNo = Number.isInteger(declared) && declared > rowNo ? declared : rowNo + 1;
        row = [];
        nextColumn = 0;
      } else if (tag === 'c' && row) {
        cells += 1;
        if (cells > limits.maxCells) throw tooManyCells(limits);
        const column = columnOf(attrs.r) ?? nextColumn;
        nextColumn = column + 1;
        cell = { column, type: attrs.t ?? 'n', text: '', collecting: false };
      } else if (cell && tag === 'v') {
        cell.collecting = true;
      } else if (cell && tag === 't' && cell.type === 'inlineStr') {
        inInlineText = true;
      }
    },
    close(tag) {
      if (tag === 'v' && cell) cell.collecting = false;
      else if (tag === 't') inInlineText = false;
      else if (tag === 'c') finishCell();
      else if (tag === 'row' && row) {
        const filled = row.some((v) => v.trim() !== '');
        if (filled) {
          if (rowNo > limits.maxRows + 1) throw tooManyRows(limits);
          while (rows.length < rowNo - 1) rows.push([]);
          rows.push(row);
        }
        row = null;
      }
    },
    text(text) {
      if (!cell || !(cell.collecting || inInlineText)) return;
      cell.text += text;
      budget.chars -= text.length;
      if (cell.text.length > limits.maxCellChars) throw cellTooLong(limits, rowNo);
      if (budget.chars < 0) throw tooMuchText();
    },
  });
  return rows;
}
