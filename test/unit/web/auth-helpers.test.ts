import { safeNext } from '../../../src/web/navigation';
import { tokensMatch } from '../../../src/web/auth.middleware';
import { pageLinks, fromLocalInput, toLocalInput } from '../../../src/web/view-helpers';

describe('after login, only same-site paths are followed', () => {
  test.each([
    ['/org/schools?countyId=c-lishi', '/org/schools?countyId=c-lishi'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/login?next=/x', '/'],
    ['/a b', '/'],
    [undefined, '/'],
    [['/a'], '/'],
  ])('when next is %j, then the redirect goes to %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});

describe('CSRF token comparison', () => {
  test('when tokens are missing, differ or differ in length, then they do not match', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abc', 'abd')).toBe(false);
    expect(tokensMatch('abc', 'abcd')).toBe(false);
    expect(tokensMatch(undefined, 'abc')).toBe(false);
    expect(tokensMatch('', '')).toBe(false);
    expect(tokensMatch(null, null)).toBe(false);
  });
});

describe('view helpers', () => {
  test('when a datetime-local value is read, then it is Beijing time, and written back the same', () => {
    expect(fromLocalInput('2031-05-25T18:00')).toBe('2031-05-25T18:00:00+08:00');
    expect(toLocalInput(new Date('2031-05-25T10:00:00Z'))).toBe('2031-05-25T18:00');
    expect(fromLocalInput('tomorrow')).toBe('tomorrow'); // left for the validator to refuse
  });

  test('when a list has many pages, then links keep the filters, drop msg and show at most 7 pages', () => {
    const p = pageLinks('/org/schools', { countyId: 'c-lishi', msg: 'school_created', page: '5', q: ['x', 'y'] }, 5, 10, 200);
    expect(p.pages).toBe(20);
    expect(p.links.map((l) => l.page)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(p.prev).toBe('/org/schools?countyId=c-lishi&page=4');
    expect(p.next).toBe('/org/schools?countyId=c-lishi&page=6');
    expect(pageLinks('/accounts', {}, 1, 50, 0)).toMatchObject({ pages: 1, show: false, prev: null, next: null });
  });
});
