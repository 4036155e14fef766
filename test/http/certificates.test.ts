import fs from 'node:fs';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { drainQueue } from '../support/entries';
import { pdfInfo, pdfPagePng, pdfText } from '../support/pdf';
import { downloadBinary } from '../support/xlsx';
import { qrPng } from '../../src/platform/documents/pdf';

/**
 * 获奖证书 (issue 18 item 3): issued for a round's awards by a job, stored in the bucket, verified
 * in public by number and QR code, downloaded one by one, per school, per round (streamed ZIP),
 * and as a print sheet; a withdrawn award shows 已撤销.
 */
const LOOK = '/tmp/changxiang-certificate.png';

describe('certificates (获奖证书)', () => {
  let t: TestApp;
  let roundId: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let entrySeq = 0;

  const api = (who: string) => ({
    get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[who]}`),
    post: (p: string) => request(t.app).post(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[who]}`),
  });

  /** An awarded entry of the round, straight in the database (judging itself is tested elsewhere). */
  async function awardedEntry(
    schoolId: string,
    countyId: string | null,
    award: 'first' | 'second' | 'third' | 'excellence',
    fields: { title?: string; director?: string | null } = {},
  ) {
    const db = t.container.db;
    const song = await db.selectFrom('songs').select('id').where('title', '=', '吕梁颂').executeTakeFirstOrThrow();
    const n = ++entrySeq;
    const entry = await db
      .insertInto('entries')
      .values({
        code: `CX-T${String(n).padStart(4, '0')}`,
        campaign_id: 'main',
        school_id: schoolId,
        county_id: countyId,
        title: fields.title ?? `合唱作品${n}`,
        song_id: song.id,
        form: 'chorus',
        level: 'primary',
        performer_count: 40,
        director_name: fields.director === undefined ? `指导老师${n}` : fields.director,
        description: '联系人王老师，联系电话 13912345678',
        status: 'awarded',
        award,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('round_entries')
      .values({ round_id: roundId, entry_id: entry.id, shortlisted: true, award, label: `A-${String(n).padStart(3, '0')}` })
      .execute();
    return entry.id;
  }

  beforeAll(async () => {
    t = await createTestApp();
    const db = t.container.db;
    const round = await db
      .insertInto('rounds')
      .values({
        campaign_id: 'main',
        name: '市级评审',
        judges_per_entry: 3,
        blind: true,
        aggregation: 'mean',
        rubric: JSON.stringify([{ key: 'all', label: '总分', max: 100 }]),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    roundId = round.id;
    const school = await t.createSchool({ name: '离石区凤山小学', countyId: 'c-lishi' });
    const other = await t.createSchool({ name: '孝义市振兴小学', countyId: 'c-xiaoyi' });
    ids.school = school.id;
    ids.other = other.id;
    ids.entry = await awardedEntry(school.id, 'c-lishi', 'first', { title: '我们的祖国歌甜花香', director: '张晓红' });
    ids.otherEntry = await awardedEntry(other.id, 'c-xiaoyi', 'second', { director: null });
    const users = {
      school: await t.createUser('school', { schoolId: school.id }),
      otherSchool: await t.createUser('school', { schoolId: other.id }),
      county: await t.createUser('county', { countyId: 'c-lishi' }),
      otherCounty: await t.createUser('county', { countyId: 'c-xiaoyi' }),
      judge: await t.createUser('judge'),
    };
    for (const [k, u] of Object.entries(users)) tokens[k] = await t.token(u.username);
    tokens.admin = await t.token('admin');
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  test('when awards are not confirmed, then certificates cannot be made yet', async () => {
    const res = await api('admin').post(`/rounds/${roundId}/certificates`).send({}).expect(409);
    expect(res.body.detail).toBe('请先评定奖项，再制作证书。');
    await t.container.db.updateTable('rounds').set({ awards_confirmed_at: new Date(), status: 'closed' }).where('id', '=', roundId).execute();
  });

  test('when the city issues the round, then each award, director and chosen county gets a numbered certificate rendered by the job', async () => {
    expect((await api('county').post(`/rounds/${roundId}/certificates`).send({})).status).toBe(403);
    const res = await api('admin')
      .post(`/rounds/${roundId}/certificates`)
      .send({ organisationCountyIds: ['c-lishi'], issuedOn: '2027-06-30' })
      .expect(202);
    // 离石区: the entry (school), its director, 优秀组织奖; 孝义市: the entry only (no director named).
    expect(res.body.issued).toEqual(['LISHI-00001', 'LISHI-00002', 'XIAOYI-00001', 'LISHI-00003']);
    await drainQueue(t);
    const list = await api('admin').get(`/rounds/${roundId}/certificates`).expect(200);
    expect(list.body.items.map((i: { number: string; kind: string; status: string }) => [i.number, i.kind, i.status])).toEqual([
      ['LISHI-00001', 'entry', 'ready'],
      ['LISHI-00002', 'director', 'ready'],
      ['LISHI-00003', 'organisation', 'ready'],
      ['XIAOYI-00001', 'entry', 'ready'],
    ]);
    expect(list.body.print).toMatchObject({ pages: 4 });

    // Issuing again changes nothing that still holds: no new numbers.
    const again = await api('admin')
      .post(`/rounds/${roundId}/certificates`)
      .send({ organisationCountyIds: ['c-lishi'] })
      .expect(202);
    expect(again.body).toMatchObject({ issued: [], revoked: [], live: 4 });
    await drainQueue(t);
  });

  test('when the school downloads its certificate, then the PDF is A4 landscape, says the Chinese names and the number, and its QR code opens the verify page', async () => {
    const res = await downloadBinary(api('school').get('/certificates/LISHI-00001/pdf')).expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(decodeURIComponent(res.headers['content-disposition'])).toContain('LISHI-00001_离石区凤山小学_一等奖.pdf');
    const bytes = res.body as Buffer;
    const info = await pdfInfo(bytes);
    expect(info).toMatchObject({ pages: 1 });
    expect(info.widthPt).toBeGreaterThan(info.heightPt);
    const text = (await pdfText(bytes)).replace(/\s+/g, '');
    for (const want of [
      '荣誉证书',
      '离石区',
      '离石区凤山小学',
      '我们的祖国歌甜花香',
      '吕梁颂',
      '一等奖',
      '吕梁市教育局',
      '二〇二七年六月三十日',
      '证书编号：LISHI-00001',
    ])
      expect(text).toContain(want);

    const pagePng = await pdfPagePng(bytes, 150);
    fs.writeFileSync(LOOK, pagePng);
    // The QR code is in the bottom-left quarter: decode that part of the rendered page.
    const png = PNG.sync.read(pagePng);
    const w = Math.floor(png.width / 3);
    const top = Math.floor(png.height * 0.6);
    const h = png.height - top;
    const part = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) part.set(png.data.subarray((top + y) * png.width * 4, ((top + y) * png.width + w) * 4), y * w * 4);
    const qr = jsQR(part, w, h);
    expect(qr?.data).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/verify\/LISHI-00001$/);

    const director = await downloadBinary(api('county').get('/certificates/LISHI-00002/pdf')).expect(200);
    const directorText = (await pdfText(director.body as Buffer)).replace(/\s+/g, '');
    expect(directorText).toContain('张晓红老师');
    expect(directorText).toContain('指导教师');

    expect((await api('otherSchool').get('/certificates/LISHI-00001/pdf')).status).toBe(404);
    expect((await api('otherCounty').get('/certificates/LISHI-00001/pdf')).status).toBe(404);
    expect((await api('judge').get('/certificates/LISHI-00001/pdf')).status).toBe(403);
  }, 120_000);

  test('when anyone opens the verify page, then it shows the award and nothing private (no phone number)', async () => {
    const page = await request(t.app).get('/verify/LISHI-00001').expect(200);
    expect(page.text).toContain('有效');
    expect(page.text).toContain('一等奖');
    expect(page.text).toContain('离石区凤山小学');
    expect(page.text).toContain('我们的祖国歌甜花香');
    expect(page.text).not.toMatch(/1[3-9]\d{9}/);
    expect(page.text).not.toContain('王老师');
    const json = await request(t.app).get('/api/v1/certificates/LISHI-00001').expect(200);
    expect(json.body).toMatchObject({ number: 'LISHI-00001', awardLabel: '一等奖', recipient: '离石区凤山小学', revoked: false });
    expect(JSON.stringify(json.body)).not.toMatch(/1[3-9]\d{9}|description|username|entryId/);
    const missing = await request(t.app).get('/verify/LISHI-99999').expect(404);
    expect(missing.text).toContain('未找到编号为「LISHI-99999」的证书');
    expect((await request(t.app).get('/api/v1/certificates/LISHI-99999')).status).toBe(404);
  });

  test('when an award is withdrawn, then its certificate is 已撤销 on the verify page, keeps its number, and a changed award gets a new number', async () => {
    const db = t.container.db;
    await db.updateTable('round_entries').set({ award: 'second' }).where('round_id', '=', roundId).where('entry_id', '=', ids.entry).execute();
    await db.updateTable('round_entries').set({ award: null }).where('round_id', '=', roundId).where('entry_id', '=', ids.otherEntry).execute();
    const res = await api('admin').post(`/rounds/${roundId}/certificates`).send({}).expect(202);
    expect(res.body.revoked.sort()).toEqual(['LISHI-00001', 'LISHI-00002', 'XIAOYI-00001']);
    expect(res.body.issued).toEqual(['LISHI-00004', 'LISHI-00005']);
    const withdrawn = await request(t.app).get('/verify/XIAOYI-00001').expect(200);
    expect(withdrawn.text).toContain('已撤销');
    expect(withdrawn.text).toContain('奖项已撤销');
    const changed = await request(t.app).get('/api/v1/certificates/LISHI-00001').expect(200);
    expect(changed.body).toMatchObject({ revoked: true, revokedReason: '奖项已变更为二等奖，本证书作废并已重新颁发' });
    // A revoked certificate is no longer downloadable as a valid one; the 优秀组织奖 stays (no county choice sent).
    expect((await request(t.app).get('/api/v1/certificates/LISHI-00003').expect(200)).body.revoked).toBe(false);
    await drainQueue(t);

    const manual = await api('admin').post('/certificates/LISHI-00003/revoke').send({ reason: '' }).expect(400);
    expect(manual.body.errors[0].field).toBe('reason');
    await api('admin').post('/certificates/LISHI-00003/revoke').send({ reason: '县区申报材料有误' }).expect(200);
    expect((await request(t.app).get('/verify/LISHI-00003')).text).toContain('县区申报材料有误');
  });

  test('when the city uploads a seal, then only a PNG is taken and the next certificates carry it over the date', async () => {
    const notPng = await request(t.app)
      .put('/api/v1/certificates/seal')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .attach('file', Buffer.from('GIF89a not a png'), 'seal.png')
      .expect(400);
    expect(notPng.body.errors[0].message).toBe('公章图片须为 PNG 格式（建议透明背景）。');
    // A red square as the seal.
    const png = new PNG({ width: 120, height: 120 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([200, 16, 46, 255], i);
    await request(t.app)
      .put('/api/v1/certificates/seal')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .attach('file', PNG.sync.write(png), 'seal.png')
      .expect(200);
    await api('admin').post(`/rounds/${roundId}/certificates`).send({}).expect(202);
    await drainQueue(t);
    const bytes = (await downloadBinary(api('school').get('/certificates/LISHI-00004/pdf')).expect(200)).body as Buffer;
    const page = PNG.sync.read(await pdfPagePng(bytes, 72));
    // The seal sits over the date, bottom right: count strongly red pixels there.
    let red = 0;
    for (let y = Math.floor(page.height * 0.7); y < page.height * 0.95; y++)
      for (let x = Math.floor(page.width * 0.6); x < page.width * 0.95; x++) {
        const o = (y * page.width + x) * 4;
        if (page.data[o] > 150 && page.data[o + 1] < 80 && page.data[o + 2] < 100) red++;
      }
    expect(red).toBeGreaterThan(3000);
    fs.writeFileSync(LOOK.replace('.png', '-seal.png'), PNG.sync.write(page));
  }, 120_000);

  test('when 50 certificates are zipped, then the round ZIP streams them all, and a school ZIP holds only its own', async () => {
    for (let i = 0; i < 48; i++) await awardedEntry(ids.school, 'c-lishi', 'excellence', { director: null });
    await api('admin').post(`/rounds/${roundId}/certificates`).send({}).expect(202);
    await drainQueue(t, { timeoutMs: 120_000 });
    const list = await api('admin').get(`/rounds/${roundId}/certificates`).expect(200);
    const live = list.body.items.filter((i: { revoked: boolean }) => !i.revoked);
    expect(live).toHaveLength(50); // the re-issued first entry and its director, and 48 new awards
    const zip = await downloadBinary(api('admin').get(`/rounds/${roundId}/certificates.zip`)).expect(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-length']).toBeUndefined(); // streamed, not buffered
    const names = zipNames(zip.body as Buffer);
    expect(names).toHaveLength(live.length);
    expect(names.every((n) => n.endsWith('.pdf'))).toBe(true);
    expect(names).toContain('LISHI-00004_离石区凤山小学_二等奖.pdf');

    const own = await downloadBinary(api('school').get(`/schools/${ids.school}/certificates.zip`)).expect(200);
    expect(zipNames(own.body as Buffer).every((n) => n.startsWith('LISHI-'))).toBe(true);
    expect((await api('otherSchool').get(`/schools/${ids.school}/certificates.zip`)).status).toBe(404);

    const print = await downloadBinary(api('admin').get(`/rounds/${roundId}/certificates/print.pdf`)).expect(200);
    expect((await pdfInfo(print.body as Buffer)).pages).toBe(live.length);
  }, 240_000);

  test('when the QR helper encodes a verify URL, then it decodes back exactly (the test decoder is sound)', async () => {
    const png = PNG.sync.read(await qrPng('https://changxiang.example.cn/verify/LISHI-00001'));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe('https://changxiang.example.cn/verify/LISHI-00001');
  });
});

/** File names in a ZIP's central directory (UTF-8 names). */
function zipNames(zip: Buffer): string[] {
  const names: string[] = [];
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const nameLen = zip.readUInt16LE(p + 28);
    const extra = zip.readUInt16LE(p + 30);
    const comment = zip.readUInt16LE(p + 32);
    names.push(zip.subarray(p + 46, p + 46 + nameLen).toString('utf8'));
    p += 46 + nameLen + extra + comment;
  }
  return names;
}
