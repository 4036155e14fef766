/**
 * bench/upload — resumable (tus) upload figures (issue 7). Not part of `npm test`.
 *
 *   npm run build && node dist/bench/upload.js
 *
 * One run, all over loopback, both servers in child processes, the client (this process) streaming
 * the same file from disk with `http.request`; every round runs each variant once, in this order:
 *  - bare: a Node server doing `pipeline(req, fs.createWriteStream(...))`, one request — the baseline;
 *  - bare + fsync: the same, with the file fsync'ed before the answer. The app answers the last PATCH
 *    only once the original is on disk (a teacher told "uploaded" must not lose it to a crash), so
 *    this is the like-for-like figure; on this VM's disk (~290 MB/s with fdatasync, about the loopback
 *    pipe's speed) durability costs the bare pipe too;
 *  - tus, 1 PATCH: the app's /api/v1/uploads (bearer token of a school user): POST (create) then one
 *    PATCH with the whole body (tus-js-client's default chunkSize);
 *  - tus, 50 MiB PATCHes: the same in the page's chunk size (UPLOAD_CHUNK_BYTES default).
 *    Each tus upload is timed from the POST to the end of the last PATCH's response, which includes
 *    onUploadFinish: the content sniff, the store's move + fsync of the original, and the transaction
 *    that inserts the video row and queues the ingest job (the worker is off: the ingest never runs);
 *  - tus, data path only: 1 PATCH with Upload-Length one byte longer than the body, so the upload
 *    never finishes (no sniff, no store move + fsync, no transaction); then DELETE.
 * The file is a small real MP4 followed by random bytes (8 MiB block repeated). Each timed upload
 * starts after a `sync`, so no run pays for an earlier run's writeback.
 * The app child's RSS growth: VmHWM (reset via /proc/<pid>/clear_refs) and VmRSS sampled every 50 ms
 * during each tus upload, minus VmRSS before it.
 *
 * Knobs: BENCH_UPLOAD_MIB (1024), BENCH_UPLOAD_RUNS (3 rounds; best and median reported),
 * BENCH_DATABASE_URL (a PostgreSQL server: the app runs on a fresh database there instead of PGlite),
 * BENCH_APP_NODE_ARGS (more node flags for the app child, after `npm start`'s own: `--cpu-prof --cpu-prof-dir=DIR`, `--trace-gc`), BENCH_UPLOAD_ORDER (e.g. `0,4`: only
 * those variants, in that order; the first must be 0 and the second 1 for the ratios).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createContainer } from '../src/container';
import { toCurrentUser } from '../src/accounts/user.repository';
import { createLogger } from '../src/platform/logger';
import { resolveMediaBinaries } from '../src/platform/media';
import { bareUploadHandler, freshDatabase, settleDisk, webNodeFlags, type BenchDatabase, passwordsChosen } from './support';

const MiB = 1024 * 1024;
const UPLOAD_BYTES = Number(process.env.BENCH_UPLOAD_MIB || 1024) * MiB;
const RUNS = Number(process.env.BENCH_UPLOAD_RUNS || 3);
const CHUNK = loadConfig({}).uploads.chunkBytes;
const PASSWORD = 'bench-password-1';

type Msg = { type: 'ready'; port: number; token?: string; schoolToken?: string; newEntry?: string } | { type: 'entry'; id: string };

// ───────────────────────────── children ─────────────────────────────

async function appChild(): Promise<void> {
  const config = loadConfig(process.env);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const container = await createContainer(config, { logger: createLogger('warn') });
  await container.users.ensureFirstAdmin(PASSWORD);
  const adminRow = await container.database.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
  const system = toCurrentUser(adminRow);
  const school = await container.schools.create(system, { name: '基准测试学校', countyId: 'c-lishi' });
  const user = await container.users.create(system, {
    username: 'bench-school',
    password: PASSWORD,
    displayName: '基准',
    role: 'school',
    countyId: null,
    schoolId: school.id,
  });
  await passwordsChosen(container.database.db);
  const actorRow = await container.database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
  const actor = toCurrentUser(actorRow);
  const campaign = await container.campaign.get();
  const song = campaign.songs.find((s) => s.designated)!;
  const server = http.createServer(buildApp(container));
  server.requestTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const tokenRes = await fetch(`http://127.0.0.1:${port}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench-school', password: PASSWORD }),
  });
  const token = ((await tokenRes.json()) as { token: string }).token;
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'entry') {
      const e = await container.entries.create(actor, { title: '基准测试作品', songId: song.id, form: 'chorus', level: 'primary', performerCount: 40 });
      process.send!({ type: 'entry', id: e.id } satisfies Msg);
    }
    if (m.type === 'shutdown') process.exit(0);
  });
  process.send!({ type: 'ready', port, token } satisfies Msg);
}

async function bareChild(): Promise<void> {
  const server = http.createServer(bareUploadHandler(process.env.BENCH_BARE_DIR!));
  server.requestTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.on('message', (m: { type: string }) => m.type === 'shutdown' && process.exit(0));
  process.send!({ type: 'ready', port: (server.address() as { port: number }).port } satisfies Msg);
}

// ───────────────────────────── parent ─────────────────────────────

interface Child {
  proc: ChildProcess;
  ready: Extract<Msg, { type: 'ready' }>;
  next(type: Msg['type']): Promise<Msg>;
}

async function startChild(mode: string, env: Record<string, string>): Promise<Child> {
  // The app child runs with `npm start`'s node flags, then BENCH_APP_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, `--trace-gc`).
  const execArgv = mode === '--app' ? [...webNodeFlags(), ...(process.env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)] : [];
  const proc = fork(__filename, [mode], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: Msg[] = [];
  const waiters: Array<() => void> = [];
  proc.on('message', (m: Msg) => {
    queue.push(m);
    for (const w of waiters.splice(0)) w();
  });
  proc.once('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  const next = (type: Msg['type']) =>
    new Promise<Msg>((resolve, reject) => {
      const check = () => {
        const i = queue.findIndex((m) => m.type === type);
        if (i >= 0) return resolve(queue.splice(i, 1)[0]!);
        if (proc.exitCode !== null) return reject(new Error(`${mode} exited`));
        waiters.push(check);
      };
      check();
    });
  const ready = (await next('ready')) as Extract<Msg, { type: 'ready' }>;
  return { proc, ready, next };
}

function send(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string>,
  file?: { path: string; start: number; end: number },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: { ...headers, 'Content-Length': String(file ? file.end - file.start : 0) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (!file) return req.end();
    fs.createReadStream(file.path, { start: file.start, end: file.end - 1, highWaterMark: MiB }).pipe(req);
  });
}

function procStatus(pid: number) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

function rssWatch(pid: number) {
  const before = procStatus(pid).rss;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not permitted: sampled peak only */
  }
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, procStatus(pid).rss)), 50);
  return () => {
    clearInterval(timer);
    const end = procStatus(pid);
    return Math.max(peak, end.rss, end.hwm || 0) - before;
  };
}

async function tusUpload(app: Child, file: string, size: number, chunk: number, finish = true): Promise<{ ms: number; rssGrowth: number }> {
  app.proc.send({ type: 'entry' });
  const entryId = ((await app.next('entry')) as { id: string }).id;
  const auth = { Authorization: `Bearer ${app.ready.token}`, 'Tus-Resumable': '1.0.0' };
  const meta = `entryId ${Buffer.from(entryId).toString('base64')},filename ${Buffer.from('bench.mp4').toString('base64')}`;
  settleDisk();
  const stop = rssWatch(app.proc.pid!);
  const started = Date.now();
  const created = await send(app.ready.port, 'POST', '/api/v1/uploads', {
    ...auth,
    'Upload-Length': String(finish ? size : size + 1),
    'Upload-Metadata': meta,
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body}`);
  const location = created.headers.location!;
  for (let offset = 0; offset < size; offset += chunk) {
    const end = Math.min(size, offset + chunk);
    const res = await send(
      app.ready.port,
      'PATCH',
      location,
      { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      { path: file, start: offset, end },
    );
    if (res.status !== 204) throw new Error(`patch at ${offset}: ${res.status} ${res.body}`);
  }
  const ms = Date.now() - started;
  const rssGrowth = stop();
  if (!finish) await send(app.ready.port, 'DELETE', location, auth);
  return { ms, rssGrowth };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-bench-upload-'));
  const children: Child[] = [];
  let database: BenchDatabase | undefined;
  try {
    const binaries = resolveMediaBinaries({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH });
    const headClip = path.join(tmp, 'head.mp4');
    await new Promise<void>((resolve, reject) => {
      const p = spawn(
        binaries.ffmpeg,
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-y',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=1',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          '-movflags',
          '+faststart',
          headClip,
        ],
        { stdio: 'ignore' },
      );
      p.on('error', reject);
      p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`ffmpeg ${c}`))));
    });
    const file = path.join(tmp, 'upload.bin');
    const block = crypto.randomBytes(CHUNK);
    const fd = fs.openSync(file, 'w');
    let written = fs.writeSync(fd, fs.readFileSync(headClip));
    while (written < UPLOAD_BYTES) written += fs.writeSync(fd, block, 0, Math.min(block.length, UPLOAD_BYTES - written));
    fs.closeSync(fd);

    fs.mkdirSync(path.join(tmp, 'bare'));
    const bare = await startChild('--bare', { BENCH_BARE_DIR: path.join(tmp, 'bare') });
    children.push(bare);
    // BENCH_DATABASE_URL (a PostgreSQL server): the app on a fresh database there, as production runs; else PGlite.
    if (process.env.BENCH_DATABASE_URL) database = await freshDatabase(process.env.BENCH_DATABASE_URL, 'cx_bench_upload');
    const app = await startChild('--app', {
      DATA_DIR: path.join(tmp, 'data'),
      IN_PROCESS_WORKER: 'false',
      SCRYPT_LOG_N: '14',
      DATABASE_URL: database?.url ?? '',
      MAX_VIDEO_BYTES: String(UPLOAD_BYTES * 2),
      SCHOOL_UPLOAD_CAP_BYTES: String(UPLOAD_BYTES * 4),
    });
    children.push(app);
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}; app on ${database ? 'PostgreSQL' : 'PGlite'}; ${UPLOAD_BYTES / MiB} MiB, ${RUNS} rounds, sync before every timed upload`,
    );

    const barePut = async (urlPath: string) => {
      settleDisk();
      const t0 = Date.now();
      const r = await send(bare.ready.port, 'PUT', urlPath, {}, { path: file, start: 0, end: UPLOAD_BYTES });
      if (r.status !== 200) throw new Error(`bare: ${r.status}`);
      return { ms: Date.now() - t0, rssGrowth: 0 };
    };
    const variants: Array<{ label: string; tus: boolean; run(): Promise<{ ms: number; rssGrowth: number }> }> = [
      { label: 'bare Node pipe (the baseline)', tus: false, run: () => barePut('/upload') },
      { label: 'bare Node pipe + fsync at the end (as durable as the app)', tus: false, run: () => barePut('/upload?fsync') },
      { label: 'tus, 1 PATCH (incl. finish → original stored + fsync, ingest queued)', tus: true, run: () => tusUpload(app, file, UPLOAD_BYTES, UPLOAD_BYTES) },
      { label: `tus, ${CHUNK / MiB} MiB PATCHes (the page's chunk size), incl. finish`, tus: true, run: () => tusUpload(app, file, UPLOAD_BYTES, CHUNK) },
      // A diagnostic, not an upload a teacher makes (it never finishes): figures, no verdict.
      {
        label: 'tus, 1 PATCH, data path only (Upload-Length one byte longer: no finish; diagnostic)',
        tus: false,
        run: () => tusUpload(app, file, UPLOAD_BYTES, UPLOAD_BYTES, false),
      },
    ];
    // BENCH_UPLOAD_ORDER=4,2 runs only those variants (0-based), in that order, each round.
    const order = process.env.BENCH_UPLOAD_ORDER ? process.env.BENCH_UPLOAD_ORDER.split(',').map(Number) : variants.map((_, i) => i);
    const times = variants.map(() => [] as number[]);
    let rss = 0;
    for (let round = 0; round < RUNS; round++) {
      for (const i of order) {
        const r = await variants[i]!.run();
        times[i]!.push(r.ms);
        rss = Math.max(rss, r.rssGrowth);
      }
    }
    const best = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const mibs = (ms: number) => (UPLOAD_BYTES / MiB / (ms / 1000)).toFixed(0);
    const bareBest = best(times[0]!);
    const durableBest = best(times[1]!);
    const lines = variants.flatMap((v, i) => {
      if (times[i]!.length === 0) return [];
      const b = best(times[i]!);
      const ratio = (base: number) => (base / b).toFixed(2);
      const verdict = v.tus ? `${bareBest / b >= 0.8 ? 'ok' : 'BELOW'} (≥ 0.8× the bare pipe)` : '';
      return [
        `| ${v.label} | ${(b / 1000).toFixed(2)} s (${mibs(b)} MiB/s) | ${(median(times[i]!) / 1000).toFixed(2)} s | ${i === 0 ? '' : `${ratio(bareBest)}×`} | ${i < 2 ? '' : `${ratio(durableBest)}×`} | ${verdict} |`,
      ];
    });
    console.log(order.map((i) => `${variants[i]!.label}: ${times[i]!.join('/')} ms`).join('\n'));
    console.log(
      [
        '| measure | best | median | vs bare | vs bare + fsync | target |',
        '|---|---|---|---|---|---|',
        ...lines,
        `| app server RSS growth (peak, any tus run) | ${(rss / MiB).toFixed(0)} MiB | | | | ${rss / MiB < 150 ? 'ok' : 'OVER'} (< 150 MiB) |`,
      ].join('\n'),
    );
  } finally {
    for (const c of children) {
      try {
        c.proc.send({ type: 'shutdown' });
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    await database?.drop().catch((err: unknown) => console.error('could not drop the bench database', err));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
(mode === '--app' ? appChild() : mode === '--bare' ? bareChild() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
