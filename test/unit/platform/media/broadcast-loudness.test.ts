import {
  firstPassFromIngest,
  firstPassFromLoudnorm,
  formatDb,
  isLoudnormJsonLine,
  loudnormParams,
  parseLoudnormJson,
  planLoudness,
  type LoudnessFirstPass,
} from '../../../../src/platform/media/loudness';

const pass = (over: Partial<LoudnessFirstPass> = {}): LoudnessFirstPass => ({
  measuredI: -30,
  measuredTP: -20,
  measuredLRA: 5,
  measuredThresh: -40.5,
  offset: 0.3,
  source: 'loudnorm',
  ...over,
});

// As ffmpeg 5.1 prints it with -loglevel level+info (the first block is from the unused first
// configuration of a filter_complex graph).
const STDERR = `[Parsed_loudnorm_2 @ 0x55d0] [info] 
{
	"input_i" : "-inf",
	"input_tp" : "-inf",
	"input_lra" : "0.00",
	"input_thresh" : "-70.00",
	"output_i" : "-inf",
	"output_tp" : "-inf",
	"output_lra" : "0.00",
	"output_thresh" : "-70.00",
	"normalization_type" : "dynamic",
	"target_offset" : "inf"
}
[Parsed_loudnorm_8 @ 0x55fe] [info] 
{
	"input_i" : "-21.75",
	"input_tp" : "-19.09",
	"input_lra" : "0.00",
	"input_thresh" : "-31.75",
	"output_i" : "-23.95",
	"output_tp" : "-21.29",
	"output_lra" : "0.00",
	"output_thresh" : "-33.95",
	"normalization_type" : "linear",
	"target_offset" : "-0.05"
}
[out#0/null @ 0x1] [info] video:0kB audio:1kB`;

describe('parseLoudnormJson', () => {
  it('when stderr holds two blocks, then the last one is read', () => {
    expect(parseLoudnormJson(STDERR)).toEqual({
      inputI: -21.75,
      inputTP: -19.09,
      inputLRA: 0,
      inputThresh: -31.75,
      outputI: -23.95,
      outputTP: -21.29,
      outputLRA: 0,
      outputThresh: -33.95,
      normalizationType: 'linear',
      targetOffset: -0.05,
    });
  });
  it('when only the kept lines are given, then the result is the same', () => {
    const kept = STDERR.split('\n').filter(isLoudnormJsonLine);
    expect(kept.some((l) => l.includes('Parsed_'))).toBe(false);
    expect(parseLoudnormJson(kept)?.normalizationType).toBe('linear');
  });
  it('when values are -inf, then they are null', () => {
    const first = STDERR.split('\n').slice(0, 13);
    expect(parseLoudnormJson(first)).toMatchObject({ inputI: null, inputTP: null, targetOffset: null, normalizationType: 'dynamic' });
  });
  it('when there is no block or it is cut off, then null', () => {
    expect(parseLoudnormJson('nothing here')).toBeNull();
    expect(parseLoudnormJson(STDERR.split('\n').slice(0, 20))).toBeNull();
  });
});

describe('planLoudness', () => {
  it('when there is no audio, then silence', () => {
    expect(planLoudness(null)).toEqual({ mode: 'silence' });
  });
  it('when the gain keeps the true peak under the ceiling, then linear, with loudnorm params', () => {
    const plan = planLoudness(pass());
    expect(plan).toMatchObject({ mode: 'linear', gainDb: 6, predictedTruePeakDbtp: -14 });
    if (plan.mode !== 'linear') throw new Error('expected linear');
    expect(plan.loudnorm).toEqual({ measuredI: -30, measuredTP: -20, measuredLRA: 5, measuredThresh: -40.5, offset: 0.3 });
  });
  it('when the source is too loud, then it is attenuated linearly whatever its peak (no cap on cuts)', () => {
    expect(planLoudness(pass({ measuredI: -2.1, measuredTP: 0.8 }))).toMatchObject({ mode: 'linear', gainDb: -21.9, predictedTruePeakDbtp: -21.1 });
  });
  it('when the predicted peak passes the ceiling (target − headroom), then limited (true_peak)', () => {
    // −30 + 6 → TP −4 + 6 = +2 dBTP
    expect(planLoudness(pass({ measuredTP: -4 }))).toMatchObject({
      mode: 'limited',
      reason: 'true_peak',
      gainDb: 6,
      ceilingDbtp: -2.5,
      predictedTruePeakDbtp: 2,
    });
    // −8.3 + 6 = −2.3: within loudnorm's own −2, but not within the 0.5 dB headroom
    expect(planLoudness(pass({ measuredTP: -8.3 })).mode).toBe('limited');
    expect(planLoudness(pass({ measuredTP: -8.6 })).mode).toBe('linear');
    // AAC: 1 dB headroom
    expect(planLoudness(pass({ measuredTP: -8.6 }), { truePeakHeadroomDb: 1 })).toMatchObject({ mode: 'limited', ceilingDbtp: -3 });
  });
  it('when LRA is over 20 LU, then limited (loudness_range): loudnorm would go dynamic', () => {
    expect(planLoudness(pass({ measuredLRA: 20.5 }))).toMatchObject({ mode: 'limited', reason: 'loudness_range', gainDb: 6 });
  });
  it('when the boost exceeds the cap, then too_quiet with a Chinese message with the numbers', () => {
    expect(planLoudness(pass({ measuredI: -52, measuredTP: -40 }))).toMatchObject({
      mode: 'too_quiet',
      gainDb: 28,
      measuredI: -52,
      message: '源视频音量过低（−52 LUFS），需要提升 28 dB，超过上限 20 dB，请人工处理或要求学校重新录制',
    });
    expect(planLoudness(pass({ measuredI: -44, measuredTP: -40 })).mode).toBe('linear'); // exactly +20 dB is allowed
    expect(planLoudness(pass({ measuredI: -44.1 })).mode).toBe('too_quiet');
    expect(planLoudness(pass({ measuredI: -40 }), { gainCapDb: 12 }).mode).toBe('too_quiet');
  });
  it('when the audio track is digital silence, then too_quiet without a gain', () => {
    expect(planLoudness(pass({ measuredI: null, measuredTP: null }))).toMatchObject({
      mode: 'too_quiet',
      gainDb: null,
      message: expect.stringContaining('静音'),
    });
    expect(planLoudness(pass({ measuredI: -70 })).mode).toBe('too_quiet');
  });
});

describe('loudnormParams', () => {
  it('when values sit on loudnorm\'s "not measured" defaults, then they are nudged so linear mode is allowed', () => {
    expect(loudnormParams(pass({ measuredLRA: 0, measuredThresh: -70 }))).toMatchObject({ measuredLRA: 0.01, measuredThresh: -70.01 });
  });
  it("when values are outside loudnorm's option ranges, then they are clamped", () => {
    expect(loudnormParams(pass({ measuredI: -120, measuredTP: null, measuredThresh: -130, offset: 150 }))).toEqual({
      measuredI: -99,
      measuredTP: -99,
      measuredLRA: 5,
      measuredThresh: -99,
      offset: 99,
    });
  });
});

describe('first passes', () => {
  it('when the ingest measured the source, then it becomes a first pass with thresh = I − 10', () => {
    expect(firstPassFromIngest({ integratedLufs: -31.2, truePeakDbtp: -12.4, lra: 4.1 })).toEqual({
      measuredI: -31.2,
      measuredTP: -12.4,
      measuredLRA: 4.1,
      measuredThresh: -41.2,
      offset: 0,
      source: 'ingest-ebur128',
    });
  });
  it("when the ingest measurement is missing or unusable, then null (run loudnorm's first pass)", () => {
    expect(firstPassFromIngest(null)).toBeNull();
    expect(firstPassFromIngest(undefined)).toBeNull();
    expect(firstPassFromIngest({ integratedLufs: NaN, truePeakDbtp: -3, lra: 1 })).toBeNull();
    expect(firstPassFromIngest({ integratedLufs: -20, truePeakDbtp: null, lra: 1 })).toBeNull();
  });
  it('when the ingest measured silence, then the first pass is silent (→ too_quiet)', () => {
    expect(planLoudness(firstPassFromIngest({ integratedLufs: -70, truePeakDbtp: null, lra: 0 })).mode).toBe('too_quiet');
  });
  it('when loudnorm measured the source, then its input_* values are the first pass', () => {
    const json = parseLoudnormJson(STDERR);
    if (!json) throw new Error('no json');
    expect(firstPassFromLoudnorm(json)).toEqual({
      measuredI: -21.75,
      measuredTP: -19.09,
      measuredLRA: 0,
      measuredThresh: -31.75,
      offset: -0.05,
      source: 'loudnorm',
    });
  });
});

describe('formatDb', () => {
  it.each([
    [-52, '−52'],
    [-23.96, '−24'],
    [28.04, '28'],
    [-1.26, '−1.3'],
    [0, '0'],
  ])('%s → %s', (value, text) => {
    expect(formatDb(value)).toBe(text);
  });
});
