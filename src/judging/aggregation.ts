/**
 * Ranking of a judging round (issue 5, docs/architecture.md §7) — pure: no database, no HTTP.
 *
 * Exact rules (where docs/architecture.md and docs/api.md are silent, the choice is written here and in the tests):
 *
 * - total of one score = Σ criteria values (every criterion must be present, finite, within 0…max;
 *   anything else throws — scores reach this function validated, so it is a programming error).
 * - `mean`: plain mean of the entry's totals.
 * - `trimmed_mean`: with n ≥ 5 totals, (Σ − highest − lowest) / (n − 2) (one of each, even when
 *   values repeat); with n < 5 the plain mean.
 * - `zscore`: for each judge j, over the totals t they gave in this round:
 *       μ_j = mean,  σ_j = population SD (divide by n_j),
 *       z = (t − μ_j) / σ_j,  and z = 0 when n_j = 1 or σ_j < 1e-9.
 *   Per entry Z_e = the trimmed mean of its z values (same ≥ 5 rule). Then over the entries that
 *   have scores:  score_e = 100 · (Z_e − Z_min) / (Z_max − Z_min),  and 50 for all when
 *   Z_max − Z_min < 1e-9. A judge who gives every entry 20 points less has the same z values, so
 *   the z-score ranking does not move.
 * - Order, descending, on full precision. Ties are broken, in order, by
 *     1. the score (values within 1e-9 count as equal),
 *     2. the first criterion's subtotal = the UNTRIMMED mean of that criterion over the entry's
 *        scores (untrimmed: trimming is by total, so a trimmed criterion mean would depend on which
 *        judge's total happened to be dropped),
 *     3. the untrimmed mean of totals (`rawMean`; decides only for `trimmed_mean` / `zscore`).
 *   Entries still equal share a rank (competition ranking 1, 2, 2, 4), `tied: true`, listed by code.
 *   "Equal within 1e-9" is applied by grouping the sorted values into runs whose neighbours differ by
 *   < 1e-9 (a transitive, deterministic grouping — a tolerant comparator in sort() would not be).
 * - Entries without scores come last, by code, sharing rank (number of scored entries + 1), with
 *   score / rawMean / spread null, `tied: false` and the flag `no_scores`.
 * - `scoreDisplay`: two decimals, half-up on the decimal value (1.005 → "1.01").
 * - Entry flag `wide_spread`: highest − lowest total > spreadFlag (default 20 points).
 * - Judge stats over the judges who have scores in the round: mean and population SD of their totals.
 *   `harsh` / `lenient`: |mean_j − M| > judgeFlagZ · S (default 1.5), where M and S are the mean and
 *   population SD of the judges' means (S = 0 → no flag), AND |mean_j − M| ≥ 5 % of the rubric's
 *   total maximum (5 points on a 100-point rubric) — without that floor, a panel that agrees almost
 *   perfectly would flag a judge 0.4 points below the rest. With n judges |z| ≤ √(n−1), so panels
 *   of three or fewer are never flagged at 1.5.
 *   `narrow`: a judge with ≥ 2 scores whose SD < 0.25 × the median SD of the judges with ≥ 2 scores
 *   (only when that median > 0) — someone who barely separates the entries.
 */
import type { EntryFlag, JudgeFlag, JudgeStat, RankedEntry, RankInput, RankResult } from './judging.types';

export const TIE_EPSILON = 1e-9;
export const DEFAULT_SPREAD_FLAG = 20;
export const DEFAULT_JUDGE_FLAG_Z = 1.5;
export const NARROW_SD_RATIO = 0.25;
/** harsh / lenient also need a deviation of at least this share of the rubric's total maximum. */
export const JUDGE_FLAG_MIN_SHARE = 0.05;

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const popSd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / xs.length);
};

/** Drop one highest and one lowest when there are ≥ 5 values; else the plain mean. */
export function trimmedMean(xs: number[]): number {
  if (xs.length < 5) return mean(xs);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return (sum(xs) - lo - hi) / (xs.length - 2);
}

/** Two decimals, half-up on the decimal value (toFixed alone turns 1.005 into "1.00"). */
export function formatScore(x: number): string {
  return (Math.round(x * 100 + 1e-7) / 100).toFixed(2);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Scored {
  entryId: string;
  code: string;
  totals: number[];
  zs: number[];
  firstCriterion: number[];
  score: number;
  rawMean: number;
  firstMean: number;
}

export function rankRound(input: RankInput): RankResult {
  const { method, criteria, scores, entries } = input;
  const spreadFlag = input.spreadFlag ?? DEFAULT_SPREAD_FLAG;
  const judgeFlagZ = input.judgeFlagZ ?? DEFAULT_JUDGE_FLAG_Z;
  if (criteria.length === 0) throw new Error('rankRound: the rubric has no criteria');
  if (new Set(criteria.map((c) => c.key)).size !== criteria.length) throw new Error('rankRound: duplicate criterion keys');

  const byEntry = new Map<string, { code: string; totals: number[]; judges: string[]; firstCriterion: number[] }>();
  for (const e of entries) {
    if (byEntry.has(e.id)) throw new Error(`rankRound: duplicate entry ${e.id}`);
    byEntry.set(e.id, { code: e.code, totals: [], judges: [], firstCriterion: [] });
  }
  const byJudge = new Map<string, number[]>();
  const firstKey = criteria[0].key;
  for (const s of scores) {
    const e = byEntry.get(s.entryId);
    if (!e) throw new Error(`rankRound: score for unknown entry ${s.entryId}`);
    // An entry has a handful of judges: a scan of them is cheaper than a set of 50,000 pair strings.
    if (e.judges.includes(s.judgeId)) throw new Error(`rankRound: two scores by judge ${s.judgeId} for entry ${s.entryId}`);
    let total = 0;
    for (const c of criteria) {
      const v = s.values[c.key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > c.max) {
        throw new Error(`rankRound: judge ${s.judgeId}, entry ${s.entryId}: ${c.key} = ${String(v)} is outside 0…${c.max}`);
      }
      total += v;
    }
    e.totals.push(total);
    e.judges.push(s.judgeId);
    e.firstCriterion.push(s.values[firstKey]);
    let list = byJudge.get(s.judgeId);
    if (!list) byJudge.set(s.judgeId, (list = []));
    list.push(total);
  }

  // Per-judge standardisation (used by zscore) and judge stats.
  const judgeMoments = new Map<string, { mean: number; sd: number; count: number }>();
  for (const [judgeId, totals] of byJudge) judgeMoments.set(judgeId, { mean: mean(totals), sd: popSd(totals), count: totals.length });
  const z = (judgeId: string, t: number) => {
    const m = judgeMoments.get(judgeId)!;
    return m.count < 2 || m.sd < TIE_EPSILON ? 0 : (t - m.mean) / m.sd;
  };

  const scored: Scored[] = [];
  const unscored: { entryId: string; code: string }[] = [];
  for (const [entryId, e] of byEntry) {
    if (e.totals.length === 0) {
      unscored.push({ entryId, code: e.code });
      continue;
    }
    const zs = method === 'zscore' ? e.totals.map((t, i) => z(e.judges[i], t)) : [];
    const rawMean = mean(e.totals);
    const score = method === 'mean' ? rawMean : method === 'trimmed_mean' ? trimmedMean(e.totals) : trimmedMean(zs);
    scored.push({ entryId, code: e.code, totals: e.totals, zs, firstCriterion: e.firstCriterion, score, rawMean, firstMean: mean(e.firstCriterion) });
  }
  if (method === 'zscore' && scored.length > 0) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of scored) {
      lo = Math.min(lo, s.score);
      hi = Math.max(hi, s.score);
    }
    for (const s of scored) s.score = hi - lo < TIE_EPSILON ? 50 : (100 * (s.score - lo)) / (hi - lo);
  }

  // Order: group by score, then by first criterion, then by raw mean; what is left is tied.
  const keys: ((s: Scored) => number)[] = [(s) => s.score, (s) => s.firstMean, (s) => s.rawMean];
  const groups = orderIntoGroups(scored, keys, 0);
  const ranking: RankedEntry[] = [];
  let position = 0;
  for (const g of groups) {
    const rank = position + 1;
    g.sort((a, b) => cmpStr(a.code, b.code) || cmpStr(a.entryId, b.entryId));
    for (const s of g) {
      const spread = Math.max(...s.totals) - Math.min(...s.totals);
      const flags: EntryFlag[] = spread > spreadFlag ? ['wide_spread'] : [];
      ranking.push({
        entryId: s.entryId,
        code: s.code,
        rank,
        score: s.score,
        scoreDisplay: formatScore(s.score),
        rawMean: s.rawMean,
        scoreCount: s.totals.length,
        spread,
        tied: g.length > 1,
        flags,
      });
    }
    position += g.length;
  }
  unscored.sort((a, b) => cmpStr(a.code, b.code) || cmpStr(a.entryId, b.entryId));
  for (const u of unscored) {
    ranking.push({
      entryId: u.entryId,
      code: u.code,
      rank: scored.length + 1,
      score: null,
      scoreDisplay: null,
      rawMean: null,
      scoreCount: 0,
      spread: null,
      tied: false,
      flags: ['no_scores'],
    });
  }

  const minPoints = JUDGE_FLAG_MIN_SHARE * sum(criteria.map((c) => c.max));
  return { ranking, judges: judgeStats(judgeMoments, judgeFlagZ, minPoints) };
}

/** Sort descending by keys[level]; split into runs whose neighbours differ by < TIE_EPSILON; recurse. */
function orderIntoGroups(items: Scored[], keys: ((s: Scored) => number)[], level: number): Scored[][] {
  if (items.length <= 1 || level === keys.length) return items.length ? [items] : [];
  const key = keys[level];
  const sorted = [...items].sort((a, b) => key(b) - key(a) || cmpStr(a.code, b.code) || cmpStr(a.entryId, b.entryId));
  const out: Scored[][] = [];
  let run: Scored[] = [sorted[0]];
  for (let i = 1; i < sorted.length; i++) {
    if (key(sorted[i - 1]) - key(sorted[i]) < TIE_EPSILON) run.push(sorted[i]);
    else {
      out.push(...orderIntoGroups(run, keys, level + 1));
      run = [sorted[i]];
    }
  }
  out.push(...orderIntoGroups(run, keys, level + 1));
  return out;
}

function judgeStats(moments: Map<string, { mean: number; sd: number; count: number }>, judgeFlagZ: number, minPoints: number): JudgeStat[] {
  const list = [...moments].map(([judgeId, m]) => ({ judgeId, ...m })).sort((a, b) => cmpStr(a.judgeId, b.judgeId));
  if (list.length === 0) return [];
  const means = list.map((j) => j.mean);
  const panelMean = mean(means);
  const panelSd = popSd(means);
  const sds = list.filter((j) => j.count >= 2).map((j) => j.sd);
  const medianSd = sds.length ? median(sds) : 0;
  return list.map((j) => {
    const flags: JudgeFlag[] = [];
    if (panelSd > TIE_EPSILON && Math.abs(j.mean - panelMean) >= minPoints) {
      const zj = (j.mean - panelMean) / panelSd;
      if (zj < -judgeFlagZ) flags.push('harsh');
      else if (zj > judgeFlagZ) flags.push('lenient');
    }
    if (j.count >= 2 && medianSd > TIE_EPSILON && j.sd < NARROW_SD_RATIO * medianSd) flags.push('narrow');
    return { judgeId: j.judgeId, mean: j.mean, sd: j.sd, count: j.count, flags };
  });
}
