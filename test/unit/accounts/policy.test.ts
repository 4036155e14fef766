import type { CurrentUser, Role } from '../../../src/accounts/account.types';
import { assertArea, assertManageSchool, canManageAccount, canUse, schoolScope } from '../../../src/accounts/policy';

/** The one authorization policy, without HTTP: who may use which area, and whose objects. */
const user = (role: Role, o: Partial<CurrentUser> = {}): CurrentUser => ({
  id: `u-${role}`,
  username: role,
  displayName: role,
  role,
  countyId: null,
  schoolId: null,
  ...o,
});
const lishiCounty = user('county', { countyId: 'c-lishi' });

describe('policy', () => {
  test.each([
    ['campaign', ['school', 'county', 'judge', 'admin', 'tv']],
    ['periods', ['admin']],
    ['schools', ['county', 'admin']],
    ['schoolImport', ['admin']],
    ['accounts', ['county', 'admin']],
  ] as const)('when the area is %s, then only %j may use it', (area, allowed) => {
    for (const role of ['school', 'county', 'judge', 'admin', 'tv'] as Role[]) {
      expect({ role, ok: canUse(user(role), area) }).toEqual({ role, ok: (allowed as readonly Role[]).includes(role) });
    }
  });

  test('when nobody is signed in, then the area gate answers 401; a wrong role 403', () => {
    expect(() => assertArea(null, 'campaign')).toThrow(expect.objectContaining({ status: 401, code: 'unauthenticated' }));
    expect(() => assertArea(user('school'), 'schools')).toThrow(expect.objectContaining({ status: 403, code: 'forbidden' }));
  });

  test("when a county reviewer looks at another county's school, a 市直 school or none, then 404, like a missing one", () => {
    expect(() => assertManageSchool(lishiCounty, { countyId: 'c-lishi' })).not.toThrow();
    for (const school of [{ countyId: 'c-xiaoyi' }, { countyId: null }, undefined]) {
      expect(() => assertManageSchool(lishiCounty, school)).toThrow(expect.objectContaining({ status: 404, code: 'not_found' }));
    }
    expect(schoolScope(user('admin'))).toBe('all');
    expect(schoolScope(user('county'))).toBeNull(); // a county account without a county manages nothing
  });

  test('when a county reviewer manages accounts, then only school accounts of its own county', () => {
    expect(canManageAccount(lishiCounty, { role: 'school', countyId: 'c-lishi', schoolId: 's1' })).toBe(true);
    expect(canManageAccount(lishiCounty, { role: 'school', countyId: 'c-xiaoyi', schoolId: 's2' })).toBe(false);
    expect(canManageAccount(lishiCounty, { role: 'school', countyId: null, schoolId: 's3' })).toBe(false);
    for (const role of ['county', 'judge', 'admin', 'tv'] as Role[])
      expect(canManageAccount(lishiCounty, { role, countyId: 'c-lishi', schoolId: null })).toBe(false);
    expect(canManageAccount(user('admin'), { role: 'admin', countyId: null, schoolId: null })).toBe(true);
    expect(canManageAccount(user('judge'), { role: 'school', countyId: 'c-lishi', schoolId: 's1' })).toBe(false);
  });
});
