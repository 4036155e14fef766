import fs from 'node:fs';
import path from 'node:path';
import { ROLES, type CurrentUser, type Role } from '../../../src/accounts/account.types';
import { GROUPED_ROLES, navFor, type NavEntry, type NavLink } from '../../../src/web/navigation';

/**
 * The top menu per role: the city's and the counties' menus are grouped (one row at 1280 px), the
 * others flat. Every page a role had in the flat menu is still there, exactly once.
 */
function user(role: Role): CurrentUser {
  return { id: 'u1', username: 'u', displayName: '某人', role, countyId: null, schoolId: null };
}

const links = (nav: NavEntry[]): NavLink[] => nav.flatMap((e) => (e.kind === 'group' ? e.links : [e]));
const shape = (nav: NavEntry[]) => nav.map((e) => (e.kind === 'group' ? `${e.label}(${e.links.map((l) => l.label).join(' ')})` : e.label));

/** The pages each role had in the flat menu before it was grouped. */
const PAGES: Record<Role, string[]> = {
  admin: [
    '/',
    '/entries',
    '/review',
    '/stats',
    '/learning/coverage',
    '/broadcast',
    '/newmedia',
    '/campaign',
    '/campaigns',
    '/org/counties',
    '/org/schools',
    '/accounts',
    '/rounds',
    '/objections',
    '/reports',
    '/audit',
    '/notifications',
    '/consent/settings',
  ],
  county: ['/', '/entries', '/review', '/stats', '/learning/coverage', '/certificates', '/campaign', '/org/schools', '/accounts', '/reports', '/notifications'],
  school: ['/', '/entries', '/learning', '/certificates', '/campaign', '/feedback', '/notifications', '/my-data'],
  judge: ['/', '/campaign', '/judging', '/notifications'],
  tv: ['/', '/broadcast', '/campaign', '/notifications'],
  supervisor: ['/', '/supervision', '/objections', '/reports', '/notifications'],
  newmedia: ['/', '/newmedia', '/notifications'],
};

test('when nobody is signed in, then there is no menu', () => {
  expect(navFor(null, '/')).toEqual([]);
});

test.each(ROLES.map((r) => [r]))('when %s signs in, then every page of the role is in the menu exactly once', (role) => {
  const hrefs = links(navFor(user(role), '/')).map((l) => l.href);
  expect([...hrefs].sort()).toEqual([...PAGES[role]].sort());
});

test.each(GROUPED_ROLES.map((r) => [r]))('when %s signs in, then the menu has groups, none of one item, and 首页 and 消息 stand outside them', (role) => {
  const nav = navFor(user(role), '/');
  const groups = nav.filter((e) => e.kind === 'group');
  expect(groups.length).toBeGreaterThan(1);
  for (const g of groups) expect(g.links.length).toBeGreaterThan(1);
  expect(nav[0]).toMatchObject({ kind: 'link', href: '/' });
  expect(nav[nav.length - 1]).toMatchObject({ kind: 'link', href: '/notifications' });
  // Few enough top-level entries for one row beside the campaign switcher.
  expect(nav.length).toBeLessThanOrEqual(7);
});

test('when the city or a county signs in, then the groups are these', () => {
  expect(shape(navFor(user('admin'), '/'))).toEqual([
    '首页',
    '报送(作品 审核与报送 统计 人人会唱)',
    '评审(评审轮次 公示异议 成绩单)',
    '展播(电视台展播 新媒体展播)',
    '组织(县区 学校 账号)',
    '设置(活动管理 活动与报送期 授权书要求 操作日志)',
    '消息',
  ]);
  // 设置 would hold only 活动与报送期 for a county: it stands as a plain link.
  expect(shape(navFor(user('county'), '/'))).toEqual([
    '首页',
    '报送(作品 审核与报送 统计 人人会唱)',
    '评审(成绩单 获奖证书)',
    '组织(学校 账号)',
    '活动与报送期',
    '消息',
  ]);
});

test.each(ROLES.filter((r) => !GROUPED_ROLES.includes(r)).map((r) => [r]))('when %s signs in, then the menu stays flat', (role) => {
  const nav = navFor(user(role), '/');
  expect(nav.every((e) => e.kind === 'link')).toBe(true);
  expect(nav.length).toBeLessThanOrEqual(8);
});

test('when the city is on a page inside a group, then that link and its group are active, nothing else', () => {
  const nav = navFor(user('admin'), '/rounds/r1/entries');
  const active = links(nav).filter((l) => l.active);
  expect(active.map((l) => l.href)).toEqual(['/rounds']);
  expect(nav.filter((e) => e.kind === 'group' && e.active).map((e) => e.label)).toEqual(['评审']);
  // /campaigns is not /campaign, and 首页 is active on / only.
  expect(
    links(navFor(user('admin'), '/campaigns'))
      .filter((l) => l.active)
      .map((l) => l.href),
  ).toEqual(['/campaigns']);
  expect(
    links(navFor(user('admin'), '/'))
      .filter((l) => l.active)
      .map((l) => l.href),
  ).toEqual(['/']);
  expect(navFor(user('admin'), '/').some((e) => e.kind === 'group' && e.active)).toBe(false);
});

test.each(ROLES.map((r) => [r]))('when %s has unread messages, then 消息 shows the count at the top level', (role) => {
  const nav = navFor(user(role), '/', 3);
  expect(nav.find((e) => e.kind === 'link' && e.href === '/notifications')).toMatchObject({ badge: '3' });
  expect(links(nav).filter((l) => l.badge !== null)).toHaveLength(1);
  expect(navFor(user(role), '/', 120).find((e) => e.kind === 'link' && e.href === '/notifications')).toMatchObject({ badge: '99+' });
  expect(links(navFor(user(role), '/', 0)).every((l) => l.badge === null)).toBe(true);
});

test("when the README's menu table is read, then it lists each role's menu exactly as the code builds it", () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const header = '| menu item | path | group (city, county) |';
  const lines = readme.slice(readme.indexOf(header)).split('\n');
  const columns = lines[0].split('|').map((c) => c.trim());
  const rows = lines
    .slice(2)
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').map((c) => c.trim()));
  expect(rows.length).toBeGreaterThan(10);
  for (const role of ROLES) {
    const column = columns.indexOf(role);
    expect(column).toBeGreaterThan(0);
    const documented = rows.filter((r) => r[column] === '✓').map((r) => `${r[1]} ${r[2].replace(/`/g, '')} ${r[3]}`);
    const built = navFor(user(role), '/x').flatMap((e) =>
      e.kind === 'group' ? e.links.map((l) => `${l.label} ${l.href} ${e.label}`) : [`${e.label} ${e.href} ${groupInMenus(e.href)}`],
    );
    expect({ role, items: [...documented].sort() }).toEqual({ role, items: [...built].sort() });
  }
});

/** The group a flat link has in the grouped menus ('' when none): the README's column is one for all roles. */
function groupInMenus(href: string): string {
  for (const role of GROUPED_ROLES) for (const e of navFor(user(role), '/x')) if (e.kind === 'group' && e.links.some((l) => l.href === href)) return e.label;
  return '';
}
