import request from 'supertest';
import type { TestApp } from './app';
import { attachReadyVideo, createEntry, schoolWithToken } from './factories';

/**
 * A closed round, scored through the API as judges would: entries submitted by schools and
 * forwarded by their county, every judge (unaffiliated) scoring every entry with the total
 * `totals(entryIndex, judgeIndex)` spread over the default rubric (50/25/15/10).
 */
export interface ScoredRound {
  roundId: string;
  admin: string;
  entries: Array<{ id: string; code: string; countyId: string | null; schoolId: string; schoolToken: string; title: string }>;
  judges: Array<{ id: string; username: string; token: string; displayName: string }>;
}

const MAX = { singing: 50, artistry: 25, spirit: 15, costume: 10 } as const;

export function split(total: number): Record<string, number> {
  const v = {
    singing: Math.min(50, Math.floor(total / 2)),
    artistry: Math.min(25, Math.floor(total / 4)),
    spirit: Math.min(15, Math.floor(total * 0.15)),
    costume: 0,
  };
  v.costume = total - v.singing - v.artistry - v.spirit;
  for (const k of ['singing', 'artistry', 'spirit'] as const) {
    while (v.costume > MAX.costume && v[k] < MAX[k]) {
      v[k]++;
      v.costume--;
    }
  }
  return v;
}

export async function scoredRound(
  t: TestApp,
  opts: { counties: Array<string | null>; judges: number; totals: (entry: number, judge: number) => number; name?: string },
): Promise<ScoredRound> {
  const admin = await t.token('admin');
  const auth = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
    put: (url: string, body?: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
  });
  const periodId = (await t.container.campaign.listPeriods())[0].id;
  const entries: ScoredRound['entries'] = [];
  const reviewers = new Map<string, string>();
  for (const [i, countyId] of opts.counties.entries()) {
    const school = await schoolWithToken(t, countyId);
    const title = `成绩作品${i + 1}`;
    const e = await createEntry(t, school.token, { title });
    await attachReadyVideo(t, e.id);
    const submitted = await auth(school.token).post(`/api/v1/entries/${e.id}/submit`);
    if (submitted.status !== 200) throw new Error(`submit: ${submitted.status} ${submitted.text}`);
    if (countyId) {
      if (!reviewers.has(countyId)) reviewers.set(countyId, await t.token((await t.createUser('county', { countyId })).username));
      await auth(reviewers.get(countyId)!).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
    }
    entries.push({ id: e.id, code: e.code, countyId, schoolId: school.schoolId!, schoolToken: school.token, title });
  }
  const judges: ScoredRound['judges'] = [];
  for (let j = 0; j < opts.judges; j++) {
    const displayName = `测试评委${String.fromCharCode(0x7532 + j)}`;
    const u = await t.createUser('judge', { countyId: null, displayName });
    judges.push({ id: u.id, username: u.username, token: await t.token(u.username), displayName });
  }
  const round = await auth(admin)
    .post('/api/v1/rounds', { name: opts.name ?? '市级评审', periodId, judgesPerEntry: opts.judges, blind: false, aggregation: 'mean' })
    .expect(201);
  const roundId = round.body.id as string;
  await auth(admin)
    .post(`/api/v1/rounds/${roundId}/entries`, { entryIds: entries.map((e) => e.id) })
    .expect(200);
  await auth(admin)
    .post(`/api/v1/rounds/${roundId}/judges`, { userIds: judges.map((j) => j.id) })
    .expect(200);
  await auth(admin).post(`/api/v1/rounds/${roundId}/assign`).expect(200);
  await auth(admin).post(`/api/v1/rounds/${roundId}/open`).expect(200);
  for (const [j, judge] of judges.entries()) {
    const queue = (await auth(judge.token).get('/api/v1/judging/assignments').expect(200)).body as Array<{ id: string; entry: { code: string } }>;
    for (const a of queue) {
      const i = entries.findIndex((e) => e.code === a.entry.code);
      if (i < 0) throw new Error(`unknown entry ${a.entry.code}`);
      await auth(judge.token)
        .put(`/api/v1/judging/assignments/${a.id}`, { scores: split(opts.totals(i, j)), comment: `评语${i + 1}-${j + 1}`, submit: true })
        .expect(200);
    }
  }
  await auth(admin).post(`/api/v1/rounds/${roundId}/close`).expect(200);
  return { roundId, admin, entries, judges };
}
