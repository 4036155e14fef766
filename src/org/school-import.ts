import { promises as fs } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { isUniqueViolation } from '../platform/db/errors';
import { AppError } from '../platform/errors';
import { CITY_DIRECT_LABEL } from './org.types';
import * as repo from './school.repository';

/**
 * Import schools from a CSV or XLSX file with a header row: 学校名称, 所属县区 (a county name or
 * 市直), 学段 (optional: 幼儿园/小学/初中/高中/中职). Every row is checked first; one bad row
 * imports nothing, and every problem is reported with its row number.
 */
export interface ImportRowError {
  row: number;
  message: string;
}

export interface ImportResult {
  imported: number;
}

export const MAX_IMPORT_ROWS = 5000;

const HEADERS = { name: ['学校名称', '学校', 'name'], county: ['所属县区', '县区', '县（市、区）', 'county'], level: ['学段', 'level'] };

export class ImportRejectedError extends AppError {
  constructor(readonly rowErrors: ImportRowError[]) {
    super(400, 'validation_failed', '导入失败，未导入任何学校', rowErrors.slice(0, 20).map((e) => `第 ${e.row} 行：${e.message}`).join('；'),
      rowErrors.map((e) => ({ field: `row${e.row}`, message: `第 ${e.row} 行：${e.message}` })));
  }
}

export async function readRows(filePath: string, originalName: string): Promise<string[][]> {
  const lower = originalName.toLowerCase();
  const head = Buffer.alloc(4);
  const handle = await fs.open(filePath, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const isZip = head[0] === 0x50 && head[1] === 0x4b;
  if (isZip || lower.endsWith('.xlsx')) {
    if (!isZip) throw new ImportRejectedError([{ row: 0, message: '文件不是有效的 XLSX 表格' }]);
    const workbook = new ExcelJS.Workbook();
    try {
      await workbook.xlsx.readFile(filePath);
    } catch {
      throw new ImportRejectedError([{ row: 0, message: '无法读取 XLSX 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试' }]);
    }
    const sheet = workbook.worksheets[0];
    const rows: string[][] = [];
    sheet?.eachRow({ includeEmpty: true }, (row) => {
      const values = Array.isArray(row.values) ? row.values.slice(1) : [];
      rows.push(values.map((v) => cellText(v)));
    });
    return rows;
  }
  let text = await fs.readFile(filePath, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return parseCsv(text, { relax_column_count: true, skip_empty_lines: false, bom: true }) as string[][];
  } catch {
    throw new ImportRejectedError([{ row: 0, message: 'CSV 文件格式不正确，请使用 UTF-8 编码、逗号分隔' }]);
  }
}

function cellText(v: ExcelJS.CellValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('text' in v) return String(v.text);
    if ('result' in v) return String(v.result ?? '');
    return '';
  }
  return String(v);
}

export function createSchoolImportService(db: Db) {
  return {
    async importFile(actor: CurrentUser, filePath: string, originalName: string): Promise<ImportResult> {
      assertArea(actor, 'schoolImport');
      const rows = await readRows(filePath, originalName);
      return this.importRows(actor, rows);
    },

    async importRows(actor: CurrentUser, rows: string[][]): Promise<ImportResult> {
      assertArea(actor, 'schoolImport');
      const header = (rows[0] ?? []).map((h) => h.trim());
      const col = (names: string[]) => header.findIndex((h) => names.includes(h));
      const nameCol = col(HEADERS.name);
      const countyCol = col(HEADERS.county);
      const levelCol = col(HEADERS.level);
      if (nameCol < 0 || countyCol < 0) {
        throw new ImportRejectedError([{ row: 1, message: '表头必须包含「学校名称」和「所属县区」两列' }]);
      }
      if (rows.length - 1 > MAX_IMPORT_ROWS) throw new ImportRejectedError([{ row: 0, message: `一次最多导入 ${MAX_IMPORT_ROWS} 所学校` }]);

      const counties = await repo.listCounties(db);
      const countyByName = new Map(counties.map((c) => [c.name, c.id]));
      const levels = await db.selectFrom('levels').select(['code', 'label']).execute();
      const levelByLabel = new Map(levels.flatMap((l) => [[l.label, l.code], [l.code, l.code]] as const));

      const errors: ImportRowError[] = [];
      const seen = new Set<string>();
      const valid: Array<{ name: string; county_id: string | null; level: string | null }> = [];
      const validRows: number[] = [];
      rows.slice(1).forEach((cells, i) => {
        const rowNo = i + 2;
        const name = (cells[nameCol] ?? '').trim();
        const countyName = (cells[countyCol] ?? '').trim();
        const levelLabel = levelCol >= 0 ? (cells[levelCol] ?? '').trim() : '';
        if (!name && !countyName && !levelLabel) return; // blank line
        if (!name) return void errors.push({ row: rowNo, message: '学校名称不能为空' });
        if ([...name].length > 100) return void errors.push({ row: rowNo, message: '学校名称不能超过 100 个字符' });
        let countyId: string | null;
        if (countyName === CITY_DIRECT_LABEL || countyName === '市直学校') countyId = null;
        else if (countyByName.has(countyName)) countyId = countyByName.get(countyName)!;
        else return void errors.push({ row: rowNo, message: countyName ? `县区「${countyName}」不存在` : '所属县区不能为空（市直学校请填「市直」）' });
        let level: string | null = null;
        if (levelLabel) {
          if (!levelByLabel.has(levelLabel)) return void errors.push({ row: rowNo, message: `学段「${levelLabel}」不存在` });
          level = levelByLabel.get(levelLabel)!;
        }
        const key = `${countyId ?? ''}\u0000${name}`;
        if (seen.has(key)) return void errors.push({ row: rowNo, message: `「${name}」在文件中重复` });
        seen.add(key);
        valid.push({ name, county_id: countyId, level });
        validRows.push(rowNo);
      });
      /** Rows whose school (same name in the same county) is already in the database. */
      const alreadyThere = async (): Promise<ImportRowError[]> => {
        if (!valid.length) return [];
        const existing = await db.selectFrom('schools').select(['name', 'county_id']).where('name', 'in', valid.map((v) => v.name)).execute();
        const existingKeys = new Set(existing.map((e) => `${e.county_id ?? ''}\u0000${e.name}`));
        return valid.flatMap((v, i) => (existingKeys.has(`${v.county_id ?? ''}\u0000${v.name}`) ? [{ row: validRows[i]!, message: `「${v.name}」已存在` }] : []));
      };
      errors.push(...(await alreadyThere()));
      if (!valid.length && !errors.length) errors.push({ row: 2, message: '文件中没有学校' });
      if (errors.length) throw new ImportRejectedError(errors.sort((a, b) => a.row - b.row));

      try {
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < valid.length; i += 500) {
            await trx.insertInto('schools').values(valid.slice(i, i + 500)).execute();
          }
          await recordAudit(trx, { actor, action: 'school.import', objectType: 'school', objectId: '*', detail: { count: valid.length } });
        });
      } catch (err) {
        // Someone created some of these schools (another import, the form) after the check above:
        // nothing was imported; name the rows, as the check would have.
        if (!isUniqueViolation(err)) throw err;
        const taken = await alreadyThere();
        throw new ImportRejectedError(taken.length ? taken : [{ row: 0, message: '导入期间有同名学校被创建，请刷新后重试' }]);
      }
      return { imported: valid.length };
    },
  };
}

export type SchoolImportService = ReturnType<typeof createSchoolImportService>;
