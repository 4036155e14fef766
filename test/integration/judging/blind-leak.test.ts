/**
 * Blind judging leaks nothing (issue 5 checks, docs/security.md 12, docs/architecture.md §9): an entry whose school,
 * director and uploader carry distinctive strings — also in the uploaded file's name and in its
 * container and stream metadata — goes the real way: upload through the API, in-process ffmpeg
 * ingest, submit, county forward, blind round, assignment, open. Then everything the judge can
 * fetch (queue JSON, assignment JSON, a draft save's answer, preview and poster bytes and headers,
 * incl. a Range request, the judge pages and the same-origin links on them) is searched for those
 * strings (UTF-8 and UTF-16), for the school's county, the file name and the ids of the school,
 * county and uploader; and ffprobe of the downloaded preview and poster must not show them either.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { resolveMediaBinaries } from '../../../src/platform/media/binaries';
import { createTestApp, type TestApp } from '../../support/app';
import { createEntry, uploadFile, waitForVideo } from '../../support/entries';

const run = promisify(execFile);

const SCHOOL = '泄密检测学校ZQX';
const DIRECTOR = '导演ZQX';
const SIGNER = '声明人ZQX';
const UPLOADER_NAME = '上传者ZQX';
const UPLOADER_USERNAME = 'uploader_zqx';
const COUNTY_NAME = '离石区';
const FILE_NAME = `${SCHOOL}-${DIRECTOR}-${UPLOADER_NAME}-原始录像.mp4`;

interface Fetched {
  what: string;
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
}

describe('blind round: nothing a judge can fetch identifies the school, county, director or uploader', () => {
  let t: TestApp;
  let dir: string;
  let secrets: string[];
  let assignmentId: string;
  let judgeUsername: string;
  let judgeToken: string;
  let admin: string;
  let entryId: string;
  let entryCode: string;
  let videoId: string;
  let round1: string;

  beforeAll(async () => {
    t = await createTestApp();
    t.container.startWorker();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-blind-'));
    admin = await t.token('admin');
    const periodId = (await t.container.campaign.listPeriods())[0].id;

    const school = await t.createSchool({ name: SCHOOL, countyId: 'c-lishi' });
    const uploader = await t.createUser('school', { username: UPLOADER_USERNAME, displayName: UPLOADER_NAME, schoolId: school.id });
    const reviewer = await t.createUser('county', { countyId: 'c-lishi' });
    const judge = await t.createUser('judge', { countyId: null });
    judgeUsername = judge.username;
    const [schoolToken, reviewerToken] = await Promise.all([t.token(uploader.username), t.token(reviewer.username)]);
    judgeToken = await t.token(judge.username);

    // A real clip whose container and stream metadata carry the secrets, under a file name that does too.
    const clip = path.join(dir, FILE_NAME);
    const { ffmpeg } = resolveMediaBinaries();
    await run(ffmpeg, [
      '-hide_banner',
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25:duration=2',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000:duration=2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-metadata',
      `title=${SCHOOL}`,
      '-metadata',
      `artist=${DIRECTOR}`,
      '-metadata',
      `comment=${UPLOADER_NAME} ${COUNTY_NAME}`,
      '-metadata',
      `album=${FILE_NAME}`,
      '-metadata:s:v:0',
      `handler_name=${SCHOOL}`,
      '-metadata:s:a:0',
      `handler_name=${DIRECTOR}`,
      '-shortest',
      clip,
    ]);
    const probeIn = await ffprobeText(clip);
    expect(probeIn).toContain(SCHOOL); // the upload really carries them
    expect(probeIn).toContain(DIRECTOR);

    const entry = await createEntry(t, schoolToken, { title: '我们的歌', directorName: DIRECTOR });
    await uploadFile(t, schoolToken, entry.id, clip, FILE_NAME).expect(202);
    const video = await waitForVideo(t, entry.id, { timeoutMs: 45_000 });
    expect(video.status).toBe('ready');
    expect(video.original_name).toBe(FILE_NAME);
    entryId = entry.id;
    entryCode = entry.code;
    videoId = video.id;

    const as = (token: string) => ({
      post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
    });
    await as(schoolToken).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    // Forwarding needs the guardians' authorisation (issue 16): the school declares it.
    await request(t.app)
      .put(`/api/v1/entries/${entry.id}/consent`)
      .set('Authorization', `Bearer ${schoolToken}`)
      .send({ declaration: true, signerName: SIGNER, scopes: ['public'] })
      .expect(200);
    await as(reviewerToken).post(`/api/v1/entries/${entry.id}/forward`, { periodId }).expect(200);
    const round = (round1 = (
      await as(admin).post('/api/v1/rounds', { name: '匿名初评', periodId, judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)
    ).body.id);
    expect((await as(admin).post(`/api/v1/rounds/${round}/entries`, {}).expect(200)).body).toEqual({ added: 1 });
    await as(admin)
      .post(`/api/v1/rounds/${round}/judges`, { userIds: [judge.id] })
      .expect(200);
    await as(admin).post(`/api/v1/rounds/${round}/assign`).expect(200);
    await as(admin).post(`/api/v1/rounds/${round}/open`).expect(200);

    // The entry's code is public (公示) and its ids are seen by the school, county and TV: a blind
    // judge must get none of them — nor the school's own title.
    secrets = [
      SCHOOL,
      DIRECTOR,
      SIGNER,
      UPLOADER_NAME,
      UPLOADER_USERNAME,
      COUNTY_NAME,
      FILE_NAME,
      '原始录像',
      'c-lishi',
      school.id,
      uploader.id,
      entry.id,
      entry.code,
      video.id,
      '我们的歌',
    ];
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function ffprobeText(file: string): Promise<string> {
    const { ffprobe } = resolveMediaBinaries();
    const { stdout, stderr } = await run(ffprobe, ['-hide_banner', '-show_format', '-show_streams', file], { maxBuffer: 8 * 1024 * 1024 });
    return stdout + stderr;
  }

  function leaks(f: { body: Buffer; headers: Record<string, unknown> }): string[] {
    const headerText = JSON.stringify(f.headers);
    const found: string[] = [];
    for (const s of secrets) {
      if (headerText.includes(s) || headerText.includes(encodeURIComponent(s))) found.push(`header:${s}`);
      if (f.body.includes(Buffer.from(s, 'utf8')) || f.body.includes(Buffer.from(s, 'utf16le'))) found.push(`body:${s}`);
      if (f.body.toString('latin1').includes(encodeURIComponent(s))) found.push(`body(url-encoded):${s}`);
    }
    return found;
  }

  const raw = (req: request.Test) =>
    req.buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      const stream = res as unknown as NodeJS.ReadableStream;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  const fetched = (what: string, res: request.Response): Fetched => ({
    what,
    status: res.status,
    headers: res.headers,
    body: Buffer.isBuffer(res.body) ? res.body : Buffer.from(res.text ?? ''), // HEAD: no body
  });

  test('when the judge fetches the queue, the assignment, a save, the preview and the poster, then no response carries an identifying string', async () => {
    // The detector itself finds each secret in UTF-8, UTF-16 and URL-encoded form.
    expect(leaks({ headers: {}, body: Buffer.from(`x${DIRECTOR}y`, 'utf16le') })).toEqual([`body:${DIRECTOR}`]);
    expect(leaks({ headers: { 'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(SCHOOL)}` }, body: Buffer.alloc(0) })).toEqual([
      `header:${SCHOOL}`,
    ]);
    const bearer = (r: request.Test) => raw(r.set('Authorization', `Bearer ${judgeToken}`));
    const queue = await bearer(request(t.app).get('/api/v1/judging/assignments')).expect(200);
    const list = JSON.parse((queue.body as Buffer).toString('utf8')) as Array<{
      id: string;
      blind: boolean;
      entry: { previewUrl: string; posterUrl: string; title: string };
    }>;
    expect(list).toHaveLength(1);
    expect(list[0].blind).toBe(true);
    assignmentId = list[0].id;
    const a = list[0];

    const all: Fetched[] = [fetched('GET queue', queue)];
    all.push(fetched('GET assignment', await bearer(request(t.app).get(`/api/v1/judging/assignments/${assignmentId}`)).expect(200)));
    all.push(
      fetched(
        'PUT draft',
        await bearer(
          request(t.app)
            .put(`/api/v1/judging/assignments/${assignmentId}`)
            .send({ scores: { singing: 40 }, comment: '好' }),
        ).expect(200),
      ),
    );
    const preview = await bearer(request(t.app).get(a.entry.previewUrl)).expect(200);
    all.push(fetched('GET preview', preview));
    all.push(fetched('GET preview (range)', await bearer(request(t.app).get(a.entry.previewUrl).set('Range', 'bytes=0-1023')).expect(206)));
    all.push(fetched('HEAD preview', await bearer(request(t.app).head(a.entry.previewUrl)).expect(200)));
    const poster = await bearer(request(t.app).get(a.entry.posterUrl)).expect(200);
    all.push(fetched('GET poster', poster));

    expect(preview.headers['content-type']).toBe('video/mp4');
    expect(preview.headers['content-disposition']).toMatch(/^inline; filename="A-\d{3}\.mp4"/);
    expect((preview.body as Buffer).length).toBeGreaterThan(1000);
    for (const f of all) expect({ what: f.what, leaks: leaks(f) }).toEqual({ what: f.what, leaks: [] });

    // ffprobe of what the judge downloaded.
    const previewFile = path.join(dir, 'downloaded-preview.mp4');
    const posterFile = path.join(dir, 'downloaded-poster.jpg');
    fs.writeFileSync(previewFile, preview.body as Buffer);
    fs.writeFileSync(posterFile, poster.body as Buffer);
    for (const file of [previewFile, posterFile]) {
      const text = await ffprobeText(file);
      expect(text).toContain('codec_name=');
      expect({ file: path.basename(file), found: secrets.filter((s) => text.includes(s)) }).toEqual({ file: path.basename(file), found: [] });
    }
  });

  test('when the judge opens the judge pages (and every same-origin link on them), then none carries an identifying string', async () => {
    const { agent } = await t.browser(judgeUsername);
    const get = (url: string) => raw(agent.get(url));
    const queuePage = await get('/judging');
    if (queuePage.status === 404) {
      // The judge HTML pages are landed separately (judging.pages.ts); until then only the API is checked.
      console.warn('blind-leak: /judging is 404 — judge pages not mounted yet, HTML not checked');
      return;
    }
    expect(queuePage.status).toBe(200);
    const pages: Fetched[] = [fetched('GET /judging', queuePage), fetched('GET /', await get('/').expect(200))];
    const scorePage = await get(`/judging/${assignmentId}`);
    expect(scorePage.status).toBe(200);
    pages.push(fetched(`GET /judging/:id`, scorePage));

    // Follow every same-origin link and media source on those pages (not logout, not static assets).
    const links = new Set<string>();
    for (const p of pages) {
      for (const m of p.body.toString('utf8').matchAll(/(?:href|src|poster|action)="(\/[^"]*)"/g)) {
        const url = m[1].replace(/&amp;/g, '&');
        if (!url.startsWith('/static/') && !url.startsWith('/logout')) links.add(url);
      }
    }
    expect([...links].some((l) => l.includes(assignmentId))).toBe(true);
    for (const url of links) {
      const res = await get(url);
      if (res.status === 405 || res.status === 404) continue; // form actions answered only to POST
      pages.push(fetched(`GET ${url}`, res));
    }
    for (const f of pages) expect({ what: f.what, leaks: leaks(f) }).toEqual({ what: f.what, leaks: [] });
    // The page shows the round's label and the player (the code and title are left out of blind pages).
    const html = (scorePage.body as Buffer).toString('utf8');
    expect(html).toContain(`/api/v1/judging/assignments/${assignmentId}/preview`);
    expect(html).toMatch(/<code>A-\d{3}<\/code>/);
  });
  /**
   * Everything a judge can be handed that names the entry: values of id / code / label / URL
   * fields of the JSON, the file name of the media, and the same-origin links of the pages.
   * `roundId` is left out on purpose: it names the round (whose name is public anyway), not an entry.
   */
  function judgeIdentifiers(json: unknown, out: Set<string>): Set<string> {
    const walk = (v: unknown, key: string) => {
      if (key === 'rubric') return; // the criteria's keys and labels name the rubric, not the entry
      if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      else if (typeof v === 'string' && /(^id$|Id$|code|label|Url$)/i.test(key) && key !== 'roundId') out.add(v);
    };
    walk(json, '');
    return out;
  }

  test('when the entry is awarded, published and judged again in a second blind round, then the judge and the public page share no identifier', async () => {
    const bearer = (token: string) => ({
      get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
      post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
      put: (url: string, body?: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
    });
    const judge = bearer(judgeToken);
    const staff = bearer(admin);
    const ids = new Set<string>();
    const judgeTexts: string[] = [];
    const seen = async (res: request.Response) => {
      judgeTexts.push(res.text ?? '', String(res.headers['content-disposition'] ?? ''), String(res.headers.location ?? ''));
      if (res.type === 'application/json') judgeIdentifiers(res.body, ids);
      const name = /filename="([^"]+)"/.exec(String(res.headers['content-disposition'] ?? ''))?.[1];
      if (name) ids.add(name.replace(/\.\w+$/, ''));
      return res;
    };

    // Round 1: the judge scores; the round closes, shortlists, awards and is published (公示).
    const r1 = (await seen(await judge.get('/api/v1/judging/assignments').expect(200))).body as Array<{
      id: string;
      entry: { label: string; code: string; previewUrl: string; posterUrl: string };
    }>;
    expect(r1).toHaveLength(1);
    await seen(
      await judge.put(`/api/v1/judging/assignments/${r1[0].id}`, { scores: { singing: 45, artistry: 20, spirit: 12, costume: 8 }, submit: true }).expect(200),
    );
    await seen(await judge.get(r1[0].entry.previewUrl).set('Range', 'bytes=0-99').expect(206));
    await staff.post(`/api/v1/rounds/${round1}/close`).expect(200);
    await staff.post(`/api/v1/rounds/${round1}/shortlist`, { top: 1 }).expect(200);
    await staff.post(`/api/v1/rounds/${round1}/awards`, { tiers: [{ award: 'first', count: 1 }] }).expect(200);
    await staff.post(`/api/v1/rounds/${round1}/publish`).expect(200);

    // Round 2 from round 1's shortlist: the awarded entry is not taken without a word.
    const round2 = (await staff.post('/api/v1/rounds', { name: '匿名复评', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body
      .id as string;
    const self = await staff.post(`/api/v1/rounds/${round2}/entries`, { fromRoundShortlist: round2 }).expect(400);
    expect(self.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'fromRoundShortlist', message: '不能使用本轮自己的入围名单，请选择之前的一轮' }],
    });
    const unknown = await staff.post(`/api/v1/rounds/${round2}/entries`, { fromRoundShortlist: 'no-such-round' }).expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'fromRoundShortlist', message: '所选的上一轮评审不存在' }]);
    const refused = await staff.post(`/api/v1/rounds/${round2}/entries`, { fromRoundShortlist: round1 }).expect(409);
    expect(refused.body.detail).toBe(`其中有 1 件作品已获奖或已选送电视台（${entryCode}），不会自动加入新一轮。请明确选择：也加入这些作品，或不加入它们。`);
    expect((await staff.get(`/api/v1/rounds/${round2}`).expect(200)).body.entryCount).toBe(0);
    expect((await staff.post(`/api/v1/rounds/${round2}/entries`, { fromRoundShortlist: round1, includeAwarded: false }).expect(200)).body).toEqual({
      added: 0,
      skipped: 1,
    });
    expect((await staff.post(`/api/v1/rounds/${round2}/entries`, { fromRoundShortlist: round1, includeAwarded: true }).expect(200)).body).toEqual({ added: 1 });
    await staff
      .post(`/api/v1/rounds/${round2}/judges`, {
        userIds: [(await t.container.database.db.selectFrom('users').select('id').where('username', '=', judgeUsername).executeTakeFirstOrThrow()).id],
      })
      .expect(200);
    await staff.post(`/api/v1/rounds/${round2}/assign`).expect(200);
    await staff.post(`/api/v1/rounds/${round2}/open`).expect(200);

    // The same judge in round 2: a fresh label, unrelated to round 1's.
    const r2 = (await seen(await judge.get('/api/v1/judging/assignments').expect(200))).body as typeof r1;
    expect(r2).toHaveLength(1);
    expect(r2[0].entry.label).not.toBe(r1[0].entry.label);
    expect(r2[0].entry.code).toBe(r2[0].entry.label);
    await seen(await judge.get(`/api/v1/judging/assignments/${r2[0].id}`).expect(200));
    await seen(await raw(judge.get(r2[0].entry.previewUrl)).expect(200));
    await seen(await raw(judge.get(r2[0].entry.posterUrl)).expect(200));
    const { agent } = await t.browser(judgeUsername);
    for (const url of ['/judging', `/judging/${r2[0].id}`]) {
      const page = await agent.get(url).expect(200);
      judgeTexts.push(page.text);
      for (const m of page.text.matchAll(/(?:href|src|poster|action)="(\/[^"]*)"/g)) if (/\/judging\/./.test(m[1])) ids.add(m[1]); // links that carry an id
    }
    for (const must of [r1[0].id, r2[0].id, r1[0].entry.label, r2[0].entry.label, r2[0].entry.previewUrl]) expect(ids.has(must)).toBe(true);

    // The public list (API and page, no login) names the entry by its code, with its school.
    const publicApi = await request(t.app).get('/api/v1/results').expect(200);
    const publicPage = await request(t.app).get('/results').expect(200);
    expect(publicApi.text).toContain(entryCode);
    expect(publicPage.text).toContain(entryCode);
    expect(publicPage.text).toContain(SCHOOL);

    // Nothing the judge holds appears on the public side, and nothing public that names the entry reaches the judge.
    for (const pub of [publicApi.text, publicPage.text]) {
      expect([...ids].filter((id) => pub.includes(id))).toEqual([]);
    }
    for (const id of [entryCode, entryId, videoId]) {
      expect({ id, in: judgeTexts.filter((x) => x.includes(id)).length }).toEqual({ id, in: 0 });
    }
  }, 60_000);
});
