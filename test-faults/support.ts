/**
 * The production set as real processes, for the fault suite (`npm run test:faults`): a fresh
 * PostgreSQL database on the server DATABASE_URL names (default 127.0.0.1:5432), s3rver, web
 * processes and worker processes started from the BUILT code (dist/), each reaching PostgreSQL and
 * S3 through a TCP proxy the test can close (refused connections, cut sockets) and open again.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { adminQuery, databaseUrl } from '../src/platform/db/server-admin';

export const ROOT = path.resolve(__dirname, '..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a service: `refuse()` stops listening and cuts every open
 * connection (the service restarting, a failover, a partition the kernel reports), `accept()`
 * listens again on the same port; `partition()` / `heal()` drop and restore the traffic silently.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly links = new Set<{ client: net.Socket; upstream: net.Socket | null }>();
  private partitioned = false;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async accept(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const link = { client, upstream: null as net.Socket | null };
      this.links.add(link);
      client.on('error', () => undefined);
      client.on('close', () => {
        this.links.delete(link);
        link.upstream?.destroy();
      });
      if (!this.partitioned) this.connect(link);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private connect(link: { client: net.Socket; upstream: net.Socket | null }): void {
    const upstream = net.connect(this.target.port, this.target.host);
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => link.client.destroy());
    link.client.pipe(upstream).pipe(link.client);
  }

  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream?.destroy();
    }
    this.links.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A network partition: connections stay open but no byte crosses in either direction, and new
   * ones are accepted but get no answer (nothing is refused, nothing is reset: only timeouts notice).
   */
  partition(): void {
    this.partitioned = true;
    for (const { client, upstream } of this.links) {
      if (!upstream) continue;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** The partition heals: held bytes flow on, held connections reach the service. */
  heal(): void {
    this.partitioned = false;
    for (const link of this.links) {
      if (!link.upstream) this.connect(link);
      else link.client.pipe(link.upstream).pipe(link.client);
    }
  }
}

export interface FaultDatabase {
  name: string;
  /** Direct URL (no proxy): for the test's own checks and pg_terminate_backend. */
  url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<FaultDatabase> {
  const server = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `cx_faults_${crypto.randomBytes(5).toString('hex')}`;
  await adminQuery(server, `CREATE DATABASE ${name}`);
  return { name, url: databaseUrl(server, name), drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly tmpDir: string;
  readonly baseUrl: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  log(): string;
}

/**
 * Starts `node dist/<script>` with the production environment. Detached: its own process group,
 * as under systemd or a container runtime, so a signal can be sent to the whole group.
 */
export function startProcess(name: string, script: string, env: Record<string, string>, runDir: string, port = 0): AppProcess {
  const logFile = path.join(runDir, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const tmpDir = env.UPLOAD_TMP_DIR;
  const extra = script.includes('main.js') && !script.includes('workers') ? ['--heap-growing-percent=300'] : [];
  const child = spawn(process.execPath, [...extra, path.join(ROOT, 'dist', script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env, ...(port ? { PORT: String(port) } : {}) },
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    }),
  );
  return {
    name,
    child,
    pid: child.pid!,
    tmpDir,
    baseUrl: `http://127.0.0.1:${port}`,
    exited,
    get alive() {
      return alive;
    },
    log: () => fs.readFileSync(logFile, 'utf8'),
  };
}

/** PIDs of ffmpeg/ffprobe processes whose command line mentions `dir` (a worker's work directory). */
export function mediaProcessesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/ff(mpeg|probe)$/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(dir))) {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (!/\) Z /.test(stat)) found.push(Number(entry)); // zombies are dead already
      }
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request with its own connection (no pooling surprises across restarts). */
export function call(
  baseUrl: string,
  method: string,
  urlPath: string,
  opts: { token?: string; json?: unknown; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const body = opts.json !== undefined ? Buffer.from(JSON.stringify(opts.json)) : opts.body;
    const req = http.request(`${baseUrl}${urlPath}`, {
      method,
      agent: false,
      headers: {
        Accept: 'application/json',
        ...(opts.token && { Authorization: `Bearer ${opts.token}` }),
        ...(opts.json !== undefined && { 'Content-Type': 'application/json' }),
        ...(body && { 'Content-Length': String(body.length) }),
        ...opts.headers,
      },
      timeout: opts.timeoutMs ?? 30_000,
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: String(err), ms: Date.now() - started }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }),
      );
      res.on('error', () => resolve({ status: 0, headers: res.headers, body: '', ms: Date.now() - started }));
    });
    req.end(body);
  });
}

/** Counts answers by status: `{ 200: 311, 503: 12 }`. */
export function byStatus(answers: Array<{ status: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

/** A clip of `seconds` at 1280×720 that takes the ingest a few seconds (the system ffmpeg). */
export function makeLongClip(dir: string, seconds: number): string {
  const file = path.join(dir, `long-${seconds}s.mp4`);
  if (fs.existsSync(file)) return file;
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    file,
  ]);
  return file;
}

export function figure(line: string): void {
  // Figures go to stdout beside jest's report (and into the run directory's figures.txt).
  process.stdout.write(`  [faults] ${line}\n`);
  if (process.env.FAULTS_FIGURES) fs.appendFileSync(process.env.FAULTS_FIGURES, `${line}\n`);
}
