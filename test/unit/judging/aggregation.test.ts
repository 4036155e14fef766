import { formatScore, rankRound, trimmedMean } from '../../../src/judging/aggregation';
import type { Criterion, RankInput, ScoreRow } from '../../../src/judging/judging.types';

/**
 * Ranking against hand-computed examples; the arithmetic is written out next to each case.
 * Two criteria unless said otherwise: 演唱 (sing, max 50) is the first criterion (first tie-break),
 * 表现 (art, max 50).
 */
const criteria: Criterion[] = [
  { key: 'sing', max: 50 },
  { key: 'art', max: 50 },
];
/** One score: sing and art values; its total is sing + art. */
const s = (entryId: string, judgeId: string, sing: number, art: number): ScoreRow => ({ entryId, judgeId, values: { sing, art } });
/** Scores with the given totals by judges j1, j2, …; sing = 40 each, art = total − 40. */
const totals = (entryId: string, ts: number[]) => ts.map((t, i) => s(entryId, `j${i + 1}`, 40, t - 40));
const entries = (...codes: string[]) => codes.map((c) => ({ id: `id-${c}`, code: c }));
const rank = (input: Partial<RankInput> & Pick<RankInput, 'scores' | 'entries'>) => rankRound({ method: 'trimmed_mean', criteria, ...input });
const row = (r: ReturnType<typeof rankRound>, code: string) => r.ranking.find((x) => x.code === code)!;

describe('rankRound — methods', () => {
  test('when an entry has 5 scores under trimmed_mean, then one highest and one lowest are dropped', () => {
    // totals 90 85 80 70 60 → drop 90 and 60 → (85 + 80 + 70) / 3 = 235 / 3 = 78.333…
    // rawMean = (90 + 85 + 80 + 70 + 60) / 5 = 385 / 5 = 77; spread = 90 − 60 = 30 > 20 → wide_spread
    const r = rank({ scores: totals('id-A', [90, 85, 80, 70, 60]), entries: entries('A') });
    expect(row(r, 'A')).toEqual({
      entryId: 'id-A',
      code: 'A',
      rank: 1,
      score: 235 / 3,
      scoreDisplay: '78.33',
      rawMean: 77,
      scoreCount: 5,
      spread: 30,
      tied: false,
      flags: ['wide_spread'],
    });
  });

  test('when an entry has 4 scores under trimmed_mean, then it is the plain mean (< 5 scores: nothing dropped)', () => {
    // totals 90 80 70 60 → (90 + 80 + 70 + 60) / 4 = 300 / 4 = 75
    const r = rank({ scores: totals('id-A', [90, 80, 70, 60]), entries: entries('A') });
    expect(row(r, 'A')).toMatchObject({ score: 75, scoreDisplay: '75.00', rawMean: 75, scoreCount: 4 });
  });

  test('when the highest and lowest values repeat, then only one of each is dropped', () => {
    // 90 90 80 70 70 → (90 + 80 + 70) / 3 = 80
    expect(trimmedMean([90, 90, 80, 70, 70])).toBe(80);
  });

  test('when the method is mean, then 5 scores are averaged untrimmed, and the order can differ from trimmed_mean', () => {
    // A: 90 80 80 80 50 → mean 380 / 5 = 76;  trimmed (80 + 80 + 80) / 3 = 80
    // B: 79 78 78 78 77 → mean 390 / 5 = 78;  trimmed (78 + 78 + 78) / 3 = 78
    const scores = [...totals('id-A', [90, 80, 80, 80, 50]), ...totals('id-B', [79, 78, 78, 78, 77])];
    const mean = rank({ method: 'mean', scores, entries: entries('A', 'B') });
    expect(mean.ranking.map((x) => [x.code, x.rank, x.score])).toEqual([
      ['B', 1, 78],
      ['A', 2, 76],
    ]);
    const trimmed = rank({ method: 'trimmed_mean', scores, entries: entries('A', 'B') });
    expect(trimmed.ranking.map((x) => [x.code, x.rank, x.score])).toEqual([
      ['A', 1, 80],
      ['B', 2, 78],
    ]);
  });

  test('when a score is shown, then it has two decimals rounded half-up, while ranking keeps full precision', () => {
    expect(formatScore(1.005)).toBe('1.01'); // toFixed(2) alone gives "1.00"
    expect(formatScore(200 / 3)).toBe('66.67');
    expect(formatScore(80)).toBe('80.00');
    // A: 80.004 and B: 80.001 both show "80.00" but A ranks first, not tied.
    const r = rankRound({
      method: 'mean',
      criteria: [{ key: 't', max: 100 }],
      entries: entries('A', 'B'),
      scores: [
        { entryId: 'id-A', judgeId: 'j1', values: { t: 80.004 } },
        { entryId: 'id-B', judgeId: 'j1', values: { t: 80.001 } },
      ],
    });
    expect(r.ranking.map((x) => [x.code, x.rank, x.scoreDisplay, x.tied])).toEqual([
      ['A', 1, '80.00', false],
      ['B', 2, '80.00', false],
    ]);
  });
});

describe('rankRound — ties', () => {
  test('when two entries have the same score, then the higher first-criterion subtotal (untrimmed mean of sing) ranks first', () => {
    // A: (45 + 35 = 80), (43 + 37 = 80) → mean 80; sing mean (45 + 43) / 2 = 44
    // B: (40 + 40 = 80), (42 + 38 = 80) → mean 80; sing mean (40 + 42) / 2 = 41  → A before B, not tied
    const scores = [s('id-A', 'j1', 45, 35), s('id-A', 'j2', 43, 37), s('id-B', 'j1', 40, 40), s('id-B', 'j2', 42, 38)];
    const r = rank({ method: 'mean', scores, entries: entries('B', 'A') });
    expect(r.ranking.map((x) => [x.code, x.rank, x.score, x.tied])).toEqual([
      ['A', 1, 80, false],
      ['B', 2, 80, false],
    ]);
  });

  test('when score and first criterion are equal, then the higher untrimmed mean ranks first', () => {
    // sing = 40 in every score, so the sing subtotal is 40 for both.
    // A: 90 80 80 80 70 → trimmed (80 + 80 + 80) / 3 = 80; raw 400 / 5 = 80
    // B: 90 80 80 80 80 → trimmed (80 + 80 + 80) / 3 = 80; raw 410 / 5 = 82 → B before A
    const scores = [...totals('id-A', [90, 80, 80, 80, 70]), ...totals('id-B', [90, 80, 80, 80, 80])];
    const r = rank({ scores, entries: entries('A', 'B') });
    expect(r.ranking.map((x) => [x.code, x.rank, x.score, x.rawMean, x.tied])).toEqual([
      ['B', 1, 80, 82, false],
      ['A', 2, 80, 80, false],
    ]);
  });

  test('when entries are equal on score, first criterion and untrimmed mean, then they share a rank (1, 2, 2, 4) and are marked tied', () => {
    // W: 90 90 → 90.  X and Y: (40 + 45 = 85), (42 + 43 = 85) → 85, sing 41, raw 85 — identical.  Z: 70 70 → 70.
    const scores = [
      ...totals('id-W', [90, 90]),
      s('id-X', 'j1', 40, 45),
      s('id-X', 'j2', 42, 43),
      s('id-Y', 'j2', 40, 45),
      s('id-Y', 'j3', 42, 43),
      ...totals('id-Z', [70, 70]),
    ];
    const r = rank({ scores, entries: entries('Z', 'Y', 'X', 'W') });
    expect(r.ranking.map((x) => [x.code, x.rank, x.tied])).toEqual([
      ['W', 1, false],
      ['X', 2, true],
      ['Y', 2, true],
      ['Z', 4, false],
    ]);
  });

  test('when two scores differ only by floating-point noise (< 1e-9), then they count as equal and the next key decides', () => {
    // A: 0.1 + 0.2 = 0.30000000000000004; B: 0.3. Equal within 1e-9 → the first criterion decides: A 0.2 vs B 0.3 → B first.
    const c2: Criterion[] = [
      { key: 'p', max: 1 },
      { key: 'q', max: 1 },
    ];
    const r = rankRound({
      method: 'mean',
      criteria: c2,
      entries: entries('A', 'B'),
      scores: [
        { entryId: 'id-A', judgeId: 'j1', values: { p: 0.2, q: 0.1 } },
        { entryId: 'id-B', judgeId: 'j1', values: { p: 0.3, q: 0 } },
      ],
    });
    expect(r.ranking.map((x) => [x.code, x.rank, x.tied])).toEqual([
      ['B', 1, false],
      ['A', 2, false],
    ]);
  });
});

describe('rankRound — zscore', () => {
  // One criterion "t" (max 100). Judges see different entries:
  //   P scores A 90, B 80, C 70 → μ = 80, σ = √((10² + 0 + 10²) / 3) = √(200/3) = 8.165 → z = +√1.5, 0, −√1.5
  //   Q scores B 88, C 84, D 80 → μ = 84, σ = √(32/3) = 3.266           → z = +√1.5, 0, −√1.5
  //   H scores A 90, C 80, D 70 → μ = 80, σ = 8.165                      → z = +√1.5, 0, −√1.5
  // Per entry (< 5 values, so plain mean of z), with s = √1.5:
  //   A: (s + s) / 2 = s;  B: (0 + s) / 2 = s/2;  C: (−s + 0 + 0) / 3 = −s/3;  D: (−s − s) / 2 = −s
  // Rescaled 100 · (Z − (−s)) / (s − (−s)):  A 100, B 75, C 100 · (2s/3) / (2s) = 33.33…, D 0.
  const c1: Criterion[] = [{ key: 't', max: 100 }];
  const sc = (entryId: string, judgeId: string, t: number): ScoreRow => ({ entryId: `id-${entryId}`, judgeId, values: { t } });
  const panel = (hDelta: number) => [
    sc('A', 'P', 90),
    sc('B', 'P', 80),
    sc('C', 'P', 70),
    sc('B', 'Q', 88),
    sc('C', 'Q', 84),
    sc('D', 'Q', 80),
    sc('A', 'H', 90 + hDelta),
    sc('C', 'H', 80 + hDelta),
    sc('D', 'H', 70 + hDelta),
  ];
  const run = (method: RankInput['method'], hDelta: number) => rankRound({ method, criteria: c1, entries: entries('A', 'B', 'C', 'D'), scores: panel(hDelta) });

  test('when judges see different entries, then z-scores are standardised per judge, averaged, and rescaled to 0–100', () => {
    const r = run('zscore', 0);
    expect(r.ranking.map((x) => x.code)).toEqual(['A', 'B', 'C', 'D']);
    const scores = r.ranking.map((x) => x.score!);
    [100, 75, 100 / 3, 0].forEach((want, i) => expect(scores[i]).toBeCloseTo(want, 9));
    expect(r.ranking.map((x) => x.scoreDisplay)).toEqual(['100.00', '75.00', '33.33', '0.00']);
    // rawMean stays on the rubric scale: A (90 + 90) / 2 = 90; C (70 + 84 + 80) / 3 = 78
    expect(row(r, 'A').rawMean).toBe(90);
    expect(row(r, 'C').rawMean).toBe(78);
  });

  test('when judge H is harsh (every score 20 lower), then the z-score order and scores do not change, while under mean A falls below B', () => {
    const fair = run('zscore', 0);
    const harsh = run('zscore', -20);
    expect(harsh.ranking.map((x) => [x.code, x.rank])).toEqual(fair.ranking.map((x) => [x.code, x.rank]));
    harsh.ranking.forEach((x, i) => expect(x.score!).toBeCloseTo(fair.ranking[i].score!, 9));
    // Mean, fair:  A (90 + 90)/2 = 90, B (80 + 88)/2 = 84, C (70 + 84 + 80)/3 = 78, D (80 + 70)/2 = 75 → A B C D
    expect(run('mean', 0).ranking.map((x) => x.code)).toEqual(['A', 'B', 'C', 'D']);
    // Mean, harsh: A (90 + 70)/2 = 80, B 84, C (70 + 84 + 60)/3 = 71.33, D (80 + 50)/2 = 65 → B A C D
    expect(run('mean', -20).ranking.map((x) => [x.code, x.score])).toEqual([
      ['B', 84],
      ['A', 80],
      ['C', 214 / 3],
      ['D', 65],
    ]);
  });

  test('when a judge gave one score, or all their scores are equal, then their z is 0; when all entries are equal, then every score is 50', () => {
    // J1 scores only A (one score → z 0); J2 scores B and C with 70 and 70 (σ = 0 → z 0). All Z = 0 → 50.
    const r = rankRound({ method: 'zscore', criteria: c1, entries: entries('A', 'B', 'C'), scores: [sc('A', 'J1', 95), sc('B', 'J2', 70), sc('C', 'J2', 70)] });
    // Equal scores, so the tie-breaks apply: first criterion (= the total here) 95 > 70 → A first, not tied;
    // B and C are equal on everything → both rank 2, tied.
    expect(r.ranking.map((x) => [x.score, x.tied])).toEqual([
      [50, false],
      [50, true],
      [50, true],
    ]);
    expect(r.ranking.map((x) => [x.code, x.rank])).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 2],
    ]);
  });
});

describe('rankRound — missing scores and flags', () => {
  test('when an entry has no scores, then it ranks last with a null score and the no_scores flag', () => {
    const r = rank({ scores: [...totals('id-A', [80, 70]), ...totals('id-B', [60, 60])], entries: entries('N', 'A', 'M', 'B') });
    expect(r.ranking.map((x) => [x.code, x.rank, x.score, x.scoreDisplay, x.flags])).toEqual([
      ['A', 1, 75, '75.00', []],
      ['B', 2, 60, '60.00', []],
      ['M', 3, null, null, ['no_scores']],
      ['N', 3, null, null, ['no_scores']],
    ]);
    expect(row(r, 'M')).toMatchObject({ rawMean: null, spread: null, scoreCount: 0, tied: false });
  });

  test('when high − low of an entry exceeds the spread threshold, then it is flagged wide_spread (20 itself is not)', () => {
    // A: 90 − 65 = 25 > 20 → flag; B: 90 − 70 = 20, not > 20 → none; with spreadFlag 15, B is flagged too.
    const scores = [...totals('id-A', [90, 65]), ...totals('id-B', [90, 70])];
    expect(row(rank({ scores, entries: entries('A', 'B') }), 'A').flags).toEqual(['wide_spread']);
    expect(row(rank({ scores, entries: entries('A', 'B') }), 'B').flags).toEqual([]);
    expect(row(rank({ scores, entries: entries('A', 'B'), spreadFlag: 15 }), 'B')).toMatchObject({ spread: 20, flags: ['wide_spread'] });
  });

  // Five judges score the same two entries X and Y.
  const panelOf = (j5: [number, number]) => [
    ...['j1', 'j2', 'j3', 'j4'].flatMap((j) => [s('id-X', j, 40, 40), s('id-Y', j, 35, 35)]), // totals 80, 70
    s('id-X', 'j5', j5[0] / 2, j5[0] / 2),
    s('id-Y', 'j5', j5[1] / 2, j5[1] / 2),
  ];
  test('when one judge averages 2 panel SDs below the panel, then they are flagged harsh; 2 above, lenient', () => {
    // j1–j4 mean (80 + 70)/2 = 75, SD 5.  j5 gives 60, 50 → mean 55.
    // Panel of judge means: M = (4·75 + 55)/5 = 71; S = √((4·4² + 16²)/5) = √(320/5) = 8; z(j5) = (55 − 71)/8 = −2 < −1.5 → harsh
    // z(j1) = (75 − 71)/8 = 0.5 → no flag
    const harsh = rank({ scores: panelOf([60, 50]), entries: entries('X', 'Y') });
    expect(harsh.judges).toEqual([
      ...['j1', 'j2', 'j3', 'j4'].map((judgeId) => ({ judgeId, mean: 75, sd: 5, count: 2, flags: [] })),
      { judgeId: 'j5', mean: 55, sd: 5, count: 2, flags: ['harsh'] },
    ]);
    // j5 gives 100, 90 → mean 95; M = (300 + 95)/5 = 79; S = √((4·4² + 16²)/5) = 8; z = 16/8 = 2 → lenient
    expect(rank({ scores: panelOf([100, 90]), entries: entries('X', 'Y') }).judges[4].flags).toEqual(['lenient']);
    // With judgeFlagZ 2.5 neither is flagged (|z| = 2).
    expect(rank({ scores: panelOf([60, 50]), entries: entries('X', 'Y'), judgeFlagZ: 2.5 }).judges[4].flags).toEqual([]);
  });

  test('when a judge barely separates entries, then they are flagged narrow, and a deviation under 5 points is not harsh', () => {
    // j5 gives 75, 74 → SD 0.5 < 0.25 × median(5, 5, 5, 5, 0.5) = 1.25 → narrow.
    // Means: 75 ×4 and 74.5 → M = 74.9, S = √((4·0.1² + 0.4²)/5) = 0.2 → z(j5) = −2, but |74.5 − 74.9| = 0.4 < 5 points → not harsh.
    const r = rank({ scores: panelOf([75, 74]), entries: entries('X', 'Y') });
    expect(r.judges[4]).toMatchObject({ judgeId: 'j5', sd: 0.5, flags: ['narrow'] });
    expect(r.judges.slice(0, 4).every((j) => j.flags.length === 0)).toBe(true);
  });
});

describe('rankRound — bad input', () => {
  test('when a value is missing or out of range, or a judge scored an entry twice, then it throws', () => {
    expect(() => rank({ scores: [s('id-A', 'j1', 51, 0)], entries: entries('A') })).toThrow(/sing = 51 is outside 0…50/);
    expect(() => rank({ scores: [{ entryId: 'id-A', judgeId: 'j1', values: { sing: 40 } }], entries: entries('A') })).toThrow(/art/);
    expect(() => rank({ scores: [s('id-A', 'j1', 40, 40), s('id-A', 'j1', 40, 40)], entries: entries('A') })).toThrow(/two scores/);
    expect(() => rank({ scores: [s('id-Q', 'j1', 40, 40)], entries: entries('A') })).toThrow(/unknown entry/);
  });
});
