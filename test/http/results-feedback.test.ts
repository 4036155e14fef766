/**
 * Issue 18, items 4–5: fairness flags on the awards preview, and feedback to schools (criterion
 * means and comments as 评委A/B/…, never a name) once the 公示 has begun in a round that allows it.
 *
 * Four entries, four judges: judges 1–3 give E1 90, E2 80, E3 70, E4 60 (judge 2 and 3 ±2);
 * judge 4 gives 50 to everything — far below the panel (偏严) and near-constant (分数集中), and
 * E1's totals (92…50) are more than 20 points apart (评委分歧大).
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { scoredRound, split, type ScoredRound } from '../support/results';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('fairness flags before awards, and feedback to schools', () => {
  let t: TestApp;
  let r: ScoredRound;
  const TOTALS = (e: number, j: number) => (j === 3 ? 50 : [90, 80, 70, 60][e] + [0, 2, -2][j]);

  beforeAll(async () => {
    t = await createTestApp();
    r = await scoredRound(t, { counties: ['c-lishi', 'c-lishi', 'c-fenyang', null], judges: 4, totals: TOTALS });
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  test('when the admin previews awards, then the entries judges disagree on and the harsh, near-constant judge are flagged (API and page)', async () => {
    const tiers = [
      { award: 'first', count: 1 },
      { award: 'second', count: 1 },
    ];
    const res = await request(t.app).post(`/api/v1/rounds/${r.roundId}/awards/preview`).set('Authorization', `Bearer ${r.admin}`).send({ tiers }).expect(200);
    const f = res.body.fairness;
    expect(f.spreadThreshold).toBe(20);
    // E1: 92 − 50 = 42; E2: 82 − 50 = 32; E3: 22; E4: 62 − 50 = 12 (not flagged).
    expect(f.entries.map((e: Json) => [e.code, e.spread])).toEqual([
      [r.entries[0].code, 42],
      [r.entries[1].code, 32],
      [r.entries[2].code, 22],
    ]);
    expect(f.judges).toEqual([{ judgeId: r.judges[3].id, name: r.judges[3].displayName, mean: 50, sd: 0, count: 4, flags: ['harsh', 'narrow'] }]);
    expect(f.panelMean).toBeCloseTo((75 + 75.5 + 74.5 + 50) / 4, 9);

    const { agent, csrf } = await t.browser('admin');
    const page = await agent
      .post(`/rounds/${r.roundId}/awards/preview`)
      .type('form')
      .send({ _csrf: csrf, first: '1', second: '1', third: '0', excellence: '0' })
      .expect(200);
    expect(page.text).toContain('公平性提示');
    expect(page.text).toContain('评委分歧大');
    expect(page.text).toContain(`${r.judges[3].displayName}：平均 50.00 分`);
    expect(page.text).toContain('偏严');
    expect(page.text).toContain('分数集中');
  });

  test('when feedback is off or the 公示 has not begun, then the school sees none; once on and begun, criterion means and 评委A–D comments, no judge name', async () => {
    const school = r.entries[0].schoolToken;
    await request(t.app)
      .post(`/api/v1/rounds/${r.roundId}/awards`)
      .set('Authorization', `Bearer ${r.admin}`)
      .send({ tiers: [{ award: 'first', count: 2 }] })
      .expect(200);
    const future = { publicityFrom: new Date(Date.now() + 86400_000).toISOString(), publicityTo: new Date(Date.now() + 8 * 86400_000).toISOString() };
    await request(t.app)
      .post(`/api/v1/rounds/${r.roundId}/publish`)
      .set('Authorization', `Bearer ${r.admin}`)
      .send({ ...future, feedbackEnabled: true })
      .expect(200);
    expect((await request(t.app).get('/api/v1/feedback').set('Authorization', `Bearer ${school}`).expect(200)).body).toEqual([]);

    const begun = { publicityFrom: new Date(Date.now() - 60_000).toISOString(), publicityTo: new Date(Date.now() + 7 * 86400_000).toISOString() };
    await request(t.app)
      .post(`/api/v1/rounds/${r.roundId}/publish`)
      .set('Authorization', `Bearer ${r.admin}`)
      .send({ ...begun, feedbackEnabled: false })
      .expect(200);
    expect((await request(t.app).get('/api/v1/feedback').set('Authorization', `Bearer ${school}`).expect(200)).body).toEqual([]);

    await request(t.app).post(`/api/v1/rounds/${r.roundId}/publish`).set('Authorization', `Bearer ${r.admin}`).send({ feedbackEnabled: true }).expect(200);
    const res = await request(t.app).get(`/api/v1/entries/${r.entries[0].id}/feedback`).set('Authorization', `Bearer ${school}`).expect(200);
    expect(res.body).toHaveLength(1);
    const fb = res.body[0];
    // E1's four totals 90, 92, 88, 50, split over the rubric as the judges entered them.
    const given = [0, 1, 2, 3].map((j) => split(TOTALS(0, j)));
    const mean = (k: string) => (given.reduce((s, g) => s + g[k], 0) / 4).toFixed(2);
    expect(fb).toMatchObject({ code: r.entries[0].code, scoreCount: 4, totalMean: '80.00' });
    expect(fb.criteria.map((c: Json) => [c.key, c.mean])).toEqual(['singing', 'artistry', 'spirit', 'costume'].map((k) => [k, mean(k)]));
    expect(fb.comments.map((c: Json) => c.judge)).toEqual(['评委A', '评委B', '评委C', '评委D']);
    expect(fb.comments.map((c: Json) => c.comment).sort()).toEqual(['评语1-1', '评语1-2', '评语1-3', '评语1-4']);
    for (const j of r.judges) {
      expect(res.text).not.toContain(j.displayName);
      expect(res.text).not.toContain(j.id);
      expect(res.text).not.toContain(j.username);
    }

    // Another school's entry, and roles other than school.
    await request(t.app).get(`/api/v1/entries/${r.entries[2].id}/feedback`).set('Authorization', `Bearer ${school}`).expect(404);
    await request(t.app).get('/api/v1/feedback').set('Authorization', `Bearer ${r.admin}`).expect(403);
    await request(t.app).get('/api/v1/feedback').expect(401);

    const html = await request(t.app).get('/feedback').set('Authorization', `Bearer ${school}`).expect(200);
    expect(html.text).toContain('评委A');
    expect(html.text).toContain('演唱水平');
    for (const j of r.judges) expect(html.text).not.toContain(j.displayName);
  });
});
