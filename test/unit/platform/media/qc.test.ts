import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeProbe, type ProbeResult } from '../../../../src/platform/media/probe';
import {
  createMeasurementCapture,
  evaluateQc,
  parseBlack,
  parseDecodeErrors,
  parseEbur128Summary,
  parseMeasurements,
  parseSilence,
  type QcMeasurements,
} from '../../../../src/platform/media/qc';
import type { RawProbe } from '../../../../src/platform/media/runner';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const stderr = readFileSync(path.join(fixtures, 'stderr/ingest-quiet-silence-black.txt'), 'utf8');
const probeOf = (name: string): ProbeResult => normalizeProbe(JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as RawProbe);
const clean: QcMeasurements = {
  loudness: { integratedLufs: -18, truePeakDbtp: -3, lra: 6 },
  silence: [],
  black: [],
  decodeErrors: { count: 0, samples: [] },
};
const hd = (p: ProbeResult): ProbeResult => ({ ...p, width: 1920, height: 1080, displayWidth: 1920, displayHeight: 1080 });
const statusOf = (report: ReturnType<typeof evaluateQc>, name: string) => report.checks.find((c) => c.name === name);

describe('parseEbur128Summary', () => {
  it('when the graph printed an empty summary first, then the last summary is the measurement', () => {
    expect(parseEbur128Summary(stderr)).toEqual({ integratedLufs: -49.8, lra: 20, truePeakDbtp: -48.3 });
  });
  it('when the peak is -inf, then truePeakDbtp is null', () => {
    expect(parseEbur128Summary(stderr.split('\n').slice(0, 4))).toEqual({ integratedLufs: -70, lra: 0, truePeakDbtp: null });
  });
  it('when there is no summary, then it returns null', () => {
    expect(parseEbur128Summary('[info] frame= 10')).toBeNull();
  });
});

describe('parseSilence / parseBlack / parseDecodeErrors', () => {
  it('when silence runs to the end without silence_end, then the last interval is open', () => {
    expect(parseSilence(stderr)).toEqual([
      { startS: 4.5, endS: 9.25, durationS: 4.75 },
      { startS: 55.1, endS: null, durationS: null },
    ]);
  });
  it('when blackdetect reports an interval, then it is parsed', () => {
    expect(parseBlack(stderr)).toEqual([{ startS: 0, endS: 2.96667, durationS: 2.96667 }]);
  });
  it('when error lines are present, then they are counted with samples', () => {
    const errors = parseDecodeErrors(stderr, 7);
    expect(errors.count).toBe(7);
    expect(errors.samples).toHaveLength(2);
  });
  it('when a capture sees many error lines, then it keeps a bounded number but counts all, and keeps the summary', () => {
    const capture = createMeasurementCapture(3);
    const lines = [...Array.from({ length: 100 }, () => '[h264 @ 0x1] [error] bad'), ...stderr.split('\n'), '[libx264 @ 0x2] [info] frame I:1'];
    const kept = lines.filter((line) => capture.keepLine(line));
    expect(capture.errorLineCount).toBe(102);
    expect(kept.filter((l) => l.includes('[error]'))).toHaveLength(3);
    expect(parseEbur128Summary(kept)?.integratedLufs).toBe(-49.8);
    expect(kept.join('\n')).not.toContain('libx264');
  });
});

describe('evaluateQc', () => {
  it('when an HD clip has clean measurements, then every check passes', () => {
    const report = evaluateQc(hd(probeOf('landscape')), clean, { maxDurationS: 900 });
    expect(report.verdict).toBe('pass');
    expect(report.checks.map((c) => c.name)).toEqual(['decode', 'duration', 'resolution', 'frame_rate', 'rotation', 'audio', 'loudness', 'silence', 'black']);
  });
  it('when the source is 240p, then resolution warns; below 240 it fails', () => {
    expect(statusOf(evaluateQc(probeOf('landscape'), clean, { maxDurationS: 900 }), 'resolution')?.status).toBe('warn');
    const tiny = { ...probeOf('landscape'), displayWidth: 176, displayHeight: 144 };
    expect(statusOf(evaluateQc(tiny, clean, { maxDurationS: 900 }), 'resolution')?.status).toBe('fail');
  });
  it('when there is no audio stream, then QC warns 视频没有声音 and skips loudness', () => {
    const report = evaluateQc(hd(probeOf('no-audio')), { ...clean, loudness: null }, { maxDurationS: 900 });
    expect(statusOf(report, 'audio')).toMatchObject({ status: 'warn', message: expect.stringContaining('视频没有声音') });
    expect(statusOf(report, 'loudness')).toBeUndefined();
  });
  it('when integrated loudness is under -40 LUFS, then QC warns 音量过低', () => {
    const report = evaluateQc(hd(probeOf('landscape')), { ...clean, loudness: { integratedLufs: -49.8, truePeakDbtp: -48, lra: 2 } }, { maxDurationS: 900 });
    expect(statusOf(report, 'loudness')).toMatchObject({ status: 'warn', message: expect.stringContaining('音量过低，建议重新录制') });
  });
  it('when the true peak is above -0.1 dBTP, then QC warns about distortion', () => {
    const report = evaluateQc(hd(probeOf('landscape')), { ...clean, loudness: { integratedLufs: -9, truePeakDbtp: 0.8, lra: 2 } }, { maxDurationS: 900 });
    expect(statusOf(report, 'loudness')?.message).toContain('爆音');
  });
  it('when silence covers the whole track, then silence fails; a 4.75 s gap only warns', () => {
    const whole = evaluateQc(hd(probeOf('landscape')), { ...clean, silence: [{ startS: 0, endS: 3, durationS: 3 }] }, { maxDurationS: 900 });
    expect(statusOf(whole, 'silence')?.status).toBe('fail');
    expect(whole.verdict).toBe('fail');
    const long = { ...hd(probeOf('landscape')), durationS: 60, audioDurationS: 60, videoDurationS: 60 };
    const gap = evaluateQc(long, { ...clean, silence: parseSilence(stderr).slice(0, 1) }, { maxDurationS: 900 });
    expect(statusOf(gap, 'silence')).toMatchObject({ status: 'warn', message: expect.stringContaining('4.8 秒') });
  });
  it('when black covers the video, then black fails with 画面全黑; a 2.5 s black run inside warns', () => {
    const all = evaluateQc(hd(probeOf('black')), { ...clean, black: parseBlack(stderr) }, { maxDurationS: 900 });
    expect(statusOf(all, 'black')).toMatchObject({ status: 'fail', message: expect.stringContaining('画面全黑') });
    const long = { ...hd(probeOf('landscape')), durationS: 60, videoDurationS: 60, audioDurationS: 60 };
    const inside = evaluateQc(long, { ...clean, black: [{ startS: 10, endS: 12.5, durationS: 2.5 }] }, { maxDurationS: 900 });
    expect(statusOf(inside, 'black')?.status).toBe('warn');
  });
  it('when audio and video durations differ by more than 40 ms, then duration warns; over the limit it fails', () => {
    const drift = { ...hd(probeOf('landscape')), audioDurationS: 2.9 };
    expect(statusOf(evaluateQc(drift, clean, { maxDurationS: 900 }), 'duration')?.status).toBe('warn');
    expect(statusOf(evaluateQc(hd(probeOf('landscape')), clean, { maxDurationS: 2 }), 'duration')?.status).toBe('fail');
  });
  it('when decode errors were seen, then decode warns', () => {
    const report = evaluateQc(hd(probeOf('landscape')), parseMeasurements(stderr, 2), { maxDurationS: 900 });
    expect(statusOf(report, 'decode')?.status).toBe('warn');
  });
  it('when the source is VFR or HDR, then QC notes it (HDR warns only if tone-mapping was skipped)', () => {
    expect(statusOf(evaluateQc(hd(probeOf('vfr')), clean, { maxDurationS: 900 }), 'frame_rate')?.message).toContain('可变帧率');
    expect(statusOf(evaluateQc(hd(probeOf('hevc10-hlg')), clean, { maxDurationS: 900 }), 'hdr')?.status).toBe('pass');
    expect(statusOf(evaluateQc(hd(probeOf('hevc10-hlg')), clean, { maxDurationS: 900, tonemapSkipped: true }), 'hdr')?.status).toBe('warn');
  });
});

describe('evaluateQc on camcorder footage', () => {
  const plan = (over: Record<string, unknown> = {}) => ({
    streamIndex: 1,
    trackNumber: 1,
    trackCount: 1,
    skippedSilentTracks: 0,
    fix: 'none' as const,
    issue: 'none' as const,
    clipped: null,
    stats: {
      index: 1,
      channels: [
        { rmsDb: -20, peakDb: -17, fullScaleSamples: 0, flatFactorDb: 0 },
        { rmsDb: null, peakDb: null, fullScaleSamples: 0, flatFactorDb: null },
      ],
      monoSumRmsDb: -26,
    },
    ...over,
  });
  it('when the source is 50i BFF anamorphic DV, then QC says it was deinterlaced and shown at its true shape (informational, pass)', () => {
    const dv = {
      ...probeOf('landscape'),
      width: 720,
      height: 576,
      displayWidth: 1024,
      displayHeight: 576,
      sampleAspectRatio: 64 / 45,
      fps: 25,
      scan: { interlaced: true, order: 'bff' as const, source: 'frames' as const },
    };
    const report = evaluateQc(dv, clean, { maxDurationS: 900 });
    expect(statusOf(report, 'scan')).toMatchObject({ status: 'pass', message: '隔行扫描视频（50i，下场优先），预览已去隔行，播出母版保留隔行' });
    expect(statusOf(report, 'aspect')).toMatchObject({ status: 'pass', message: '画面按实际比例显示（1024×576）' });
  });
  it('when an MXF has no audio (P2 cameras keep sound in separate files), then the warning says so and how to export', () => {
    const report = evaluateQc({ ...hd(probeOf('no-audio')), demuxer: 'mxf' }, { ...clean, loudness: null }, { maxDurationS: 900 });
    expect(statusOf(report, 'audio')).toMatchObject({ status: 'warn', message: expect.stringContaining('单独的 MXF 文件') });
    expect(statusOf(evaluateQc(hd(probeOf('no-audio')), { ...clean, loudness: null }, { maxDurationS: 900 }), 'audio')?.message).toBe(
      '视频没有声音，演唱作品需要有声音，请检查录制设置',
    );
  });
  it('when a phone clip is progressive with square pixels and one track, then none of the camcorder checks is listed', () => {
    const report = evaluateQc(hd(probeOf('landscape')), clean, { maxDurationS: 900, audio: plan({ stats: null }) });
    expect(report.checks.map((c) => c.name)).not.toEqual(expect.arrayContaining(['scan']));
    expect(report.checks.filter((c) => ['scan', 'aspect', 'audio_track', 'channels', 'clipping'].includes(c.name))).toEqual([]);
    expect(report.verdict).toBe('pass');
  });
  it('when only the left channel had sound, then QC warns in Chinese with both channel levels', () => {
    const report = evaluateQc(hd(probeOf('landscape')), clean, { maxDurationS: 900, audio: plan({ issue: 'one_sided', fix: 'left-to-both' }) });
    expect(statusOf(report, 'channels')).toMatchObject({
      status: 'warn',
      value: 'one-sided; RMS L/R -20.0 / -inf dBFS',
      message: expect.stringContaining('只有左声道有声音（右声道没有声音）'),
    });
    expect(report.verdict).toBe('warn');
  });
  it('when the channels cancel, then QC says so and which channel is used; when clipped, it gives the length', () => {
    const report = evaluateQc(hd(probeOf('landscape')), clean, {
      maxDurationS: 900,
      audio: plan({ issue: 'phase_cancel', fix: 'right-to-both', clipped: { seconds: 1.48, channel: 2 } }),
    });
    expect(statusOf(report, 'channels')?.message).toContain('已只用右声道的声音');
    expect(statusOf(report, 'clipping')).toMatchObject({
      status: 'warn',
      value: '1.48 s at full scale (channel 2)',
      message: expect.stringContaining('约 1.5 秒的声音削波'),
    });
  });
});
