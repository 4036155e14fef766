import type { CurrentUser } from '../accounts/account.types';
import { assertArea, assertManageSchool, schoolScope } from '../accounts/policy';
import { levelExists } from '../campaign/campaign.repository';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { isUniqueViolation } from '../platform/db/errors';
import { forbidden, notFound, validationFailed, type FieldError } from '../platform/errors';
import { parse, parsePartial, type Page, type PageQuery } from '../platform/validate';
import { schoolInput } from './org.contract';
import type { County, School } from './org.types';
import * as repo from './school.repository';
import { COUNTY_NOT_FOUND } from './org.messages';

export interface SchoolInput {
  name: string;
  countyId: string | null;
  level: string | null;
}

export const duplicateSchool = (name: string) => validationFailed([{ field: 'name', message: `该县区已有名为「${name}」的学校` }]);

export function createSchoolService(db: Db) {
  async function validateRefs(input: { countyId?: string | null; level?: string | null }): Promise<void> {
    const errors: FieldError[] = [];
    if (input.countyId && !(await repo.findCounty(db, input.countyId))) errors.push({ field: 'countyId', message: COUNTY_NOT_FOUND });
    if (input.level && !(await levelExists(db, input.level))) {
      errors.push({ field: 'level', message: '学段不存在' });
    }
    if (errors.length) throw validationFailed(errors);
  }

  return {
    async listCounties(actor: CurrentUser): Promise<County[]> {
      assertArea(actor, 'counties');
      return repo.listCounties(db);
    },

    /** The city's overview: every county with its number of schools, and the 市直 schools. */
    async countyOverview(actor: CurrentUser) {
      assertArea(actor, 'countyOverview', '只有市教育局可以查看全部县区。');
      const [counties, cityDirect] = await Promise.all([repo.listCountiesWithSchoolCounts(db), repo.countCityDirectSchools(db)]);
      return { counties, cityDirect };
    },

    async list(actor: CurrentUser, filter: repo.SchoolFilter, page: PageQuery): Promise<Page<School>> {
      assertArea(actor, 'schools');
      const scope = schoolScope(actor);
      const effective = scope === 'all' ? filter : { ...filter, countyId: scope!.countyId };
      return repo.listSchools(db, effective, page);
    },

    async get(actor: CurrentUser, id: string): Promise<School> {
      assertArea(actor, 'schools');
      const school = await repo.findSchool(db, id);
      assertManageSchool(actor, school);
      return school!;
    },

    async create(actor: CurrentUser, body: unknown): Promise<School> {
      assertArea(actor, 'schools');
      const input = parse(schoolInput, body);
      if (actor.role === 'county') {
        // A county reviewer creates schools in its own county only.
        if (input.countyId && input.countyId !== actor.countyId) throw forbidden('只能在本县区内新建学校。');
        input.countyId = actor.countyId;
      }
      await validateRefs(input);
      try {
        const id = await db.transaction().execute(async (trx) => {
          const newId = await repo.insertSchool(trx, { name: input.name, county_id: input.countyId, level: input.level });
          await recordAudit(trx, {
            actor,
            action: 'school.create',
            objectType: 'school',
            objectId: newId,
            detail: { name: input.name, countyId: input.countyId },
          });
          return newId;
        });
        return (await repo.findSchool(db, id))!;
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateSchool(input.name);
        throw err;
      }
    },

    async update(actor: CurrentUser, id: string, body: unknown): Promise<School> {
      assertArea(actor, 'schools');
      const school = await repo.findSchool(db, id);
      assertManageSchool(actor, school);
      const patch = parsePartial(schoolInput, body);
      if (actor.role === 'county' && 'countyId' in patch && patch.countyId !== actor.countyId) {
        throw forbidden('不能把学校移出本县区。');
      }
      await validateRefs(patch);
      try {
        await db.transaction().execute(async (trx) => {
          await repo.updateSchool(trx, id, {
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.countyId !== undefined && { county_id: patch.countyId }),
            ...(patch.level !== undefined && { level: patch.level }),
          });
          await recordAudit(trx, { actor, action: 'school.update', objectType: 'school', objectId: id, detail: patch });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateSchool(patch.name ?? school!.name);
        throw err;
      }
      return (await repo.findSchool(db, id)) ?? Promise.reject(notFound());
    },
  };
}

export type SchoolService = ReturnType<typeof createSchoolService>;
