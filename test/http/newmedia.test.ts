/**
 * The new-media desk over HTTP for the 新媒体编辑 role: what it sees (awarded entries only), starting
 * and restarting packs (job queued in the same transaction, old files removed, audited), the ZIPs
 * (Chinese names, logged), and who may do what. No ffmpeg runs here: a "ready pack" is a
 * `media_packs` row plus a few KB of bytes in the store; real packs are made in
 * test/integration/newmedia/pack-job.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import request from 'supertest';
import { packTexts } from '../../src/newmedia/newmedia.post';
import { todoItems } from '../../src/newmedia/newmedia.todo';
import { objectKeys } from '../../src/platform/storage/object-keys';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { downloadBinary } from '../support/xlsx';

const exec = promisify(execFile);
const UTF8 = { env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
let t: TestApp;
let dir: string;
let editor: { Authorization: string };
let editorUser: { id: string; username: string };
const entries = { awarded: '', aired: '', forwarded: '' };

const texts = packTexts({
  campaignTitle: '学习党的二十大精神 唱响青春主旋律',
  songTitle: '吕梁颂',
  schoolName: '离石区测试小学',
  countyName: '离石区',
  formLabel: '合唱',
  teachers: '王老师',
  performerCount: 30,
  awardLabel: '一等奖',
});

/** A ready pack for `entryId`: the row and four small files in the store. */
async function readyPack(entryId: string): Promise<string> {
  const db = t.container.database.db;
  const e = await db.selectFrom('entries').select('video_id').where('id', '=', entryId).executeTakeFirstOrThrow();
  const { id } = await db
    .insertInto('media_packs')
    .values({ campaign_id: 'main', entry_id: entryId, video_id: e.video_id!, texts: JSON.stringify(texts), max_bytes: 1000, status: 'ready', progress: 100 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const outputs: Record<string, { key: string; sizeBytes: number }> = {};
  for (const [kind, file] of [
    ['oa', 'oa.mp4'],
    ['vertical', 'vertical.mp4'],
    ['coverWide', 'cover-wide.jpg'],
    ['coverSquare', 'cover-square.jpg'],
  ] as const) {
    const key = objectKeys.packFile(id, file);
    await t.container.store.putStream(key, Readable.from([Buffer.from(`${kind} of ${entryId}`)]), { contentType: 'application/octet-stream' });
    outputs[kind] = { key, sizeBytes: 20 };
  }
  await db
    .updateTable('media_packs')
    .set({ outputs: JSON.stringify(outputs), ready_at: new Date() })
    .where('id', '=', id)
    .execute();
  return id;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-newmedia-'));
  t = await createTestApp();
  editorUser = await t.createUser('newmedia');
  editor = { Authorization: `Bearer ${await t.token(editorUser.username)}` };
  const school = await schoolWithToken(t);
  for (const [k, status] of [
    ['awarded', 'awarded'],
    ['aired', 'aired'],
    ['forwarded', 'forwarded'],
  ] as const) {
    const e = await createEntry(t, school.token, { title: `新媒体 ${k}` });
    await attachReadyVideo(t, e.id);
    await t.container.database.db
      .updateTable('entries')
      .set({ status, award: status === 'forwarded' ? null : 'first' })
      .where('id', '=', e.id)
      .execute();
    entries[k] = e.id;
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test('when the editor opens the desk, then it lists the awarded entries only (also aired ones), each without a pack yet', async () => {
  const res = await request(t.app).get('/api/v1/media-packs').set(editor).expect(200);
  const ids = (res.body.items as Array<{ entry: { id: string }; pack: unknown }>).map((i) => i.entry.id).sort();
  expect(ids).toEqual([entries.awarded, entries.aired].sort());
  expect(res.body.items.every((i: { pack: unknown }) => i.pack === null)).toBe(true);
  // The entry list is scoped the same way.
  const list = await request(t.app).get('/api/v1/entries').set(editor).expect(200);
  expect((list.body.items as Array<{ id: string }>).map((i) => i.id).sort()).toEqual([entries.awarded, entries.aired].sort());
  const page = await (await t.browser(editorUser.username)).agent.get('/newmedia').expect(200);
  expect(page.text).toContain('新媒体展播');
  expect(page.text).toContain('制作新媒体包');
});

test('when the editor starts a pack, then a job is queued in the same step, the start is audited, and a restart replaces the old pack and its files', async () => {
  const db = t.container.database.db;
  const oldId = await readyPack(entries.aired);
  const res = await request(t.app).post(`/api/v1/entries/${entries.aired}/media-pack`).set(editor).expect(202);
  expect(res.body).toMatchObject({ status: 'queued', progress: 0, error: null, downloadUrl: null });
  expect(res.body.post.body).toContain('指导教师');
  const jobs = await db.selectFrom('jobs').select(['type', 'payload']).where('type', '=', 'newmedia.pack').execute();
  expect(jobs.map((j) => (j.payload as { entryId: string }).entryId)).toContain(entries.aired);
  expect(await db.selectFrom('media_packs').select('id').where('id', '=', oldId).executeTakeFirst()).toBeUndefined();
  expect(await t.container.store.head(objectKeys.packFile(oldId, 'oa.mp4'))).toBeNull();
  const audit = await db.selectFrom('audit_log').select('action').where('object_id', '=', entries.aired).where('action', 'like', 'entry.media_pack%').execute();
  expect(audit.map((a) => a.action)).toEqual(['entry.media_pack_restart']);
  // Not ready yet: nothing to download.
  const zip = await request(t.app).get(`/api/v1/entries/${entries.aired}/media-pack.zip`).set(editor).expect(404);
  expect(zip.body.detail).toBe('新媒体包还没有制作完成。');
  expect(zip.headers['content-disposition']).toBeUndefined();
});

test('when a ready pack is downloaded, then it is one ZIP named after the entry in Chinese with the five files, and the download is logged', async () => {
  await readyPack(entries.awarded);
  const item = await request(t.app).get(`/api/v1/entries/${entries.awarded}/media-pack`).set(editor).expect(200);
  expect(item.body.fileName).toMatch(/^吕梁颂_离石区.+_.+\.zip$/);
  const res = await downloadBinary(request(t.app).get(item.body.downloadUrl).set(editor)).expect(200);
  expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent(item.body.fileName)}`);
  const file = path.join(dir, 'one.zip');
  await writeFile(file, res.body as Buffer);
  await exec('unzip', ['-tq', file]);
  const { stdout } = await exec('zipinfo', ['-1', file], UTF8);
  const folder = item.body.fileName.replace(/\.zip$/, '');
  expect(stdout.trim().split('\n')).toEqual(
    ['公众号视频.mp4', '视频号竖版.mp4', '封面_2.35比1.jpg', '封面_1比1.jpg', '推文草稿.txt'].map((n) => `${folder}/${n}`),
  );
  const { stdout: post } = await exec('unzip', ['-p', file, `${folder}/推文草稿.txt`], UTF8);
  expect(post).toContain(`标题：${texts.post.title}`);
  const logged = await t.container.database.db.selectFrom('downloads').select(['kind', 'entry_id', 'username']).where('kind', '=', 'media_pack').execute();
  expect(logged).toEqual([{ kind: 'media_pack', entry_id: entries.awarded, username: editorUser.username }]);
});

test('when an entry stops being awarded, then its pack can no longer be downloaded alone or in the all-packs ZIP', async () => {
  const db = t.container.database.db;
  await db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', entries.awarded).execute();
  await request(t.app).get(`/api/v1/entries/${entries.awarded}/media-pack.zip`).set(editor).expect(404);
  const all = await request(t.app).get('/api/v1/media-packs.zip').set(editor).expect(404);
  expect(all.body.detail).toBe('还没有制作完成的新媒体包。');
  await db.updateTable('entries').set({ status: 'awarded' }).where('id', '=', entries.awarded).execute();
  const ok = await downloadBinary(request(t.app).get(`/api/v1/media-packs.zip?entryId=${entries.awarded}`).set(editor)).expect(200);
  await writeFile(path.join(dir, 'all.zip'), ok.body as Buffer);
  const { stdout } = await exec('zipinfo', ['-1', path.join(dir, 'all.zip')], UTF8);
  expect(stdout.trim().split('\n')).toHaveLength(5);
});

test('when other roles call the new-media API, then school, county, judge and tv are refused (403) and the editor gets 404 for a non-awarded entry', async () => {
  for (const role of ['school', 'county', 'judge', 'tv'] as const) {
    const u = await t.createUser(role, role === 'county' ? { countyId: 'c-lishi' } : {});
    const h = { Authorization: `Bearer ${await t.token(u.username)}` };
    await request(t.app).get('/api/v1/media-packs').set(h).expect(403);
    await request(t.app).post(`/api/v1/entries/${entries.awarded}/media-pack`).set(h).expect(403);
  }
  for (const [method, p] of [
    ['post', `/api/v1/entries/${entries.forwarded}/media-pack`],
    ['get', `/api/v1/entries/${entries.forwarded}/media-pack`],
    ['get', `/api/v1/entries/${entries.forwarded}/media-pack.zip`],
  ] as const) {
    const res = await request(t.app)[method](p).set(editor).expect(404);
    expect(res.body.code).toBe('not_found');
  }
});

test('when a pack failed and an awarded entry has none, then the editor’s to-do lists both, and other roles get nothing', async () => {
  const db = t.container.database.db;
  const me = await db.selectFrom('users').selectAll().where('id', '=', editorUser.id).executeTakeFirstOrThrow();
  const asUser = { id: me.id, username: me.username, role: me.role, displayName: me.display_name, schoolId: me.school_id, countyId: me.county_id };
  await db.updateTable('media_packs').set({ status: 'failed', error: '测试' }).where('entry_id', '=', entries.aired).execute();
  await db.deleteFrom('media_packs').where('entry_id', '=', entries.awarded).execute();
  const items = await todoItems(db, asUser, 'main');
  expect(items).toEqual([
    { key: 'media_pack.failed', label: '新媒体包制作失败，待重试', count: 1, href: '/newmedia', tone: 'danger' },
    { key: 'media_pack.unpacked', label: '获奖作品待制作新媒体包', count: 1, href: '/newmedia', tone: 'info' },
  ]);
  expect(await todoItems(db, { ...asUser, role: 'school' }, 'main')).toEqual([]);
});

test('when an entry’s permission for new media is withdrawn (removePack), then its pack row and files are gone and the removal is audited', async () => {
  const db = t.container.database.db;
  const packId = await readyPack(entries.awarded);
  const admin = await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
  await t.container.newMedia.removePack(
    { id: admin.id, username: admin.username, role: admin.role, displayName: admin.display_name, schoolId: null, countyId: null },
    entries.awarded,
  );
  expect(await db.selectFrom('media_packs').select('id').where('entry_id', '=', entries.awarded).executeTakeFirst()).toBeUndefined();
  expect(await t.container.store.head(objectKeys.packFile(packId, 'vertical.mp4'))).toBeNull();
  const audit = await db
    .selectFrom('audit_log')
    .select('action')
    .where('object_id', '=', entries.awarded)
    .where('action', '=', 'entry.media_pack_removed')
    .execute();
  expect(audit).toHaveLength(1);
  await request(t.app).get(`/api/v1/entries/${entries.awarded}/media-pack`).set(editor).expect(404);
});
