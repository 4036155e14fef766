/**
 * bench/broadcast — broadcast master generation time (issue 6). Not part of `npm test`.
 *
 *   npm run build && node dist/bench/broadcast.js
 *
 * For each profile (xdcam-hd422 first, then h264-1080p25):
 *  - "master": `makeBroadcastMaster` on a 60 s 1080p30 clip WITH the ingest's loudness
 *    measurement supplied, as the broadcast job has it (so no loudnorm first pass runs). It covers
 *    what the job's media part does: ffprobe of the source, the ONE encode, ffprobe of the master,
 *    the audio-only `ebur128=peak=true` read of the master, the rename.
 *  - "bare": the single ffmpeg command that produces the same file — the argv `buildMasterArgs`
 *    builds for the same probe and loudness plan (same filter graph, same encoder flags), spawned
 *    directly (output to a temp file), nothing else.
 *  Ratio = master / bare; target ≤ 1.15× (no extra decode of the source for the loudness pass).
 *  Runs alternate master/bare; the best of each is reported (the machine is shared).
 *
 * The clip is generated once with ffmpeg (testsrc2 1920×1080 30 fps + a 440 Hz sine, libx264
 * veryfast, AAC), and measured once the way the ingest does (stereo 48 kHz mix, ebur128=peak=true);
 * neither is timed. Everything is written to a temp dir and removed at the end.
 *
 * Knobs: BENCH_CLIP_SECONDS (60), BENCH_RUNS (1 pair per profile), BENCH_PROFILES
 * ("xdcam-hd422,h264-1080p25").
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  BROADCAST_PROFILE_SPECS,
  BROADCAST_PROFILES,
  MASTER_AUDIO_PREP,
  buildMasterArgs,
  createMediaRunner,
  firstPassFromIngest,
  makeBroadcastMaster,
  mediaCapabilities,
  normalizeProbe,
  parseEbur128Summary,
  planLoudness,
  resolveMediaBinaries,
  type BroadcastProfile,
  type LoudnessMeasurement,
} from '../src/platform/media';

const exec = promisify(execFile);
const CLIP_SECONDS = envInt('BENCH_CLIP_SECONDS', 60);
const RUNS = envInt('BENCH_RUNS', 1);
const PROFILES = (process.env.BENCH_PROFILES ?? BROADCAST_PROFILES.join(',')).split(',').map((p) => p.trim()) as BroadcastProfile[];

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  for (const p of PROFILES) if (!(BROADCAST_PROFILES as readonly string[]).includes(p)) throw new Error(`unknown profile ${p}`);
  const bins = resolveMediaBinaries();
  const runner = createMediaRunner(bins);
  const caps = await mediaCapabilities(bins);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-bench-broadcast-'));
  try {
    const { stdout: version } = await exec(bins.ffmpeg, ['-hide_banner', '-version']);
    console.log(`ffmpeg: ${version.split('\n')[0]}`);
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );

    const clip = path.join(dir, 'clip.mp4');
    let t0 = Date.now();
    await exec(bins.ffmpeg, [
      '-hide_banner',
      '-nostdin',
      '-v',
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
    console.log(
      `clip: ${CLIP_SECONDS} s 1920×1080 30 fps H.264 veryfast + AAC, ${(fs.statSync(clip).size / 1024 ** 2).toFixed(1)} MiB (made in ${seconds(Date.now() - t0)}, not timed)`,
    );

    // The ingest's measurement: same stereo 48 kHz mix, ebur128 with true peak.
    t0 = Date.now();
    const { stderr } = await exec(
      bins.ffmpeg,
      ['-hide_banner', '-nostdin', '-nostats', '-i', clip, '-map', '0:a:0', '-vn', '-af', `${MASTER_AUDIO_PREP},ebur128=peak=true`, '-f', 'null', '-'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const ingestLoudness: LoudnessMeasurement | null = parseEbur128Summary(stderr);
    if (!ingestLoudness) throw new Error('no ebur128 summary for the clip');
    console.log(
      `ingest loudness: I ${ingestLoudness.integratedLufs} LUFS, TP ${ingestLoudness.truePeakDbtp} dBTP, LRA ${ingestLoudness.lra} LU (measured in ${seconds(Date.now() - t0)}, not timed)`,
    );

    const probe = normalizeProbe(await runner.probe(clip, { timeoutMs: 30_000, demuxer: 'mov' }));
    const results: string[] = [];
    for (const profile of PROFILES) {
      const spec = BROADCAST_PROFILE_SPECS[profile];
      const plan = planLoudness(firstPassFromIngest(ingestLoudness), { truePeakHeadroomDb: spec.truePeakHeadroomDb });
      const bareOut = path.join(dir, `bare.${spec.extension}`);
      const bareArgs = buildMasterArgs(probe, { inputPath: clip, outputPath: bareOut, profile, pillarbox: 'black', loudness: plan, caps });
      let bestMaster = Infinity;
      let bestBare = Infinity;
      let detail = '';
      for (let run = 1; run <= RUNS; run += 1) {
        const workDir = path.join(dir, `work-${profile}-${run}`);
        const master = await makeBroadcastMaster({ runner, caps, sourcePath: clip, workDir, profile, pillarbox: 'black', ingestLoudness });
        bestMaster = Math.min(bestMaster, master.elapsedMs);
        detail =
          `first pass: ${master.firstPassSource ?? 'none'}; plan ${master.loudnessPlan.mode}; encodes ${master.encodes}; ` +
          `master I ${master.loudness.integratedLufs} LUFS, TP ${master.loudness.truePeakDbtp} dBTP; ` +
          master.passes.map((p) => `${p.kind} ${seconds(p.elapsedMs)}`).join(', ');
        console.log(
          `  ${profile} run ${run} master: ${seconds(master.elapsedMs)} (${detail}); ${(fs.statSync(master.outputPath).size / 1024 ** 2).toFixed(0)} MiB`,
        );
        fs.rmSync(workDir, { recursive: true, force: true });

        t0 = Date.now();
        await spawnChecked(bins.ffmpeg, bareArgs);
        const bare = Date.now() - t0;
        bestBare = Math.min(bestBare, bare);
        console.log(`  ${profile} run ${run} bare:   ${seconds(bare)}`);
        fs.rmSync(bareOut, { force: true });
      }
      const ratio = bestMaster / bestBare;
      results.push(
        `${profile.padEnd(13)} master ${seconds(bestMaster).padStart(8)}  bare ${seconds(bestBare).padStart(8)}  ratio ${ratio.toFixed(2)}× (target ≤ 1.15×) ${ratio <= 1.15 ? 'OK' : 'OVER'}`,
      );
    }
    console.log(`\nbroadcast master, ${CLIP_SECONDS} s 1080p30 source, best of ${RUNS}:`);
    for (const r of results) console.log(`  ${r}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs ffmpeg with the argv as given, output drained, failing on a non-zero exit. */
function spawnChecked(bin: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr.on('data', (c: Buffer) => {
      tail = (tail + c.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}:\n${tail}`))));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
