import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildIngestArgs, buildIngestFilterGraph, buildPosterFallbackArgs, planPreview, previewFrameRate } from '../../../../src/platform/media/ingest-args';
import { DEMUXER_WHITELIST, assertGuardedFfmpegArgs } from '../../../../src/platform/media/input-guard';
import { normalizeProbe, type ProbeResult } from '../../../../src/platform/media/probe';
import type { RawProbe } from '../../../../src/platform/media/runner';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const probeOf = (name: string): ProbeResult => normalizeProbe(JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as RawProbe);
const caps = { hdrTonemap: true };
const paths = { inputPath: '/work/in/source', previewPath: '/work/out/preview.mp4', posterPath: '/work/out/poster.jpg' };
const valueAfter = (args: string[], option: string, from = 0): string | undefined => args[args.indexOf(option, from) + 1];

describe('planPreview', () => {
  it('when the source is 4K landscape, then the short side becomes 720', () => {
    expect(planPreview({ ...probeOf('landscape'), displayWidth: 3840, displayHeight: 2160 }, caps)).toMatchObject({ width: 1280, height: 720 });
  });
  it('when the source is a 1080×1920 portrait phone clip, then the preview is 720×1280', () => {
    expect(planPreview({ ...probeOf('portrait'), displayWidth: 1080, displayHeight: 1920 }, caps)).toMatchObject({ width: 720, height: 1280 });
  });
  it('when a landscape frame is flagged 90°, then sizes come from the display dimensions (portrait)', () => {
    const p = probeOf('rotated');
    expect(planPreview(p, caps)).toMatchObject({ width: 240, height: 320 });
    expect(planPreview({ ...p, width: 1920, height: 1080, displayWidth: 1080, displayHeight: 1920 }, caps)).toMatchObject({ width: 720, height: 1280 });
  });
  it('when the source is smaller than 720p, then it is not upscaled', () => {
    expect(planPreview(probeOf('landscape'), caps)).toMatchObject({ width: 320, height: 240 });
  });
  it('when the dimensions are odd, then the output is even', () => {
    expect(planPreview(probeOf('odd'), caps)).toMatchObject({ width: 320, height: 240 });
    const p = planPreview({ ...probeOf('odd'), displayWidth: 1081, displayHeight: 1921 }, caps);
    expect((p.width % 2) + (p.height % 2)).toBe(0);
  });
  it('when the source is HDR, then tone-mapping is planned only if the build has zscale+tonemap', () => {
    expect(planPreview(probeOf('hevc10-hlg'), { hdrTonemap: true })).toMatchObject({ tonemap: true, tonemapSkipped: false });
    expect(planPreview(probeOf('hevc10-hlg'), { hdrTonemap: false })).toMatchObject({ tonemap: false, tonemapSkipped: true });
  });
});

describe('previewFrameRate', () => {
  const base = probeOf('landscape');
  it.each([
    ['30/1', 30, '30/1'],
    ['30000/1001', 29.97, '30000/1001'],
    ['60/1', 60, '60/2'],
    ['50/1', 50, '50/2'],
    ['120/1', 120, '120/4'],
    ['240/1', 240, '240/8'],
    ['25/1', 25, '25/1'],
  ])('when the source runs at %s, then the preview runs at %s', (fraction, fps, expected) => {
    expect(previewFrameRate({ ...base, fpsFraction: fraction, fps })).toBe(expected);
  });
  it('when the source is VFR, then its rounded mean rate (≤ 30) is used', () => {
    expect(previewFrameRate(probeOf('vfr'))).toBe('18');
    expect(previewFrameRate({ ...probeOf('vfr'), fps: 57.3 })).toBe('30');
  });
  it('when the source runs below 1 fps (sample timing stretched over hours), then the preview runs at 1 fps so no frame lasts longer than a second', () => {
    expect(previewFrameRate({ ...base, fpsFraction: '1/1200', fps: 1 / 1200 })).toBe('1');
  });
});

describe('buildIngestArgs', () => {
  it('when building for a clip with audio, then one guarded input feeds preview, measurements and poster', () => {
    const args = buildIngestArgs(probeOf('landscape'), { ...paths, caps });
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(valueAfter(args, '-i')).toBe('file:/work/in/source');
    expect(valueAfter(args, '-f')).toBe('mov');
    expect(valueAfter(args, '-format_whitelist')).toBe(DEMUXER_WHITELIST.mov);
    expect(valueAfter(args, '-enable_drefs')).toBe('0');
    expect(Object.values(DEMUXER_WHITELIST).join(',')).not.toMatch(/hls|concat|image2|tty|lavfi|data/);
    const graph = valueAfter(args, '-filter_complex') ?? '';
    expect(graph).toContain('[0:0]fps=30/1,scale=320:240,format=yuv420p,setsar=1,blackdetect=d=0.5:pix_th=0.10:pic_th=0.98,split=2[vout][vposter]');
    expect(graph).toContain(
      '[vposter]trim=start=1:end=11,blackframe=amount=0:threshold=32,metadata=mode=select:key=lavfi.blackframe.pblack:value=98:function=less,thumbnail=n=30[poster]',
    );
    expect(graph).toContain('thumbnail=');
    expect(graph).toContain('[0:1]aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,ebur128=peak=true,silencedetect=n=-60dB:d=3[aout]');
    expect(args.join(' ')).toContain('-c:v libx264 -preset veryfast -crf 23 -maxrate 3M -bufsize 6M -profile:v high -pix_fmt yuv420p -g 60');
    expect(args.join(' ')).toContain(
      '-c:a aac -b:a 128k -ac 2 -ar 48000 -map_metadata -1 -map_chapters -1 -movflags +faststart -max_muxing_queue_size 1024 -f mp4 file:/work/out/preview.mp4',
    );
    expect(args.slice(-2)).toEqual(['1', 'file:/work/out/poster.jpg']);
    expect(valueAfter(args, '-progress')).toBe('pipe:1');
    expect(args).toContain('-nostdin');
  });
  it('when the campaign limit is given, then the preview output (and only it) stops there', () => {
    const args = buildIngestArgs(probeOf('landscape'), { ...paths, caps, maxDurationS: 900 });
    const preview = args.indexOf('file:/work/out/preview.mp4');
    expect(args.slice(preview - 4, preview)).toEqual(['-t', '900', '-f', 'mp4']);
    expect(args.lastIndexOf('-t')).toBe(preview - 4);
  });
  it('when the source has no audio, then there is no audio output and no ebur128', () => {
    const args = buildIngestArgs(probeOf('no-audio'), { ...paths, caps });
    expect(args.join(' ')).not.toMatch(/ebur128|\[aout\]|-c:a/);
  });
  it('when the source is HLG, then the zscale/tonemap chain runs after scaling and BT.709 is tagged', () => {
    const args = buildIngestArgs(probeOf('hevc10-hlg'), { ...paths, caps });
    const graph = valueAfter(args, '-filter_complex') ?? '';
    expect(graph).toMatch(
      /scale=320:240,zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p/,
    );
    expect(args.join(' ')).toContain('-color_trc bt709');
    expect(buildIngestFilterGraph(probeOf('hevc10-hlg'), { hdrTonemap: false })).not.toContain('zscale');
  });
  it('when a path is relative, then building refuses', () => {
    expect(() => buildIngestArgs(probeOf('landscape'), { ...paths, inputPath: 'source.mp4', caps })).toThrow();
  });
  it('when the poster must come from a fallback run, then it is one guarded frame at the preview size', () => {
    const args = buildPosterFallbackArgs(probeOf('rotated'), { inputPath: paths.inputPath, posterPath: paths.posterPath, atS: 1, caps });
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args.join(' ')).toContain('-ss 1.000 -f mov -protocol_whitelist file');
    expect(valueAfter(args, '-vf')).toBe('scale=240:320,setsar=1');
    expect(valueAfter(args, '-frames:v')).toBe('1');
  });
});

describe('assertGuardedFfmpegArgs', () => {
  it.each([
    ['no -nostdin', ['-i', 'file:/a']],
    ['a bare path', ['-nostdin', '-f', 'mov', '-protocol_whitelist', 'file', '-format_whitelist', DEMUXER_WHITELIST.mov, '-i', '/a']],
    ['no whitelist', ['-nostdin', '-i', 'file:/a']],
    [
      'an unguarded second input',
      ['-nostdin', '-f', 'mov', '-protocol_whitelist', 'file', '-format_whitelist', DEMUXER_WHITELIST.mov, '-i', 'file:/a', '-i', 'file:/b'],
    ],
    ['an http input', ['-nostdin', '-f', 'mov', '-protocol_whitelist', 'file', '-format_whitelist', DEMUXER_WHITELIST.mov, '-i', 'http://x/a']],
    ['no forced demuxer', ['-nostdin', '-protocol_whitelist', 'file', '-format_whitelist', DEMUXER_WHITELIST.mov, '-i', 'file:/a']],
    ['a forced demuxer that is not allowed', ['-nostdin', '-f', 'hls', '-protocol_whitelist', 'file', '-format_whitelist', 'hls', '-i', 'file:/a']],
    [
      'a whitelist wider than the forced demuxer',
      ['-nostdin', '-f', 'avi', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,mp4,m4a,3gp,3g2,mj2', '-i', 'file:/a'],
    ],
    ['a whitelist of several demuxers', ['-nostdin', '-f', 'mpegts', '-protocol_whitelist', 'file', '-format_whitelist', 'mpegts,hls', '-i', 'file:/a']],
  ])('when the argv has %s, then it is refused', (_label, args) => {
    expect(() => assertGuardedFfmpegArgs(args)).toThrow();
  });
});

describe('camcorder sources in the preview', () => {
  const dv = (): ProbeResult => ({
    ...probeOf('landscape'),
    demuxer: 'avi',
    width: 720,
    height: 576,
    displayWidth: 1024,
    displayHeight: 576,
    sampleAspectRatio: 64 / 45,
    fps: 25,
    fpsFraction: '25/1',
    scan: { interlaced: true, order: 'bff', source: 'frames' },
  });
  it('when the source is 50i DV (BFF, 16:9 anamorphic), then it is deinterlaced first (bwdif, one frame per frame, bottom first), then scaled to its display shape with square pixels', () => {
    const graph = buildIngestFilterGraph(dv(), caps);
    expect(graph).toContain('[0:0]bwdif=mode=send_frame:parity=bff:deint=all,fps=25/1,scale=1024:576,format=yuv420p,setsar=1,');
    const args = buildIngestArgs(dv(), { ...paths, caps });
    expect(args.join(' ')).toContain('-f avi -protocol_whitelist file -format_whitelist avi -i file:/work/in/source');
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
  });
  it('when the poster comes from the fallback run, then that frame is deinterlaced too', () => {
    const args = buildPosterFallbackArgs(dv(), { inputPath: paths.inputPath, posterPath: paths.posterPath, atS: 1, caps });
    expect(valueAfter(args, '-vf')).toBe('bwdif=mode=send_frame:parity=bff:deint=all,scale=1024:576,setsar=1');
  });
  it('when a progressive source is given, then there is no deinterlacer', () => {
    expect(buildIngestFilterGraph(probeOf('landscape'), caps)).not.toContain('bwdif');
  });
  it('when the audio plan chose the second track and the left channel only, then the preview maps that track through the pan', () => {
    const probe = {
      ...probeOf('landscape'),
      audioStreams: [
        { index: 1, codec: 'aac', channels: 2, sampleRate: 48000, language: null, durationS: 3 },
        { index: 2, codec: 'aac', channels: 2, sampleRate: 48000, language: null, durationS: 3 },
      ],
    };
    const audio = {
      streamIndex: 2,
      trackNumber: 2,
      trackCount: 2,
      skippedSilentTracks: 1,
      fix: 'left-to-both' as const,
      issue: 'one_sided' as const,
      clipped: null,
      stats: null,
    };
    expect(buildIngestFilterGraph(probe, caps, audio)).toContain(
      '[0:2]pan=stereo|c0=c0|c1=c0,aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,ebur128=peak=true',
    );
  });
});
