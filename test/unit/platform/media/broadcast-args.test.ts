import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BROADCAST_PROFILE_SPECS,
  buildLoudnessMeasureArgs,
  buildMasterArgs,
  buildMasterMeasureArgs,
  buildMasterProbeArgs,
  buildMasterVideoGraph,
  limiterFilter,
  planMasterPicture,
} from '../../../../src/platform/media/broadcast-args';
import { evaluateMaster } from '../../../../src/platform/media/broadcast';
import { DEMUXER_WHITELIST, assertGuardedFfmpegArgs } from '../../../../src/platform/media/input-guard';
import { planLoudness, type LoudnessFirstPass, type LoudnessPlan } from '../../../../src/platform/media/loudness';
import { normalizeProbe, type ProbeResult } from '../../../../src/platform/media/probe';
import type { RawProbe } from '../../../../src/platform/media/runner';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const probeOf = (name: string): ProbeResult => normalizeProbe(JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as RawProbe);
const caps = { hdrTonemap: true };
const valueAfter = (args: string[], option: string, from = 0): string | undefined => args[args.indexOf(option, from) + 1];
const paths = { inputPath: '/work/in/source', outputPath: '/work/out/master.partial.mxf' };

const pass = (over: Partial<LoudnessFirstPass> = {}): LoudnessFirstPass => ({
  measuredI: -30,
  measuredTP: -20,
  measuredLRA: 5,
  measuredThresh: -40.5,
  offset: 0.3,
  source: 'loudnorm',
  ...over,
});
const linear = planLoudness(pass());
const limited = planLoudness(pass({ measuredTP: -4 }));
const silence: LoudnessPlan = { mode: 'silence' };

describe('planMasterPicture', () => {
  const base = probeOf('landscape');
  it('when the source is 16:9, then it is scaled to fill 1920×1080', () => {
    expect(planMasterPicture({ ...base, displayWidth: 1280, displayHeight: 720 }, { profile: 'xdcam-hd422', pillarbox: 'black', caps })).toMatchObject({
      fit: 'scale',
      contentWidth: 1920,
      contentHeight: 1080,
    });
  });
  it('when the source is a 1080×1920 portrait phone clip, then it is pillarboxed to 608×1080', () => {
    expect(planMasterPicture({ ...base, displayWidth: 1080, displayHeight: 1920 }, { profile: 'xdcam-hd422', pillarbox: 'black', caps })).toMatchObject({
      fit: 'pillarbox',
      contentWidth: 608,
      contentHeight: 1080,
    });
  });
  it('when the source is 4:3, then it is pillarboxed to 1440×1080', () => {
    expect(planMasterPicture(base, { profile: 'xdcam-hd422', pillarbox: 'black', caps })).toMatchObject({
      fit: 'pillarbox',
      contentWidth: 1440,
      contentHeight: 1080,
    });
  });
  it('when the source is wider than 16:9, then it is letterboxed', () => {
    expect(planMasterPicture({ ...base, displayWidth: 2560, displayHeight: 1080 }, { profile: 'xdcam-hd422', pillarbox: 'black', caps })).toMatchObject({
      fit: 'letterbox',
      contentWidth: 1920,
      contentHeight: 810,
    });
  });
  it('when a landscape frame carries a 90° flag, then the display (portrait) size decides', () => {
    expect(planMasterPicture(probeOf('rotated'), { profile: 'xdcam-hd422', pillarbox: 'black', caps })).toMatchObject({ fit: 'pillarbox', contentWidth: 810 });
  });
  it.each([
    [25, 'xdcam-hd422', 25, 'psf-tff'],
    [29.97, 'xdcam-hd422', 25, 'psf-tff'],
    [30, 'xdcam-hd422', 25, 'psf-tff'],
    [50, 'xdcam-hd422', 50, 'interlace-tff'],
    [59.94, 'xdcam-hd422', 50, 'interlace-tff'],
    [120, 'xdcam-hd422', 50, 'interlace-tff'],
    [30, 'h264-1080p25', 25, 'progressive'],
    [60, 'h264-1080p25', 25, 'progressive'],
  ] as const)('when the source runs at %s fps for %s, then fps=%s with scan %s', (fps, profile, expectedFps, scan) => {
    expect(planMasterPicture({ ...base, fps }, { profile, pillarbox: 'black', caps })).toMatchObject({ fps: expectedFps, scan });
  });
});

describe('buildMasterArgs', () => {
  it('when building an xdcam master, then it is one guarded input and the exact MEDIA.md encoder flags', () => {
    const args = buildMasterArgs(probeOf('landscape'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps });
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(valueAfter(args, '-format_whitelist')).toBe(DEMUXER_WHITELIST.mov);
    const line = args.join(' ');
    expect(line).toContain(
      '-c:v mpeg2video -b:v 50M -minrate 50M -maxrate 50M -bufsize 17825792 -rc_init_occupancy 17825792 -g 12 -bf 2 -flags +ildct+ilme -top 1 -color_primaries bt709 -color_trc bt709 -colorspace bt709 -c:a pcm_s24le -ar 48000 -ac 2 -f mxf',
    );
    expect(line).toContain('-map [vout] -map [aout]');
    expect(line).toContain('-shortest');
    expect(line).toContain('-map_metadata -1');
    expect(args[args.length - 1]).toBe('file:/work/out/master.partial.mxf');
    const graph = valueAfter(args, '-filter_complex') ?? '';
    expect(graph).toContain(
      '[0:0]fps=25,scale=1440:1080:out_color_matrix=bt709:out_range=tv,pad=1920:1080:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv422p,setfield=tff[vout]',
    );
  });
  it('when the plan is linear, then the audio is the stereo 48 kHz mix through loudnorm second pass with measured values, then resampled and bounded', () => {
    const graph =
      valueAfter(buildMasterArgs(probeOf('landscape'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps }), '-filter_complex') ??
      '';
    expect(graph).toContain(
      '[0:1]aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,loudnorm=I=-24:TP=-2:LRA=20:measured_I=-30:measured_TP=-20:measured_LRA=5:measured_thresh=-40.5:offset=0.3:linear=true:print_format=json,aresample=48000,apad=whole_dur=3.000,atrim=end=3.000[aout]',
    );
  });
  it('when the plan is limited, then a constant volume gain and a 192 kHz limiter replace loudnorm', () => {
    expect(limited.mode).toBe('limited');
    const graph =
      valueAfter(buildMasterArgs(probeOf('landscape'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: limited, caps }), '-filter_complex') ??
      '';
    expect(graph).not.toContain('loudnorm');
    expect(graph).toContain('volume=6.00dB,aresample=192000,alimiter=limit=0.7499:level=0:latency=1:attack=5:release=50,aresample=48000');
  });
  it('when the source has no audio, then a finite silent stereo track is generated', () => {
    const args = buildMasterArgs(probeOf('no-audio'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: silence, caps });
    const graph = valueAfter(args, '-filter_complex') ?? '';
    expect(graph).toMatch(/anullsrc=r=48000:cl=stereo:d=3\.\d{3}\[aout\]/);
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args).toContain('-shortest');
  });
  it('when the plan does not fit the source, then building refuses', () => {
    expect(() => buildMasterArgs(probeOf('landscape'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: silence, caps })).toThrow();
    expect(() => buildMasterArgs(probeOf('no-audio'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps })).toThrow();
    const tooQuiet = planLoudness(pass({ measuredI: -50 }));
    expect(() => buildMasterArgs(probeOf('landscape'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: tooQuiet, caps })).toThrow(
      /too-quiet/,
    );
  });
  it('when the source runs at 50 fps, then xdcam interlaces 50p into 50i TFF after the format conversion', () => {
    const graph =
      valueAfter(
        buildMasterArgs(
          { ...probeOf('landscape'), fps: 50, displayWidth: 1280, displayHeight: 720 },
          { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps },
        ),
        '-filter_complex',
      ) ?? '';
    expect(graph).toContain('[0:0]fps=50,scale=1920:1080:out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv422p,interlace=scan=tff[vout]');
  });
  it('when building h264-1080p25, then the MEDIA.md x264/AAC flags and a progressive yuv420p picture', () => {
    const args = buildMasterArgs(
      { ...probeOf('landscape'), fps: 60 },
      { ...paths, outputPath: '/work/out/master.partial.mp4', profile: 'h264-1080p25', pillarbox: 'black', loudness: linear, caps },
    );
    const line = args.join(' ');
    expect(line).toContain('-c:v libx264 -preset medium -crf 16 -maxrate 25M -bufsize 50M -profile:v high -pix_fmt yuv420p');
    expect(line).toContain('-c:a aac -b:a 320k -ar 48000 -ac 2 -movflags +faststart -f mp4');
    expect(line).not.toMatch(/ildct|mpeg2video|pcm_s24le/);
    expect(valueAfter(args, '-filter_complex')).toContain(
      '[0:0]fps=25,scale=1440:1080:out_color_matrix=bt709:out_range=tv,pad=1920:1080:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv420p,setfield=prog[vout]',
    );
  });
  it('when the pillarbox is blurred, then the MEDIA.md cover/crop/gblur background is overlaid with the fitted picture', () => {
    const graph =
      valueAfter(buildMasterArgs(probeOf('portrait'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'blur', loudness: linear, caps }), '-filter_complex') ??
      '';
    expect(graph).toContain('[0:0]fps=25,split=2[fgsrc][bgsrc]');
    expect(graph).toContain('[bgsrc]scale=1920:1080:force_original_aspect_ratio=increase,crop=1920:1080,gblur=sigma=30[bg]');
    expect(graph).toMatch(/\[fgsrc\]scale=608:1080:out_color_matrix=bt709:out_range=tv\[fg\]/);
    expect(graph).toContain('[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv422p,setfield=tff[vout]');
  });
  it('when the source is HLG and the build can tone-map, then the picture is tone-mapped first', () => {
    const graph =
      valueAfter(buildMasterArgs(probeOf('hevc10-hlg'), { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps }), '-filter_complex') ??
      '';
    expect(graph).toMatch(/^\[0:0\]zscale=tin=arib-std-b67.*tonemap=tonemap=hable.*,fps=25,/);
  });
});

describe('measurement argv', () => {
  it('when measuring the source (first pass), then it is audio only, loudnorm print_format=json to the null muxer', () => {
    const args = buildLoudnessMeasureArgs(probeOf('landscape'), '/work/in/source');
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args).toContain('-vn');
    expect(valueAfter(args, '-map')).toBe('0:1');
    expect(valueAfter(args, '-af')).toBe('aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,loudnorm=I=-24:TP=-2:LRA=20:print_format=json');
    expect(args.slice(-3)).toEqual(['-f', 'null', '-']);
    expect(() => buildLoudnessMeasureArgs(probeOf('no-audio'), '/work/in/source')).toThrow();
  });
  it('when reading a master back, then only its own container is whitelisted, with the file protocol', () => {
    const m = buildMasterMeasureArgs('/work/out/master.mxf', 'xdcam-hd422');
    expect(m.join(' ')).toContain('-protocol_whitelist file -format_whitelist mxf -i file:/work/out/master.mxf -map 0:a:0 -vn');
    expect(valueAfter(m, '-af')).toBe('ebur128=peak=true');
    expect(buildMasterProbeArgs('/work/out/master.mp4', 'h264-1080p25').join(' ')).toContain('-format_whitelist mov,mp4,m4a,3gp,3g2,mj2 -print_format json');
  });
  it("limiterFilter turns the ceiling into alimiter's linear limit", () => {
    expect(limiterFilter(-3.456, -3)).toBe('volume=-3.46dB,aresample=192000,alimiter=limit=0.7079:level=0:latency=1:attack=5:release=50');
  });
});

describe('evaluateMaster', () => {
  const raw = (over: Record<string, unknown> = {}, audioOver: Record<string, unknown> = {}): RawProbe => ({
    streams: [
      {
        index: 0,
        codec_type: 'video',
        codec_name: 'mpeg2video',
        profile: '4:2:2',
        width: 1920,
        height: 1080,
        pix_fmt: 'yuv422p',
        r_frame_rate: '25/1',
        sample_aspect_ratio: '1:1',
        field_order: 'tt',
        ...over,
      } as RawProbe['streams'][number],
      { index: 1, codec_type: 'audio', codec_name: 'pcm_s24le', sample_rate: '48000', channels: 2, ...audioOver },
    ],
    format: { format_name: 'mxf', duration: '3.000000' },
  });
  const good = { integratedLufs: -24.1, truePeakDbtp: -20.3, lra: 0 };
  it('when everything is in spec, then ok', () => {
    expect(evaluateMaster('xdcam-hd422', raw(), good, { expectSilence: false })).toMatchObject({ ok: true, failures: [] });
  });
  it('when loudness or peak is off, then it fails with the measured values in Chinese, loudness only', () => {
    const v = evaluateMaster('xdcam-hd422', raw(), { integratedLufs: -25.6, truePeakDbtp: -1.2, lra: 3 }, { expectSilence: false });
    expect(v.ok).toBe(false);
    expect(v.loudnessOnly).toBe(true);
    expect(v.failures.join('；')).toBe('综合响度 −25.6 LUFS（应为 −24 ±1 LUFS）；真峰值 −1.2 dBTP（应不高于 −2 dBTP）');
  });
  it('when the picture is wrong, then it fails on each property (not loudness only)', () => {
    const v = evaluateMaster('xdcam-hd422', raw({ width: 1280, height: 720, field_order: 'progressive', r_frame_rate: '50/1' }, { channels: 1 }), good, {
      expectSilence: false,
    });
    expect(v.loudnessOnly).toBe(false);
    expect(v.failures).toEqual(
      expect.arrayContaining([
        '分辨率 1280×720（应为 1920×1080）',
        '帧率 50（应为 25）',
        '场序 progressive（应为上场优先 50i）',
        '音频 pcm_s24le 48000 Hz 1 声道（应为 pcm_s24le 48000 Hz 立体声）',
      ]),
    );
  });
  it('when a silent master is expected, then −70 LUFS passes and is reported as null; sound fails', () => {
    const v = evaluateMaster('xdcam-hd422', raw(), { integratedLufs: -70, truePeakDbtp: null, lra: 0 }, { expectSilence: true });
    expect(v).toMatchObject({ ok: true, measured: { integratedLufs: null, truePeakDbtp: null } });
    expect(evaluateMaster('xdcam-hd422', raw(), good, { expectSilence: true }).ok).toBe(false);
  });
  it('when the master has no audio track, then it fails', () => {
    const r = raw();
    expect(evaluateMaster('xdcam-hd422', { ...r, streams: r.streams.slice(0, 1) }, null, { expectSilence: true }).failures).toContain('没有音轨');
  });
  it('when an h264 master is checked against the h264 profile, then mp4/High/progressive/aac are required', () => {
    const r: RawProbe = {
      streams: [
        {
          index: 0,
          codec_type: 'video',
          codec_name: 'h264',
          profile: 'High',
          width: 1920,
          height: 1080,
          pix_fmt: 'yuv420p',
          r_frame_rate: '25/1',
          sample_aspect_ratio: '1:1',
          field_order: 'progressive',
        } as RawProbe['streams'][number],
        { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
      ],
      format: { format_name: BROADCAST_PROFILE_SPECS['h264-1080p25'].formatName, duration: '3.0' },
    };
    expect(evaluateMaster('h264-1080p25', r, good, { expectSilence: false }).ok).toBe(true);
    expect(evaluateMaster('xdcam-hd422', r, good, { expectSilence: false }).ok).toBe(false);
  });
});

describe('interlaced camcorder sources (50i)', () => {
  const base = probeOf('landscape');
  const i1080 = (order: 'tff' | 'bff', width = 1920, sar = 1): ProbeResult => ({
    ...base,
    width,
    height: 1080,
    displayWidth: Math.round(width * sar),
    displayHeight: 1080,
    sampleAspectRatio: sar,
    fps: 25,
    fpsFraction: '25/1',
    scan: { interlaced: true, order, source: 'stream' },
  });
  const xdcam = { profile: 'xdcam-hd422' as const, pillarbox: 'black' as const, caps };
  const graph = (probe: ProbeResult, profile: 'xdcam-hd422' | 'h264-1080p25' = 'xdcam-hd422'): string =>
    buildMasterVideoGraph(probe, planMasterPicture(probe, { ...xdcam, profile }), profile).join(';');

  it('when the source is 1080i50 TFF (AVCHD), then its own fields are kept: no bwdif, no interlace, a field-aware scaler, flagged TFF', () => {
    const probe = i1080('tff');
    expect(planMasterPicture(probe, xdcam)).toMatchObject({ scan: 'native-tff', deinterlace: 'none', fieldOrderFix: false, fps: 25, fit: 'scale' });
    expect(graph(probe)).toBe('[0:0]fps=25,scale=1920:1080:interl=1:out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv422p,setfield=tff[vout]');
  });
  it('when the source is HDV 1440×1080 SAR 4:3, then it is stretched horizontally only, fields kept', () => {
    expect(graph(i1080('tff', 1440, 4 / 3))).toContain('scale=1920:1080:interl=1:');
  });
  it('when a 1080-line source is bottom field first, then its dominance is changed with fieldorder (a one-line shift), not by deinterlacing', () => {
    const g = graph(i1080('bff'));
    expect(planMasterPicture(i1080('bff'), xdcam)).toMatchObject({ scan: 'native-tff', fieldOrderFix: true });
    expect(g).toContain('[0:0]setfield=bff,fieldorder=tff,fps=25,scale=1920:1080:interl=1');
    expect(g).not.toContain('bwdif');
  });
  it('when the source is 576i (DV, BFF), then each field becomes a frame (bwdif send_field, its parity), is scaled as a picture and woven back into 50i TFF', () => {
    const dv: ProbeResult = {
      ...base,
      width: 720,
      height: 576,
      displayWidth: 1024,
      displayHeight: 576,
      sampleAspectRatio: 64 / 45,
      fps: 25,
      fpsFraction: '25/1',
      scan: { interlaced: true, order: 'bff', source: 'frames' },
    };
    expect(planMasterPicture(dv, xdcam)).toMatchObject({ scan: 'interlace-tff', deinterlace: 'send_field', fps: 50, fit: 'scale' });
    expect(graph(dv)).toBe(
      '[0:0]bwdif=mode=send_field:parity=bff:deint=all,fps=50,scale=1920:1080:out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv422p,interlace=scan=tff[vout]',
    );
  });
  it('when the source is 1080i at 29.97 (60 fields), then the rate change needs fields as frames: send_field, fps=50, interlace', () => {
    expect(planMasterPicture({ ...i1080('tff'), fps: 29.97, fpsFraction: '30000/1001' }, xdcam)).toMatchObject({
      scan: 'interlace-tff',
      deinterlace: 'send_field',
      fps: 50,
    });
  });
  it('when the profile is progressive H.264, then a 50i source is deinterlaced frame for frame (25p)', () => {
    expect(planMasterPicture(i1080('tff'), { ...xdcam, profile: 'h264-1080p25' })).toMatchObject({ scan: 'progressive', deinterlace: 'send_frame', fps: 25 });
    expect(graph(i1080('tff'), 'h264-1080p25')).toContain('[0:0]bwdif=mode=send_frame:parity=tff:deint=all,fps=25,scale=1920:1080:out_color_matrix');
  });
  it('when the audio plan fixes a one-sided track, then the master and its loudness pass use the same track and pan as the ingest', () => {
    const audio = {
      streamIndex: 1,
      trackNumber: 1,
      trackCount: 1,
      skippedSilentTracks: 0,
      fix: 'right-to-both' as const,
      issue: 'one_sided' as const,
      clipped: null,
      stats: null,
    };
    const args = buildMasterArgs(base, { ...paths, profile: 'xdcam-hd422', pillarbox: 'black', loudness: linear, caps, audio });
    expect(valueAfter(args, '-filter_complex')).toContain(
      '[0:1]pan=stereo|c0=c1|c1=c1,aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,loudnorm=',
    );
    expect(buildLoudnessMeasureArgs(base, paths.inputPath, undefined, audio).join(' ')).toContain('-af pan=stereo|c0=c1|c1=c1,aresample=48000');
  });
});
