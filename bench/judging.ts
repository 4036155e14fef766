/**
 * bench/judging — ranking time and judge-queue latency at full scale (issue 5). Not part of `npm test`.
 *
 *   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node dist/bench/judging.js
 *
 * Needs real PostgreSQL (DATABASE_URL names a server; a fresh database `cx_bench_judging_<hex>` is
 * created on it and dropped at the end). Everything runs over loopback; a temp DATA_DIR is removed.
 *
 * Data, inserted in bulk with SQL: 13 counties × 200 schools, 10,000 entries (each with a ready
 * video row) in one open, blind round with k = 5 and a panel of 50 judges; 50,000 assignments, all
 * submitted, each with 4 criterion scores (the default rubric 50/25/15/10). Entry n is judged by
 * judges (5n + j) mod 50, j = 0…4, so every judge has exactly 1,000 assignments.
 *
 * Also (issue 14): BENCH_EXTRA_ROUNDS (199) more rounds, closed, 50 entries and 50 submitted
 * scores each, so `/rounds` lists 200; and BENCH_DESK_ITEMS (500) entries selected for broadcast,
 * each with a ready master row, for the TV desk.
 *
 * 1. Ranking: `results.ranking(admin, round)` in this process — 1 warm-up, then BENCH_RANK_RUNS (7)
 *    runs; p50, min, max. "cached": nothing changed between runs (the per-round cache answers);
 *    "cold": one score is saved again before each run, so the aggregation runs every time. Target
 *    (issue 14): p50 < 100 ms. For diagnosis: the scores query, the entries query and `rankRound`
 *    alone on the same input.
 * 2. Latency under 50 concurrent judges: the app runs in a child process (same build, its own
 *    pg pool); this process is the client (keep-alive, one socket per judge). Phases, in order:
 *      a. `GET /healthz`, 50 concurrent clients, BENCH_HEALTH_REQUESTS (40) each;
 *      b. `GET /api/v1/judging/assignments` (1,000 assignments each), 50 judges,
 *         BENCH_QUEUE_REQUESTS (6) each, while one prober calls `/healthz` every 50 ms;
 *      c. `GET /api/v1/judging/assignments?limit=50` (first page by cursor) the same way;
 *      d. `GET /judging` (the judge's HTML queue page) the same way;
 *      e. `GET /rounds` (admin, 200 rounds) and `GET /broadcast` (tv, 500 items), BENCH_PAGE_CLIENTS (4)
 *         clients × BENCH_PAGE_REQUESTS (25) each.
 *    Targets (issue 14), as ratios of the same run: paged queue and /judging p99 ≤ 3 × /healthz p99;
 *    /rounds and /broadcast p99 < 150 ms. Each is printed with its verdict.
 *    Each phase stops early after BENCH_PHASE_CAP_S (120 s). p50 / p99 / max per phase.
 *
 * For profiling: BENCH_SKIP_HTTP=1 skips part 2; BENCH_KEEP_DB=1 keeps the database (its URL is
 * printed; drop it yourself).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createContainer } from '../src/container';
import { toCurrentUser } from '../src/accounts/user.repository';
import { createLogger } from '../src/platform/logger';
import { rankRound } from '../src/judging/aggregation';
import { DEFAULT_RUBRIC } from '../src/judging/judging.types';
import { rankingEntries, submittedScores } from '../src/judging/results.repository';
import { freshDatabase, webNodeFlags, passwordsChosen } from './support';

const ENTRIES = envInt('BENCH_ENTRIES', 10_000);
const JUDGES = envInt('BENCH_JUDGES', 50);
const K = 5;
const SCHOOLS = 200;
const RANK_RUNS = envInt('BENCH_RANK_RUNS', 7);
const HEALTH_REQUESTS = envInt('BENCH_HEALTH_REQUESTS', 40);
const QUEUE_REQUESTS = envInt('BENCH_QUEUE_REQUESTS', 6);
const PHASE_CAP_MS = envInt('BENCH_PHASE_CAP_S', 120) * 1000;
const EXTRA_ROUNDS = envInt('BENCH_EXTRA_ROUNDS', 199);
const DESK_ITEMS = envInt('BENCH_DESK_ITEMS', 500);
const PAGE_CLIENTS = envInt('BENCH_PAGE_CLIENTS', 4);
const PAGE_REQUESTS = envInt('BENCH_PAGE_REQUESTS', 25);
const QUEUE_PAGE = 50;
const PASSWORD = 'bench-password-1';
const WATCHDOG_MS = 20 * 60_000;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

function appConfig(databaseUrl: string, dataDir: string) {
  return loadConfig({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, IN_PROCESS_WORKER: 'false', SCRYPT_LOG_N: '14', DB_STATEMENT_TIMEOUT_MS: '600000' });
}

// ───────────────────────────── child: the app server ─────────────────────────────

async function serverChild(): Promise<void> {
  const config = appConfig(process.env.BENCH_DB_URL!, process.env.BENCH_DATA_DIR!);
  const container = await createContainer(config, { logger: createLogger('silent') });
  const server = http.createServer(buildApp(container));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  process.on('message', async (m: { type: string }) => {
    if (m.type !== 'shutdown') return;
    server.closeAllConnections();
    server.close();
    await container.close().catch(() => undefined);
    process.exit(0);
  });
  process.send!({ type: 'ready', port });
}

// ───────────────────────────── parent ─────────────────────────────

async function seed(db: Awaited<ReturnType<typeof createContainer>>['database']['db'], judgeIds: string[]): Promise<string> {
  const t0 = performance.now();
  await sql`INSERT INTO schools (name, county_id)
            SELECT '学校' || g, (SELECT id FROM counties ORDER BY sort OFFSET (g % 13) LIMIT 1)
            FROM generate_series(1, ${SCHOOLS}) g`.execute(db);
  await sql`WITH s AS (SELECT id, county_id, row_number() OVER (ORDER BY id) - 1 AS n FROM schools),
                 songs_n AS (SELECT id, row_number() OVER (ORDER BY sort) - 1 AS n FROM songs)
            INSERT INTO entries (code, campaign_id, school_id, county_id, title, song_id, form, level, performer_count, director_name, status)
            SELECT 'BX-' || lpad(g::text, 6, '0'), 'main', s.id, s.county_id, '作品' || g, songs_n.id, 'chorus', 'primary', 30, '老师' || g, 'in_judging'
            FROM generate_series(0, ${ENTRIES - 1}) g
            JOIN s ON s.n = g % ${SCHOOLS}
            JOIN songs_n ON songs_n.n = g % 5`.execute(db);
  await sql`INSERT INTO videos (id, entry_id, status, progress, original_name, original_key, size_bytes, qc_verdict, duration_s, preview_key, poster_key, ready_at)
            SELECT 'v-' || id, id, 'ready', 100, 'clip.mp4', 'originals/' || id, 1000000, 'pass', 180, 'previews/' || id || '.mp4', 'posters/' || id || '.jpg', now()
            FROM entries`.execute(db);
  await sql`UPDATE entries SET video_id = 'v-' || id`.execute(db);
  const round = await db
    .insertInto('rounds')
    .values({
      campaign_id: 'main',
      name: '基准测试轮',
      judges_per_entry: K,
      blind: true,
      aggregation: 'trimmed_mean',
      rubric: JSON.stringify(DEFAULT_RUBRIC),
      status: 'open',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await sql`INSERT INTO round_entries (round_id, entry_id, label) SELECT ${round.id}, id, 'A-' || lpad((row_number() OVER (ORDER BY random()))::text, 5, '0') FROM entries`.execute(
    db,
  );
  await db
    .insertInto('round_judges')
    .values(judgeIds.map((id) => ({ round_id: round.id, judge_id: id })))
    .execute();
  await sql`WITH e AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM entries),
                 j AS (SELECT u.id, row_number() OVER (ORDER BY u.id) - 1 AS n FROM round_judges rj JOIN users u ON u.id = rj.judge_id WHERE rj.round_id = ${round.id}),
                 pairs AS (
                   SELECT e.id AS entry_id, j.id AS judge_id,
                          floor(random() * 51)::int AS s1, floor(random() * 26)::int AS s2, floor(random() * 16)::int AS s3, floor(random() * 11)::int AS s4
                   FROM e CROSS JOIN generate_series(0, ${K - 1}) k JOIN j ON j.n = (e.n * ${K} + k) % ${JUDGES})
            INSERT INTO assignments (round_id, entry_id, judge_id, status, scores, total, submitted_at)
            SELECT ${round.id}, entry_id, judge_id, 'submitted',
                   jsonb_build_object('singing', s1, 'artistry', s2, 'spirit', s3, 'costume', s4), s1 + s2 + s3 + s4, now()
            FROM pairs`.execute(db);
  await sql`ANALYZE`.execute(db);
  console.log(`seeded ${ENTRIES} entries × ${K} judges (${JUDGES} in the panel) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return round.id;
}

/** 199 more rounds (closed, 50 entries and 50 submitted scores each) and 500 entries on the TV desk. */
async function seedPagesData(db: Awaited<ReturnType<typeof createContainer>>['database']['db'], judgeIds: string[]): Promise<void> {
  const t0 = performance.now();
  await sql`INSERT INTO rounds (campaign_id, name, judges_per_entry, blind, aggregation, rubric, status, created_at)
            SELECT 'main', '历史轮次' || g, 1, true, 'mean', ${JSON.stringify(DEFAULT_RUBRIC)}::jsonb, 'closed', now() - (g || ' minutes')::interval
            FROM generate_series(1, ${EXTRA_ROUNDS}) g`.execute(db);
  await sql`WITH r AS (SELECT id, (row_number() OVER (ORDER BY created_at) * 50) % ${ENTRIES} AS first FROM rounds WHERE status = 'closed'),
                 e AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM entries)
            INSERT INTO round_entries (round_id, entry_id, label)
            SELECT r.id, e.id, 'H-' || lpad((e.n - r.first + 1)::text, 3, '0')
            FROM r JOIN e ON e.n >= r.first AND e.n < r.first + 50`.execute(db);
  await sql`INSERT INTO assignments (round_id, entry_id, judge_id, status, scores, total, submitted_at)
            SELECT re.round_id, re.entry_id, (${sql.val(judgeIds)}::text[])[1 + (abs(hashtext(re.entry_id)) % ${judgeIds.length})], 'submitted',
                   '{"singing":40,"artistry":20,"spirit":10,"costume":5}'::jsonb, 75, now()
            FROM round_entries re JOIN rounds r ON r.id = re.round_id WHERE r.status = 'closed'`.execute(db);
  await sql`WITH picked AS (SELECT id, video_id FROM entries ORDER BY code DESC LIMIT ${DESK_ITEMS})
            INSERT INTO masters (entry_id, video_id, profile, pillarbox, status, progress, object_key, size_bytes, loudness, ready_at)
            SELECT id, video_id, 'xdcam-hd422', 'black', 'ready', 100, 'masters/' || id || '/xdcam-hd422.mxf', 3000000000, '{"integratedLufs":-24.0,"truePeakDbtp":-3.1}'::jsonb, now()
            FROM picked`.execute(db);
  await sql`UPDATE entries SET status = 'broadcast_selected', award = 'first' WHERE id IN (SELECT entry_id FROM masters)`.execute(db);
  // Only entries whose guardians allowed broadcast reach the desk (issue 16): a declaration for each.
  await sql`INSERT INTO entry_consents (entry_id, campaign_id, school_id, declaration, signer_name, signer_post, scope_broadcast, scope_newmedia, scope_public)
            SELECT e.id, e.campaign_id, e.school_id, true, '校长', '校长', true, true, true FROM entries e JOIN masters m ON m.entry_id = e.id`.execute(db);
  // As autovacuum would have done on a server that took these rows over days (PostgreSQL 13+ vacuums
  // after inserts too): without it every index-only count visits the heap (59,951 heap fetches for /rounds).
  await sql`VACUUM ANALYZE`.execute(db);
  console.log(`seeded ${EXTRA_ROUNDS} more rounds and ${DESK_ITEMS} desk items in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface HttpResult {
  status: number;
  ms: number;
  bytes: number;
}

function get(agent: http.Agent, port: number, urlPath: string, token?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function fetchBody(port: number, urlPath: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      })
      .on('error', reject);
  });
}

interface PhaseResult {
  name: string;
  latencies: number[];
  errors: number;
  /** non-200 answers by status */
  statuses: Record<number, number>;
  bytes: number;
  wallMs: number;
  probe?: number[];
  capped: boolean;
  /** CPU time per request (ms): the app process, and the PostgreSQL backends of the bench database */
  appCpuMs?: number;
  dbCpuMs?: number;
}

/**
 * CPU time (ms, user + system) of the app child and of every PostgreSQL backend connected to the
 * bench database, from /proc (Linux, same machine). Wall-clock percentiles on a machine shared with
 * other sessions move 2-5x between runs; CPU per request does not, so the bench prints both.
 */
const cpuWatch = { appPid: 0, dbUrl: '' };
function procCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
async function cpuSnapshot(): Promise<{ app: number; db: Map<number, number> } | null> {
  if (!cpuWatch.appPid || !fs.existsSync('/proc/self/stat')) return null;
  const client = new pg.Client({ connectionString: cpuWatch.dbUrl });
  await client.connect();
  const dbName = new URL(cpuWatch.dbUrl).pathname.slice(1);
  const pids = (await client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName])).rows.map(
    (r: { pid: number }) => r.pid,
  );
  await client.end();
  return { app: procCpuMs(cpuWatch.appPid), db: new Map(pids.map((p) => [p, procCpuMs(p)])) };
}
function cpuSince(before: { app: number; db: Map<number, number> } | null, after: { app: number; db: Map<number, number> } | null, requests: number) {
  if (!before || !after || !requests) return {};
  let db = 0;
  for (const [pid, ms] of after.db) db += ms - (before.db.get(pid) ?? 0);
  return { appCpuMs: (after.app - before.app) / requests, dbCpuMs: db / requests };
}

/** `clients` loops of `perClient` sequential GETs each (stopping at the cap); optional /healthz prober. */
async function phase(name: string, port: number, urlPath: string, tokens: Array<string | undefined>, perClient: number, probe: boolean): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: tokens.length + 2 });
  const latencies: number[] = [];
  const probes: number[] = [];
  let errors = 0;
  const statuses: Record<number, number> = {};
  let bytes = 0;
  const deadline = performance.now() + PHASE_CAP_MS;
  let capped = false;
  let running = true;
  const prober = probe
    ? (async () => {
        const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        while (running) {
          const r = await get(probeAgent, port, '/healthz');
          probes.push(r.ms);
          await new Promise((res) => setTimeout(res, 50));
        }
        probeAgent.destroy();
      })()
    : Promise.resolve();
  const cpu0 = await cpuSnapshot();
  const t0 = performance.now();
  await Promise.all(
    tokens.map(async (token) => {
      for (let i = 0; i < perClient; i++) {
        if (performance.now() > deadline) {
          capped = true;
          return;
        }
        const r = await get(agent, port, urlPath, token);
        if (r.status !== 200) {
          errors++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }
        latencies.push(r.ms);
        bytes += r.bytes;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  running = false;
  await prober;
  agent.destroy();
  // The prober's /healthz requests are not counted: they cost the app a fraction of a millisecond each.
  const cpu = cpuSince(cpu0, await cpuSnapshot(), latencies.length);
  return { name, latencies, errors, statuses, bytes, wallMs, probe: probe ? probes : undefined, capped, ...cpu };
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    console.error('bench/judging needs real PostgreSQL: set DATABASE_URL (a server; a fresh database is created and dropped).');
    process.exit(2);
  }
  const watchdog = setTimeout(() => {
    console.error('bench/judging: watchdog fired, giving up');
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();

  const bench = await freshDatabase(serverUrl, 'cx_bench_judging');
  const url = new URL(bench.url);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-bench-judging-'));
  let child: ChildProcess | undefined;
  let container: Awaited<ReturnType<typeof createContainer>> | undefined;
  try {
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const pgVersion = new pg.Client({ connectionString: url.toString() });
    container = await createContainer(appConfig(url.toString(), dataDir), { logger: createLogger('silent') });
    await pgVersion.connect();
    console.log((await pgVersion.query('SHOW server_version')).rows[0].server_version.replace(/^/, 'PostgreSQL '));
    await pgVersion.end();
    const db = container.database.db;
    await container.users.ensureFirstAdmin(PASSWORD);
    const admin = toCurrentUser(await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow());
    const judges: Array<{ id: string; username: string }> = [];
    for (let i = 0; i < JUDGES; i += 5) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(5, JUDGES - i) }, (_, k) =>
          container!.users.create(admin, {
            username: `bench_judge_${i + k}`,
            password: PASSWORD,
            displayName: `评委${i + k}`,
            role: 'judge',
            countyId: null,
            schoolId: null,
          }),
        ),
      );
      judges.push(...batch.map((u) => ({ id: u.id, username: u.username })));
    }
    const tvUser = await container.users.create(admin, {
      username: 'bench_tv',
      password: PASSWORD,
      displayName: '电视台',
      role: 'tv',
      countyId: null,
      schoolId: null,
    });
    await passwordsChosen(db);
    const roundId = await seed(
      db,
      judges.map((j) => j.id),
    );
    await seedPagesData(
      db,
      judges.map((j) => j.id),
    );

    // ── 1. ranking ──
    const rankTimes: number[] = [];
    const rankCpu: number[] = [];
    await container.results.ranking(admin, roundId); // warm-up
    for (let i = 0; i < RANK_RUNS; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await container.results.ranking(admin, roundId);
      rankTimes.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      rankCpu.push((c.user + c.system) / 1000);
      if (r.rows.length !== ENTRIES || r.rows[0].scoreCount !== K) throw new Error('ranking: unexpected result');
    }
    // Cold: one score saved again before each run (its update time changes), so nothing is cached.
    const coldTimes: number[] = [];
    const touched = await db.selectFrom('assignments').select('id').where('round_id', '=', roundId).limit(1).executeTakeFirstOrThrow();
    for (let i = 0; i < RANK_RUNS; i++) {
      await db
        .updateTable('assignments')
        .set({ updated_at: new Date(Date.now() + i) })
        .where('id', '=', touched.id)
        .execute();
      const t0 = performance.now();
      const r = await container.results.ranking(admin, roundId);
      coldTimes.push(performance.now() - t0);
      if (r.rows.length !== ENTRIES) throw new Error('ranking: unexpected result');
    }
    // Diagnosis: each part alone.
    const scoresTimes: number[] = [];
    const entriesTimes: number[] = [];
    const pureTimes: number[] = [];
    let scores: Awaited<ReturnType<typeof submittedScores>> = [];
    let entryRows: Awaited<ReturnType<typeof rankingEntries>> = [];
    for (let i = 0; i < RANK_RUNS; i++) {
      // The repository's own two reads, timed one by one.
      let t0 = performance.now();
      scores = await submittedScores(db, roundId);
      scoresTimes.push(performance.now() - t0);
      t0 = performance.now();
      entryRows = await rankingEntries(db, roundId);
      entriesTimes.push(performance.now() - t0);
      t0 = performance.now();
      rankRound({
        method: 'trimmed_mean',
        criteria: DEFAULT_RUBRIC.map((c) => ({ key: c.key, max: c.max })),
        scores,
        entries: entryRows.map((e) => ({ id: e.id, code: e.code })),
      });
      pureTimes.push(performance.now() - t0);
    }

    if (process.env.BENCH_SKIP_HTTP === '1') {
      console.log(
        `ranking cached p50 ${ms(quantile(rankTimes, 0.5))}, cold p50 ${ms(quantile(coldTimes, 0.5))} (cached runs: ${rankTimes.map((x) => x.toFixed(0)).join(', ')}); scores query ${ms(quantile(scoresTimes, 0.5))}, entries query ${ms(quantile(entriesTimes, 0.5))}, rankRound ${ms(quantile(pureTimes, 0.5))}`,
      );
      return;
    }
    // ── 2. latency ──
    child = fork(__filename, ['--server'], {
      env: { ...process.env, BENCH_DB_URL: url.toString(), BENCH_DATA_DIR: dataDir },
      execArgv: webNodeFlags(),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child!.once('message', (m: { type: string; port: number }) => (m.type === 'ready' ? resolve(m.port) : reject(new Error(String(m.type)))));
      child!.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    cpuWatch.appPid = child.pid ?? 0;
    cpuWatch.dbUrl = url.toString();
    const tokens: string[] = [];
    for (let i = 0; i < judges.length; i += 5) {
      tokens.push(
        ...(await Promise.all(
          judges.slice(i, i + 5).map(async (j) => {
            const res = await new Promise<string>((resolve, reject) => {
              const body = JSON.stringify({ username: j.username, password: PASSWORD });
              const req = http.request(
                {
                  host: '127.0.0.1',
                  port,
                  path: '/api/v1/auth/token',
                  method: 'POST',
                  headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
                },
                (r) => {
                  const chunks: Buffer[] = [];
                  r.on('data', (c: Buffer) => chunks.push(c));
                  r.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
                },
              );
              req.on('error', reject);
              req.end(body);
            });
            return (JSON.parse(res) as { token: string }).token;
          }),
        )),
      );
    }
    const tokenOf = async (username: string) =>
      new Promise<string>((resolve, reject) => {
        const body = JSON.stringify({ username, password: PASSWORD });
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/v1/auth/token',
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token: string }).token));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const adminToken = await tokenOf('admin');
    const tvToken = await tokenOf(tvUser.username);
    const check = await fetchBody(port, '/api/v1/judging/assignments', tokens[0]);
    const queueLength = (JSON.parse(check.body) as unknown[]).length;
    if (check.status !== 200 || queueLength !== (ENTRIES * K) / JUDGES) throw new Error(`queue: ${check.status}, ${queueLength} assignments`);
    const page = await fetchBody(port, '/judging', tokens[0]);
    const pageExists = page.status === 200;
    const firstPage = await fetchBody(port, `/api/v1/judging/assignments?limit=${QUEUE_PAGE}`, tokens[0]);
    if (firstPage.status !== 200 || (JSON.parse(firstPage.body) as unknown[]).length !== QUEUE_PAGE) throw new Error(`queue page: ${firstPage.status}`);
    const roundsPage = await fetchBody(port, '/rounds', adminToken);
    if (roundsPage.status !== 200 || (roundsPage.body.match(/历史轮次/g) ?? []).length < EXTRA_ROUNDS)
      throw new Error(`/rounds: ${roundsPage.status}, not every round listed`);
    const desk = await fetchBody(port, '/api/v1/broadcast/entries', tvToken);
    if (desk.status !== 200 || (JSON.parse(desk.body) as unknown[]).length !== DESK_ITEMS) throw new Error(`desk: ${desk.status}`);

    const phases: PhaseResult[] = [];
    phases.push(
      await phase(
        'GET /healthz',
        port,
        '/healthz',
        Array.from({ length: JUDGES }, () => undefined),
        HEALTH_REQUESTS,
        false,
      ),
    );
    phases.push(await phase('GET /api/v1/judging/assignments', port, '/api/v1/judging/assignments', tokens, QUEUE_REQUESTS, true));
    const pagedQueue = await phase(
      `GET …/assignments?limit=${QUEUE_PAGE}`,
      port,
      `/api/v1/judging/assignments?limit=${QUEUE_PAGE}`,
      tokens,
      QUEUE_REQUESTS,
      true,
    );
    phases.push(pagedQueue);
    const judgingPage = pageExists ? await phase('GET /judging (HTML)', port, '/judging', tokens, QUEUE_REQUESTS, true) : undefined;
    if (judgingPage) phases.push(judgingPage);
    const roundsPhase = await phase(
      `GET /rounds (HTML, ${EXTRA_ROUNDS + 1} rounds)`,
      port,
      '/rounds',
      Array.from({ length: PAGE_CLIENTS }, () => adminToken),
      PAGE_REQUESTS,
      false,
    );
    const deskPhase = await phase(
      `GET /broadcast (HTML, ${DESK_ITEMS} items, page 1)`,
      port,
      '/broadcast',
      Array.from({ length: PAGE_CLIENTS }, () => tvToken),
      PAGE_REQUESTS,
      false,
    );
    phases.push(roundsPhase, deskPhase);

    // ── report ──
    const line = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
    console.log('');
    console.log(`ranking: ${ENTRIES} entries × ${K} judges × 4 criteria (${scores.length} submitted scores), trimmed mean, PostgreSQL`);
    console.log(
      `  results.ranking() cached p50 ${ms(quantile(rankTimes, 0.5))}  min ${ms(Math.min(...rankTimes))}  max ${ms(Math.max(...rankTimes))}  (${RANK_RUNS} runs)`,
    );
    console.log(
      `  results.ranking() cold   p50 ${ms(quantile(coldTimes, 0.5))}  min ${ms(Math.min(...coldTimes))}  max ${ms(Math.max(...coldTimes))}  (a score saved before each run)`,
    );
    console.log(`  of which CPU time of this process (all threads, GC included) p50 ${ms(quantile(rankCpu, 0.5))}`);
    console.log(`  scores query alone  p50 ${ms(quantile(scoresTimes, 0.5))}`);
    console.log(`  entries query alone p50 ${ms(quantile(entriesTimes, 0.5))}`);
    console.log(`  rankRound alone     p50 ${ms(quantile(pureTimes, 0.5))}`);
    console.log('');
    console.log(
      `latency: ${JUDGES} concurrent clients, keep-alive, app in a child process; queue = ${queueLength} assignments per judge${pageExists ? '' : '; /judging page not present'}`,
    );
    const widths = [34, 9, 10, 10, 10, 12, 6, 22, 26];
    console.log(line(['route', 'requests', 'p50', 'p99', 'max', 'errors', 'MB/s', 'CPU/req app + db', '/healthz probe p50 / p99'], widths));
    for (const p of phases) {
      console.log(
        line(
          [
            p.name + (p.capped ? ' (capped)' : ''),
            String(p.latencies.length),
            ms(quantile(p.latencies, 0.5)),
            ms(quantile(p.latencies, 0.99)),
            ms(Math.max(...p.latencies)),
            p.errors
              ? `${p.errors} (${Object.entries(p.statuses)
                  .map(([k, v]) => `${v}×${k}`)
                  .join(', ')})`
              : '0',
            (p.bytes / 1e6 / (p.wallMs / 1000)).toFixed(1),
            p.appCpuMs === undefined ? '' : `${p.appCpuMs.toFixed(2)} + ${(p.dbCpuMs ?? 0).toFixed(2)} ms`,
            p.probe ? `${ms(quantile(p.probe, 0.5))} / ${ms(quantile(p.probe, 0.99))} (n=${p.probe.length})` : '',
          ],
          widths,
        ),
      );
    }
    const q = phases[1];
    console.log(
      `  queue response ≈ ${(q.bytes / q.latencies.length / 1024).toFixed(0)} KiB; throughput ${(q.latencies.length / (q.wallMs / 1000)).toFixed(1)} req/s`,
    );
    if (judgingPage) {
      const p = judgingPage;
      console.log(
        `  page response ≈ ${(p.bytes / p.latencies.length / 1024).toFixed(0)} KiB; throughput ${(p.latencies.length / (p.wallMs / 1000)).toFixed(1)} req/s`,
      );
    }
    // ── targets (issue 14): ratios of this run ──
    const health99 = quantile(phases[0].latencies, 0.99);
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const targets: Array<[string, string, boolean]> = [
      ['ranking p50 (cached) < 100 ms', ms(quantile(rankTimes, 0.5)), quantile(rankTimes, 0.5) < 100],
      ['ranking p50 (cold, for the record) < 100 ms', ms(quantile(coldTimes, 0.5)), quantile(coldTimes, 0.5) < 100],
      [
        `queue page p99 / /healthz p99 ≤ 3×`,
        `${(quantile(pagedQueue.latencies, 0.99) / health99).toFixed(2)}× (${ms(quantile(pagedQueue.latencies, 0.99))} / ${ms(health99)})`,
        quantile(pagedQueue.latencies, 0.99) <= 3 * health99,
      ],
      ...(judgingPage
        ? ([
            [
              `/judging p99 / /healthz p99 ≤ 3×`,
              `${(quantile(judgingPage.latencies, 0.99) / health99).toFixed(2)}× (${ms(quantile(judgingPage.latencies, 0.99))} / ${ms(health99)})`,
              quantile(judgingPage.latencies, 0.99) <= 3 * health99,
            ],
          ] as Array<[string, string, boolean]>)
        : []),
      [`/rounds p99 < 150 ms (${PAGE_CLIENTS} clients)`, ms(quantile(roundsPhase.latencies, 0.99)), quantile(roundsPhase.latencies, 0.99) < 150],
      [`TV desk p99 < 150 ms (${PAGE_CLIENTS} clients)`, ms(quantile(deskPhase.latencies, 0.99)), quantile(deskPhase.latencies, 0.99) < 150],
    ];
    console.log('');
    console.log('targets (issue 14)');
    for (const [what, value, ok] of targets) console.log(`  ${what.padEnd(46)} ${value.padEnd(34)} ${verdict(ok)}`);
    // The same comparison by CPU time per request (app process + PostgreSQL backends): steadier than
    // wall-clock p99 on a shared machine. For the record, not a target.
    const cpuOf = (p: PhaseResult | undefined) => (p?.appCpuMs === undefined ? undefined : p.appCpuMs + (p.dbCpuMs ?? 0));
    const healthCpu = cpuOf(phases[0]);
    if (healthCpu) {
      console.log('CPU per request (app + PostgreSQL), for the record');
      for (const p of phases) {
        const c = cpuOf(p);
        if (c !== undefined) console.log(`  ${p.name.padEnd(46)} ${c.toFixed(2)} ms = ${(c / healthCpu).toFixed(1)}× /healthz`);
      }
    }
    console.log(
      `load average at the end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    if (child && child.exitCode === null) {
      child.send({ type: 'shutdown' });
      await new Promise((resolve) => {
        const timer = setTimeout(() => (child!.kill('SIGKILL'), resolve(undefined)), 10_000);
        child!.once('exit', () => (clearTimeout(timer), resolve(undefined)));
      });
    }
    await container?.close().catch(() => undefined);
    if (process.env.BENCH_KEEP_DB === '1') console.log(`kept database: ${url.toString()}`);
    else await bench.drop().catch((e) => console.error('drop database failed:', e));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') {
  serverChild().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
