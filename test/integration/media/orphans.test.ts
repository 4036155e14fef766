import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * ffmpeg never outlives its worker (issue 12): media processes run in their own process group, so
 * a signal to the worker's group does not kill them mid-job, and a guard process kills them when
 * the worker dies — even by SIGKILL, which no handler in the worker can see.
 */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startChild() {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'runner-child.js')], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const mediaPid = (async () => {
    for (let i = 0; i < 100 && !/STARTED \d+/.test(out); i++) await sleep(50);
    const m = /STARTED (\d+)/.exec(out);
    if (!m) throw new Error(`the child did not start its media process: ${out}`);
    return Number(m[1]);
  })();
  return { child, mediaPid, out: () => out };
}

test('when the worker is killed with SIGKILL, then its media process is gone within 2 s', async () => {
  const { child, mediaPid } = startChild();
  const pid = await mediaPid;
  expect(alive(pid)).toBe(true);
  child.kill('SIGKILL');
  const killedAt = Date.now();
  while (alive(pid) && Date.now() - killedAt < 2_000) await sleep(20);
  expect(alive(pid)).toBe(false);
});

test("when the worker's whole process group gets SIGTERM, then its media process keeps running (the worker decides)", async () => {
  const { child, mediaPid, out } = startChild();
  const pid = await mediaPid;
  process.kill(-child.pid!, 'SIGTERM'); // the child ignores it (prints SIGTERM); its media process is not in that group
  await sleep(300);
  expect(out()).toContain('SIGTERM');
  expect(alive(pid)).toBe(true);
  child.kill('SIGKILL');
  const killedAt = Date.now();
  while (alive(pid) && Date.now() - killedAt < 2_000) await sleep(20);
  expect(alive(pid)).toBe(false);
});
