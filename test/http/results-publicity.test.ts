/**
 * Issue 18, items 1–3: 公示 with a period and objections, frozen results with numbered revisions,
 * re-confirmed awards, and who may read objections (city and 监督 only).
 *
 * One closed round of four entries (离石区 ×2, 汾阳市, 市直), three judges scoring everything
 * (plain mean): E1 90, E2 80, E3 70, E4 60. Tests run in order and share the state.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { scoredRound, type ScoredRound } from '../support/results';
import { todoItems } from '../../src/judging/judging.todo';
import { toCurrentUser } from '../../src/accounts/user.repository';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const PHONE = '13912345678';

describe('公示 with objections, frozen results and revisions', () => {
  let t: TestApp;
  let r: ScoredRound;
  let supervisor: string;
  const others: Record<string, string> = {};
  let receipt = '';
  let objectionId = '';

  const as = (token?: string) => {
    const auth = <T extends request.Test>(x: T) => (token ? x.set('Authorization', `Bearer ${token}`) : x);
    return {
      get: (url: string) => auth(request(t.app).get(url)),
      post: (url: string, body?: object) => auth(request(t.app).post(url)).send(body),
    };
  };
  const objection = (extra: Json = {}) => ({
    roundId: r.roundId,
    name: '王建国',
    phone: PHONE,
    relation: '学生家长',
    reason: '该作品演唱部分疑似使用了原唱伴唱，请复核。',
    ...extra,
  });

  beforeAll(async () => {
    t = await createTestApp();
    r = await scoredRound(t, { counties: ['c-lishi', 'c-lishi', 'c-fenyang', null], judges: 3, totals: (e, j) => [90, 80, 70, 60][e] + [0, 2, -2][j] });
    supervisor = await t.token((await t.createUser('supervisor')).username);
    others.school = r.entries[0].schoolToken;
    others.county = await t.token((await t.createUser('county', { countyId: 'c-lishi' })).username);
    others.judge = r.judges[0].token;
    others.tv = await t.token((await t.createUser('tv')).username);
    await as(r.admin)
      .post(`/api/v1/rounds/${r.roundId}/awards`, {
        tiers: [
          { award: 'first', count: 1 },
          { award: 'second', count: 1 },
          { award: 'third', count: 1 },
        ],
      })
      .expect(200);
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  test('when the city publishes with a 公示期 and a contact, then /api/v1/results shows both, a SHA-256 of the frozen results and revision 0', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 7 * 86400_000).toISOString();
    const pub = await as(r.admin)
      .post(`/api/v1/rounds/${r.roundId}/publish`, { publicityFrom: from, publicityTo: to, objectionContact: '市教育局体卫艺科 0358-8220000' })
      .expect(200);
    expect(pub.body).toMatchObject({ publicityFrom: from, publicityTo: to, objectionContact: '市教育局体卫艺科 0358-8220000' });
    const res = (await as().get('/api/v1/results').expect(200)).body[0];
    expect(res.snapshotSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(res).toMatchObject({ revision: 0, objectionCount: 0, publicity: { from, to, contact: '市教育局体卫艺科 0358-8220000', open: true } });
    expect(res.revisions).toEqual([{ revision: 0, reason: null, snapshotSha256: res.snapshotSha256, createdAt: expect.any(String) }]);
    expect(res.tiers.map((x: Json) => [x.award, x.entries.map((e: Json) => e.code)])).toEqual([
      ['first', [r.entries[0].code]],
      ['second', [r.entries[1].code]],
      ['third', [r.entries[2].code]],
    ]);
  });

  test('when the results are read again and the snapshot downloaded, then the hash is the same and is the SHA-256 of the snapshot bytes', async () => {
    const a = (await as().get('/api/v1/results').expect(200)).body[0].snapshotSha256;
    // Republishing the same results (e.g. a new contact) makes no revision.
    await as(r.admin).post(`/api/v1/rounds/${r.roundId}/publish`, { objectionContact: '市教育局 0358-8220001' }).expect(200);
    const b = (await as().get('/api/v1/results').expect(200)).body[0];
    expect(b.snapshotSha256).toBe(a);
    expect(b.revisions).toHaveLength(1);
    const snap = await as(supervisor).get(`/api/v1/rounds/${r.roundId}/revisions/0/snapshot.json`).expect(200);
    expect(createHash('sha256').update(snap.text, 'utf8').digest('hex')).toBe(a);
    expect(JSON.parse(snap.text).ranking.map((x: Json) => [x.code, x.rank, x.score])).toEqual([
      [r.entries[0].code, 1, '90.00'],
      [r.entries[1].code, 2, '80.00'],
      [r.entries[2].code, 3, '70.00'],
      [r.entries[3].code, 4, '60.00'],
    ]);
    await as().get(`/api/v1/rounds/${r.roundId}/revisions/0/snapshot.json`).expect(401);
    await as(others.school).get(`/api/v1/rounds/${r.roundId}/revisions/0/snapshot.json`).expect(403);
  });

  test('when anyone objects in the period (JSON, then with a PNG), then 201 with a receipt number; the public sees only a count', async () => {
    const res = await as()
      .post('/api/v1/objections', objection({ entryCode: r.entries[0].code }))
      .expect(201);
    expect(res.body).toEqual({ receiptNumber: expect.stringMatching(/^YY\d{8}-[2-9A-HJ-NP-Z]{6}$/), status: 'submitted' });
    receipt = res.body.receiptNumber;
    const withFile = await request(t.app)
      .post('/api/v1/objections')
      .field('roundId', r.roundId)
      .field('name', '李华')
      .field('phone', '0358-8221234')
      .field('relation', '其他学校指导教师')
      .field('reason', '获奖名单中三等奖作品超时，见截图。')
      .attach('attachment', PNG, 'shot.png')
      .expect(201);
    expect(withFile.body.receiptNumber).not.toBe(receipt);
    const pub = await as().get('/api/v1/results').expect(200);
    expect(pub.body[0].objectionCount).toBe(2);
    expect(pub.text).not.toContain(PHONE);
    expect(pub.text).not.toContain('王建国');
    const html = await request(t.app).get('/results').expect(200);
    expect(html.text).toContain('收到异议');
    expect(html.text).not.toContain(PHONE);
  });

  test('when an objection is invalid, then a Chinese 400 / 415 and nothing is stored', async () => {
    const bad = await as()
      .post('/api/v1/objections', objection({ phone: '12345', reason: '太短' }))
      .expect(400);
    expect(bad.body.errors.map((e: Json) => e.field).sort()).toEqual(['phone', 'reason']);
    expect(bad.body.detail).toContain('联系电话');
    const wrongCode = await as()
      .post('/api/v1/objections', objection({ entryCode: r.entries[3].code }))
      .expect(400);
    expect(wrongCode.body.errors[0]).toMatchObject({ field: 'entryCode' });
    const disguised = await request(t.app)
      .post('/api/v1/objections')
      .field('roundId', r.roundId)
      .field('name', '张三')
      .field('phone', PHONE)
      .field('relation', '家长')
      .field('reason', '附件是一个改了扩展名的文本文件。')
      .attach('attachment', Buffer.from('hello, not an image at all'), 'fake.png')
      .expect(415);
    expect(disguised.body.detail).toBe('附件只能是 JPG、PNG 图片或 PDF 文件。');
    const n = await t.container.db
      .selectFrom('objections')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(2);
  });

  test('when school, county, judge, tv or nobody asks for objections, then 403 / 401; the city and 监督 read them with name and phone', async () => {
    await as().get('/api/v1/objections').expect(401);
    for (const token of Object.values(others)) {
      const res = await as(token).get('/api/v1/objections').expect(403);
      expect(res.body.code).toBe('forbidden');
    }
    for (const token of [r.admin, supervisor]) {
      const res = await as(token).get('/api/v1/objections').expect(200);
      expect(res.body.total).toBe(2);
      const mine = res.body.items.find((o: Json) => o.receiptNumber === receipt);
      expect(mine).toMatchObject({ name: '王建国', phone: PHONE, relation: '学生家长', entryCode: r.entries[0].code, status: 'submitted', attachment: null });
      objectionId = mine.id;
    }
    const other = (await as(supervisor).get('/api/v1/objections').expect(200)).body.items.find((o: Json) => o.receiptNumber !== receipt);
    const file = await as(supervisor).get(other.attachment.url).buffer(true).expect(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(file.body as Buffer, PNG)).toBe(0);
    await as(others.school).get(other.attachment.url).expect(403);
  });

  test('when the city handles an objection, then 受理 → 复核 → 结论 in order, each audited; 监督 cannot change it; the to-do counts follow', async () => {
    const adminRow = await t.container.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
    const adminUser = toCurrentUser(adminRow);
    expect((await todoItems(t.container.db, adminUser, 'main')).filter((i) => i.key.startsWith('objections.'))).toEqual([
      { key: 'objections.submitted', label: '待受理的公示异议', count: 2, href: '/objections?status=submitted', tone: 'danger' },
    ]);
    const sent = await t.container.db.selectFrom('notifications').select(['kind', 'user_id']).where('kind', '=', 'objection.submitted').execute();
    expect(sent.length).toBeGreaterThanOrEqual(4); // admin and 监督, for each of the two

    const skip = await as(r.admin)
      .post(`/api/v1/objections/${objectionId}/step`, { status: 'concluded', outcome: 'rejected', note: '经复核，伴唱为现场。' })
      .expect(409);
    expect(skip.body.detail).toBe('这份异议现在是「待受理」，下一步应是「已受理」。');
    await as(supervisor).post(`/api/v1/objections/${objectionId}/step`, { status: 'accepted' }).expect(403);
    await as(r.admin).post(`/api/v1/objections/${objectionId}/step`, { status: 'accepted', note: '已电话联系异议人' }).expect(200);
    await as(r.admin).post(`/api/v1/objections/${objectionId}/step`, { status: 'reviewing' }).expect(200);
    const noReason = await as(r.admin).post(`/api/v1/objections/${objectionId}/step`, { status: 'concluded' }).expect(400);
    expect(noReason.body.errors.map((e: Json) => e.field).sort()).toEqual(['note', 'outcome']);
    const done = await as(r.admin)
      .post(`/api/v1/objections/${objectionId}/step`, { status: 'concluded', outcome: 'rejected', note: '经复核原始视频，伴唱为现场演唱，异议不成立。' })
      .expect(200);
    expect(done.body).toMatchObject({
      status: 'concluded',
      outcome: 'rejected',
      outcomeLabel: '异议不成立',
      conclusion: '经复核原始视频，伴唱为现场演唱，异议不成立。',
    });
    expect(done.body.history.map((h: Json) => [h.from, h.to])).toEqual([
      [null, 'submitted'],
      ['submitted', 'accepted'],
      ['accepted', 'reviewing'],
      ['reviewing', 'concluded'],
    ]);
    await as(r.admin).post(`/api/v1/objections/${objectionId}/step`, { status: 'accepted' }).expect(409);
    expect((await todoItems(t.container.db, adminUser, 'main')).filter((i) => i.key.startsWith('objections.'))).toEqual([
      expect.objectContaining({ key: 'objections.submitted', count: 1 }),
    ]);
    expect(await todoItems(t.container.db, { ...adminUser, role: 'school' }, 'main')).toEqual([]);
  });

  test('when awards are re-confirmed after the 公示, then a reason is needed, the dropped entry loses its award and its certificate and cannot go to broadcast, and revision 1 is listed', async () => {
    const before = (await as().get('/api/v1/results').expect(200)).body[0].snapshotSha256;
    const tiers = [
      { award: 'first', count: 1 },
      { award: 'second', count: 1 },
    ];
    const noReason = await as(r.admin).post(`/api/v1/rounds/${r.roundId}/awards`, { tiers }).expect(400);
    expect(noReason.body.errors[0]).toMatchObject({ field: 'revisionReason' });
    const dropped = r.entries[2];
    expect((await as(r.admin).get(`/api/v1/entries/${dropped.id}`).expect(200)).body).toMatchObject({ status: 'awarded', award: 'third' });

    // Its certificate was issued with the first confirmation.
    await as(r.admin).post(`/api/v1/rounds/${r.roundId}/certificates`, {}).expect(202);
    const certs = (await as(r.admin).get(`/api/v1/rounds/${r.roundId}/certificates`).expect(200)).body.items as Json[];
    const droppedCert = certs.find((c) => c.entryId === dropped.id && c.kind === 'entry')!.number as string;

    const res = await as(r.admin)
      .post(`/api/v1/rounds/${r.roundId}/awards`, { tiers, revisionReason: '经复核，三等奖作品超出时长要求，取消其奖项。' })
      .expect(200);
    expect(res.body).toMatchObject({ revoked: [dropped.id], revision: 1 });
    // The revision revokes its certificate at once: /verify says 已撤销 with the reason.
    const verified = (
      await as()
        .get(`/api/v1/certificates/${encodeURIComponent(droppedCert)}`)
        .expect(200)
    ).body;
    expect(verified).toMatchObject({ revoked: true, revokedReason: '奖项已修订：经复核，三等奖作品超出时长要求，取消其奖项。' });
    expect(certs.filter((c) => c.entryId !== dropped.id).length).toBeGreaterThan(0);
    for (const kept of certs.filter((c) => c.entryId !== dropped.id && c.kind === 'entry'))
      expect(
        (
          await as()
            .get(`/api/v1/certificates/${encodeURIComponent(kept.number as string)}`)
            .expect(200)
        ).body.revoked,
      ).toBe(false);
    const entry = (await as(r.admin).get(`/api/v1/entries/${dropped.id}`).expect(200)).body;
    expect(entry.status).not.toBe('awarded');
    expect(entry.award).toBeNull();
    const sel = await as(r.admin).post(`/api/v1/entries/${dropped.id}/broadcast`, {}).expect(409);
    expect(sel.body.detail).toBe('只有获奖作品可以选送电视台。');

    const after = (await as().get('/api/v1/results').expect(200)).body[0];
    expect(after.snapshotSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(after.snapshotSha256).not.toBe(before);
    expect(after.revision).toBe(1);
    expect(after.revisions.map((x: Json) => [x.revision, x.reason, x.snapshotSha256])).toEqual([
      [0, null, before],
      [1, '经复核，三等奖作品超出时长要求，取消其奖项。', after.snapshotSha256],
    ]);
    expect(after.tiers.flatMap((x: Json) => x.entries.map((e: Json) => e.code))).not.toContain(dropped.code);
    const html = await request(t.app).get('/results').expect(200);
    expect(html.text).toContain('修订记录');
    expect(html.text).toContain('经复核，三等奖作品超出时长要求，取消其奖项。');
    expect(html.text).toContain(after.snapshotSha256);
    // The same awards again: no reason asked, no new revision.
    await as(r.admin).post(`/api/v1/rounds/${r.roundId}/awards`, { tiers }).expect(200);
    expect((await as().get('/api/v1/results').expect(200)).body[0].revisions).toHaveLength(2);
  });

  test('when the 公示期 is over, then POST /api/v1/objections → 409 objection_closed with the period in Chinese', async () => {
    const from = new Date(Date.now() - 10 * 86400_000).toISOString();
    const to = new Date(Date.now() - 3 * 86400_000).toISOString();
    await as(r.admin).post(`/api/v1/rounds/${r.roundId}/publish`, { publicityFrom: from, publicityTo: to }).expect(200);
    const res = await as().post('/api/v1/objections', objection()).expect(409);
    expect(res.body.code).toBe('objection_closed');
    expect(res.body.detail).toMatch(/^「市级评审」的公示期为 .+ 至 .+，现在不在公示期内，不能提交异议。$/);
    expect((await as().get('/api/v1/results').expect(200)).body[0].publicity.open).toBe(false);
    const html = await request(t.app).get('/results').expect(200);
    expect(html.text).not.toContain('action="/results/objections"');
  });

  test('when one address sends more than 5 objections in an hour, then 429 in Chinese with Retry-After', async () => {
    await as(r.admin)
      .post(`/api/v1/rounds/${r.roundId}/publish`, {
        publicityFrom: new Date(Date.now() - 3600_000).toISOString(),
        publicityTo: new Date(Date.now() + 86400_000).toISOString(),
      })
      .expect(200);
    for (let i = 0; i < 3; i++) await as().post('/api/v1/objections', objection()).expect(201); // 2 earlier + 3 = 5
    const res = await as().post('/api/v1/objections', objection()).expect(429);
    expect(res.body.code).toBe('rate_limited');
    expect(res.body.detail).toMatch(/^同一网络一小时内最多提交 5 份异议，请 \d+ 分钟后再试。$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  test('when a person uses the form on the 公示 page, then a receipt page; a mistake shows the page again with the reason and what was typed', async () => {
    // A fresh address budget: the limit counts per address, and this test's requests come from 127.0.0.1 too.
    await t.container.db.deleteFrom('objections').where('reason', 'like', '该作品演唱部分疑似%').execute();
    const ok = await request(t.app)
      .post('/results/objections')
      .field('roundId', r.roundId)
      .field('name', '赵敏')
      .field('phone', '13800001111')
      .field('relation', '学生家长')
      .field('reason', '希望公开评分细则，核实二等奖作品的评分。')
      .expect(201);
    expect(ok.text).toContain('回执编号');
    expect(ok.text).toMatch(/YY\d{8}-[2-9A-HJ-NP-Z]{6}/);
    const bad = await request(t.app)
      .post('/results/objections')
      .field('roundId', r.roundId)
      .field('name', '赵敏')
      .field('phone', '110')
      .field('relation', '学生家长')
      .field('reason', '希望公开评分细则，核实二等奖作品的评分。')
      .expect(400);
    expect(bad.text).toContain('联系电话应为 11 位手机号或带区号的固定电话');
    expect(bad.text).toContain('希望公开评分细则');
  });
});
