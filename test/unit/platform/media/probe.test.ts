import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MEDIA_LIMITS,
  ProbeUnreadableError,
  checkLimits,
  needsFrameScanCheck,
  normalizeProbe,
  parseRatio,
  scanFromFieldOrder,
  scanFromFrameFlags,
  withAudioStream,
  withPlayedDurations,
  type ProbeResult,
} from '../../../../src/platform/media/probe';
import type { RawProbe } from '../../../../src/platform/media/runner';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const raw = (name: string): RawProbe => JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as RawProbe;

describe('normalizeProbe', () => {
  it('when the clip is plain landscape H.264 + AAC, then the facts are read', () => {
    expect(normalizeProbe(raw('landscape'))).toMatchObject({
      durationS: 3,
      width: 320,
      height: 240,
      displayWidth: 320,
      displayHeight: 240,
      rotation: 0,
      fps: 30,
      variableFrameRate: false,
      videoCodec: 'h264',
      audioCodec: 'aac',
      hasAudio: true,
      audioChannels: 1,
      audioSampleRate: 48000,
      pixFmt: 'yuv420p',
      bitDepth: 8,
      isHdr: false,
      streamCount: 2,
      videoDurationS: 3,
    });
  });
  it('when a landscape frame has a display matrix rotation, then the display size is portrait', () => {
    const p = normalizeProbe(raw('rotated'));
    expect(p).toMatchObject({ width: 320, height: 240, displayWidth: 240, displayHeight: 320 });
    expect([90, 270]).toContain(p.rotation);
  });
  it('when only the legacy rotate tag is present, then it is used (clockwise)', () => {
    const r = raw('landscape');
    r.streams[0] = { ...r.streams[0]!, tags: { rotate: '90' } };
    expect(normalizeProbe(r)).toMatchObject({ rotation: 90, displayWidth: 240, displayHeight: 320 });
  });
  it('when r_frame_rate and avg_frame_rate differ, then the clip is VFR at the mean rate', () => {
    expect(normalizeProbe(raw('vfr'))).toMatchObject({ variableFrameRate: true, fps: 18, fpsFraction: '18/1' });
  });
  it('when the clip is HEVC 10-bit HLG, then it is HDR with bit depth 10', () => {
    expect(normalizeProbe(raw('hevc10-hlg'))).toMatchObject({ videoCodec: 'hevc', bitDepth: 10, colorTransfer: 'arib-std-b67', isHdr: true });
  });
  it('when there is no audio, then audio fields are null', () => {
    expect(normalizeProbe(raw('no-audio'))).toMatchObject({ hasAudio: false, audioCodec: null, audioStreamIndex: null, audioDurationS: null });
  });
  it('when there is no video stream, then it throws ProbeUnreadableError', () => {
    const r = raw('landscape');
    r.streams = r.streams.filter((s) => s.codec_type !== 'video');
    expect(() => normalizeProbe(r)).toThrow(ProbeUnreadableError);
  });
  it('when the only picture is attached cover art, then it is not a video', () => {
    const r = raw('landscape');
    r.streams[0] = { ...r.streams[0]!, disposition: { attached_pic: 1 } };
    expect(() => normalizeProbe(r)).toThrow(ProbeUnreadableError);
  });
  it('when ratios are odd, then parseRatio copes', () => {
    expect(parseRatio('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRatio('0/0')).toBeNull();
    expect(parseRatio('4:3')).toBeCloseTo(1.333, 2);
  });
});

describe('checkLimits', () => {
  const base = (): ProbeResult => normalizeProbe(raw('landscape'));
  it('when everything is within limits, then it returns null', () => {
    expect(checkLimits(base())).toBeNull();
  });
  it.each([
    ['a header claiming 100000×100000', { width: 100000, height: 100000 }],
    ['8K at 240 fps', { width: 7680, height: 4320, fps: 240 }],
    ['1,000 streams', { streamCount: 1000 }],
    ['a 10-hour duration', { durationS: 36000 }],
    ['300 fps', { fps: 300 }],
  ])('when the probe shows %s, then it exceeds limits with a Chinese message', (_label, patch) => {
    const violation = checkLimits({ ...base(), ...patch });
    expect(violation?.code).toBe('exceeds_limits');
    expect(violation?.message).toMatch(/[\u4e00-\u9fff]/);
  });
  it('when a phone shoots 4K at 120 fps or 8K at 30, then it is accepted', () => {
    expect(checkLimits({ ...base(), width: 3840, height: 2160, fps: 120 })).toBeNull();
    expect(checkLimits({ ...base(), width: 7680, height: 4320, fps: 30 })).toBeNull();
    expect(checkLimits({ ...base(), width: 2160, height: 3840, fps: 60 }, DEFAULT_MEDIA_LIMITS)).toBeNull();
  });
});

describe('withPlayedDurations', () => {
  const base = (): ProbeResult => normalizeProbe(raw('landscape'));
  it('when the last packets end where the header says, then the probe is unchanged', () => {
    const probe = base();
    expect(
      withPlayedDurations(
        probe,
        new Map([
          [0, (probe.videoDurationS ?? 0) + 0.03],
          [1, probe.audioDurationS ?? 0],
        ]),
      ),
    ).toBe(probe);
  });
  it('when the video packets run 10 h past a 3 s header, then the durations are the played ones and the limit check refuses it', () => {
    const played = withPlayedDurations(
      base(),
      new Map([
        [0, 36_000],
        [1, 3],
      ]),
    );
    expect(played).toMatchObject({ durationS: 36_000, videoDurationS: 36_000 });
    expect(checkLimits(played)?.message).toContain('时长超过限制');
  });
  it('when the packets end earlier than the header, then the header still counts (the longer one wins)', () => {
    const probe = base();
    expect(withPlayedDurations(probe, new Map([[0, 0.5]])).durationS).toBe(probe.durationS);
  });
  it("when a camcorder's transport stream starts at its 10 h clock, then packet times are measured from the start and a 3 s clip stays 3 s", () => {
    const probe = { ...base(), startTimeS: 36_001.4 };
    expect(
      withPlayedDurations(
        probe,
        new Map([
          [0, 36_004.43],
          [1, 36_004.4],
        ]),
      ),
    ).toBe(probe);
    expect(withPlayedDurations(probe, new Map([[0, 36_001.4 + 600]])).durationS).toBeCloseTo(600, 3);
  });
});

describe('scan (interlace) and audio tracks', () => {
  it.each([
    ['progressive', { interlaced: false, order: null, source: 'stream' }],
    ['tt', { interlaced: true, order: 'tff', source: 'stream' }],
    ['bb', { interlaced: true, order: 'bff', source: 'stream' }],
    // tb = top coded first, bottom DISPLAYED first; bt the reverse: the displayed order counts.
    ['tb', { interlaced: true, order: 'bff', source: 'stream' }],
    ['bt', { interlaced: true, order: 'tff', source: 'stream' }],
  ])('when ffprobe says field_order=%s, then the scan is %o', (fieldOrder, scan) => {
    expect(scanFromFieldOrder(fieldOrder)).toEqual(scan);
  });
  it('when the header says unknown, then a DV/MPEG-2/H.264 stream gets its frames looked at, and HEVC does not', () => {
    const unknown = (codec: string): ProbeResult => ({
      ...normalizeProbe(raw('landscape')),
      videoCodec: codec,
      scan: { interlaced: false, order: null, source: 'assumed' },
    });
    expect(scanFromFieldOrder('unknown')).toBeNull();
    expect(needsFrameScanCheck(unknown('dvvideo'))).toBe(true);
    expect(needsFrameScanCheck(unknown('h264'))).toBe(true);
    expect(needsFrameScanCheck(unknown('hevc'))).toBe(false);
    expect(needsFrameScanCheck({ ...unknown('dvvideo'), scan: { interlaced: false, order: null, source: 'stream' } })).toBe(false);
  });
  it('when the first frames are flagged interlaced bottom-first (DV), then the scan is BFF from the frames; mostly progressive frames make it progressive', () => {
    const dv = Array.from({ length: 6 }, () => ({ interlaced: true, topFieldFirst: false }));
    expect(scanFromFrameFlags(dv)).toEqual({ interlaced: true, order: 'bff', source: 'frames' });
    expect(scanFromFrameFlags([...dv.slice(0, 2), ...Array.from({ length: 4 }, () => ({ interlaced: false, topFieldFirst: false }))])).toEqual({
      interlaced: false,
      order: null,
      source: 'frames',
    });
    expect(scanFromFrameFlags([])).toBeNull();
  });
  it('when a file has two audio tracks and a timecode track, then both audio tracks are listed and another can be chosen, with its own duration', () => {
    const r = raw('landscape');
    const second = { ...(r.streams[1] as (typeof r.streams)[number]), index: 2, channels: 2, duration: '2.5' };
    const probe = normalizeProbe({ ...r, streams: [...r.streams, second, { index: 3, codec_type: 'data', codec_name: 'tmcd' }] }, 'mov');
    expect(probe.audioStreams.map((a) => a.index)).toEqual([1, 2]);
    expect(probe.audioStreamIndex).toBe(1);
    expect(withAudioStream(probe, 2)).toMatchObject({ audioStreamIndex: 2, audioChannels: 2, audioDurationS: 2.5 });
    expect(() => withAudioStream(probe, 3)).toThrow();
  });
  it('when interlaced H.264 reports its field rate as r_frame_rate (50 over a mean of 25), then it is 25 fps and not "variable"', () => {
    const r = raw('landscape');
    const video = { ...(r.streams[0] as (typeof r.streams)[number]), field_order: 'tt', r_frame_rate: '50/1', avg_frame_rate: '25/1' };
    expect(normalizeProbe({ ...r, streams: [video] }, 'mpegts')).toMatchObject({ fps: 25, variableFrameRate: false, scan: { interlaced: true, order: 'tff' } });
    expect(normalizeProbe({ ...r, streams: [{ ...video, field_order: 'progressive' }] }, 'mpegts').variableFrameRate).toBe(true);
  });
  it('when the pixels are not square (16:9 PAL DV), then the display size is 1024×576 and the demuxer is kept', () => {
    const r = raw('landscape');
    const video = { ...(r.streams[0] as (typeof r.streams)[number]), width: 720, height: 576, sample_aspect_ratio: '64:45', field_order: 'bb' };
    const probe = normalizeProbe({ ...r, streams: [video] }, 'avi');
    expect(probe).toMatchObject({ demuxer: 'avi', displayWidth: 1024, displayHeight: 576, scan: { interlaced: true, order: 'bff' } });
    expect(probe.sampleAspectRatio).toBeCloseTo(64 / 45, 5);
  });
});
