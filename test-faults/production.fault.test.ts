/**
 * The fault suite (`npm run test:faults`; not part of `npm test`): the production set — a fresh
 * PostgreSQL database, s3rver, two web processes and two worker processes, all from the built code
 * in dist/ — is hurt the way production gets hurt (docs/security.md "Faults", issue 12), and each test
 * asserts what users and operators would notice, printing its figures.
 *
 * PostgreSQL and S3 are reached through TCP proxies the test closes (refused connections, cut
 * sockets) and opens again; backends are killed with pg_terminate_backend; processes get SIGTERM
 * (alone or to the whole process group) and SIGKILL. The tests run in order on the one set.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config';
import { createContainer, type Container } from '../src/container';
import { toCurrentUser } from '../src/accounts/user.repository';
import { DEFAULT_RUBRIC } from '../src/judging/judging.types';
import { createLogger } from '../src/platform/logger';
import { SESSION_COOKIE } from '../src/web/cookies';
import { makeClip } from '../test/support/clips';
import { startS3rver, type S3rverHandle } from '../test/support/s3';
import {
  byStatus,
  call,
  figure,
  freePort,
  freshDatabase,
  makeLongClip,
  mediaProcessesUnder,
  ROOT,
  sleep,
  startProcess,
  TcpProxy,
  waitFor,
  type AppProcess,
  type FaultDatabase,
  type HttpAnswer,
} from './support';

const WEB_GRACE_MS = 4_000;
const WORKER_GRACE_MS = 1_000;
const LEASE_S = 10;
const JUDGES = 20;
const PER_JUDGE = 5;
const PASSWORD = 'faults-Passw0rd!';

if (!fs.existsSync(path.join(ROOT, 'dist/src/main.js')) || !fs.existsSync(path.join(ROOT, 'dist/workers/main.js'))) {
  throw new Error('the fault suite runs the built code: run `npm run build` first (npm run test:faults does)');
}

let runDir: string;
let fdb: FaultDatabase;
let s3: S3rverHandle;
let pgProxy: TcpProxy;
let s3Proxy: TcpProxy;
let seeder: Container;
let admin: pg.Client;
const webs: AppProcess[] = [];
const workers: AppProcess[] = [];
const everyProcess: AppProcess[] = [];
let schoolToken: string;
let judges: Array<{ id: string; token: string; assignments: string[] }> = [];
let clip: string;
let longClip: string;

function env(kind: 'web' | 'worker', name: string): Record<string, string> {
  const direct = new URL(fdb.url);
  const url = new URL(direct);
  url.host = `127.0.0.1:${pgProxy.port}`;
  url.searchParams.set('application_name', `cx-${name}`);
  return {
    DATABASE_URL: url.toString(),
    S3_ENDPOINT: `http://127.0.0.1:${s3Proxy.port}`,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    DATA_DIR: path.join(runDir, name),
    // Workers on one machine share their work area, as in the README's layout; each web process has its own spool.
    UPLOAD_TMP_DIR: kind === 'worker' ? path.join(runDir, 'worker-tmp') : path.join(runDir, name, 'tmp'),
    IN_PROCESS_WORKER: 'false',
    SCRYPT_LOG_N: '14',
    HOST: '127.0.0.1',
    ADMIN_PASSWORD: PASSWORD,
    SHUTDOWN_GRACE_MS: String(kind === 'web' ? WEB_GRACE_MS : WORKER_GRACE_MS),
    JOB_LEASE_SECONDS: String(LEASE_S),
    // DB_CONNECT_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS at their defaults: (b2) proves what they give.
    LOG_LEVEL: 'info',
  };
}

async function startWeb(name: string): Promise<AppProcess> {
  const port = await freePort();
  const p = startProcess(name, 'src/main.js', env('web', name), runDir, port);
  everyProcess.push(p);
  await waitFor(`${name} to answer /healthz`, async () => (await call(p.baseUrl, 'GET', '/healthz')).status === 200, 60_000, 200).catch((err) => {
    throw new Error(`${err}\n${p.log().slice(-3000)}`);
  });
  return p;
}

async function startWorker(name: string): Promise<AppProcess> {
  const p = startProcess(name, 'workers/main.js', env('worker', name), runDir);
  everyProcess.push(p);
  await waitFor(`${name} to start`, () => p.log().includes('worker started'), 60_000, 100).catch((err) => {
    throw new Error(`${err}\n${p.log().slice(-3000)}`);
  });
  return p;
}

const q = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await admin.query<T>(text, values)).rows;

/** A multipart/form-data body with one `video` field, as a browser sends it. */
function multipart(file: Buffer, filename: string): { boundary: string; head: Buffer; tail: Buffer; length: number } {
  const boundary = `----cxfaults${crypto.randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="${filename}"\r\nContent-Type: video/mp4\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { boundary, head, tail, length: head.length + file.length + tail.length };
}

async function upload(baseUrl: string, entryId: string, file: Buffer): Promise<HttpAnswer> {
  const m = multipart(file, 'fault.mp4');
  return call(baseUrl, 'POST', `/api/v1/entries/${entryId}/video`, {
    token: schoolToken,
    headers: { 'Content-Type': `multipart/form-data; boundary=${m.boundary}` },
    body: Buffer.concat([m.head, file, m.tail]),
    timeoutMs: 120_000,
  });
}

async function newEntry(baseUrl: string): Promise<string> {
  const campaign = JSON.parse((await call(baseUrl, 'GET', '/api/v1/campaign', { token: schoolToken })).body) as {
    songs: Array<{ id: string; designated: boolean }>;
  };
  const song = campaign.songs.find((s) => s.designated)!;
  const res = await call(baseUrl, 'POST', '/api/v1/entries', {
    token: schoolToken,
    json: { title: '故障演练', songId: song.id, form: 'chorus', level: 'primary', performerCount: 40, directorName: '王老师' },
  });
  if (res.status !== 201) throw new Error(`create entry: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { id: string }).id;
}

async function videoOf(entryId: string) {
  const [row] = await q<{ id: string; status: string; error: string | null; error_code: string | null }>(
    'SELECT v.id, v.status, v.error, v.error_code FROM entries e JOIN videos v ON v.entry_id = e.id WHERE e.id = $1 ORDER BY v.created_at DESC LIMIT 1',
    [entryId],
  );
  return row;
}

async function ingestJob(videoId: string) {
  const [row] = await q<{ id: number; status: string; attempts: number; lease_owner: string | null; infra_retries: number; last_error: string | null }>(
    `SELECT id, status, attempts, lease_owner, infra_retries, last_error FROM jobs WHERE dedupe_key = $1`,
    [`ingest:${videoId}`],
  );
  return row;
}

const scoreBody = (seq: number, judge: number) => ({ scores: { singing: seq % 51, artistry: judge % 26, spirit: seq % 16, costume: 7 }, submit: true });

beforeAll(async () => {
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-faults-'));
  process.env.FAULTS_FIGURES ??= path.join(runDir, 'figures.txt');
  fdb = await freshDatabase();
  s3 = await startS3rver('changxiang-faults');
  const pgUrl = new URL(fdb.url);
  pgProxy = new TcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  await pgProxy.accept();
  const s3Url = new URL(s3.endpoint);
  s3Proxy = new TcpProxy({ host: s3Url.hostname, port: Number(s3Url.port) });
  await s3Proxy.accept();
  admin = new pg.Client({ connectionString: fdb.url });
  await admin.connect();

  // The test's own connection (direct, not through the proxy) seeds accounts and a judging round.
  const config = loadConfig({
    DATABASE_URL: fdb.url,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    DATA_DIR: path.join(runDir, 'seeder'),
    IN_PROCESS_WORKER: 'false',
    SCRYPT_LOG_N: '14',
  });
  seeder = await createContainer(config, { logger: createLogger('silent') });
  const db = seeder.db;
  await seeder.users.ensureFirstAdmin(PASSWORD);
  const adminUser = toCurrentUser(await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow());
  const school = await seeder.schools.create(adminUser, { name: '故障演练学校', countyId: 'c-lishi' });
  const teacher = await seeder.users.create(adminUser, {
    username: 'fault_school',
    password: PASSWORD,
    displayName: '学校',
    role: 'school',
    countyId: null,
    schoolId: school.id,
  });
  schoolToken = (await seeder.sessions.createApiToken(teacher.id)).token;
  const judgeRows: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < JUDGES; i++) {
    const u = await seeder.users.create(adminUser, {
      username: `fault_judge_${i}`,
      password: PASSWORD,
      displayName: `评委${i}`,
      role: 'judge',
      countyId: null,
      schoolId: null,
    });
    judgeRows.push({ id: u.id, token: (await seeder.sessions.createApiToken(u.id)).token });
  }
  // These accounts stand for people who already replaced the password the admin typed (else every
  // request answers 403 password_change_required).
  await db.updateTable('users').set({ must_change_password: false }).where('username', 'like', 'fault\\_%').execute();
  await sql`INSERT INTO entries (code, campaign_id, school_id, county_id, title, song_id, form, level, performer_count, director_name, status)
            SELECT 'FX-' || lpad(g::text, 4, '0'), 'main', ${school.id}, 'c-lishi', '作品' || g, (SELECT id FROM songs ORDER BY sort LIMIT 1), 'chorus', 'primary', 30, '老师', 'in_judging'
            FROM generate_series(0, ${JUDGES - 1}) g`.execute(db);
  await sql`INSERT INTO videos (id, entry_id, status, progress, original_name, original_key, size_bytes, qc_verdict, duration_s, preview_key, poster_key, ready_at)
            SELECT 'v-' || id, id, 'ready', 100, 'clip.mp4', 'originals/' || id, 1000, 'pass', 180, 'previews/' || id || '.mp4', 'posters/' || id || '.jpg', now()
            FROM entries WHERE code LIKE 'FX-%'`.execute(db);
  await sql`UPDATE entries SET video_id = 'v-' || id WHERE code LIKE 'FX-%'`.execute(db);
  const round = await db
    .insertInto('rounds')
    .values({
      campaign_id: 'main',
      name: '故障演练轮',
      judges_per_entry: PER_JUDGE,
      blind: true,
      aggregation: 'trimmed_mean',
      rubric: JSON.stringify(DEFAULT_RUBRIC),
      status: 'open',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const entries = await db.selectFrom('entries').select('id').where('code', 'like', 'FX-%').orderBy('code').execute();
  await db
    .insertInto('round_entries')
    .values(entries.map((e, i) => ({ round_id: round.id, entry_id: e.id, label: `A-${String(i + 1).padStart(3, '0')}` })))
    .execute();
  await db
    .insertInto('round_judges')
    .values(judgeRows.map((j) => ({ round_id: round.id, judge_id: j.id })))
    .execute();
  judges = [];
  for (let j = 0; j < JUDGES; j++) {
    const rows = await db
      .insertInto('assignments')
      .values(
        Array.from({ length: PER_JUDGE }, (_, k) => ({
          round_id: round.id,
          entry_id: entries[(j + k * 4) % JUDGES].id,
          judge_id: judgeRows[j].id,
          status: 'draft' as const,
        })),
      )
      .returning('id')
      .execute();
    judges.push({ ...judgeRows[j], assignments: rows.map((r) => r.id) });
  }

  const clips = path.join(runDir, 'clips');
  fs.mkdirSync(clips);
  clip = await makeClip('landscape', clips);
  longClip = makeLongClip(clips, 20);

  webs.push(await startWeb('web1'), await startWeb('web2'));
  workers.push(await startWorker('worker1'), await startWorker('worker2'));
  figure(
    `production set: PostgreSQL database ${fdb.name} (via proxy :${pgProxy.port}), s3rver (via proxy :${s3Proxy.port}), web1 pid ${webs[0].pid}, web2 pid ${webs[1].pid}, worker1 pid ${workers[0].pid}, worker2 pid ${workers[1].pid}; run directory ${runDir}`,
  );
}, 240_000);

afterAll(async () => {
  for (const p of everyProcess) {
    if (p.alive) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await seeder?.close().catch(() => undefined);
  await admin?.end().catch(() => undefined);
  await pgProxy?.refuse();
  await s3Proxy?.refuse();
  await s3?.stop();
  await fdb?.drop().catch(() => undefined);
  if (process.env.FAULTS_KEEP_RUN_DIR !== '1') fs.rmSync(runDir, { recursive: true, force: true });
}, 60_000);

function expectAllAlive(procs: AppProcess[]) {
  const dead = procs.filter((p) => !p.alive).map((p) => `${p.name}\n${p.log().slice(-2000)}`);
  expect(dead).toEqual([]);
}

/**
 * A school's resumable upload of `file`, created on `baseUrl`, and a PATCH that declares the whole
 * file but sends only its first `sent` bytes, then stalls (a slow uplink). Resolves once those bytes
 * are written to the socket.
 */
async function startStalledTusPatch(
  baseUrl: string,
  file: Buffer,
  sent: number,
  filename: string,
): Promise<{ entryId: string; location: string; patchReq: http.ClientRequest }> {
  const entryId = await newEntry(baseUrl);
  const meta = [`entryId ${Buffer.from(entryId).toString('base64')}`, `filename ${Buffer.from(filename).toString('base64')}`].join(',');
  const created = await call(baseUrl, 'POST', '/api/v1/uploads', {
    token: schoolToken,
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(file.length), 'Upload-Metadata': meta },
  });
  expect(created.status).toBe(201);
  const location = String(created.headers.location);
  const patchReq = http.request(`${baseUrl}${location}`, {
    method: 'PATCH',
    agent: false,
    headers: {
      Authorization: `Bearer ${schoolToken}`,
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(file.length),
    },
  });
  patchReq.on('error', () => undefined);
  patchReq.on('response', (r) => r.resume());
  await new Promise<void>((resolve) => patchReq.write(file.subarray(0, sent), () => resolve()));
  return { entryId, location, patchReq };
}

function expectOutage503(answers: HttpAnswer[], detail: RegExp) {
  const bad = answers.filter(
    (a) =>
      a.status !== 200 &&
      !(a.status === 503 && a.headers['retry-after'] && /application\/problem\+json/.test(String(a.headers['content-type'])) && detail.test(a.body)),
  );
  expect(bad.map((a) => `${a.status} ${a.headers['retry-after'] ?? '-'} ${a.body.slice(0, 200)}`)).toEqual([]);
}

test('(a) when every app backend is terminated twice under 20 concurrent score-savers, then no process exits, every non-200 is a 503 with Retry-After, and every 200 is in the database exactly once', async () => {
  // Two web processes, one submit each at the same moment, for every judge's first assignment: one audit row each.
  const doubled = await Promise.all(
    judges.flatMap((j, i) =>
      webs.map((w) => call(w.baseUrl, 'PUT', `/api/v1/judging/assignments/${j.assignments[0]}`, { token: j.token, json: scoreBody(1000, i) })),
    ),
  );
  expect(byStatus(doubled)).toEqual({ 200: JUDGES * 2 });

  type Answer = HttpAnswer & { assignment: string; seq: number; judge: number; at: number };
  const answers: Answer[] = [];
  const until = Date.now() + 9_000;
  const killed: Array<{ at: number; n: number }> = [];
  const started = Date.now();
  const killer = (async () => {
    for (const at of [2_500, 5_500]) {
      await sleep(started + at - Date.now());
      const [row] = await q<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'cx-%'`,
        [fdb.name],
      );
      killed.push({ at: Date.now() - started, n: row.n });
    }
  })();
  await Promise.all(
    judges.map(async (j, i) => {
      for (let seq = 0; Date.now() < until; seq++) {
        const assignment = j.assignments[seq % PER_JUDGE];
        const res = await call(webs[(i + seq) % 2].baseUrl, 'PUT', `/api/v1/judging/assignments/${assignment}`, { token: j.token, json: scoreBody(seq, i) });
        answers.push({ ...res, assignment, seq, judge: i, at: Date.now() - started });
      }
    }),
  );
  await killer;

  expectAllAlive([...webs, ...workers]);
  expectOutage503(answers, /数据库暂时不可用/);
  // Every 200 is in the database: an assignment holds the scores of its last 200 — or of a later
  // request whose answer was lost with its connection (committed, then cut: the client retries).
  const rows = await q<{ id: string; scores: { singing: number; spirit: number }; status: string }>('SELECT id, scores, status FROM assignments');
  const stored = new Map(rows.map((r) => [r.id, r]));
  const mismatched: string[] = [];
  for (const j of judges) {
    for (const a of j.assignments) {
      const mine = answers.filter((x) => x.assignment === a).sort((x, y) => x.seq - y.seq);
      const last200 = mine.map((x) => x.status).lastIndexOf(200);
      if (last200 < 0) continue;
      const candidates = mine
        .slice(last200)
        .filter((x, k) => k === 0 || x.status !== 200)
        .map((x) => scoreBody(x.seq, x.judge).scores.singing);
      const row = stored.get(a)!;
      if (row.status !== 'submitted' || !candidates.includes(row.scores.singing))
        mismatched.push(`${a}: stored ${row.scores.singing}, expected one of ${candidates}`);
    }
  }
  expect(mismatched).toEqual([]);
  // Exactly once: one score.submit audit row per assignment, though each was submitted many times, concurrently at first.
  const audits = await q<{ object_id: string; n: number }>(
    `SELECT object_id, count(*)::int AS n FROM audit_log WHERE action = 'score.submit' GROUP BY object_id`,
  );
  expect(audits.length).toBe(JUDGES * PER_JUDGE);
  expect(audits.filter((r) => r.n !== 1)).toEqual([]);

  const s = byStatus(answers);
  figure(
    `(a) backends terminated: ${killed.map((k) => `${k.n} at ${(k.at / 1000).toFixed(1)} s`).join(', ')}; ${answers.length} score saves by ${JUDGES} judges in ${((Date.now() - started) / 1000).toFixed(1)} s → ${JSON.stringify(s)}; concurrent double submits: ${doubled.length} answers 200, audit rows per assignment: 1; process exits: 0`,
  );
}, 60_000);

test('(b) when the database refuses connections for 10 s, then requests answer 503 (API: problem+json with Retry-After; pages: a Chinese 503 page) and both web processes recover within 2 s of its return', async () => {
  const session = await seeder.sessions.create(judges[0].id);
  const probe = (w: AppProcess) =>
    call(w.baseUrl, 'GET', `/api/v1/judging/assignments/${judges[0].assignments[1]}`, { token: judges[0].token, timeoutMs: 15_000 });
  const during: HttpAnswer[] = [];
  const downAt = Date.now();
  await pgProxy.refuse();
  const savers = judges.slice(0, 5).map(async (j, i) => {
    for (let seq = 5000; Date.now() - downAt < 9_000; seq++) {
      during.push(await call(webs[i % 2].baseUrl, 'PUT', `/api/v1/judging/assignments/${j.assignments[2]}`, { token: j.token, json: scoreBody(seq, i) }));
      await sleep(100);
    }
  });
  await sleep(1_000);
  const page = await call(webs[0].baseUrl, 'GET', '/judging', { headers: { Accept: 'text/html', Cookie: `${SESSION_COOKIE}=${session.secret}` } });
  await Promise.all(savers);
  await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
  await pgProxy.accept();
  const upAt = Date.now();
  const recovery: number[] = [];
  await Promise.all(
    webs.map(async (w) => {
      await waitFor(`${w.name} to answer 200 again`, async () => (await probe(w)).status === 200, 30_000, 50);
      recovery.push(Date.now() - upAt);
    }),
  );

  expectAllAlive([...webs, ...workers]);
  expect(during.length).toBeGreaterThan(10);
  expect(byStatus(during)).toEqual({ 503: during.length });
  expectOutage503(during, /数据库暂时不可用/);
  expect(page.status).toBe(503);
  expect(page.headers['content-type']).toMatch(/text\/html/);
  expect(page.body).toContain('数据库暂时不可用');
  expect(Math.max(...recovery)).toBeLessThanOrEqual(2_000);
  const slowest = Math.max(...during.map((a) => a.ms));
  figure(
    `(b) database refused 10 s: ${during.length} saves → ${JSON.stringify(byStatus(during))} (slowest answer ${slowest} ms); page → ${page.status} text/html; recovery after its return: ${recovery.map((r) => `${r} ms`).join(', ')}; process exits: 0`,
  );
}, 60_000);

test('(b2) when the network to the database is partitioned for 15 s (no refusal, no reset: silence), then requests answer 503 within the default timeouts instead of hanging, and both web processes recover within 2 s of the heal', async () => {
  const PARTITION_MS = 15_000;
  // Default client-side bound: DB_STATEMENT_TIMEOUT_MS (5 s) + 2 s for a query in flight; DB_CONNECT_TIMEOUT_MS (5 s) for a new connection.
  const BOUND_MS = 9_000;
  const probe = (w: AppProcess) =>
    call(w.baseUrl, 'GET', `/api/v1/judging/assignments/${judges[1].assignments[1]}`, { token: judges[1].token, timeoutMs: 30_000 });
  const during: HttpAnswer[] = [];
  const cutAt = Date.now();
  pgProxy.partition();
  const savers = judges.slice(5, 10).map(async (j, i) => {
    while (Date.now() - cutAt < PARTITION_MS - BOUND_MS) {
      during.push(
        await call(webs[i % 2].baseUrl, 'PUT', `/api/v1/judging/assignments/${j.assignments[2]}`, {
          token: j.token,
          json: scoreBody(7000 + during.length, i),
          timeoutMs: 30_000,
        }),
      );
      await sleep(100);
    }
  });
  await Promise.all(savers);
  await sleep(Math.max(0, PARTITION_MS - (Date.now() - cutAt)));
  pgProxy.heal();
  const healedAt = Date.now();
  const recovery: number[] = [];
  await Promise.all(
    webs.map(async (w) => {
      await waitFor(`${w.name} to answer 200 again`, async () => (await probe(w)).status === 200, 30_000, 50);
      recovery.push(Date.now() - healedAt);
    }),
  );

  expectAllAlive([...webs, ...workers]);
  expect(during.length).toBeGreaterThanOrEqual(5);
  expectOutage503(during, /数据库暂时不可用/);
  expect(during.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  const slowest = Math.max(...during.map((a) => a.ms));
  expect(slowest).toBeLessThanOrEqual(BOUND_MS);
  expect(Math.max(...recovery)).toBeLessThanOrEqual(2_000);
  figure(
    `(b2) database partitioned ${PARTITION_MS / 1000} s: ${during.length} saves → ${JSON.stringify(byStatus(during))} (slowest answer ${slowest} ms, bound ${BOUND_MS} ms); recovery after the heal: ${recovery.map((r) => `${r} ms`).join(', ')}; process exits: 0`,
  );
}, 90_000);

test('(c) when S3 is down for 60 s during an ingest, then uploads answer 503, the job waits without spending attempts, and the video ends ready with no re-upload', async () => {
  const entryId = await newEntry(webs[0].baseUrl);
  const res = await upload(webs[0].baseUrl, entryId, fs.readFileSync(clip));
  expect(res.status).toBe(202);
  const video = await videoOf(entryId);
  const downAt = Date.now();
  await s3Proxy.refuse();

  // A second upload meanwhile: 503 in Chinese, Retry-After, and no spool file left behind.
  const refused = await upload(webs[1].baseUrl, await newEntry(webs[1].baseUrl), fs.readFileSync(clip));
  expectOutage503([refused], /文件存储暂时不可用/);
  expect(refused.status).toBe(503);
  const ready = await call(webs[0].baseUrl, 'GET', '/readyz');
  expect(JSON.parse(ready.body)).toMatchObject({ status: 'unavailable', store: 'unavailable' });

  const deferred = await waitFor(
    'the ingest to be deferred',
    async () => {
      const job = await ingestJob(video.id);
      return job && job.infra_retries > 0 ? job : null;
    },
    30_000,
    200,
  );
  expect(deferred.attempts).toBe(0);
  expect(deferred.last_error).toMatch(/系统暂时不可用/);
  expect((await videoOf(entryId)).status).toBe('processing');

  await sleep(Math.max(0, 60_000 - (Date.now() - downAt)));
  await s3Proxy.accept();
  const upAt = Date.now();
  const done = await waitFor(
    'the video to be ready',
    async () => {
      const v = await videoOf(entryId);
      if (v.status === 'failed') throw new Error(`video failed: ${v.error}`);
      return v.status === 'ready' ? v : null;
    },
    150_000,
    250,
  );
  const job = await ingestJob(video.id);
  const spool = fs.readdirSync(path.join(runDir, 'web2', 'tmp'));

  expect(done.id).toBe(video.id);
  expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(spool).toEqual([]);
  expectAllAlive([...webs, ...workers]);
  figure(
    `(c) S3 down ${((upAt - downAt) / 1000).toFixed(1)} s: upload meanwhile → ${refused.status} (Retry-After ${refused.headers['retry-after']}); ingest deferred ${job.infra_retries} times without an attempt; ready ${((Date.now() - upAt) / 1000).toFixed(1)} s after S3 returned, on attempt ${job.attempts}/3, same video, no re-upload`,
  );
}, 240_000);

test('(d) when a web process gets SIGTERM mid-multipart and mid-tus, then it finishes the multipart upload, exits 0, leaves no spool file, and the tus upload resumes from the bytes that arrived', async () => {
  const web2 = webs[1];
  const file = fs.readFileSync(longClip);
  expect(file.length).toBeGreaterThan(6 * 1024 * 1024);

  // multipart: half the body sent, the rest after the signal
  const multiEntry = await newEntry(web2.baseUrl);
  const m = multipart(file, 'multipart.mp4');
  const multiReq = http.request(`${web2.baseUrl}/api/v1/entries/${multiEntry}/video`, {
    method: 'POST',
    agent: false,
    headers: { Authorization: `Bearer ${schoolToken}`, 'Content-Type': `multipart/form-data; boundary=${m.boundary}`, 'Content-Length': String(m.length) },
  });
  const multiDone = new Promise<number>((resolve) => {
    multiReq.on('error', () => resolve(0));
    multiReq.on('response', (r) => {
      r.resume();
      r.on('end', () => resolve(r.statusCode ?? 0));
    });
  });
  multiReq.write(Buffer.concat([m.head, file.subarray(0, file.length >> 1)]));

  // tus: created, then a PATCH that sends 5 MiB + 12345 bytes and stalls
  const sent = 5 * 1024 * 1024 + 12345;
  const { entryId: tusEntry, location, patchReq } = await startStalledTusPatch(web2.baseUrl, file, sent, 'tus.mp4');
  await sleep(1_500);

  const signalAt = Date.now();
  process.kill(web2.pid, 'SIGTERM');
  await sleep(300);
  multiReq.end(Buffer.concat([file.subarray(file.length >> 1), m.tail]));
  const multiStatus = await multiDone;
  const exit = await web2.exited;
  const exitMs = Date.now() - signalAt;
  patchReq.destroy();

  expect(multiStatus).toBe(202);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(fs.readdirSync(path.join(runDir, 'web2', 'tmp'))).toEqual([]);
  expect(web2.log()).not.toMatch(/driver has already been destroyed/);

  // The other web process continues the upload from what arrived (HEAD at once: the dead process released its lock).
  const headAt = Date.now();
  const head = await call(webs[0].baseUrl, 'HEAD', location, { token: schoolToken, headers: { 'Tus-Resumable': '1.0.0' } });
  const headMs = Date.now() - headAt;
  expect(head.status).toBe(200);
  const offset = Number(head.headers['upload-offset']);
  expect(offset).toBe(sent);
  const rest = await call(webs[0].baseUrl, 'PATCH', location, {
    token: schoolToken,
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body: file.subarray(offset),
    timeoutMs: 120_000,
  });
  expect(rest.status).toBe(204);
  const [stored] = await q<{ size_bytes: number }>('SELECT v.size_bytes FROM videos v WHERE v.entry_id = $1', [tusEntry]);
  expect(Number(stored.size_bytes)).toBe(file.length);
  const [{ original_key: originalKey }] = await q<{ original_key: string }>('SELECT original_key FROM videos WHERE entry_id = $1', [tusEntry]);
  const original = await seeder.store.get(originalKey);
  const chunks: Buffer[] = [];
  for await (const c of original.body) chunks.push(c as Buffer);
  expect(crypto.createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(crypto.createHash('sha256').update(file).digest('hex'));

  webs[1] = await startWeb('web2b');
  figure(
    `(d) SIGTERM to web2 mid-multipart and mid-tus: multipart finished → ${multiStatus}; exit code ${exit.code} after ${exitMs} ms (grace ${WEB_GRACE_MS} ms, the stalled PATCH cut); spool files left: 0; tus offset on web1 ${offset} of ${sent} bytes sent (HEAD ${headMs} ms), resumed → ${rest.status}, original byte-identical`,
  );
}, 180_000);

test('(e) when a worker is killed with SIGKILL mid-ingest, then its ffmpeg is gone within 2 s, the job is reclaimed within its lease, and its work directory is swept at the next start', async () => {
  const entryId = await newEntry(webs[0].baseUrl);
  expect((await upload(webs[0].baseUrl, entryId, fs.readFileSync(longClip))).status).toBe(202);
  const video = await videoOf(entryId);
  const workTmp = path.join(runDir, 'worker-tmp');
  const holding = await waitFor(
    'an ffmpeg of the ingest',
    async () => {
      const job = await ingestJob(video.id);
      const victim = job?.lease_owner ? workers.find((w) => job.lease_owner!.includes(`:${w.pid}:`)) : undefined;
      const dir = victim && fs.readdirSync(workTmp).find((n) => n.startsWith(`ingest-p${victim.pid}-`));
      return victim && dir && mediaProcessesUnder(path.join(workTmp, dir)).length > 0 ? { victim, dir, job } : null;
    },
    60_000,
    100,
  );
  const ffmpegBefore = mediaProcessesUnder(path.join(workTmp, holding.dir));

  const killedAt = Date.now();
  process.kill(holding.victim.pid, 'SIGKILL');
  await holding.victim.exited;
  await sleep(2_000);
  const ffmpegAfter = mediaProcessesUnder(path.join(workTmp, holding.dir));
  expect(ffmpegAfter).toEqual([]);
  expect(fs.existsSync(path.join(workTmp, holding.dir))).toBe(true);

  const survivor = workers.find((w) => w !== holding.victim)!;
  const reclaimed = await waitFor(
    'another worker to reclaim the job',
    async () => {
      const job = await ingestJob(video.id);
      return job?.lease_owner?.includes(`:${survivor.pid}:`) ? Date.now() : null;
    },
    (LEASE_S + 10) * 1000,
    100,
  );
  const reclaimMs = reclaimed - killedAt;
  expect(reclaimMs).toBeLessThanOrEqual(LEASE_S * 1000 + 2_000);

  const restarted = await startWorker('worker1b');
  workers[workers.indexOf(holding.victim)] = restarted;
  expect(fs.existsSync(path.join(workTmp, holding.dir))).toBe(false);

  const done = await waitFor(
    'the video to be ready',
    async () => {
      const v = await videoOf(entryId);
      return v.status === 'ready' ? v : null;
    },
    120_000,
    250,
  );
  expect(done.id).toBe(video.id);
  figure(
    `(e) SIGKILL of ${holding.victim.name} mid-ingest: ffmpeg pids ${ffmpegBefore.join(',')} → alive 2 s later: ${ffmpegAfter.length}; job reclaimed by ${survivor.name} after ${(reclaimMs / 1000).toFixed(1)} s (lease ${LEASE_S} s); work directory ${holding.dir} removed at the next worker start; video ready (attempt ${(await ingestJob(video.id)).attempts}: the killed attempt counts)`,
  );
}, 180_000);

test("(f) when the worker's whole process group gets SIGTERM mid-ingest, then the job is handed back without counting the attempt and the video ends ready", async () => {
  const entryId = await newEntry(webs[0].baseUrl);
  expect((await upload(webs[0].baseUrl, entryId, fs.readFileSync(longClip))).status).toBe(202);
  const video = await videoOf(entryId);
  const workTmp = path.join(runDir, 'worker-tmp');
  const holding = await waitFor(
    'an ffmpeg of the ingest',
    async () => {
      const job = await ingestJob(video.id);
      const holder = job?.lease_owner ? workers.find((w) => job.lease_owner!.includes(`:${w.pid}:`)) : undefined;
      const dir = holder && fs.readdirSync(workTmp).find((n) => n.startsWith(`ingest-p${holder.pid}-`));
      return holder && dir && mediaProcessesUnder(path.join(workTmp, dir)).length > 0 ? { holder, dir, job } : null;
    },
    60_000,
    100,
  );
  expect(holding.job.attempts).toBe(1);

  const signalAt = Date.now();
  process.kill(-holding.holder.pid, 'SIGTERM'); // the whole group, as systemd or Ctrl-C would
  const exit = await holding.holder.exited;
  const exitMs = Date.now() - signalAt;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(holding.holder.log()).toMatch(/job released to the queue/);

  const done = await waitFor(
    'the video to be ready',
    async () => {
      const v = await videoOf(entryId);
      if (v.status === 'failed') throw new Error(`video failed: ${v.error}`);
      return v.status === 'ready' ? v : null;
    },
    120_000,
    250,
  );
  const job = await ingestJob(video.id);
  expect(done.id).toBe(video.id);
  expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(mediaProcessesUnder(path.join(workTmp, holding.dir))).toEqual([]);
  figure(
    `(f) SIGTERM to ${holding.holder.name}'s process group mid-ingest: exit code ${exit.code} after ${exitMs} ms (grace ${WORKER_GRACE_MS} ms), job handed back; finished by the other worker on attempt ${job.attempts}/3 (the handed-back attempt not counted)`,
  );
}, 180_000);

test("(g) when a web process is killed with SIGKILL mid-tus, then the other one answers HEAD within seconds (the dead holder's lock lapses) with the bytes committed before the crash, and the upload resumes", async () => {
  const victim = webs[1];
  const file = fs.readFileSync(longClip);
  const sent = 10 * 1024 * 1024 + 777;
  const { entryId, location, patchReq } = await startStalledTusPatch(victim.baseUrl, file, sent, 'crash.mp4');
  await sleep(1_500);
  process.kill(victim.pid, 'SIGKILL');
  await victim.exited;
  patchReq.destroy();

  const headAt = Date.now();
  const head = await call(webs[0].baseUrl, 'HEAD', location, { token: schoolToken, headers: { 'Tus-Resumable': '1.0.0' } });
  const headMs = Date.now() - headAt;
  expect(head.status).toBe(200);
  expect(headMs).toBeLessThanOrEqual(5_000);
  const offset = Number(head.headers['upload-offset']);
  // Committed in 4 MiB parts as they arrived: at most the part being filled is lost with the process.
  expect(offset).toBeGreaterThanOrEqual(sent - 4 * 1024 * 1024);
  expect(offset).toBeLessThanOrEqual(sent);
  const rest = await call(webs[0].baseUrl, 'PATCH', location, {
    token: schoolToken,
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body: file.subarray(offset),
    timeoutMs: 120_000,
  });
  expect(rest.status).toBe(204);
  const [{ original_key: originalKey }] = await q<{ original_key: string }>('SELECT original_key FROM videos WHERE entry_id = $1', [entryId]);
  const original = await seeder.store.get(originalKey);
  const chunks: Buffer[] = [];
  for await (const c of original.body) chunks.push(c as Buffer);
  expect(crypto.createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(crypto.createHash('sha256').update(file).digest('hex'));
  figure(
    `(g) SIGKILL of ${victim.name} mid-tus after ${sent} bytes: HEAD on web1 answered in ${headMs} ms (lock lease 4 s) with offset ${offset} (${sent - offset} bytes lost with the process), resumed → ${rest.status}, original byte-identical`,
  );
}, 120_000);
