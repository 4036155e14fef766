import ExcelJS from 'exceljs';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';

/** Counties and schools: pages, API and CSV/XLSX import (issue 2). */
const COUNTIES = ['离石区', '孝义市', '汾阳市', '文水县', '交城县', '兴县', '临县', '柳林县', '石楼县', '岚县', '方山县', '中阳县', '交口县'];

async function xlsx(rows: Array<Array<string | number>>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学校');
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('organisation: counties and schools', () => {
  let t: TestApp;
  let adminToken: string;
  const db = () => t.container.database.db;
  const schoolsNamed = (...names: string[]) =>
    db().selectFrom('schools').select(['name', 'county_id', 'level']).where('name', 'in', names).orderBy('name').execute();

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = await t.token('admin');
  });
  afterAll(async () => {
    await t.close();
  });

  test('when an admin opens the counties page, then all 13 county-level bureaus and 市直学校 are listed with school counts', async () => {
    await t.createSchool({ name: '县区计数小学', countyId: 'c-jiaokou' });
    const { agent } = await t.browser('admin');
    const res = await agent.get('/org/counties').expect(200);
    for (const name of COUNTIES) expect(res.text).toContain(`<td data-label="县区">${name}</td>`);
    expect(res.text).toContain('市直学校');
    expect(res.text).toMatch(/交口县<\/td><td data-label="学校数">1<\/td>/);
    const api = await request(t.app).get('/api/v1/counties').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(api.body.map((c: { name: string }) => c.name)).toEqual(COUNTIES);
    expect(api.body[0]).toEqual({ id: 'c-lishi', code: 'lishi', name: '离石区' });
  });

  test('when an admin creates a school in a county and one under the city (市直) with the form, then both are saved and listed', async () => {
    const { agent, csrf } = await t.browser('admin');
    const form = await agent.get('/org/schools/new?countyId=c-xiaoyi').expect(200);
    expect(form.text).toContain('<option value="c-xiaoyi" selected>孝义市</option>');
    const a = await agent.post('/org/schools').type('form').send({ _csrf: csrf, name: '孝义市第一小学', countyId: 'c-xiaoyi', level: 'primary' }).expect(303);
    expect(a.headers.location).toBe('/org/schools?countyId=c-xiaoyi&msg=school_created');
    const b = await agent.post('/org/schools').type('form').send({ _csrf: csrf, name: '吕梁市直属实验中学', countyId: '', level: '' }).expect(303);
    expect(b.headers.location).toBe('/org/schools?countyId=city&msg=school_created');
    expect(await schoolsNamed('孝义市第一小学', '吕梁市直属实验中学')).toEqual([
      { name: '吕梁市直属实验中学', county_id: null, level: null },
      { name: '孝义市第一小学', county_id: 'c-xiaoyi', level: 'primary' },
    ]);
    const list = await agent.get('/org/schools?countyId=city&msg=school_created').expect(200);
    expect(list.text).toContain('学校已创建。');
    expect(list.text).toContain('吕梁市直属实验中学');
    expect(list.text).not.toContain('孝义市第一小学');
  });

  test('when an admin edits a school, then the name, level and county change, including moving it to 市直', async () => {
    const school = await t.createSchool({ name: '待编辑小学', countyId: 'c-lishi' });
    const { agent, csrf } = await t.browser('admin');
    const form = await agent.get(`/org/schools/${school.id}/edit`).expect(200);
    expect(form.text).toContain('value="待编辑小学"');
    await agent.post(`/org/schools/${school.id}`).type('form').send({ _csrf: csrf, name: '已编辑中学', countyId: '', level: 'junior' }).expect(303);
    expect(await schoolsNamed('已编辑中学')).toEqual([{ name: '已编辑中学', county_id: null, level: 'junior' }]);
    const api = await request(t.app)
      .patch(`/api/v1/schools/${school.id}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ countyId: 'c-linxian' })
      .expect(200);
    expect(api.body).toMatchObject({ id: school.id, name: '已编辑中学', countyId: 'c-linxian', countyName: '临县', level: 'junior' });
  });

  test('when a form posts only a new name, then the county and level stay as they were', async () => {
    const school = await t.createSchool({ name: '只改名小学', countyId: 'c-fenyang' });
    await request(t.app).patch(`/api/v1/schools/${school.id}`).set('Authorization', `Bearer ${adminToken}`).send({ level: 'primary' }).expect(200);
    const { agent, csrf } = await t.browser('admin');
    await agent.post(`/org/schools/${school.id}`).type('form').send({ _csrf: csrf, name: '只改了名的小学' }).expect(303);
    expect(await schoolsNamed('只改了名的小学')).toEqual([{ name: '只改了名的小学', county_id: 'c-fenyang', level: 'primary' }]);
  });

  test('when a school name already exists in the same county, then 400 with a Chinese message; the same name in another county is fine', async () => {
    await t.createSchool({ name: '重名小学', countyId: 'c-lishi' });
    const { agent, csrf } = await t.browser('admin');
    const form = await agent.post('/org/schools').type('form').send({ _csrf: csrf, name: '重名小学', countyId: 'c-lishi' });
    expect(form.status).toBe(400);
    expect(form.text).toContain('该县区已有名为「重名小学」的学校');
    expect(form.text).toContain('value="重名小学"'); // what the user typed is kept
    const api = await request(t.app).post('/api/v1/schools').set('Authorization', `Bearer ${adminToken}`).send({ name: '重名小学', countyId: 'c-lishi' });
    expect(api.status).toBe(400);
    expect(api.body.errors).toEqual([{ field: 'name', message: '该县区已有名为「重名小学」的学校' }]);
    await request(t.app).post('/api/v1/schools').set('Authorization', `Bearer ${adminToken}`).send({ name: '重名小学', countyId: 'c-fenyang' }).expect(201);
    await request(t.app).post('/api/v1/schools').set('Authorization', `Bearer ${adminToken}`).send({ name: '重名小学', countyId: null }).expect(201);
    const cityAgain = await request(t.app).post('/api/v1/schools').set('Authorization', `Bearer ${adminToken}`).send({ name: '重名小学', countyId: null });
    expect(cityAgain.status).toBe(400);
  });

  test('when a school is given an unknown county or level, then 400 naming each field', async () => {
    const res = await request(t.app)
      .post('/api/v1/schools')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ name: '无效引用小学', countyId: 'c-nowhere', level: 'university' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'countyId', message: '所属县区不存在' },
      { field: 'level', message: '学段不存在' },
    ]);
  });

  test('when a county reviewer lists schools, then it sees only its own county, whatever countyId it asks for', async () => {
    await t.createSchool({ name: '汾阳只读小学', countyId: 'c-fenyang' });
    const own = await t.createSchool({ name: '离石只读小学', countyId: 'c-lishi' });
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    const token = await t.token(county.username);
    const res = await request(t.app).get('/api/v1/schools?countyId=c-fenyang&pageSize=200').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.items.every((s: { countyId: string }) => s.countyId === 'c-lishi')).toBe(true);
    expect(res.body.items.map((s: { id: string }) => s.id)).toContain(own.id);
    const { agent } = await t.browser(county.username);
    const page = await agent.get('/org/schools').expect(200);
    expect(page.text).toContain('离石只读小学');
    expect(page.text).not.toContain('汾阳只读小学');
    expect(page.text).not.toContain('批量导入'); // import is for the city only
  });

  describe('import from CSV and XLSX: all rows or none', () => {
    const importApi = (buf: Buffer, name: string) =>
      request(t.app).post('/api/v1/schools/import').set('Authorization', `Bearer ${adminToken}`).attach('file', buf, name);

    test('when a UTF-8 CSV is uploaded through the page, then every row is imported and the list says so', async () => {
      const { agent, csrf } = await t.browser('admin');
      const csv = '学校名称,所属县区,学段\n导入甲小学,离石区,小学\n导入乙中学,市直,高中\n\n导入丙幼儿园,兴县,\n';
      const res = await agent.post('/org/schools/import').field('_csrf', csrf).attach('file', Buffer.from(csv), '学校.csv').expect(303);
      expect(res.headers.location).toBe('/org/schools?msg=schools_imported&imported=3');
      expect(await schoolsNamed('导入甲小学', '导入乙中学', '导入丙幼儿园')).toEqual([
        { name: '导入丙幼儿园', county_id: 'c-xingxian', level: null },
        { name: '导入乙中学', county_id: null, level: 'senior' },
        { name: '导入甲小学', county_id: 'c-lishi', level: 'primary' },
      ]);
    });

    test('when the CSV starts with a byte-order mark (Excel "CSV UTF-8"), then the header is still recognised', async () => {
      const csv = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('学校名称,所属县区\r\nBOM一小学,汾阳市\r\nBOM二小学,文水县\r\n')]);
      const res = await importApi(csv, 'bom.csv').expect(201);
      expect(res.body).toEqual({ imported: 2 });
      expect((await schoolsNamed('BOM一小学', 'BOM二小学')).map((s) => s.county_id)).toEqual(['c-fenyang', 'c-wenshui']);
    });

    test('when an XLSX file is uploaded, then its first sheet is imported', async () => {
      const file = await xlsx([
        ['学校名称', '所属县区', '学段'],
        ['表格一小学', '交城县', '小学'],
        ['表格二中学', '市直学校', '初中'],
        ['表格三中职', '柳林县', '中职'],
      ]);
      const res = await importApi(file, '学校名单.xlsx').expect(201);
      expect(res.body).toEqual({ imported: 3 });
      expect(await schoolsNamed('表格一小学', '表格二中学', '表格三中职')).toEqual([
        { name: '表格一小学', county_id: 'c-jiaocheng', level: 'primary' },
        { name: '表格三中职', county_id: 'c-liulin', level: 'vocational' },
        { name: '表格二中学', county_id: null, level: 'junior' },
      ]);
    });

    test('when one file has an unknown county, a blank name, a duplicate and an existing school, then nothing is imported and each bad row is reported in Chinese', async () => {
      await t.createSchool({ name: '早已存在小学', countyId: 'c-lishi' });
      const csv = [
        '学校名称,所属县区,学段',
        '好行一小学,离石区,小学', // row 2: fine
        '坏行小学,火星县,小学', // row 3: unknown county
        ',离石区,小学', // row 4: blank name
        '好行二小学,孝义市,', // row 5: fine
        '好行二小学,孝义市,', // row 6: duplicate in the file
        '坏学段小学,临县,大学', // row 7: unknown level
        '早已存在小学,离石区,', // row 8: already in the database
      ].join('\n');
      const res = await importApi(Buffer.from(csv), 'bad.csv');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.title).toBe('导入失败，未导入任何学校');
      expect(res.body.errors).toEqual([
        { field: 'row3', message: '第 3 行：县区「火星县」不存在' },
        { field: 'row4', message: '第 4 行：学校名称不能为空' },
        { field: 'row6', message: '第 6 行：「好行二小学」在文件中重复' },
        { field: 'row7', message: '第 7 行：学段「大学」不存在' },
        { field: 'row8', message: '第 8 行：「早已存在小学」已存在' },
      ]);
      expect(await schoolsNamed('好行一小学', '好行二小学', '坏行小学', '坏学段小学')).toEqual([]);

      const { agent, csrf } = await t.browser('admin');
      const page = await agent.post('/org/schools/import').field('_csrf', csrf).attach('file', Buffer.from(csv), 'bad.csv');
      expect(page.status).toBe(400);
      expect(page.text).toContain('导入失败，未导入任何学校');
      expect(page.text).toContain('第 3 行：县区「火星县」不存在');
      expect(page.text).toContain('第 4 行：学校名称不能为空');
      expect(page.text).toContain('第 6 行：「好行二小学」在文件中重复');
    });

    test('when a row names a school that already exists in that county, then that row is reported and nothing is imported', async () => {
      await t.createSchool({ name: '已有甲小学', countyId: 'c-lishi' });
      const file = await xlsx([
        ['学校名称', '所属县区'],
        ['新来的小学', '离石区'],
        ['已有甲小学', '离石区'],
        ['已有甲小学', '孝义市'],
      ]);
      const res = await importApi(file, 'dup.xlsx');
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'row3', message: '第 3 行：「已有甲小学」已存在' }]);
      expect(await schoolsNamed('新来的小学')).toEqual([]);
    });

    test('when the existing school is in another county than a row with the same name, then only the really duplicated row is reported', async () => {
      await t.createSchool({ name: '同名异县小学', countyId: 'c-xiaoyi' });
      const csv = '学校名称,所属县区\n同名异县小学,离石区\n同名异县小学,孝义市\n';
      const res = await importApi(Buffer.from(csv), 'same-name.csv');
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'row3', message: '第 3 行：「同名异县小学」已存在' }]);
    });

    test('when the same file is imported twice at once, then one import succeeds and the other is refused with 400 naming the rows, never 500', async () => {
      for (let round = 0; round < 4; round++) {
        const csv = ['学校名称,所属县区', ...Array.from({ length: 300 }, (_, i) => `并发导入${round}号第${i}小学,离石区`)].join('\n');
        const [a, b] = await Promise.all([importApi(Buffer.from(csv), 'a.csv'), importApi(Buffer.from(csv), 'b.csv')]);
        expect([a.status, b.status].sort()).toEqual([201, 400]);
        const refused = a.status === 400 ? a : b;
        expect(refused.body.errors[0].message).toContain('已存在');
        const count = await t.container.db
          .selectFrom('schools')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('name', 'like', `并发导入${round}号%`)
          .executeTakeFirstOrThrow();
        expect(Number(count.n)).toBe(300);
      }
    });

    test('when the header is missing, the file is not a spreadsheet, or no file is sent, then 400 with a Chinese explanation', async () => {
      const noHeader = await importApi(Buffer.from('名字,地方\n甲,离石区\n'), 'x.csv');
      expect(noHeader.status).toBe(400);
      expect(noHeader.body.errors).toEqual([{ field: 'row1', message: '第 1 行：表头必须包含「学校名称」和「所属县区」两列' }]);
      const fakeXlsx = await importApi(Buffer.from('PK\u0003\u0004 not really a zip'), 'x.xlsx');
      expect(fakeXlsx.status).toBe(400);
      expect(fakeXlsx.body.detail).toContain('无法读取 XLSX 文件');
      const none = await request(t.app).post('/api/v1/schools/import').set('Authorization', `Bearer ${adminToken}`).field('x', '1');
      expect(none.status).toBe(400);
      expect(none.body.detail).toContain('请上传 CSV 或 XLSX 文件');
    });

    test('when the import file is over 5 MB, then 413 payload_too_large and nothing is imported; the temp dir is left empty', async () => {
      const big = Buffer.concat([Buffer.from('学校名称,所属县区\n超大文件小学,离石区\n'), Buffer.alloc(5 * 1024 * 1024 + 10, 0x20)]);
      const res = await importApi(big, 'big.csv');
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
      expect(await schoolsNamed('超大文件小学')).toEqual([]);
      const fs = await import('node:fs');
      expect(fs.readdirSync(t.config.uploads.tmpDir)).toEqual([]);
    });
  });
});
