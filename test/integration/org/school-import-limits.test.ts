/**
 * Issue 13 item 4: the school import streams its spreadsheet with caps on rows, cells, cell
 * length, text and uncompressed size. Every file here is generated in the test: the red team's
 * shape (a ~120 KB XLSX of 840,000 rows) and the worst a 5 MB upload can carry (a deflate stream
 * of repeated blocks declaring gigabytes, in the shared strings or in the sheet).
 *
 * Memory is measured in a child process (fixtures/import-child.js): peak RSS sampled every 2 ms
 * during the read, minus RSS after a warm-up and a GC. The harness is calibrated: holding 120 MB
 * of strings (what a whole-workbook reader does) must show up as > 100 MB, so "< 50 MB" means
 * something.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { IMPORT_LIMITS } from '../../../src/org/spreadsheet';
import { createTestApp, type TestApp } from '../../support/app';
import { buildXlsx, repeatedDeflate, XLSX_SHEET_CLOSE, XLSX_SHEET_OPEN } from '../../support/xlsx';

jest.setTimeout(60_000);

const run = promisify(execFile);
const MB = 1024 * 1024;
const UPLOAD_CAP = 5 * MB; // multer's fileSize for the import
const MAX_GROWTH = 50 * MB;
const CHILD = path.join(__dirname, 'fixtures', 'import-child.js');

let dir: string;
const files: Record<string, string> = {};

const inline = (ref: string, text: string) => `<c r="${ref}" t="inlineStr"><is><t>${text}</t></is></c>`;
const schoolRow = (r: number, name: string, county = '离石区') => `<row r="${r}">${inline(`A${r}`, name)}${inline(`B${r}`, county)}</row>`;
const header = schoolRow(1, '学校名称', '所属县区');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-import-limits-'));
  const put = async (name: string, bytes: Buffer | string) => {
    files[name] = path.join(dir, name);
    await writeFile(files[name], bytes);
  };
  await put('warm.xlsx', buildXlsx({ sheetRows: header + schoolRow(2, '热身小学') }));

  // The red team's shape: 840,000 rows of two shared strings, deflated for real.
  // (No `r` attributes: a reader numbers rows and cells in order, and the XML compresses ~500:1.)
  await put(
    'redteam-840k-rows.xlsx',
    buildXlsx({ sheetRows: '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'.repeat(840_000), sharedStrings: ['某某小学', '离石区'] }),
  );

  // Worst case within 5 MB, shared strings: 500-character strings (the cell cap) over and over.
  const longText = '学'.repeat(IMPORT_LIMITS.maxCellChars);
  const sstHead = '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">';
  await put(
    'worst-shared-strings.xlsx',
    buildXlsx({ shared: repeatedDeflate(sstHead, `<si><t>${longText}</t></si>`.repeat(2000), '</sst>', UPLOAD_CAP - 8192), sheetRows: header }),
  );
  // Worst case within 5 MB, sheet: empty rows (no cell, so no row cap) until the inflate cap.
  await put(
    'worst-empty-rows.xlsx',
    buildXlsx({ sheet: repeatedDeflate(XLSX_SHEET_OPEN + header, '<row/>'.repeat(200_000), XLSX_SHEET_CLOSE, UPLOAD_CAP - 8192) }),
  );
  // Cells: one row of short numeric cells, far right of the kept columns.
  await put(
    'many-cells.xlsx',
    buildXlsx({ sheet: repeatedDeflate(`${XLSX_SHEET_OPEN}${header}<row r="2">`, '<c><v>1</v></c>'.repeat(10_000), `</row>${XLSX_SHEET_CLOSE}`, 200_000) }),
  );
  await put('long-cell.xlsx', buildXlsx({ sheetRows: header + schoolRow(2, '正常小学') + schoolRow(3, '长'.repeat(IMPORT_LIMITS.maxCellChars + 1)) }));
  await put(
    'too-many-rows.xlsx',
    buildXlsx({ sheetRows: header + Array.from({ length: IMPORT_LIMITS.maxRows + 1 }, (_, i) => schoolRow(i + 2, `超额${i}小学`)).join('') }),
  );
  await put(
    'at-the-cap.xlsx',
    buildXlsx({ sheetRows: header + Array.from({ length: IMPORT_LIMITS.maxRows }, (_, i) => schoolRow(i + 2, `满额${i}小学`)).join('') }),
  );

  // CSV: the whole 5 MB as rows, and as one huge cell.
  const csvLine = '某某小学,离石区\n';
  await put('csv-many-rows.csv', `学校名称,所属县区\n${csvLine.repeat(Math.floor((UPLOAD_CAP - 100) / Buffer.byteLength(csvLine)))}`);
  await put('csv-one-huge-cell.csv', `学校名称,所属县区\n"${'长'.repeat(Math.floor((UPLOAD_CAP - 100) / 3))}",离石区\n`);
  await put('csv-many-cells.csv', `学校名称,所属县区\n${`${',1'.repeat(5000)}\n`.repeat(400)}`);
  await put('csv-one-huge-row.csv', `学校名称,所属县区\n${',1'.repeat(Math.floor((UPLOAD_CAP - 100) / 2))}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ChildResult {
  growthBytes: number;
  rows: number;
  rejected: { row: number; message: string } | null;
}

async function measure(mode: 'read' | 'calibrate', file: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', CHILD, mode, file, files['warm.xlsx']!], { timeout: 30_000 });
  return JSON.parse(stdout.trim()) as ChildResult;
}

test('the generated bombs are what they claim: the red team shape is ~120 KB, the worst cases just under the 5 MB upload cap', async () => {
  expect((await stat(files['redteam-840k-rows.xlsx']!)).size).toBeLessThan(200 * 1024);
  for (const name of ['worst-shared-strings.xlsx', 'worst-empty-rows.xlsx', 'csv-many-rows.csv', 'csv-one-huge-cell.csv']) {
    const { size } = await stat(files[name]!);
    expect(size).toBeGreaterThan(UPLOAD_CAP - 64 * 1024);
    expect(size).toBeLessThanOrEqual(UPLOAD_CAP);
  }
});

test('when the measuring child holds 120 MB of strings, then it reports > 100 MB (the harness can see a buffering reader)', async () => {
  const result = await measure('calibrate', files['warm.xlsx']!);
  expect(result.growthBytes).toBeGreaterThan(100 * MB);
});

describe.each([
  ['redteam-840k-rows.xlsx', /一次最多导入 5000 所学校/],
  ['worst-shared-strings.xlsx', /表格中的文字过多/],
  ['worst-empty-rows.xlsx', /表格解压后超过 16 MB/],
  ['many-cells.xlsx', /单元格过多/],
  ['csv-many-rows.csv', /一次最多导入 5000 所学校/],
  ['csv-one-huge-cell.csv', /这一行的内容过长/],
  ['csv-many-cells.csv', /单元格过多/],
  ['csv-one-huge-row.csv', /这一行的内容过长/],
])('when the import reads %s', (name, message) => {
  test(`then it stops at a cap with a Chinese reason, and RSS grows by < ${MAX_GROWTH / MB} MB`, async () => {
    const result = await measure('read', files[name]!);
    expect(result.rejected?.message).toMatch(message);
    expect(result.growthBytes).toBeLessThan(MAX_GROWTH);
  });
});

describe('through the API', () => {
  let t: TestApp;
  let adminToken: string;
  const importFile = (name: string) =>
    request(t.app).post('/api/v1/schools/import').set('Authorization', `Bearer ${adminToken}`).attach('file', files[name]!, name);
  const schoolCount = async () =>
    Number(
      (
        await t.container.database.db
          .selectFrom('schools')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = await t.token('admin');
  });
  afterAll(async () => {
    await t.close();
  });

  test.each([
    ['redteam-840k-rows.xlsx', '一次最多导入 5000 所学校'],
    ['worst-shared-strings.xlsx', '表格中的文字过多'],
    ['worst-empty-rows.xlsx', '表格解压后超过 16 MB'],
    ['csv-many-rows.csv', '一次最多导入 5000 所学校'],
  ])('when an admin uploads %s, then 400 problem+json in Chinese and no school is created', async (name, detail) => {
    const before = await schoolCount();
    const res = await importFile(name);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'validation_failed', title: '导入失败，未导入任何学校' });
    expect(res.body.detail).toContain(detail);
    expect(res.body.detail).not.toMatch(/^第 0 行/);
    expect(await schoolCount()).toBe(before);
  });

  test('when one cell is longer than the cap, then its row is named', async () => {
    const res = await importFile('long-cell.xlsx').expect(400);
    expect(res.body.detail).toBe('第 3 行：单元格内容超过 500 个字符');
  });

  test('when the sheet has one school more than the cap, then it is refused; at the cap, every school is imported', async () => {
    const over = await importFile('too-many-rows.xlsx').expect(400);
    expect(over.body.detail).toContain('一次最多导入 5000 所学校');
    const res = await importFile('at-the-cap.xlsx').expect(201);
    expect(res.body).toEqual({ imported: 5000 });
  });

  test('when imported names carry zero-width or bidi characters, then they are stored normalised and a look-alike of an existing school is refused', async () => {
    await t.createSchool({ name: '离石区归一小学', countyId: 'c-lishi' });
    const res = await request(t.app)
      .post('/api/v1/schools/import')
      .set('Authorization', `Bearer ${adminToken}`)
      .attach('file', Buffer.from('学校名称,所属县区\n离石区归一小学\u200b,离石区\n'), 'names.csv');
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('第 2 行：「离石区归一小学」已存在');
    const ok = await request(t.app)
      .post('/api/v1/schools/import')
      .set('Authorization', `Bearer ${adminToken}`)
      .attach('file', Buffer.from('学校名称,所属县区\n\u202e学小新归\u202c,离石区\n'), 'names.csv')
      .expect(201);
    expect(ok.body).toEqual({ imported: 1 });
    expect(await t.container.database.db.selectFrom('schools').select('name').where('name', '=', '学小新归').executeTakeFirst()).toEqual({ name: '学小新归' });
  });
});
