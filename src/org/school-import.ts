import { promises as fs } from 'node:fs';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { listLevels } from '../campaign/campaign.repository';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { isUniqueViolation } from '../platform/db/errors';
import { AppError } from '../platform/errors';
import { hasInvalidCharacters, nameKey, normalizeName } from '../platform/validate';
import { CITY_DIRECT_LABEL } from './org.types';
import * as repo from './school.repository';
import { IMPORT_LIMITS, readCsvRows, readXlsxRows, SpreadsheetRejected } from './spreadsheet';

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

/** The caps of the import (rows, columns, cells, cell length, text, uncompressed size): src/org/spreadsheet.ts. */
export const MAX_IMPORT_ROWS = IMPORT_LIMITS.maxRows;

const HEADERS = { name: ['学校名称', '学校', 'name'], county: ['所属县区', '县区', '县（市、区）', 'county'], level: ['学段', 'level'] };

export class ImportRejectedError extends AppError {
  constructor(readonly rowErrors: ImportRowError[]) {
    const text = (e: ImportRowError) => (e.row > 0 ? `第 ${e.row} 行：${e.message}` : e.message);
    super(
      400,
      'validation_failed',
      '导入失败，未导入任何学校',
      rowErrors.slice(0, 20).map(text).join('；'),
      rowErrors.map((e) => ({ field: `row${e.row}`, message: text(e) })),
    );
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
  try {
    if (isZip || lower.endsWith('.xlsx')) {
      if (!isZip) throw new ImportRejectedError([{ row: 0, message: '文件不是有效的 XLSX 表格' }]);
      return await readXlsxRows(filePath);
    }
    return await readCsvRows(filePath);
  } catch (err) {
    if (err instanceof SpreadsheetRejected) throw new ImportRejectedError([{ row: err.row, message: err.message }]);
    throw err;
  }
}

export function createSchoolImportService(db: Db) {
  return {
    /** The role gate of the import (routes call it before accepting the upload). */
    authorize(actor: CurrentUser): void {
      assertArea(actor, 'schoolImport', '只有市教育局可以批量导入学校。');
    },

    async importFile(actor: CurrentUser, filePath: string, originalName: string): Promise<ImportResult> {
      assertArea(actor, 'schoolImport');
      const rows = await readRows(filePath, originalName);
      return this.importRows(actor, rows);
    },

    async importRows(actor: CurrentUser, rows: string[][]): Promise<ImportResult> {
      assertArea(actor, 'schoolImport');
      const header = (rows[0] ?? []).map((h) => normalizeName(h));
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
      const levels = await listLevels(db);
      const levelByLabel = new Map(
        levels.flatMap(
          (l) =>
            [
              [l.label, l.code],
              [l.code, l.code],
            ] as const,
        ),
      );

      const errors: ImportRowError[] = [];
      const seen = new Set<string>();
      const valid: Array<{ name: string; county_id: string | null; level: string | null }> = [];
      const validRows: number[] = [];
      rows.slice(1).forEach((cells, i) => {
        const rowNo = i + 2;
        const name = normalizeName(cells[nameCol] ?? '');
        const countyName = normalizeName(cells[countyCol] ?? '');
        const levelLabel = levelCol >= 0 ? normalizeName(cells[levelCol] ?? '') : '';
        if (!name && !countyName && !levelLabel) return; // blank line
        if ([name, countyName, levelLabel].some((v) => hasInvalidCharacters(v, false)))
          return void errors.push({ row: rowNo, message: '包含无效字符（如空字符或控制字符）' });
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
        const key = `${countyId ?? ''}\u0000${nameKey(name)}`;
        if (seen.has(key)) return void errors.push({ row: rowNo, message: `「${name}」在文件中重复` });
        seen.add(key);
        valid.push({ name, county_id: countyId, level });
        validRows.push(rowNo);
      });
      /** Rows whose school (same name in the same county) is already in the database. */
      const alreadyThere = async (): Promise<ImportRowError[]> => {
        if (!valid.length) return [];
        // Compared as the unique index does: normalize(name, NFKC) (migrations/0009_names_nfkc.sql).
        const existing = await repo.schoolsNamed(
          db,
          valid.map((v) => nameKey(v.name)),
        );
        const existingKeys = new Set(existing.map((e) => `${e.county_id ?? ''}\u0000${nameKey(e.name)}`));
        return valid.flatMap((v, i) =>
          existingKeys.has(`${v.county_id ?? ''}\u0000${nameKey(v.name)}`) ? [{ row: validRows[i]!, message: `「${v.name}」已存在` }] : [],
        );
      };
      errors.push(...(await alreadyThere()));
      if (!valid.length && !errors.length) errors.push({ row: 2, message: '文件中没有学校' });
      if (errors.length) throw new ImportRejectedError(errors.sort((a, b) => a.row - b.row));

      try {
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < valid.length; i += 500) {
            await repo.insertSchools(trx, valid.slice(i, i + 500));
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
