import { spawn, type ChildProcess } from 'node:child_process';

/**
 * ffmpeg never outlives its worker.
 *
 * ffmpeg and ffprobe are started in their own process group (detached), so a signal to the worker's
 * group (systemd's stop, Ctrl-C) does not kill them mid-job and make a good file look bad: the
 * worker decides (finish within the grace period, or abort and hand the job back).
 *
 * The other half: Node cannot ask the kernel to kill a child when its parent dies (no prctl
 * PR_SET_PDEATHSIG), so after `kill -9` of the worker a detached ffmpeg would run on. A tiny
 * guard process (one per worker process, started with the first media process, also detached so
 * group signals miss it) holds a pipe from the worker and is told the process group of every media
 * process started and finished. When the pipe closes — the worker exited or was killed, however —
 * the guard SIGKILLs the groups still listed and exits. Measured: ffmpeg gone ~50 ms after
 * `kill -9` of the worker (test-faults/worker-crash.test.ts asserts ≤ 2 s).
 */
const GUARD_SOURCE = `
const groups = new Set();
let buf = '';
const killAll = () => { for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} } process.exit(0); };
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => undefined);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (line[0] === '+') groups.add(pid); else groups.delete(pid);
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
`;

let guard: ChildProcess | null = null;

function guardProcess(): ChildProcess | null {
  if (process.platform === 'win32') return null;
  if (guard && guard.exitCode === null && guard.signalCode === null && guard.stdin?.writable) return guard;
  const child = spawn(process.execPath, ['-e', GUARD_SOURCE], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  // Neither the guard nor its pipe keeps the worker alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  guard = child;
  return child;
}

/** Options for spawn(): own process group where process groups exist. */
export const ownProcessGroup = process.platform !== 'win32';

/** Call right after spawning a media process (detached): the guard kills its group if this process dies first. */
export function guardChild(child: ChildProcess): void {
  const pid = child.pid;
  if (!pid || !ownProcessGroup) return;
  const g = guardProcess();
  g?.stdin?.write(`+${pid}\n`);
  child.once('exit', () => {
    if (g && g === guard && g.stdin?.writable) g.stdin.write(`-${pid}\n`);
  });
}
