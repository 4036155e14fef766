import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as ours from '../src/platform/media';
import * as old from '../../main/src/platform/media';
it('bench', async () => {
  const dir = '/tmp/bench-cam';
  execFileSync('mkdir', ['-p', dir]);
  const args = (out: string, fmt: string) => ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=50:duration=10', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=10', '-vf', 'interlace=scan=tff', '-ac', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-flags', '+ildct+ilme', '-x264opts', 'tff=1', '-b:v', '15M', '-c:a', fmt === 'mp4' ? 'aac' : 'ac3', '-f', fmt, out];
  execFileSync('ffmpeg', args(path.join(dir, 'i50.mp4'), 'mp4'));
  execFileSync('ffmpeg', args(path.join(dir, 'i50.mts'), 'mpegts'));
  const ob = old.resolveMediaBinaries(); const oc = await old.mediaCapabilities(ob); const or = old.createMediaRunner(ob);
  const nb = ours.resolveMediaBinaries(); const nc = await ours.mediaCapabilities(nb); const nr = ours.createMediaRunner(nb);
  for (let round = 0; round < 2; round += 1) {
    let t = Date.now();
    await old.ingestVideo({ runner: or, caps: oc, sourcePath: path.join(dir, 'i50.mp4'), workDir: path.join(dir, 'old') });
    const oldMs = Date.now() - t;
    t = Date.now();
    const a = await ours.ingestVideo({ runner: nr, caps: nc, sourcePath: path.join(dir, 'i50.mp4'), workDir: path.join(dir, 'new-mp4') });
    const newMp4 = Date.now() - t;
    t = Date.now();
    const b = await ours.ingestVideo({ runner: nr, caps: nc, sourcePath: path.join(dir, 'i50.mts'), workDir: path.join(dir, 'new-mts') });
    const newMts = Date.now() - t;
    const oldMts = await old.ingestVideo({ runner: or, caps: oc, sourcePath: path.join(dir, 'i50.mts'), workDir: path.join(dir, 'old-mts') }).then(() => 'ok', (e: Error) => e.message);
    console.log(JSON.stringify({ round, oldMp4Ms: oldMs, newMp4Ms: newMp4, newMtsMs: newMts, oldMts, scan: b.probe.scan, aScan: a.probe.scan }));
  }
  for (const w of ['old', 'new-mp4']) {
    const out = execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-i', path.join(dir, w, 'preview.mp4'), '-vf', 'idet', '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    void out;
  }
}, 600000);
