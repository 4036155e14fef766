import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assertGuardedFfmpegArgs } from '../../../../src/platform/media/input-guard';
import { normalizeProbe, type ProbeResult } from '../../../../src/platform/media/probe';
import type { RawProbe } from '../../../../src/platform/media/runner';
import {
  buildAudioAnalysisArgs,
  buildAudioAnalysisGraph,
  buildFrameScanArgs,
  channelFixFilter,
  isAstatsLine,
  parseAudioAnalysis,
  parseFrameScan,
  planAudio,
  type ChannelStats,
  type TrackStats,
} from '../../../../src/platform/media/source-analysis';

const fixtures = path.join(__dirname, '../../../fixtures/probe');
const landscape = (): RawProbe => JSON.parse(readFileSync(path.join(fixtures, 'landscape.json'), 'utf8')) as RawProbe;

/** A probe with these audio tracks (channels each), read with `demuxer`. */
function probeWith(channels: number[], demuxer: 'mov' | 'mxf' = 'mov'): ProbeResult {
  const r = landscape();
  const video = r.streams[0] as RawProbe['streams'][number];
  const audio = r.streams[1] as RawProbe['streams'][number];
  return normalizeProbe({ ...r, streams: [video, ...channels.map((c, i) => ({ ...audio, index: i + 1, channels: c }))] }, demuxer);
}
const ch = (rmsDb: number | null, extra: Partial<ChannelStats> = {}): ChannelStats => ({
  rmsDb,
  peakDb: rmsDb === null ? null : rmsDb + 3,
  fullScaleSamples: 0,
  flatFactorDb: 0,
  ...extra,
});
const stereo = (l: number | null, r: number | null, sum: number | null, index = 1): TrackStats => ({ index, channels: [ch(l), ch(r)], monoSumRmsDb: sum });

// Recorded from ffmpeg 5.1 on a tone on the left input only (the lines isAstatsLine keeps).
const LEFT_ONLY = `[astats@sum0 @ 0x5641616b1e00] [info] Channel: 1
[astats@sum0 @ 0x5641616b1e00] [info] Peak level dB: -24.084520
[astats@sum0 @ 0x5641616b1e00] [info] RMS level dB: -27.094632
[astats@sum0 @ 0x5641616b1e00] [info] Flat factor: 0.000000
[astats@sum0 @ 0x5641616b1e00] [info] Peak count: 1680
[astats@sum0 @ 0x5641616b1e00] [info] Overall
[astats@sum0 @ 0x5641616b1e00] [info] RMS level dB: -27.094632
[astats@ch0 @ 0x5641616b7a80] [info] Channel: 1
[astats@ch0 @ 0x5641616b7a80] [info] Peak level dB: -17.864453
[astats@ch0 @ 0x5641616b7a80] [info] RMS level dB: -20.873791
[astats@ch0 @ 0x5641616b7a80] [info] Flat factor: 0.000000
[astats@ch0 @ 0x5641616b7a80] [info] Peak count: 1680
[astats@ch0 @ 0x5641616b7a80] [info] Channel: 2
[astats@ch0 @ 0x5641616b7a80] [info] Peak level dB: -inf
[astats@ch0 @ 0x5641616b7a80] [info] RMS level dB: -inf
[astats@ch0 @ 0x5641616b7a80] [info] Flat factor: -inf
[astats@ch0 @ 0x5641616b7a80] [info] Peak count: 288000
[astats@ch0 @ 0x5641616b7a80] [info] Overall
[astats@ch0 @ 0x5641616b7a80] [info] Peak level dB: -17.864453
[astats@ch0 @ 0x5641616b7a80] [info] RMS level dB: -23.884091
[astats@ch0 @ 0x5641616b7a80] [info] Peak count: 144840.000000`.split('\n');

describe('audio analysis argv', () => {
  it('when a source has a stereo and a mono track, then one guarded audio-only run measures each channel, the stereo mono sum, and near-full-scale samples', () => {
    const probe = probeWith([2, 1], 'mxf');
    const args = buildAudioAnalysisArgs(probe, '/work/in/source', 900);
    expect(() => assertGuardedFfmpegArgs(args)).not.toThrow();
    expect(args.join(' ')).toContain('-f mxf -protocol_whitelist file -format_whitelist mxf -i file:/work/in/source -vn -sn -dn');
    expect(buildAudioAnalysisGraph(probe)).toBe(
      '[0:1]aresample=48000,asplit=2[c0][m0];[c0]volume=0.2dB,aformat=sample_fmts=s16,astats@ch0[a0];[m0]pan=mono|c0=0.5*c0+0.5*c1,astats@sum0[s0];' +
        '[0:2]aresample=48000,volume=0.2dB,aformat=sample_fmts=s16,astats@ch1[a1]',
    );
    expect(args.join(' ')).toContain('-map [a0] -map [s0] -map [a1] -t 900 -c:a pcm_s16le -f null -');
  });
  it('when the field order must come from the frames, then ffprobe reads 6 frames of the video stream with the same guard', () => {
    const args = buildFrameScanArgs({ ...probeWith([2]), demuxer: 'avi' }, '/work/in/source');
    expect(args.join(' ')).toContain(
      '-f avi -protocol_whitelist file -format_whitelist avi -select_streams 0 -read_intervals %+#6 -show_entries frame=interlaced_frame,top_field_first',
    );
    expect(parseFrameScan('1,0\n1,0\n\n1,1,\n0,0\nnoise\n')).toEqual([
      { interlaced: true, topFieldFirst: false },
      { interlaced: true, topFieldFirst: false },
      { interlaced: true, topFieldFirst: true },
      { interlaced: false, topFieldFirst: false },
    ]);
  });
});

describe('parseAudioAnalysis', () => {
  it('when astats printed a left-only tone, then the right channel is silent, the Overall block is not taken for a channel, and the mono sum is read', () => {
    expect(LEFT_ONLY.every(isAstatsLine)).toBe(true);
    const [track] = parseAudioAnalysis(LEFT_ONLY, probeWith([2]));
    expect(track).toEqual({
      index: 1,
      channels: [
        { rmsDb: -20.873791, peakDb: -17.864453, fullScaleSamples: 0, flatFactorDb: 0 },
        { rmsDb: null, peakDb: null, fullScaleSamples: 0, flatFactorDb: null },
      ],
      monoSumRmsDb: -27.094632,
    });
    expect(planAudio(probeWith([2]), [track as TrackStats])).toMatchObject({ issue: 'one_sided', fix: 'left-to-both' });
  });
  it('when ffmpeg configured the graph twice and printed an empty summary first, then the last summary counts', () => {
    const empty = LEFT_ONLY.map((l) => l.replace(/RMS level dB: \S+/, 'RMS level dB: -inf'));
    expect(parseAudioAnalysis([...empty, ...LEFT_ONLY], probeWith([2]))[0]?.channels[0]?.rmsDb).toBeCloseTo(-20.87, 2);
  });
});

describe('planAudio', () => {
  it('when both channels carry the same-level, correlated sound, then nothing is changed', () => {
    expect(planAudio(probeWith([2]), [stereo(-20, -20.5, -20.3)])).toMatchObject({ fix: 'none', issue: 'none', clipped: null, trackNumber: 1 });
  });
  it('when the two channels are uncorrelated (a wide stereo pair), then their mono sum is 3 dB down and nothing is changed', () => {
    expect(planAudio(probeWith([2]), [stereo(-20, -20, -23)])).toMatchObject({ issue: 'none' });
  });
  it('when the right channel is the live one, then both play the right channel', () => {
    expect(planAudio(probeWith([2]), [stereo(-75, -22, -28)])).toMatchObject({ issue: 'one_sided', fix: 'right-to-both' });
  });
  it('when the channels cancel in the mono sum (one mic wired inverted), then one channel is used, not the sum', () => {
    const plan = planAudio(probeWith([2]), [stereo(-20, -20.2, null)]);
    expect(plan).toMatchObject({ issue: 'phase_cancel', fix: 'left-to-both' });
    expect(channelFixFilter(plan?.fix ?? 'none')).toBe('pan=stereo|c0=c0|c1=c0,');
  });
  it('when the first track is silent and the second has sound, then the second is used and the skip is counted', () => {
    const probe = probeWith([1, 1]);
    expect(
      planAudio(probe, [
        { index: 1, channels: [ch(null)] },
        { index: 2, channels: [ch(-24)] },
      ]),
    ).toMatchObject({ streamIndex: 2, trackNumber: 2, trackCount: 2, skippedSilentTracks: 1, fix: 'none' });
  });
  it('when no track has sound, then the first is used (QC then reports the silence)', () => {
    expect(planAudio(probeWith([2, 2]), [stereo(null, null, null, 1), stereo(-80, -80, -80, 2)])).toMatchObject({ streamIndex: 1, skippedSilentTracks: 0 });
  });
  it('when a channel has ≥ 0.25 s at full scale in runs of ≥ 3 samples, then it is flagged clipped; short or single-sample peaks are not', () => {
    const clipped = (samples: number, flat: number): TrackStats => ({
      index: 1,
      channels: [ch(-8, { fullScaleSamples: samples, flatFactorDb: flat }), ch(-8)],
      monoSumRmsDb: -8,
    });
    expect(planAudio(probeWith([2]), [clipped(96_000, 31)])?.clipped).toEqual({ seconds: 2, channel: 1 });
    expect(planAudio(probeWith([2]), [clipped(4_800, 31)])?.clipped).toBeNull(); // 0.1 s
    expect(planAudio(probeWith([2]), [clipped(96_000, 0)])?.clipped).toBeNull(); // isolated peaks
  });
  it('when the only clipped channel is the dead one of a one-sided pair, then nothing is flagged (it is not played)', () => {
    const s: TrackStats = { index: 1, channels: [ch(-20), ch(-90, { fullScaleSamples: 96_000, flatFactorDb: 30 })], monoSumRmsDb: -26 };
    expect(planAudio(probeWith([2]), [s])).toMatchObject({ fix: 'left-to-both', clipped: null });
  });
  it('when there is no audio, then there is no plan', () => {
    expect(planAudio({ ...probeWith([2]), audioStreams: [] }, [])).toBeNull();
  });
});
