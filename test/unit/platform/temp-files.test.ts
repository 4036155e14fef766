import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeOwnTemp, sweepStaleTemp, tempName } from '../../../src/platform/temp-files';

/** Work directories and spool files carry their owner's pid; a starting process removes the dead ones' (issue 12). */
describe('temp files of stopped processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-temp-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // A pid that certainly belonged to a process that is gone now.
  const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

  test('when a process starts, then work directories and spool files of dead processes go, and those of live ones stay', async () => {
    const dead = deadPid();
    const deadWork = tempName('ingest', dead);
    fs.mkdirSync(path.join(dir, deadWork));
    fs.writeFileSync(path.join(dir, deadWork, 'source'), 'x'.repeat(1000));
    const deadSpool = tempName('upload', dead);
    fs.writeFileSync(path.join(dir, deadSpool), 'partial');
    const liveWork = tempName('master', process.ppid); // our parent is alive
    fs.mkdirSync(path.join(dir, liveWork));
    const foreign = 'somebody-elses-file';
    fs.writeFileSync(path.join(dir, foreign), '');

    const removed = await sweepStaleTemp(dir);
    expect(removed.sort()).toEqual([deadSpool, deadWork].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([foreign, liveWork].sort());
  });

  test('when a file of ours has no pid (older versions) and is over a day old, then it goes; a fresh one stays', async () => {
    fs.writeFileSync(path.join(dir, 'upload-0f6c'), '');
    fs.writeFileSync(path.join(dir, 'ingest-abc-123'), '');
    const old = (Date.now() - 25 * 3600_000) / 1000;
    fs.utimesSync(path.join(dir, 'upload-0f6c'), old, old);
    expect(await sweepStaleTemp(dir)).toEqual(['upload-0f6c']);
    expect(fs.readdirSync(dir)).toEqual(['ingest-abc-123']);
  });

  test('when a process stops gracefully, then it removes what it still has and nothing of others', async () => {
    const mine = tempName('upload');
    const other = tempName('upload', process.ppid);
    fs.writeFileSync(path.join(dir, mine), '');
    fs.writeFileSync(path.join(dir, other), '');
    expect(await removeOwnTemp(dir)).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([other]);
  });
});
