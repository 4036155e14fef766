import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import request from 'supertest';
import { todoItems } from '../../src/consent/consent.todo';
import { objectKeys } from '../../src/platform/storage/object-keys';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { pdfText } from '../support/pdf';
import { downloadBinary, readXlsx } from '../support/xlsx';

/**
 * Guardian authorisation (授权书, issue 16): recording it (declaration or signed scan), the city's
 * setting, gating of forward / 市直 submit / broadcast selection, withdrawal and its effects, who
 * may read a scan, the consent state on the desk and in exports, the 公示 page, a school's data
 * export (ZIP) and the city's erasure of a school's personal data.
 */
const exec = promisify(execFile);
const UTF8 = { env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n% 授权书扫描件\n'), crypto.randomBytes(2000), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(500)]);

describe('guardian authorisation (授权书)', () => {
  let t: TestApp;
  let periodId: string;
  let admin: string;
  let county: string;
  let otherCounty: string;
  let judge: string;
  let tv: { id: string; token: string };
  beforeAll(async () => {
    t = await createTestApp();
    periodId = (await t.container.campaign.listPeriods())[0].id;
    admin = await t.token('admin');
    county = await t.token((await t.createUser('county', { countyId: 'c-lishi' })).username);
    otherCounty = await t.token((await t.createUser('county', { countyId: 'c-xiaoyi' })).username);
    judge = await t.token((await t.createUser('judge')).username);
    const tvUser = await t.createUser('tv');
    tv = { id: tvUser.id, token: await t.token(tvUser.username) };
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  const as = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
    put: (url: string, body?: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
  });
  const db = () => t.container.database.db;

  /** A submitted entry of a 离石区 school, without an authorisation. */
  async function submitted(school?: { token: string }, title = '五年级合唱') {
    const s = school ?? (await schoolWithToken(t, 'c-lishi'));
    const entry = await createEntry(t, s.token, { title });
    await attachReadyVideo(t, entry.id, 'pass', { consent: false });
    await as(s.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    return { school: s, id: entry.id, code: entry.code };
  }

  /** An entry at `status` with award 'first' and the given scopes recorded by its school's declaration. */
  async function awarded(status: 'awarded' | 'broadcast_selected' | 'aired', scopes: string[], title = '获奖合唱') {
    const s = await schoolWithToken(t, 'c-lishi');
    const entry = await createEntry(t, s.token, { title });
    await attachReadyVideo(t, entry.id, 'pass', { consent: false });
    await as(s.token).put(`/api/v1/entries/${entry.id}/consent`, { declaration: true, signerName: '王校长', scopes }).expect(200);
    await db().updateTable('entries').set({ status, award: 'first' }).where('id', '=', entry.id).execute();
    return { school: s, id: entry.id, code: entry.code };
  }

  async function withMaster(entryId: string): Promise<string> {
    const video = await db().selectFrom('entries').select('video_id').where('id', '=', entryId).executeTakeFirstOrThrow();
    const masterId = crypto.randomUUID();
    const key = objectKeys.master(masterId, 'xdcam-hd422', 'mxf');
    await t.container.store.putStream(key, Readable.from([crypto.randomBytes(1000)]), { contentType: 'application/mxf' });
    await db()
      .insertInto('masters')
      .values({
        id: masterId,
        entry_id: entryId,
        video_id: video.video_id!,
        profile: 'xdcam-hd422',
        pillarbox: 'black',
        status: 'ready',
        progress: 100,
        object_key: key,
        size_bytes: 1000,
      })
      .execute();
    return key;
  }

  describe('recording and gating', () => {
    test('when a county forwards an entry without an authorisation, then 409 consent_required in Chinese and it stays submitted; after the school declares, the forward succeeds', async () => {
      const e = await submitted();
      const refused = await as(county).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(409);
      expect(refused.body).toMatchObject({ code: 'consent_required', title: '缺少监护人授权' });
      expect(refused.body.detail).toContain('还没有登记监护人授权书');
      expect((await as(county).get(`/api/v1/entries/${e.id}`)).body.status).toBe('submitted');

      const recorded = await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王校长', signerPost: '校长', scopes: ['broadcast', 'public'] })
        .expect(200);
      expect(recorded.body).toMatchObject({
        state: 'granted',
        declaration: true,
        signerName: '王校长',
        scopes: ['broadcast', 'public'],
        sufficient: true,
        scan: null,
      });
      const forwarded = await as(county).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
      expect(forwarded.body.status).toBe('forwarded');
      // The county reads the state; the audit keeps the scopes, not the signer's name.
      expect((await as(county).get(`/api/v1/entries/${e.id}/consent`).expect(200)).body.scopes).toEqual(['broadcast', 'public']);
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', e.id)
        .where('action', '=', 'consent.record')
        .executeTakeFirstOrThrow();
      expect(audit.to_state).toBe('broadcast,public');
      expect(JSON.stringify(audit)).not.toContain('王校长');
    });

    test('when a 市直 school submits without an authorisation, then 409 consent_required; with one it goes straight to the city', async () => {
      const s = await schoolWithToken(t, null);
      const entry = await createEntry(t, s.token, { title: '市直合唱' });
      await attachReadyVideo(t, entry.id, 'pass', { consent: false });
      const refused = await as(s.token).post(`/api/v1/entries/${entry.id}/submit`).expect(409);
      expect(refused.body.code).toBe('consent_required');
      expect((await as(s.token).get(`/api/v1/entries/${entry.id}`)).body.status).toBe('draft');
      await as(s.token).put(`/api/v1/entries/${entry.id}/consent`, { declaration: true, signerName: '李主任', scopes: [] }).expect(200);
      expect((await as(s.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200)).body.status).toBe('forwarded');
    });

    test('when the declaration lacks a signer or nothing is given, then 400 with the field in Chinese and nothing is recorded', async () => {
      const e = await submitted();
      const noSigner = await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, scopes: ['public'] })
        .expect(400);
      expect(noSigner.body.errors).toEqual([{ field: 'signerName', message: '请填写声明人姓名' }]);
      const nothing = await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { scopes: ['public'] })
        .expect(400);
      expect(nothing.body.errors[0].field).toBe('declaration');
      const badScope = await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王', scopes: ['tiktok'] })
        .expect(400);
      expect(badScope.body.errors[0].message).toContain('授权范围只能是');
      expect((await as(e.school.token).get(`/api/v1/entries/${e.id}/consent`).expect(200)).body.state).toBe('none');
    });

    test('when a scan is uploaded, then it is sniffed by content (PNG named .pdf is fine, text named .pdf is 415, over 10 MB is 413)', async () => {
      const e = await submitted();
      const put = () => request(t.app).put(`/api/v1/entries/${e.id}/consent`).set('Authorization', `Bearer ${e.school.token}`);
      const png = await put().field('scopes', 'broadcast').field('scopes', 'newmedia').attach('scan', PNG, '授权书.pdf').expect(200);
      expect(png.body).toMatchObject({
        state: 'granted',
        declaration: false,
        scopes: ['broadcast', 'newmedia'],
        scan: { type: 'image/png', name: '授权书.pdf' },
      });
      const text = await put().field('scopes', 'public').attach('scan', Buffer.from('这不是扫描件'), 'scan.pdf').expect(415);
      expect(text.body.detail).toBe('授权书扫描件只能是 PDF、JPG 或 PNG 文件（按文件内容识别）。');
      const big = await put()
        .attach('scan', Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(10 * 1024 * 1024 + 10)]), 'big.pdf')
        .catch((err: { response?: request.Response }) => err.response!);
      expect(big.status).toBe(413);
      expect(big.body.detail).toContain('不能超过 10 MB');
      // The refused uploads left the first scan in place and no extra object behind.
      const after = (await as(e.school.token).get(`/api/v1/entries/${e.id}/consent`).expect(200)).body;
      expect(after.scan.type).toBe('image/png');
      const storage = t.config.storage;
      if (storage.kind === 'local') expect(readdirSync(path.join(storage.rootDir, 'consents', e.id))).toHaveLength(1);
    });

    test('when the city requires scans, then a declaration alone is refused and cannot be forwarded; a PDF scan makes it forwardable', async () => {
      const e = await submitted();
      await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王校长', scopes: ['public'] })
        .expect(200);
      expect((await as(admin).put('/api/v1/consent/settings', { requireScan: true }).expect(200)).body).toEqual({ requireScan: true });
      try {
        expect((await as(e.school.token).get('/api/v1/consent/settings').expect(200)).body).toEqual({ requireScan: true });
        const refused = await as(county).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(409);
        expect(refused.body).toMatchObject({ code: 'consent_required' });
        expect(refused.body.detail).toContain('要求上传签字的授权书扫描件');
        const again = await as(e.school.token)
          .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王校长', scopes: ['public'] })
          .expect(400);
        expect(again.body.errors[0].field).toBe('scan');
        await request(t.app)
          .put(`/api/v1/entries/${e.id}/consent`)
          .set('Authorization', `Bearer ${e.school.token}`)
          .field('scopes', 'public')
          .attach('scan', PDF, 'scan.pdf')
          .expect(200);
        await as(county).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
        await as(e.school.token).put('/api/v1/consent/settings', { requireScan: false }).expect(403);
      } finally {
        await as(admin).put('/api/v1/consent/settings', { requireScan: false }).expect(200);
      }
    });
  });

  describe('who may read a scan', () => {
    let e: { id: string; school: { token: string } };
    beforeAll(async () => {
      e = await submitted();
      await request(t.app)
        .put(`/api/v1/entries/${e.id}/consent`)
        .set('Authorization', `Bearer ${e.school.token}`)
        .field('scopes', 'public')
        .attach('scan', PDF, 's.pdf')
        .expect(200);
    });

    test.each([
      ['the entry’s school', 'school', 200],
      ['its county', 'county', 200],
      ['the city', 'admin', 200],
      ['another county', 'otherCounty', 404],
      ['another school', 'otherSchool', 404],
      ['a judge', 'judge', 403],
      ['the TV', 'tv', 403],
    ])('when %s asks for the scan, then %s', async (_who, caller, status) => {
      const tokens: Record<string, () => Promise<string>> = {
        school: async () => e.school.token,
        county: async () => county,
        admin: async () => admin,
        otherCounty: async () => otherCounty,
        otherSchool: async () => (await schoolWithToken(t, 'c-lishi')).token,
        judge: async () => judge,
        tv: async () => tv.token,
      };
      const res = await downloadBinary(as(await tokens[caller]()).get(`/api/v1/entries/${e.id}/consent/scan`)).expect(status);
      if (status === 200) {
        expect(Buffer.compare(res.body as Buffer, PDF)).toBe(0);
        expect(res.headers['content-disposition']).toMatch(/^attachment;/);
        expect(res.headers['cache-control']).toBe('private, no-store');
      } else {
        expect(res.headers['content-disposition']).toBeUndefined();
      }
    });

    test('when nobody is logged in, then 401; the scan never appears in the entry JSON the TV or a judge could read', async () => {
      await request(t.app).get(`/api/v1/entries/${e.id}/consent/scan`).expect(401);
      const entry = await as(county).get(`/api/v1/entries/${e.id}`).expect(200);
      expect(JSON.stringify(entry.body)).not.toContain('consents/');
    });
  });

  test('when the template is downloaded, then it is a Chinese PDF prefilled with the entry’s code, title, school and county', async () => {
    const e = await submitted(undefined, '吕梁颂大合唱');
    const res = await downloadBinary(as(e.school.token).get(`/api/v1/entries/${e.id}/consent/template.pdf`)).expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const text = (await pdfText(res.body as Buffer)).replace(/\s+/g, '');
    expect(text).toContain('参演学生监护人授权书');
    expect(text).toContain(e.code);
    expect(text).toContain('吕梁颂大合唱');
    expect(text).toContain('离石区');
    expect(text).toContain('电视播出');
    await as(judge).get(`/api/v1/entries/${e.id}/consent/template.pdf`).expect(403);
  });

  describe('broadcast selection, the desk and its exports', () => {
    test('when the city selects an awarded entry without the broadcast scope, then 409 consent_required and nothing is queued; with it, selection works', async () => {
      const e = await awarded('awarded', ['public']);
      const refused = await as(admin).post(`/api/v1/entries/${e.id}/broadcast`, {}).expect(409);
      expect(refused.body.code).toBe('consent_required');
      expect(refused.body.detail).toContain('电视播出');
      expect(await db().selectFrom('masters').select('id').where('entry_id', '=', e.id).executeTakeFirst()).toBeUndefined();
      expect((await as(admin).get(`/api/v1/entries/${e.id}`)).body.status).toBe('awarded');
      const { agent } = await t.browser('admin');
      expect((await agent.get(`/entries/${e.id}`).expect(200)).text).toContain('监护人没有授权电视播出');

      await as(e.school.token)
        .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王校长', scopes: ['public', 'broadcast'] })
        .expect(200);
      expect((await as(admin).post(`/api/v1/entries/${e.id}/broadcast`, {}).expect(200)).body.status).toBe('broadcast_selected');
    });

    test('when the TV opens the desk, then each item shows its consent scopes and the programme sheet has a 监护人授权 column', async () => {
      const e = await awarded('broadcast_selected', ['broadcast', 'newmedia'], '展播合唱');
      await withMaster(e.id);
      const desk = await as(tv.token).get('/api/v1/broadcast/entries').expect(200);
      const item = desk.body.find((d: { entry: { id: string } }) => d.entry.id === e.id);
      expect(item.consentScopes).toEqual(['broadcast', 'newmedia']);
      const csv = await as(tv.token).get('/api/v1/broadcast/programme-sheet.csv').expect(200);
      const lines = csv.text
        .replace(/^\ufeff/, '')
        .trim()
        .split('\r\n');
      expect(lines[0]).toContain('"监护人授权"');
      expect(lines.find((l) => l.includes(e.code))).toContain('"电视、新媒体"');
    });

    test('when the school withdraws the broadcast scope, then the entry leaves the desk, its master goes, the selection is undone, the TV is told and it is audited', async () => {
      const e = await awarded('broadcast_selected', ['broadcast', 'public'], '撤回合唱');
      const key = await withMaster(e.id);
      const res = await as(e.school.token)
        .post(`/api/v1/entries/${e.id}/consent/withdraw`, { scopes: ['broadcast'], reason: '家长来电要求不在电视上播出' })
        .expect(200);
      expect(res.body).toMatchObject({ state: 'granted', scopes: ['public'] });

      expect((await as(admin).get(`/api/v1/entries/${e.id}`)).body.status).toBe('awarded');
      const desk = await as(tv.token).get('/api/v1/broadcast/entries').expect(200);
      expect(desk.body.map((d: { entry: { id: string } }) => d.entry.id)).not.toContain(e.id);
      await as(tv.token).get(`/api/v1/broadcast/entries/${e.id}/master`).expect(404);
      expect(await t.container.store.head(key)).toBeNull();
      const csv = await as(tv.token).get('/api/v1/broadcast/programme-sheet.csv').expect(200);
      expect(csv.text).not.toContain(e.code);

      const told = await db().selectFrom('notifications').selectAll().where('user_id', '=', tv.id).where('entry_id', '=', e.id).execute();
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ kind: 'consent.broadcast_withdrawn', link: '/broadcast' });
      expect(told[0].title).toContain('电视播出授权已撤回');
      const audit = await db()
        .selectFrom('audit_log')
        .select(['action', 'reason', 'from_state', 'to_state'])
        .where('object_id', '=', e.id)
        .orderBy('id')
        .execute();
      expect(audit).toEqual(
        expect.arrayContaining([
          { action: 'entry.broadcast_revoked', reason: '监护人撤回电视播出授权', from_state: 'broadcast_selected', to_state: 'awarded' },
          { action: 'consent.withdraw', reason: '家长来电要求不在电视上播出', from_state: 'broadcast,public', to_state: 'public' },
        ]),
      );
      // Without the scope the city cannot select it again.
      expect((await as(admin).post(`/api/v1/entries/${e.id}/broadcast`, {}).expect(409)).body.code).toBe('consent_required');
    });

    test('when the city withdraws the whole permission of an aired entry on request, then it leaves the desk, the TV and the school are told, and a second withdrawal is 409', async () => {
      const e = await awarded('aired', ['broadcast', 'newmedia', 'public'], '已播合唱');
      await withMaster(e.id);
      await as(county).post(`/api/v1/entries/${e.id}/consent/withdraw`, { reason: '越权' }).expect(403);
      await as(tv.token).post(`/api/v1/entries/${e.id}/consent/withdraw`, { reason: '越权' }).expect(403);
      const missing = await as(admin).post(`/api/v1/entries/${e.id}/consent/withdraw`, {}).expect(400);
      expect(missing.body.errors[0].field).toBe('reason');
      const res = await as(admin).post(`/api/v1/entries/${e.id}/consent/withdraw`, { reason: '家长书面申请撤回' }).expect(200);
      expect(res.body).toMatchObject({ state: 'withdrawn', scopes: [], withdrawalReason: '家长书面申请撤回' });
      expect((await as(admin).get(`/api/v1/entries/${e.id}`)).body.status).toBe('aired');
      await as(tv.token).get(`/api/v1/broadcast/entries/${e.id}`).expect(404);
      const kinds = await db().selectFrom('notifications').select('kind').where('entry_id', '=', e.id).execute();
      expect(kinds.map((k) => k.kind).sort()).toEqual(['consent.broadcast_withdrawn', 'consent.withdrawn_by_city']);
      expect((await as(admin).post(`/api/v1/entries/${e.id}/consent/withdraw`, { reason: '再次撤回' }).expect(409)).body.detail).toContain('已经全部撤回');
    });

    test('when another school tries to withdraw an entry’s permission, then 404 and nothing changes', async () => {
      const e = await awarded('awarded', ['public']);
      const other = await schoolWithToken(t, 'c-lishi');
      await as(other.token).post(`/api/v1/entries/${e.id}/consent/withdraw`, { reason: '不是我的' }).expect(404);
      expect((await as(e.school.token).get(`/api/v1/entries/${e.id}/consent`)).body.scopes).toEqual(['public']);
    });
  });

  test('when the forwarded list is exported, then every row shows its consent state', async () => {
    const s = await schoolWithToken(t, 'c-zhongyang');
    const reviewer = await t.token((await t.createUser('county', { countyId: 'c-zhongyang' })).username);
    const e = await submitted(s, '中阳合唱');
    await as(s.token)
      .put(`/api/v1/entries/${e.id}/consent`, { declaration: true, signerName: '王校长', scopes: ['broadcast', 'public'] })
      .expect(200);
    await as(reviewer).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
    const res = await downloadBinary(as(reviewer).get(`/api/v1/exports/forwarded.xlsx?periodId=${periodId}`)).expect(200);
    const rows = await readXlsx(res.body as Buffer);
    const col = rows[0].indexOf('监护人授权');
    expect(col).toBeGreaterThan(0);
    expect(rows.find((r) => r[0] === e.code)![col]).toBe('电视、公示');
  });

  test('when a round is published, then the 公示 list names title and school only for entries with the public scope', async () => {
    const open = await awarded('awarded', ['public'], '公开的合唱');
    const hidden = await awarded('awarded', ['broadcast'], '不公开的合唱');
    const round = await db()
      .insertInto('rounds')
      .values({
        campaign_id: 'main',
        name: '公示测试轮',
        judges_per_entry: 1,
        blind: true,
        aggregation: 'mean',
        rubric: JSON.stringify([{ key: 'a', label: '演唱', max: 100 }]),
        status: 'closed',
        awards_confirmed_at: new Date(),
        published_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db()
      .insertInto('round_entries')
      .values([
        { round_id: round.id, entry_id: open.id, award: 'first', label: 'A01' },
        { round_id: round.id, entry_id: hidden.id, award: 'first', label: 'A02' },
      ])
      .execute();
    const res = await request(t.app).get('/api/v1/results').expect(200);
    const entries = res.body.find((r: { id: string }) => r.id === round.id).tiers[0].entries;
    expect(entries.find((x: { code: string }) => x.code === open.code)).toMatchObject({ title: '公开的合唱', consented: true });
    expect(entries.find((x: { code: string }) => x.code === hidden.code)).toMatchObject({ title: null, school: null, county: null, consented: false });
    const page = await request(t.app).get('/results').expect(200);
    expect(page.text).toContain('公开的合唱');
    expect(page.text).not.toContain('不公开的合唱');
    expect(page.text).toContain(hidden.code);
    // Withdrawing 'public' takes the name off the page at once.
    await as(open.school.token)
      .post(`/api/v1/entries/${open.id}/consent/withdraw`, { scopes: ['public'], reason: '家长要求' })
      .expect(200);
    expect((await request(t.app).get('/results').expect(200)).text).not.toContain('公开的合唱');
  });

  test('when entries lack an authorisation, then the school’s and the county’s to-do count them, and the county’s entry page says why it cannot forward', async () => {
    const s = await schoolWithToken(t, 'c-shilou');
    const reviewer = await t.createUser('county', { countyId: 'c-shilou' });
    const user = (token: string, role: 'school' | 'county', ids: { schoolId?: string | null; countyId?: string | null }) => ({
      id: token,
      username: role,
      displayName: role,
      role,
      schoolId: ids.schoolId ?? null,
      countyId: ids.countyId ?? null,
    });
    const schoolUser = user('s', 'school', { schoolId: s.schoolId, countyId: 'c-shilou' });
    const countyUser = user('c', 'county', { countyId: 'c-shilou' });
    expect(await todoItems(db(), schoolUser, 'main')).toEqual([]);
    const a = await submitted(s, '待授权一');
    await submitted(s, '待授权二');
    expect(await todoItems(db(), schoolUser, 'main')).toEqual([
      { key: 'consent.missing', label: '待登记监护人授权书的作品', count: 2, href: '/entries', tone: 'warn' },
    ]);
    expect((await todoItems(db(), countyUser, 'main'))[0]).toMatchObject({ count: 2, href: '/review' });

    const { agent } = await t.browser(reviewer.username);
    const page = await agent.get(`/entries/${a.id}`).expect(200);
    expect(page.text).toContain('学校还没有登记监护人授权书（或已全部撤回），登记后才能报送。');

    await as(s.token).put(`/api/v1/entries/${a.id}/consent`, { declaration: true, signerName: '王校长', scopes: [] }).expect(200);
    expect((await todoItems(db(), schoolUser, 'main'))[0].count).toBe(1);
    expect(await todoItems(db(), user('j', 'county', { countyId: 'c-lanxian' }), 'main')).toEqual([]);
    expect((await agent.get(`/entries/${a.id}`).expect(200)).text).not.toContain('登记后才能报送');
  });

  describe('a school’s data requests', () => {
    test('when a school exports its data, then the ZIP holds its entries (JSON, CSV), history, original videos and scans — and nothing of another school', async () => {
      const s = await schoolWithToken(t, 'c-lishi');
      const withScan = await submitted(s, '导出合唱');
      const video = await db().selectFrom('entries').select('video_id').where('id', '=', withScan.id).executeTakeFirstOrThrow();
      const original = crypto.randomBytes(4000);
      await t.container.store.putStream(objectKeys.original(withScan.id, video.video_id!), Readable.from([original]), {
        contentType: 'application/octet-stream',
      });
      await request(t.app)
        .put(`/api/v1/entries/${withScan.id}/consent`)
        .set('Authorization', `Bearer ${s.token}`)
        .field('scopes', 'public')
        .attach('scan', PDF, 'a.pdf')
        .expect(200);
      const draft = await createEntry(t, s.token, { title: '草稿作品', directorName: null });
      const foreign = await submitted(undefined, '别校作品');

      const res = await downloadBinary(as(s.token).get(`/api/v1/schools/${s.schoolId}/export.zip`)).expect(200);
      expect(res.headers['content-type']).toBe('application/zip');
      const dir = await mkdtemp(path.join(tmpdir(), 'cx-export-'));
      try {
        const file = path.join(dir, 'a.zip');
        await writeFile(file, res.body as Buffer);
        await exec('unzip', ['-tq', file]);
        const names = (await exec('zipinfo', ['-1', file], UTF8)).stdout.trim().split('\n').sort();
        expect(names).toEqual(
          ['作品.csv', '作品.json', '授权书/' + withScan.code + '.pdf', '操作记录.csv', '视频/' + withScan.code + '_clip.mp4', '说明.txt'].sort(),
        );
        await exec('unzip', ['-q', file, '-d', path.join(dir, 'x')], UTF8);
        const json = JSON.parse(await readFile(path.join(dir, 'x', '作品.json'), 'utf8'));
        expect(json.entries.map((x: { code: string }) => x.code).sort()).toEqual([withScan.code, draft.code].sort());
        expect(json.entries.find((x: { code: string }) => x.code === withScan.code)).toMatchObject({
          title: '导出合唱',
          directorName: '李老师',
          consent: { scopes: ['public'], scan: `授权书/${withScan.code}.pdf` },
        });
        expect(Buffer.compare(await readFile(path.join(dir, 'x', '视频', `${withScan.code}_clip.mp4`)), original)).toBe(0);
        expect(Buffer.compare(await readFile(path.join(dir, 'x', '授权书', `${withScan.code}.pdf`)), PDF)).toBe(0);
        const history = await readFile(path.join(dir, 'x', '操作记录.csv'), 'utf8');
        expect(history).toContain('登记授权书');
        expect(history).toContain(withScan.code);
        const csv = await readFile(path.join(dir, 'x', '作品.csv'), 'utf8');
        expect(csv).toContain('导出合唱');
        expect(csv + JSON.stringify(json) + history).not.toContain(foreign.code);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      await as(foreign.school.token).get(`/api/v1/schools/${s.schoolId}/export.zip`).expect(404);
      await as(county).get(`/api/v1/schools/${s.schoolId}/export.zip`).expect(403);
      await as(admin).get(`/api/v1/schools/${s.schoolId}/export.zip`).expect(403);
      const audit = await db().selectFrom('audit_log').select('action').where('object_id', '=', s.schoolId!).execute();
      expect(audit.map((a) => a.action)).toContain('school.data_export');
    });

    test('when the city erases a school’s personal data, then directors’ and signers’ names and scans are gone (bucket too), consent scopes remain, and it is audited', async () => {
      const s = await schoolWithToken(t, 'c-lishi');
      const e = await submitted(s, '删除合唱');
      await request(t.app)
        .put(`/api/v1/entries/${e.id}/consent`)
        .set('Authorization', `Bearer ${s.token}`)
        .field('declaration', 'on')
        .field('signerName', '赵校长')
        .field('scopes', 'broadcast')
        .attach('scan', PDF, 'a.pdf')
        .expect(200);
      const { scan_key } = await db().selectFrom('entry_consents').select('scan_key').where('entry_id', '=', e.id).executeTakeFirstOrThrow();
      expect(await t.container.store.head(scan_key!)).not.toBeNull();
      const other = await submitted(undefined, '别校保留');

      await as(s.token).post(`/api/v1/schools/${s.schoolId}/erase-personal-data`, { reason: '学校申请' }).expect(403);
      expect((await as(admin).post(`/api/v1/schools/${s.schoolId}/erase-personal-data`, {}).expect(400)).body.errors[0].field).toBe('reason');
      const res = await as(admin).post(`/api/v1/schools/${s.schoolId}/erase-personal-data`, { reason: '学校 6 月 3 日书面申请' }).expect(200);
      expect(res.body).toEqual({ entries: 1, consents: 1, scans: 1 });

      expect((await as(s.token).get(`/api/v1/entries/${e.id}`)).body.directorName).toBeNull();
      const c = (await as(s.token).get(`/api/v1/entries/${e.id}/consent`).expect(200)).body;
      expect(c).toMatchObject({ state: 'granted', signerName: null, scan: null, scopes: ['broadcast'] });
      expect(c.erasedAt).not.toBeNull();
      expect(await t.container.store.head(scan_key!)).toBeNull();
      await as(s.token).get(`/api/v1/entries/${e.id}/consent/scan`).expect(404);
      // Still forwardable: the authorisation was recorded before the erasure.
      await as(county).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
      expect((await as(other.school.token).get(`/api/v1/entries/${other.id}`)).body.directorName).toBe('李老师');
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'school.erase_personal_data')
        .where('object_id', '=', s.schoolId!)
        .executeTakeFirstOrThrow();
      expect(audit).toMatchObject({ reason: '学校 6 月 3 日书面申请', actor_name: 'admin' });
      await as(admin).post('/api/v1/schools/no-such-school/erase-personal-data', { reason: '不存在的学校' }).expect(404);
    });
  });
});
