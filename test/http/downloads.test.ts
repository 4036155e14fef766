import { sql } from 'kysely';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { downloadBinary, readXlsx } from '../support/xlsx';

/**
 * Issue 13 item 10: a refused or failed export is an ordinary error answer, never a download. The
 * attachment headers come from one helper (src/web/download.ts) and only once bytes follow.
 */
describe('exports: refusals are not offered as downloads', () => {
  let t: TestApp;
  let admin: string;
  let roundId: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.token('admin');
    roundId = (
      await request(t.app)
        .post('/api/v1/rounds')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: '下载检查', judgesPerEntry: 1, blind: true, aggregation: 'mean' })
        .expect(201)
    ).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const refusedPlainly = (res: request.Response, status: number) => {
    expect({ status: res.status, disposition: res.headers['content-disposition'] }).toEqual({ status, disposition: undefined });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.status).toBe(status);
  };

  test.each(['ranking.xlsx', 'scores.xlsx'])('when a county reviewer asks for a round’s %s, then the answer is a plain 403, not a file', async (file) => {
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    const res = await request(t.app)
      .get(`/api/v1/rounds/${roundId}/${file}`)
      .set('Authorization', `Bearer ${await t.token(county.username)}`);
    refusedPlainly(res, 403);
  });

  test.each(['ranking.xlsx', 'scores.xlsx'])('when an admin asks for %s of a round that does not exist, then the answer is a plain 404', async (file) => {
    const res = await request(t.app).get(`/api/v1/rounds/no-such-round/${file}`).set('Authorization', `Bearer ${admin}`);
    refusedPlainly(res, 404);
    expect(res.body.detail).toBe('评审轮次不存在。');
  });

  test('when a school asks for the forwarded-entries export, then the answer is a plain 403', async () => {
    const school = await t.createSchool();
    const user = await t.createUser('school', { schoolId: school.id });
    const res = await request(t.app)
      .get('/api/v1/exports/forwarded.xlsx')
      .set('Authorization', `Bearer ${await t.token(user.username)}`);
    refusedPlainly(res, 403);
  });

  test('when a judge asks for the programme sheet, then the answer is a plain 403', async () => {
    const judge = await t.createUser('judge');
    const res = await request(t.app)
      .get('/api/v1/broadcast/programme-sheet.xlsx')
      .set('Authorization', `Bearer ${await t.token(judge.username)}`);
    refusedPlainly(res, 403);
  });

  test('when the export is allowed, then it arrives as the named attachment and opens as a workbook', async () => {
    const res = await downloadBinary(request(t.app).get(`/api/v1/rounds/${roundId}/ranking.xlsx`).set('Authorization', `Bearer ${admin}`)).expect(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="ranking.xlsx"; filename*=UTF-8''${encodeURIComponent('评审排名.xlsx')}`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const rows = await readXlsx(res.body as Buffer);
    expect(rows[0]).toContain('名次');
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    const fwd = await downloadBinary(
      request(t.app)
        .get('/api/v1/exports/forwarded.xlsx')
        .set('Authorization', `Bearer ${await t.token(county.username)}`),
    ).expect(200);
    expect(fwd.headers['content-disposition']).toBe(`attachment; filename="forwarded.xlsx"; filename*=UTF-8''${encodeURIComponent('报送作品清单.xlsx')}`);
    expect((await readXlsx(fwd.body as Buffer))[0]).toContain('编号');
  });

  test('when the database fails while an export is being prepared, then the answer is a plain error, not a broken file', async () => {
    const db = t.container.database.db;
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    const countyToken = await t.token(county.username);
    await sql`ALTER TABLE videos RENAME TO videos_away`.execute(db); // the forwarded list joins videos
    await sql`ALTER TABLE assignments RENAME TO assignments_away`.execute(db); // the ranking reads scores
    try {
      for (const [url, token] of [
        ['/api/v1/exports/forwarded.xlsx', countyToken],
        [`/api/v1/rounds/${roundId}/scores.xlsx`, admin],
      ] as const) {
        const res = await request(t.app).get(url).set('Authorization', `Bearer ${token}`);
        expect({ url, status: res.status >= 500, disposition: res.headers['content-disposition'] }).toEqual({ url, status: true, disposition: undefined });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    } finally {
      await sql`ALTER TABLE videos_away RENAME TO videos`.execute(db);
      await sql`ALTER TABLE assignments_away RENAME TO assignments`.execute(db);
    }
  });
});
