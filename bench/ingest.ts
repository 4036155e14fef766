/**
 * bench/ingest — upload and ingest figures of the video pipeline (issue 3). Not part of `npm test`.
 *
 *   npm run bench:ingest
 *
 * One run measures, all over loopback:
 *  1. Upload throughput of a 1 GiB multipart upload (`video` field) to the real endpoint
 *     `POST /api/v1/entries/:id/video` (bearer token of a school user) vs a bare Node server doing
 *     `pipeline(req, fs.createWriteStream(...))` with the same bytes. Both servers run in child
 *     processes; the client (this process) streams the file from disk with `http.request` and
 *     times start → end of the response. The file is a small real MP4 (so the content sniff
 *     passes) followed by random bytes (an 8 MiB random block repeated). The app runs with the
 *     in-process worker off, so the queued ingest of that file never runs.
 *  2. The app server's peak RSS growth during that upload: VmHWM (reset through
 *     /proc/<pid>/clear_refs just before) and VmRSS sampled every 50 ms, minus VmRSS before.
 *  3. Ingest wall time of a 60 s 1080p30 clip through the whole job (upload → queue → in-process
 *     worker → `ready`), vs the bare ffmpeg preview command of docs/media.md run directly.
 *     For diagnosis it also times the ingest's single ffmpeg run (buildIngestArgs) alone.
 *
 * Database: embedded PGlite in a temp DATA_DIR, or — when DATABASE_URL is set — a fresh database
 * created on that server and dropped afterwards. Local object store in the temp DATA_DIR.
 * Everything it creates is removed at the end.
 *
 * Knobs (for quick checks; the documented figures use the defaults): BENCH_UPLOAD_MIB (1024),
 * BENCH_UPLOAD_RUNS (2 per server, alternating; best is reported), BENCH_CLIP_SECONDS (60),
 * BENCH_INGEST_RUNS (2 of each, alternating; best is reported).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createContainer } from '../src/container';
import { toCurrentUser } from '../src/accounts/user.repository';
import { createLogger, type Logger } from '../src/platform/logger';
import { buildIngestArgs, createMediaRunner, normalizeProbe, planPreview, resolveMediaBinaries } from '../src/platform/media';
import { createObjectStore } from '../src/platform/storage';
import { videoUploadMiddleware } from '../src/entries/video-upload';
import type { ObjectStore } from '../src/platform/storage/object-store';
import { bareUploadHandler, freshDatabase, webNodeFlags, passwordsChosen } from './support';

const MiB = 1024 * 1024;
const UPLOAD_BYTES = envInt('BENCH_UPLOAD_MIB', 1024) * MiB;
const UPLOAD_RUNS = envInt('BENCH_UPLOAD_RUNS', 2);
const CLIP_SECONDS = envInt('BENCH_CLIP_SECONDS', 60);
const INGEST_RUNS = envInt('BENCH_INGEST_RUNS', 2);
const PASSWORD = 'bench-password-1';
const WATCHDOG_MS = 30 * 60_000;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

// ───────────────────────────── IPC messages ─────────────────────────────

/** Server-side phase times of one app upload (ms, child clock). */
interface UploadPhases {
  reqStart: number;
  attachStart: number;
  putOriginalMs: number;
  attachEnd: number;
  finish: number;
}

type FromChild =
  | { type: 'ready'; port: number; username: string }
  | { type: 'upload'; phases: UploadPhases }
  | { type: 'workerStarted' }
  | { type: 'job'; msg: string; at: number; elapsedMs?: number; verdict?: string; code?: string; detail?: string }
  | { type: 'jobStore'; op: string; key: string; ms: number };

type ToChild = { type: 'startWorker' } | { type: 'shutdown' };

// ───────────────────────────── child: the real app ─────────────────────────────

async function appChild(): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const config = loadConfig(process.env);
  fs.mkdirSync(config.dataDir, { recursive: true });

  // The real store, with its calls timed (the upload service and the job use this very object).
  const base = createObjectStore(config.storage);
  let current: Partial<UploadPhases> = {};
  const store: ObjectStore = {
    ...base,
    async putFile(key, filePath, opts) {
      const t = Date.now();
      const r = await base.putFile(key, filePath, opts);
      if (key.startsWith('originals/')) current.putOriginalMs = Date.now() - t;
      else send({ type: 'jobStore', op: 'putFile', key, ms: Date.now() - t });
      return r;
    },
    async downloadToFile(key, filePath) {
      const t = Date.now();
      await base.downloadToFile(key, filePath);
      send({ type: 'jobStore', op: 'downloadToFile', key, ms: Date.now() - t });
    },
  };
  const logger = capturingLogger(createLogger('warn'), (msg, fields) => {
    if (msg === 'video ready' || msg === 'video rejected') {
      send({
        type: 'job',
        msg,
        at: Date.now(),
        elapsedMs: typeof fields?.elapsedMs === 'number' ? fields.elapsedMs : undefined,
        verdict: typeof fields?.verdict === 'string' ? fields.verdict : undefined,
        code: typeof fields?.code === 'string' ? fields.code : undefined,
        detail: typeof fields?.detail === 'string' ? fields.detail.slice(0, 500) : undefined,
      });
    }
  });

  const container = await createContainer(config, { store, logger });
  const attach = container.uploads.attach;
  container.uploads.attach = async (...args) => {
    current.attachStart = Date.now();
    try {
      return await attach(...args);
    } finally {
      current.attachEnd = Date.now();
    }
  };

  // A school and its teacher.
  await container.users.ensureFirstAdmin(PASSWORD);
  const adminRow = await container.database.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
  const system = toCurrentUser(adminRow);
  const school = await container.schools.create(system, { name: '基准测试学校', countyId: 'c-lishi' });
  const username = 'bench-teacher';
  await container.users.create(system, { username, password: PASSWORD, displayName: '基准测试', role: 'school', countyId: null, schoolId: school.id });

  await passwordsChosen(container.database.db);
  const app = buildApp(container);
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && /\/video$/.test(req.url ?? '')) {
      current = { reqStart: Date.now() };
      const phases = current;
      res.on('finish', () => {
        phases.finish = Date.now();
        send({ type: 'upload', phases: phases as UploadPhases });
      });
    }
    app(req, res);
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.type === 'startWorker') {
        // The 1 GiB uploads queued ingest jobs for a file that is not a video past its first
        // kilobytes: drop them, so the worker runs only the clip's job.
        await container.database.db.deleteFrom('jobs').where('status', '=', 'queued').execute();
        container.startWorker();
        send({ type: 'workerStarted' });
      } else if (m.type === 'shutdown') {
        server.close();
        server.closeAllConnections();
        await container.close();
        process.exit(0);
      }
    })().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
  const addr = server.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : 0, username });
}

function capturingLogger(inner: Logger, sink: (msg: string, fields?: Record<string, unknown>) => void): Logger {
  return {
    debug: (m, f) => inner.debug(m, f),
    info: (m, f) => {
      sink(m, f);
      inner.info(m, f);
    },
    warn: (m, f) => {
      sink(m, f);
      inner.warn(m, f);
    },
    error: (m, f) => inner.error(m, f),
    child: (fields) => capturingLogger(inner.child(fields), sink),
  };
}

// ───────────────────────────── child: the bare server ─────────────────────────────

async function bareChild(): Promise<void> {
  const server = http.createServer(bareUploadHandler(process.env.BENCH_BARE_DIR!));
  await serve(server);
}

/** Diagnostic: the app's own upload middleware (multer, same limits) alone in a bare express app. */
async function multerChild(): Promise<void> {
  const app = express();
  app.post('/upload', videoUploadMiddleware({ tmpDir: process.env.BENCH_MULTER_DIR!, maxBytes: Number(process.env.MAX_VIDEO_BYTES) }), (req, res) => {
    res.json({ size: req.file?.size ?? null });
    if (req.file) fs.rm(req.file.path, { force: true }, () => undefined);
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send(String(err));
  });
  await serve(http.createServer(app));
}

async function serve(server: http.Server): Promise<void> {
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m: ToChild) => {
    if (m.type === 'shutdown') {
      server.close();
      process.exit(0);
    }
  });
  const addr = server.address();
  process.send?.({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : 0, username: '' } satisfies FromChild);
}

// ───────────────────────────── parent helpers ─────────────────────────────

interface Child {
  proc: ChildProcess;
  port: number;
  username: string;
  messages: FromChild[];
  wait<T extends FromChild['type']>(
    type: T,
    timeoutMs: number,
    pred?: (m: Extract<FromChild, { type: T }>) => boolean,
  ): Promise<Extract<FromChild, { type: T }>>;
  send(m: ToChild): void;
  stop(): Promise<void>;
}

async function startChild(mode: string, env: Record<string, string | undefined>): Promise<Child> {
  // The app child runs with `npm start`'s node flags, as production does.
  const execArgv = mode === '--child-app' ? webNodeFlags() : [];
  const proc = fork(__filename, [mode], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: FromChild[] = [];
  const waiters: Array<() => void> = [];
  proc.on('message', (m: FromChild) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  let exited = false;
  proc.on('exit', () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  const wait: Child['wait'] = (type, timeoutMs, pred) =>
    new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const check = () => {
        const i = messages.findIndex((m) => m.type === type && (!pred || pred(m as never)));
        if (i >= 0) return resolve(messages.splice(i, 1)[0] as never);
        if (exited) return reject(new Error(`${mode} child exited while waiting for "${type}"`));
        if (Date.now() > deadline) return reject(new Error(`${mode} child: no "${type}" within ${timeoutMs} ms`));
        waiters.push(check);
        setTimeout(check, Math.max(0, deadline - Date.now()) + 5).unref();
      };
      check();
    });
  const ready = await wait('ready', 120_000);
  return {
    proc,
    port: ready.port,
    username: ready.username,
    messages,
    wait,
    send: (m) => proc.send(m),
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      try {
        proc.send({ type: 'shutdown' } satisfies ToChild);
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Date.now() - started) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

/** A file of exactly `bytes`: `head` then an 8 MiB random block repeated. */
function makeUploadFile(file: string, head: Buffer, bytes: number): void {
  const block = crypto.randomBytes(8 * MiB);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    let written = head.length;
    while (written < bytes) {
      const n = Math.min(block.length, bytes - written);
      fs.writeSync(fd, block, 0, n);
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

interface PostResult {
  status: number;
  body: string;
  ms: number;
}

/** Streams `file` from disk as the `video` part of a multipart body; times to the end of the response. */
function postMultipart(port: number, urlPath: string, file: string, headers: Record<string, string>): Promise<PostResult> {
  const boundary = `----cxbench${crypto.randomBytes(12).toString('hex')}`;
  const pre = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
  const post = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(pre.length + size + post.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(pre);
    const rs = fs.createReadStream(file, { highWaterMark: MiB });
    rs.on('error', reject);
    rs.pipe(req, { end: false });
    rs.on('end', () => req.end(post));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read field by field
async function jsonRequest(port: number, method: string, urlPath: string, token: string | null, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples the process's VmRSS every 50 ms; VmHWM is reset first so it reports this window's peak. */
function rssWatch(pid: number) {
  const before = procStatus(pid).rss;
  let hwmReset = true;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmReset = false;
  }
  let peak = before;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(pid).rss);
    } catch {
      /* exited */
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      const end = procStatus(pid);
      peak = Math.max(peak, end.rss);
      return { before, sampledPeak: peak, hwm: hwmReset ? end.hwm : NaN, growth: Math.max(peak, hwmReset ? end.hwm : 0) - before };
    },
  };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of a process (utime + stime) and of its waited-for children (cutime + cstime). */
function cpuSeconds(pid: number | 'self'): { self: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // f[0] is field 3 (state): utime = field 14, stime 15, cutime 16, cstime 17.
  return { self: (f[11] + f[12]) / CLK_TCK, children: (f[13] + f[14]) / CLK_TCK };
}

const mib = (b: number) => (b / MiB).toFixed(1);
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const secs = (ms: number) => (ms / 1000).toFixed(2);

// ───────────────────────────── parent ─────────────────────────────

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench: over ${WATCHDOG_MS / 60000} min, giving up`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-bench-'));
  const children: Child[] = [];
  let dropDb: (() => Promise<void>) | null = null;
  const log = (s: string) => console.log(`[bench] ${s}`);
  try {
    const binaries = resolveMediaBinaries({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH });
    const runner = createMediaRunner(binaries);
    const loadBefore = os.loadavg();
    log(
      `ffmpeg: ${binaries.ffmpeg} (${binaries.source}); ${os.cpus().length} CPUs; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; temp dir ${tmp}`,
    );

    // Inputs.
    const headClip = path.join(tmp, 'head.mp4');
    await run(binaries.ffmpeg, [
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
    ]);
    const bigFile = path.join(tmp, 'upload.bin');
    let t = Date.now();
    makeUploadFile(bigFile, fs.readFileSync(headClip), UPLOAD_BYTES);
    log(`made ${mib(UPLOAD_BYTES)} MiB upload file in ${secs(Date.now() - t)} s`);
    const clip = path.join(tmp, 'clip.mp4');
    t = Date.now();
    await run(binaries.ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=1920x1080:rate=30:duration=${CLIP_SECONDS}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-shortest',
      clip,
    ]);
    log(`made ${CLIP_SECONDS} s 1080p30 clip (${mib(fs.statSync(clip).size)} MiB) in ${secs(Date.now() - t)} s`);

    // Database.
    let databaseUrl: string | undefined;
    if (process.env.DATABASE_URL) {
      const bench = await freshDatabase(process.env.DATABASE_URL);
      databaseUrl = bench.url;
      dropDb = bench.drop;
    }

    // Servers.
    const maxVideoBytes = String(UPLOAD_BYTES + 256 * MiB);
    fs.mkdirSync(path.join(tmp, 'bare'));
    fs.mkdirSync(path.join(tmp, 'multer'));
    const bare = await startChild('--child-bare', { BENCH_BARE_DIR: path.join(tmp, 'bare') });
    children.push(bare);
    const multerOnly = await startChild('--child-multer', { BENCH_MULTER_DIR: path.join(tmp, 'multer'), MAX_VIDEO_BYTES: maxVideoBytes });
    children.push(multerOnly);
    t = Date.now();
    const app = await startChild('--child-app', {
      DATA_DIR: path.join(tmp, 'app-data'),
      DATABASE_URL: databaseUrl ?? '',
      IN_PROCESS_WORKER: 'false',
      MAX_VIDEO_BYTES: maxVideoBytes,
      SCRYPT_LOG_N: '14',
      LOG_LEVEL: 'warn',
      S3_BUCKET: '',
      S3_ENDPOINT: '',
    });
    children.push(app);
    log(`app child up in ${secs(Date.now() - t)} s (${databaseUrl ? 'PostgreSQL' : 'PGlite'}, local store)`);

    const tokenRes = await jsonRequest(app.port, 'POST', '/api/v1/auth/token', null, { username: app.username, password: PASSWORD });
    if (tokenRes.status !== 200) throw new Error(`token: ${tokenRes.status} ${JSON.stringify(tokenRes.json)}`);
    const token = tokenRes.json.token as string;
    const newEntry = async (title: string) => {
      const r = await jsonRequest(app.port, 'POST', '/api/v1/entries', token, {
        title,
        customSongTitle: '我和我的祖国',
        form: 'chorus',
        level: 'primary',
        performerCount: 40,
      });
      if (r.status !== 201) throw new Error(`create entry: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.id as string;
    };
    const bigEntry = await newEntry('吞吐量测试');
    const auth = { Authorization: `Bearer ${token}` };

    // Warm-up (JIT, first-request paths) with a small upload to each server.
    const warm = path.join(tmp, 'warm.bin');
    makeUploadFile(warm, fs.readFileSync(headClip), 16 * MiB);
    await postMultipart(bare.port, '/upload', warm, {});
    await postMultipart(multerOnly.port, '/upload', warm, {});
    const w = await postMultipart(app.port, `/api/v1/entries/${bigEntry}/video`, warm, auth);
    if (w.status !== 202) throw new Error(`warm-up upload: ${w.status} ${w.body}`);
    await app.wait('upload', 10_000);
    fs.rmSync(warm);

    // 1 + 2: upload throughput, server CPU and server RSS; bare → multer only → app, UPLOAD_RUNS times.
    type Rss = ReturnType<ReturnType<typeof rssWatch>['stop']>;
    interface UploadRun {
      ms: number;
      cpu: number;
      rss: Rss;
      phases?: UploadPhases;
    }
    const runs: Record<'bare' | 'multer' | 'app', UploadRun[]> = { bare: [], multer: [], app: [] };
    const uploadTo = async (kind: 'bare' | 'multer' | 'app', i: number) => {
      const server = kind === 'bare' ? bare : kind === 'multer' ? multerOnly : app;
      const urlPath = kind === 'app' ? `/api/v1/entries/${bigEntry}/video` : '/upload';
      const watch = rssWatch(server.proc.pid!);
      const cpu0 = cpuSeconds(server.proc.pid!).self;
      const r = await postMultipart(server.port, urlPath, bigFile, kind === 'app' ? auth : {});
      const cpu = cpuSeconds(server.proc.pid!).self - cpu0;
      const rss = watch.stop();
      if (r.status !== (kind === 'app' ? 202 : 200)) throw new Error(`${kind} upload: ${r.status} ${r.body}`);
      const run: UploadRun = { ms: r.ms, cpu, rss };
      if (kind === 'app') run.phases = (await app.wait('upload', 10_000)).phases;
      runs[kind].push(run);
      const p = run.phases;
      log(
        `${kind.padEnd(6)} #${i + 1}: ${secs(r.ms)} s, ${mbps(UPLOAD_BYTES, r.ms).toFixed(0)} MB/s, server CPU ${cpu.toFixed(2)} s, RSS +${mib(rss.growth)} MiB` +
          (p
            ? ` (body → multer temp file ${secs(p.attachStart - p.reqStart)} s, store.putFile ${secs(p.putOriginalMs)} s, sniff + DB ${secs(p.attachEnd - p.attachStart - p.putOriginalMs)} s)`
            : ''),
      );
    };
    for (let i = 0; i < UPLOAD_RUNS; i++) {
      await uploadTo('bare', i);
      await uploadTo('multer', i);
      await uploadTo('app', i);
    }

    // Diagnostic: what the local store's putFile does to the upload (copyFile + fsync), on its own.
    const copyTarget = path.join(tmp, 'copy.bin');
    t = performance.now();
    await fs.promises.copyFile(bigFile, copyTarget);
    const copyMs = performance.now() - t;
    t = performance.now();
    const fh = await fs.promises.open(copyTarget, 'r+');
    await fh.sync();
    await fh.close();
    const fsyncMs = performance.now() - t;
    fs.rmSync(copyTarget);
    log(`store copy alone: copyFile ${secs(copyMs)} s + fsync ${secs(fsyncMs)} s`);

    // 3: ingest. The bare ffmpeg preview command (docs/media.md recipe, sizes from the same plan) and
    // the whole job, interleaved INGEST_RUNS times; CPU time too (the machine may be shared).
    const probe = normalizeProbe(await runner.probe(clip, { timeoutMs: 30_000, demuxer: 'mov' }));
    const plan = planPreview(probe, { hdrTonemap: false });
    const bareArgs = [
      '-hide_banner',
      '-nostdin',
      '-y',
      '-loglevel',
      'error',
      '-i',
      clip,
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-vf',
      `fps=${plan.frameRate},scale=${plan.width}:${plan.height},format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '23',
      '-maxrate',
      '3M',
      '-bufsize',
      '6M',
      '-profile:v',
      'high',
      '-g',
      '60',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-ac',
      '2',
      '-ar',
      '48000',
      '-map_metadata',
      '-1',
      '-movflags',
      '+faststart',
      path.join(tmp, 'bare-preview.mp4'),
    ];
    const clipEntries: string[] = [];
    for (let i = 0; i < INGEST_RUNS; i++) clipEntries.push(await newEntry(`转码测试 ${i + 1}`));
    app.send({ type: 'startWorker' });
    await app.wait('workerStarted', 30_000);

    const bareFf: Array<{ ms: number; cpu: number }> = [];
    const jobs: Array<{ ms: number; cpu: number; cpuNode: number; ingestMs: number; store: string; verdict: string }> = [];
    for (let i = 0; i < INGEST_RUNS; i++) {
      const cpu0 = cpuSeconds('self').children;
      const ms = await run(binaries.ffmpeg, bareArgs);
      bareFf.push({ ms, cpu: cpuSeconds('self').children - cpu0 });
      log(`bare ffmpeg preview #${i + 1}: ${secs(ms)} s wall, ${bareFf[i].cpu.toFixed(1)} s CPU (${plan.width}x${plan.height} @ ${plan.frameRate})`);

      // The whole job: upload the clip; its commit enqueues the job; time to `ready`.
      // (The app's CPU is counted from before the upload, so the job's first milliseconds are in.)
      const c0 = cpuSeconds(app.proc.pid!);
      const up = await postMultipart(app.port, `/api/v1/entries/${clipEntries[i]}/video`, clip, auth);
      if (up.status !== 202) throw new Error(`clip upload: ${up.status} ${up.body}`);
      const clipPhases = (await app.wait('upload', 10_000)).phases;
      // The job logs "video ready" right after its commit; the child reports that over IPC (no
      // polling load on the server while it works). Then the API must say the same.
      const jobLog = await app.wait('job', (3 * CLIP_SECONDS + 120) * 1000);
      const c1 = cpuSeconds(app.proc.pid!);
      const cpu = c1.self + c1.children - c0.self - c0.children;
      const cpuNode = c1.self - c0.self;
      const video = (await jsonRequest(app.port, 'GET', `/api/v1/entries/${clipEntries[i]}`, token)).json?.video;
      if (jobLog.msg !== 'video ready' || video?.status !== 'ready')
        throw new Error(`clip ingest did not reach ready: ${JSON.stringify(jobLog)} ${JSON.stringify(video)}`);
      const storeOps = app.messages.filter((m): m is Extract<FromChild, { type: 'jobStore' }> => m.type === 'jobStore');
      app.messages.splice(0, app.messages.length, ...app.messages.filter((m) => m.type !== 'jobStore'));
      jobs.push({
        ms: jobLog.at - clipPhases.attachEnd,
        cpu,
        cpuNode,
        ingestMs: jobLog.elapsedMs ?? NaN,
        store: storeOps.map((s) => `${s.op}(${s.key.split('/')[0]}) ${secs(s.ms)} s`).join(' + '),
        verdict: String(video.qc?.verdict),
      });
      log(
        `job #${i + 1}: enqueue → ready ${secs(jobs[i].ms)} s wall, ${cpu.toFixed(1)} s CPU (of which the app's node process ${cpuNode.toFixed(1)} s); ingestVideo ${secs(jobs[i].ingestMs)} s; QC ${jobs[i].verdict}`,
      );
    }

    // Diagnostic: the ingest's single ffmpeg run (preview + QC filters + poster) alone.
    const cpuBefore = cpuSeconds('self').children;
    const ingestRun = await runner.run(
      buildIngestArgs(probe, {
        inputPath: clip,
        previewPath: path.join(tmp, 'ingest-preview.mp4'),
        posterPath: path.join(tmp, 'ingest-poster.jpg'),
        caps: { hdrTonemap: false },
      }),
      { timeoutMs: (3 * CLIP_SECONDS + 60) * 1000 },
    );
    const ingestRunCpu = cpuSeconds('self').children - cpuBefore;
    t = performance.now();
    await runner.probe(clip, { timeoutMs: 30_000, demuxer: 'mov' });
    const probeSourceMs = performance.now() - t;
    t = performance.now();
    await runner.probe(path.join(tmp, 'ingest-preview.mp4'), { timeoutMs: 30_000, demuxer: 'mov' });
    const probePreviewMs = performance.now() - t;
    log(`ingest ffmpeg run alone: ${secs(ingestRun.elapsedMs)} s wall, ${ingestRunCpu.toFixed(1)} s CPU`);
    const loadAfter = os.loadavg();

    // Report.
    const best = (list: UploadRun[]) => list.reduce((a, b) => (b.ms < a.ms ? b : a));
    const bestBare = best(runs.bare).ms;
    const bestMulter = best(runs.multer).ms;
    const bestApp = best(runs.app);
    const bareMBs = mbps(UPLOAD_BYTES, bestBare);
    const appMBs = mbps(UPLOAD_BYTES, bestApp.ms);
    const peakRss = Math.max(...runs.app.map((r) => r.rss.growth));
    const uploadRatio = appMBs / bareMBs;
    const bestFf = Math.min(...bareFf.map((r) => r.ms));
    const bestJob = jobs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const ingestRatio = bestJob.ms / bestFf;
    const cpuRatio = Math.min(...jobs.map((j) => j.cpu)) / Math.min(...bareFf.map((r) => r.cpu));
    const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');
    const sizeLabel = UPLOAD_BYTES === 1024 * MiB ? '1 GiB' : `${mib(UPLOAD_BYTES)} MiB`;
    const rows: Array<[string, string, string, string]> = [
      [`upload ${sizeLabel}, bare pipeline(req, createWriteStream)`, `${bareMBs.toFixed(0)} MB/s (${secs(bestBare)} s)`, '', ''],
      [`upload ${sizeLabel}, POST /api/v1/entries/:id/video`, `${appMBs.toFixed(0)} MB/s (${secs(bestApp.ms)} s)`, '', ''],
      [`upload ${sizeLabel}, diagnostic: videoUploadMiddleware alone`, `${mbps(UPLOAD_BYTES, bestMulter).toFixed(0)} MB/s (${secs(bestMulter)} s)`, '', ''],
      ['upload ratio app / bare', `${uploadRatio.toFixed(2)}×`, '≥ 0.70×', ok(uploadRatio >= 0.7)],
      ['app server peak RSS growth during upload', `${mib(peakRss)} MiB`, '< 150 MiB', ok(peakRss < 150 * MiB)],
      [`bare ffmpeg preview, ${CLIP_SECONDS} s 1080p30`, `${secs(bestFf)} s`, '', ''],
      ['ingest job, enqueue → ready', `${secs(bestJob.ms)} s`, '', ''],
      ['ingest ratio job / bare ffmpeg (wall)', `${ingestRatio.toFixed(2)}×`, '≤ 1.20×', ok(ingestRatio <= 1.2)],
      ['ingest ratio job / bare ffmpeg (CPU time)', `${cpuRatio.toFixed(2)}×`, '', ''],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(
      `\nbench/ingest — ${new Date().toISOString()} — ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${databaseUrl ? 'PostgreSQL' : 'PGlite'}, load average ${fmtLoad(loadBefore)} → ${fmtLoad(loadAfter)}\n`,
    );
    console.log(`| ${'measure'.padEnd(w0)} | ${'result'.padEnd(w1)} | target    | status |`);
    console.log(`|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}|-----------|--------|`);
    for (const r of rows) console.log(`| ${r[0].padEnd(w0)} | ${r[1].padEnd(w1)} | ${r[2].padEnd(9)} | ${r[3].padEnd(6)} |`);
    console.log('\nbreakdown');
    const list = (k: keyof typeof runs, f: (r: UploadRun) => string) => runs[k].map(f).join(', ');
    for (const k of ['bare', 'multer', 'app'] as const) {
      console.log(
        `  upload ${k.padEnd(6)}: ${list(k, (r) => secs(r.ms))} s wall; server CPU ${list(k, (r) => r.cpu.toFixed(2))} s; RSS growth ${list(k, (r) => mib(r.rss.growth))} MiB`,
      );
    }
    const p = bestApp.phases!;
    console.log(
      `  best app upload: body → multer temp file ${secs(p.attachStart - p.reqStart)} s; store.putFile(original) ${secs(p.putOriginalMs)} s; sniff + DB + view ${secs(p.attachEnd - p.attachStart - p.putOriginalMs)} s`,
    );
    console.log(`  local store copy of the upload on its own: copyFile ${secs(copyMs)} s + fsync ${secs(fsyncMs)} s`);
    console.log(
      `  app RSS: before ${list('app', (r) => mib(r.rss.before))} MiB; sampled peak ${list('app', (r) => mib(r.rss.sampledPeak))} MiB; VmHWM ${list('app', (r) => mib(r.rss.hwm))} MiB`,
    );
    console.log(`  bare ffmpeg runs: ${bareFf.map((r) => `${secs(r.ms)} s / ${r.cpu.toFixed(1)} s CPU`).join(', ')}`);
    for (const [i, j] of jobs.entries()) {
      console.log(
        `  job #${i + 1}: ${secs(j.ms)} s / ${j.cpu.toFixed(1)} s CPU (node process ${j.cpuNode.toFixed(1)} s, ffmpeg + ffprobe ${(j.cpu - j.cpuNode).toFixed(1)} s) = ingestVideo ${secs(j.ingestMs)} s (sniff, probe, ONE ffmpeg run, re-probe) + ${j.store} + claim/DB`,
      );
    }
    console.log(
      `  ingest ffmpeg run alone (preview + QC filters + poster): ${secs(ingestRun.elapsedMs)} s / ${ingestRunCpu.toFixed(1)} s CPU = ${(ingestRun.elapsedMs / bestFf).toFixed(2)}× the best bare preview (wall)`,
    );
    console.log(`  ffprobe alone: source ${secs(probeSourceMs)} s, preview ${secs(probePreviewMs)} s`);
    console.log('');
  } finally {
    for (const c of children) await c.stop().catch(() => undefined);
    if (dropDb) await dropDb().catch((err: unknown) => console.error('could not drop the bench database', err));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
const entry = mode === '--child-app' ? appChild : mode === '--child-bare' ? bareChild : mode === '--child-multer' ? multerChild : main;
entry().then(
  () => {
    if (!mode) process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
