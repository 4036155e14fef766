/**
 * bench/pack — new-media pack time against the bare ffmpeg commands for the same outputs (issue 19).
 * Not part of `npm test`.
 *
 *   npm run bench:pack            (BENCH_CLIP_SECONDS=30, BENCH_RUNS=1)
 *
 * - "pack": `makeMediaPack` on a 1920×1080 30 fps clip WITH the ingest's loudness measurement
 *   supplied, as the job has it (no loudnorm first pass). It covers the media part of the job:
 *   ffprobe of the source, the audio analysis, the ONE run making both videos and both covers,
 *   ffprobe + ebur128 of both videos, the covers' headers, the renames.
 * - "bare": the same outputs from the bare ffmpeg command — the argv `buildPackArgs` builds for the
 *   same probe, plan and text (same filter graph, same encoder flags), spawned directly, nothing else.
 * Ratio = pack / bare; target ≤ 1.15×. Runs alternate; the best of each is reported (shared machine).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cjkFontPath } from '../src/platform/documents/fonts';
import {
  MASTER_AUDIO_PREP,
  PACK_LOUDNESS,
  PACK_TP_HEADROOM_DB,
  buildPackArgs,
  createMediaRunner,
  firstPassFromIngest,
  linkFonts,
  makeMediaPack,
  mediaCapabilities,
  normalizeProbe,
  parseEbur128Summary,
  planLoudness,
  planPackPicture,
  preparePackTexts,
  resolveMediaBinaries,
  type LoudnessMeasurement,
  type PackCards,
} from '../src/platform/media';

const exec = promisify(execFile);
const CLIP_SECONDS = envInt('BENCH_CLIP_SECONDS', 30);
const RUNS = envInt('BENCH_RUNS', 1);
const MAX_BYTES = 200 * 1024 * 1024;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const cards: PackCards = {
  opening: [
    { text: '学习党的二十大精神 唱响青春主旋律', scale: 0.75 },
    { text: '《吕梁颂》', scale: 1.7, bold: true, accent: true },
    { text: '离石区城北小学', scale: 1 },
    { text: '离石区 · 合唱', scale: 0.85 },
  ],
  closing: [
    { text: '指导教师：王晓燕、李明', scale: 1 },
    { text: '表演人数：42 人', scale: 1 },
  ],
  coverTitle: '吕梁颂',
};

async function main(): Promise<void> {
  const bins = resolveMediaBinaries();
  const runner = createMediaRunner(bins);
  const caps = await mediaCapabilities(bins);
  const fonts = { regular: cjkFontPath('regular'), bold: cjkFontPath('bold') };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-bench-pack-'));
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
    await exec(bins.ffmpeg, [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${CLIP_SECONDS}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-shortest', clip],
    ]);
    console.log(`clip: ${CLIP_SECONDS} s 1920×1080 30 fps H.264 + AAC (not timed)`);
    const { stderr } = await exec(
      bins.ffmpeg,
      ['-hide_banner', '-nostdin', '-nostats', '-i', clip, '-map', '0:a:0', '-vn', '-af', `${MASTER_AUDIO_PREP},ebur128=peak=true`, '-f', 'null', '-'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const ingestLoudness: LoudnessMeasurement | null = parseEbur128Summary(stderr);
    if (!ingestLoudness) throw new Error('no ebur128 summary for the clip');

    // The bare command: the same argv the pack runs, with its text files and fonts prepared (not timed).
    const probe = normalizeProbe(await runner.probe(clip, { timeoutMs: 30_000, demuxer: 'mov' }));
    const plan = planPackPicture(probe, { maxBytes: MAX_BYTES, caps });
    const loudness = planLoudness(firstPassFromIngest(ingestLoudness), { ...PACK_LOUDNESS, truePeakHeadroomDb: PACK_TP_HEADROOM_DB });
    const bareDir = path.join(dir, 'bare');
    fs.mkdirSync(bareDir);
    const bareFonts = await linkFonts(bareDir, fonts);
    const texts = await preparePackTexts(bareDir, cards, plan);
    const outputs = {
      oa: path.join(bareDir, 'oa.mp4'),
      vertical: path.join(bareDir, 'v.mp4'),
      coverWide: path.join(bareDir, 'cw.jpg'),
      coverSquare: path.join(bareDir, 'cs.jpg'),
    };
    const bareArgs = buildPackArgs(probe, { inputPath: clip, outputs, plan, loudness, texts, fonts: bareFonts });
    let bestPack = Infinity;
    let bestBare = Infinity;
    for (let run = 1; run <= RUNS; run += 1) {
      const workDir = path.join(dir, `work-${run}`);
      const pack = await makeMediaPack({ runner, caps, sourcePath: clip, workDir, cards, fonts, maxBytes: MAX_BYTES, ingestLoudness });
      bestPack = Math.min(bestPack, pack.elapsedMs);
      console.log(
        `  run ${run} pack:     ${seconds(pack.elapsedMs)} (${pack.passes.map((p) => `${p.kind} ${seconds(p.elapsedMs)}`).join(', ')}); ` +
          `OA ${(pack.measured.oa.sizeBytes / 1024 ** 2).toFixed(1)} MiB I ${pack.measured.oa.integratedLufs} LUFS, vertical ${(pack.measured.vertical.sizeBytes / 1024 ** 2).toFixed(1)} MiB`,
      );
      fs.rmSync(workDir, { recursive: true, force: true });
      const t0 = Date.now();
      await spawnChecked(bins.ffmpeg, bareArgs);
      const bare = Date.now() - t0;
      bestBare = Math.min(bestBare, bare);
      console.log(`  run ${run} bare:     ${seconds(bare)}`);
    }
    const ratio = bestPack / bestBare;
    console.log(`\nnew-media pack, ${CLIP_SECONDS} s 1080p30 source, best of ${RUNS}:`);
    console.log(`  pack ${seconds(bestPack)}  bare ${seconds(bestBare)}  ratio ${ratio.toFixed(2)}× (target ≤ 1.15×) ${ratio <= 1.15 ? 'OK' : 'OVER'}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

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
