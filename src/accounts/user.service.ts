import type { Db } from '../platform/db/database';
import { recordAudit } from '../platform/audit';
import { isUniqueViolation } from '../platform/db/errors';
import { forbidden, notFound, validationFailed } from '../platform/errors';
import { parse, parsePartial, type Page, type PageQuery } from '../platform/validate';
import { passwordChangeInput, userCreateInput, userUpdateInput } from './account.contract';
import { findCounty, findSchool } from '../org/school.repository';
import type { CurrentUser, Role, UserView } from './account.types';
import { hashPassword, verifyPassword } from './password';
import { accountScope, assertArea, canManageAccount, creatableRoles, type AccountTarget } from './policy';
import * as repo from './user.repository';
import type { SessionService } from './session.service';
import { COUNTY_NOT_FOUND, SCHOOL_NOT_FOUND } from '../org/org.messages';

export function createUserService(db: Db, deps: { scryptLogN: number; sessions: SessionService }) {
  /** Resolves what an account belongs to, checking the references exist and fit the role. */
  async function resolveTarget(input: { role: Role; countyId: string | null; schoolId: string | null }): Promise<AccountTarget> {
    if (input.role === 'school') {
      if (!input.schoolId) throw validationFailed([{ field: 'schoolId', message: '学校账号必须选择所属学校' }]);
      const school = await findSchool(db, input.schoolId);
      if (!school) throw validationFailed([{ field: 'schoolId', message: SCHOOL_NOT_FOUND }]);
      return { role: 'school', countyId: school.countyId, schoolId: school.id };
    }
    if (input.role === 'county') {
      if (!input.countyId) throw validationFailed([{ field: 'countyId', message: '县级账号必须选择所属县区' }]);
      const county = await findCounty(db, input.countyId);
      if (!county) throw validationFailed([{ field: 'countyId', message: COUNTY_NOT_FOUND }]);
      return { role: 'county', countyId: county.id, schoolId: null };
    }
    if (input.role === 'judge') {
      // A judge's own county/school are kept so assignment can avoid hard conflicts.
      const school = input.schoolId ? await findSchool(db, input.schoolId) : undefined;
      if (input.schoolId && !school) throw validationFailed([{ field: 'schoolId', message: SCHOOL_NOT_FOUND }]);
      const countyId = school ? school.countyId : input.countyId;
      if (countyId && !(await findCounty(db, countyId))) {
        throw validationFailed([{ field: 'countyId', message: COUNTY_NOT_FOUND }]);
      }
      return { role: 'judge', countyId: countyId ?? null, schoolId: school?.id ?? null };
    }
    return { role: input.role, countyId: null, schoolId: null };
  }

  async function loadManaged(actor: CurrentUser, id: string) {
    const target = await repo.findUserView(db, id);
    if (!target || !canManageAccount(actor, { role: target.role, countyId: target.countyId ?? target.schoolCountyId, schoolId: target.schoolId })) {
      throw notFound('账号不存在，或不在您的管辖范围内。');
    }
    return target;
  }

  return {
    /** The roles the actor may create accounts for (the new-account form; 403 for those who may create none). */
    async creatableRoles(actor: CurrentUser): Promise<readonly Role[]> {
      assertArea(actor, 'accounts');
      return creatableRoles(actor);
    },

    async list(actor: CurrentUser, filter: repo.UserFilter, page: PageQuery): Promise<Page<UserView>> {
      assertArea(actor, 'accounts');
      const scope = accountScope(actor);
      return repo.listUserViews(db, scope === 'all' ? filter : { ...filter, schoolCountyId: scope!.schoolCountyId }, page);
    },

    async get(actor: CurrentUser, id: string): Promise<UserView> {
      assertArea(actor, 'accounts');
      return loadManaged(actor, id);
    },

    async create(actor: CurrentUser, body: unknown): Promise<UserView> {
      assertArea(actor, 'accounts');
      const input = parse(userCreateInput, body);
      const target = await resolveTarget(input);
      if (!canManageAccount(actor, target)) {
        throw actor.role === 'county' && target.role !== 'school'
          ? forbidden('县级账号只能为本县区的学校创建账号。')
          : // Another county's school gets the same answer as one that does not exist (docs/architecture.md §9).
            validationFailed([{ field: 'schoolId', message: SCHOOL_NOT_FOUND }]);
      }
      const passwordHash = await hashPassword(input.password, deps.scryptLogN);
      try {
        const id = await db.transaction().execute(async (trx) => {
          const newId = await repo.insertUser(trx, {
            username: input.username,
            display_name: input.displayName,
            role: target.role,
            county_id: target.role === 'school' ? null : target.countyId,
            school_id: target.schoolId,
            password_hash: passwordHash,
            must_change_password: true,
          });
          await recordAudit(trx, {
            actor,
            action: 'user.create',
            objectType: 'user',
            objectId: newId,
            detail: { username: input.username, role: target.role },
          });
          return newId;
        });
        return (await repo.findUserView(db, id))!;
      } catch (err) {
        if (isUniqueViolation(err)) throw validationFailed([{ field: 'username', message: `用户名「${input.username}」已被使用` }]);
        throw err;
      }
    },

    /** Edit a display name, disable/enable, or reset the password (which ends the account's sessions). */
    async update(actor: CurrentUser, id: string, body: unknown): Promise<UserView> {
      assertArea(actor, 'accounts');
      const target = await loadManaged(actor, id);
      const patch = parsePartial(userUpdateInput, body);
      if (patch.disabled && target.id === actor.id) throw validationFailed([{ field: 'disabled', message: '不能停用自己的账号' }]);
      const passwordHash = patch.password ? await hashPassword(patch.password, deps.scryptLogN) : undefined;
      await db.transaction().execute(async (trx) => {
        await repo.updateUser(trx, id, {
          ...(patch.displayName !== undefined && { display_name: patch.displayName }),
          ...(patch.disabled !== undefined && { disabled_at: patch.disabled ? new Date() : null }),
          ...(passwordHash && { password_hash: passwordHash, must_change_password: actor.id !== id }),
        });
        const action =
          patch.disabled === true
            ? 'user.disable'
            : patch.disabled === false && target.disabled
              ? 'user.enable'
              : passwordHash
                ? 'user.password_reset'
                : 'user.update';
        await recordAudit(trx, { actor, action, objectType: 'user', objectId: id, detail: { displayName: patch.displayName } });
      });
      if (patch.disabled || passwordHash) await deps.sessions.destroyAllFor(id);
      return (await repo.findUserView(db, id))!;
    },

    /**
     * Change one's own password: the current one proves it is the owner; the new one must differ.
     * Clears the must-change flag; every session of the account ends (the caller signs this one in again).
     */
    async changeOwnPassword(actor: CurrentUser, body: unknown): Promise<void> {
      const input = parse(passwordChangeInput, body);
      const row = await repo.findUserById(db, actor.id);
      if (!row || !(await verifyPassword(input.currentPassword, row.password_hash)))
        throw validationFailed([{ field: 'currentPassword', message: '当前密码不正确' }]);
      if (input.newPassword.normalize('NFKC') === input.currentPassword.normalize('NFKC'))
        throw validationFailed([{ field: 'newPassword', message: '新密码不能与当前密码相同' }]);
      const passwordHash = await hashPassword(input.newPassword, deps.scryptLogN);
      await db.transaction().execute(async (trx) => {
        await repo.updateUser(trx, actor.id, { password_hash: passwordHash, must_change_password: false });
        await recordAudit(trx, { actor, action: 'user.password_change', objectType: 'user', objectId: actor.id });
      });
      await deps.sessions.destroyAllFor(actor.id);
    },

    /** First start on an empty database: the `admin` account. */
    async ensureFirstAdmin(password: string): Promise<boolean> {
      if ((await repo.countUsers(db)) > 0) return false;
      await repo.insertUser(db, {
        username: 'admin',
        display_name: '市教育局管理员',
        role: 'admin',
        county_id: null,
        school_id: null,
        password_hash: await hashPassword(password, deps.scryptLogN),
      });
      return true;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
