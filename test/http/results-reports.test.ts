/**
 * Issue 18, items 6–7: the 县区成绩单 (JSON, PDF, XLSX) per county and for the city, with figures
 * equal to what the database holds, and the 评委签字表 per judge. PDFs are read back with poppler.
 *
 * 离石区: two scored entries (schools A, B), a returned entry (school C, returned twice for the same
 * reason and once for another), a draft whose video failed QC (school D: counted only as a QC
 * failure), a school without entries (E);
 * 汾阳市 and 市直 one scored entry each. Three judges, plain mean; the top entry of 离石区 gets 一等奖.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { pdfInfo, pdfPagePng, pdfText } from '../support/pdf';
import { scoredRound, split, type ScoredRound } from '../support/results';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function binary(res: request.Response, cb: (err: Error | null, body: unknown) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

describe('县区成绩单 and 评委签字表', () => {
  let t: TestApp;
  let r: ScoredRound;
  let lishi: string;
  let fenyang: string;
  let supervisor: string;
  const TOTALS = (e: number, j: number) => [88, 76, 70, 64][e] + [0, 3, -3][j];

  beforeAll(async () => {
    t = await createTestApp();
    r = await scoredRound(t, { counties: ['c-lishi', 'c-lishi', 'c-fenyang', null], judges: 3, totals: TOTALS, name: '市级初评' });
    lishi = await t.token((await t.createUser('county', { countyId: 'c-lishi' })).username);
    fenyang = await t.token((await t.createUser('county', { countyId: 'c-fenyang' })).username);
    supervisor = await t.token((await t.createUser('supervisor')).username);
    const returned = await schoolWithToken(t, 'c-lishi');
    const e = await createEntry(t, returned.token, { title: '退回的作品' });
    await attachReadyVideo(t, e.id);
    for (const reason of ['画面不完整，请重新上传', '画面不完整，请重新上传', '缺少指导教师姓名']) {
      await request(t.app).post(`/api/v1/entries/${e.id}/submit`).set('Authorization', `Bearer ${returned.token}`).expect(200);
      await request(t.app).post(`/api/v1/entries/${e.id}/return`).set('Authorization', `Bearer ${lishi}`).send({ reason }).expect(200);
    }
    const draft = await schoolWithToken(t, 'c-lishi');
    await attachReadyVideo(t, (await createEntry(t, draft.token, { title: '草稿作品' })).id, 'fail');
    await t.createSchool({ countyId: 'c-lishi' });
    await request(t.app)
      .post(`/api/v1/rounds/${r.roundId}/shortlist`)
      .set('Authorization', `Bearer ${r.admin}`)
      .send({ entryIds: [r.entries[0].id, r.entries[1].id] })
      .expect(200);
    await request(t.app)
      .post(`/api/v1/rounds/${r.roundId}/awards`)
      .set('Authorization', `Bearer ${r.admin}`)
      .send({ tiers: [{ award: 'first', count: 1 }] })
      .expect(200);
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  test('when 离石区 asks for its report, then every figure equals the database’s', async () => {
    const res = await request(t.app).get('/api/v1/reports/counties/c-lishi').set('Authorization', `Bearer ${lishi}`).expect(200);
    const f = res.body;
    const db = t.container.db;
    const schools = await db.selectFrom('schools').select('id').where('county_id', '=', 'c-lishi').execute();
    const entries = await db
      .selectFrom('entries')
      .select(['id', 'school_id', 'status', 'award', 'video_id'])
      .where('county_id', '=', 'c-lishi')
      .where('status', '!=', 'draft')
      .execute();
    expect(f.scope).toEqual({ countyId: 'c-lishi', name: '离石区' });
    expect(f.round).toEqual({ id: r.roundId, name: '市级初评' });
    expect(f.schools).toBe(schools.length);
    expect(f.schoolsWithEntries).toBe(new Set(entries.map((e) => e.school_id)).size);
    expect(f.schoolsWithEntries).toBe(3);
    expect(f.funnel).toEqual({ submitted: entries.length, forwarded: 2, shortlisted: 2, awarded: 1 });
    expect(f.qc).toEqual({ fail: 1, warn: 0, processingFailed: 0 });
    expect(f.returns).toEqual({
      total: 3,
      returnedNow: 1,
      reasons: [
        { reason: '画面不完整，请重新上传', count: 2 },
        { reason: '缺少指导教师姓名', count: 1 },
      ],
    });
    expect(f.byForm).toEqual([{ label: '合唱', count: 3 }]);
    expect(f.bySong.reduce((s: number, x: Json) => s + x.count, 0)).toBe(3);
    const q = f.quota.find((x: Json) => x.countyId === 'c-lishi');
    expect(q).toMatchObject({ county: '离石区', used: 2 });
    // Criterion means: 离石区's two entries × three judges, and the city's four × three.
    const given = (entryIdx: number[]) => entryIdx.flatMap((e) => [0, 1, 2].map((j) => split(TOTALS(e, j))));
    const mean = (xs: Array<Record<string, number>>, k: string) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    for (const c of f.criteria) {
      expect(c.scope).toBeCloseTo(mean(given([0, 1]), c.key), 9);
      expect(c.city).toBeCloseTo(mean(given([0, 1, 2, 3]), c.key), 9);
      expect(c.scoreCount).toBe(6);
    }
    expect(f.criteria.map((c: Json) => c.label)).toEqual(['演唱水平', '艺术表现', '精神面貌', '服装形象']);
  });

  test('when the report is downloaded as PDF, then it is A4 in Chinese type with the figures and a Chinese file name', async () => {
    const res = await request(t.app).get('/api/v1/reports/counties/c-lishi.pdf').set('Authorization', `Bearer ${lishi}`).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('离石区成绩单.pdf')}`);
    const bytes = res.body as Buffer;
    const info = await pdfInfo(bytes);
    expect(info.widthPt).toBeCloseTo(595.28, 0);
    const text = await pdfText(bytes);
    for (const s of [
      '离石区成绩单',
      '学校总数',
      '有作品的学校',
      '画面不完整，请重新上传',
      '质量检查未通过',
      '已报送市级',
      '各评分项平均分（市级初评）',
      '演唱水平',
      '全市',
    ])
      expect(text).toContain(s);
    expect(text).toMatch(/累计退回 3 次；目前仍待学校修改 1 件。/);
    // Made for the request and sent: no copy is left in the bucket, however often it is downloaded.
    expect(await t.container.store.deletePrefix('reports/')).toBe(0);
    if (process.env.REPORT_PNG) fs.writeFileSync(process.env.REPORT_PNG, await pdfPagePng(bytes, 100));
  });

  test('when the city report and the XLSX are asked for, then the city sees every county; the XLSX carries raw and normalised scores', async () => {
    const city = (await request(t.app).get('/api/v1/reports/city').set('Authorization', `Bearer ${supervisor}`).expect(200)).body;
    const all = await t.container.db.selectFrom('entries').select('id').where('status', '!=', 'draft').execute();
    expect(city.scope).toEqual({ countyId: null, name: '全市' });
    expect(city.funnel.submitted).toBe(all.length);
    expect(city.funnel.awarded).toBe(1);
    const pdf = await request(t.app).get('/api/v1/reports/city.pdf').set('Authorization', `Bearer ${r.admin}`).buffer(true).parse(binary).expect(200);
    expect(await pdfText(pdf.body as Buffer)).toContain('全市成绩单');

    const x = await request(t.app)
      .get('/api/v1/reports/counties/c-lishi.xlsx')
      .set('Authorization', `Bearer ${r.admin}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.body as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('作品得分')!;
    const rows: unknown[][] = [];
    sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    expect(rows[0]).toEqual(['名次', '编号', '作品名称', '学校', '原始平均分', '标准化得分', '评分数', '奖项']);
    expect(rows.slice(1).map((x2) => [x2[1], x2[4], x2[5], x2[7] ?? ''])).toEqual([
      [r.entries[0].code, 88, 88, '一等奖'],
      [r.entries[1].code, 76, 76, ''],
    ]);
  });

  test('when a county asks for another county or the city, or a school asks at all, then 404 / 403', async () => {
    await request(t.app).get('/api/v1/reports/counties/c-lishi').set('Authorization', `Bearer ${fenyang}`).expect(404);
    await request(t.app).get('/api/v1/reports/counties/c-lishi.pdf').set('Authorization', `Bearer ${fenyang}`).expect(404);
    await request(t.app).get('/api/v1/reports/city').set('Authorization', `Bearer ${fenyang}`).expect(403);
    await request(t.app).get('/api/v1/reports/counties/c-lishi').set('Authorization', `Bearer ${r.entries[0].schoolToken}`).expect(403);
    await request(t.app).get('/api/v1/reports/counties/no-such').set('Authorization', `Bearer ${r.admin}`).expect(404);
    await request(t.app).get('/api/v1/reports/city').expect(401);
  });

  test('when the city prints a judge’s 评委签字表, then the PDF lists every score of that judge with a place to sign', async () => {
    const judge = r.judges[1];
    const res = await request(t.app)
      .get(`/api/v1/rounds/${r.roundId}/judges/${judge.id}/sign-sheet.pdf`)
      .set('Authorization', `Bearer ${supervisor}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(res.headers['content-disposition']).toContain(encodeURIComponent(`评委签字表-${judge.displayName}.pdf`));
    const text = await pdfText(res.body as Buffer);
    expect(text).toContain('评委签字表');
    expect(text).toContain(`评委：${judge.displayName}`);
    expect(text).toContain('共 4 件，已提交 4 件');
    expect(text).toContain('评委签字：');
    for (let e = 0; e < 4; e++) expect(text).toMatch(new RegExp(`\\b${TOTALS(e, 1)}\\b`));
    if (process.env.SIGN_PNG) fs.writeFileSync(process.env.SIGN_PNG, await pdfPagePng(res.body as Buffer, 100));
    await request(t.app).get(`/api/v1/rounds/${r.roundId}/judges/${judge.id}/sign-sheet.pdf`).set('Authorization', `Bearer ${lishi}`).expect(403);
    await request(t.app)
      .get(`/api/v1/rounds/${r.roundId}/judges/${r.entries[0].schoolToken.slice(0, 8)}/sign-sheet.pdf`)
      .set('Authorization', `Bearer ${r.admin}`)
      .expect(404);
  });
});
