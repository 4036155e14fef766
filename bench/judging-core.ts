/**
 * bench/judging-core — CPU time of the pure judging core (issue 5), no database. Not part of `npm test`.
 *
 *   npx tsc --ignoreConfig --outDir /tmp/jc --rootDir . --module node16 --moduleResolution node16 \
 *     --target es2022 --strict --skipLibCheck --types node bench/judging-core.ts && node /tmp/jc/bench/judging-core.js
 *
 * (or `npm run build && node dist/bench/judging-core.js`). Each case runs BENCH_RUNS times (default 5)
 * on the same input; best and median are printed.
 *  1. assignJudges: 10,000 entries × k = 5 × 60 judges, a Lüliang-like round (13 counties, ~500 schools,
 *     judges with schools / counties) — and the same with one declared conflict per entry, which makes
 *     nearly every entry its own class (the compressed network's worst realistic case).
 *  2. rankRound: 10,000 entries × 5 scores × 4 criteria (50,000 scores), each method.
 */
import { rankRound } from '../src/judging/aggregation';
import { assignJudges } from '../src/judging/assignment';
import type { AggregationMethod, AssignInput, ScoreRow } from '../src/judging/judging.types';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round(nEntries: number, nJudges: number, conflictsPerEntry: number): AssignInput {
  const rnd = prng(7);
  const counties = Array.from({ length: 13 }, (_, i) => `county-${i}`);
  const schools = Array.from({ length: 500 }, (_, i) => ({ id: `school-${String(i).padStart(4, '0')}`, countyId: i % 20 === 0 ? null : counties[i % 13] }));
  const entries = Array.from({ length: nEntries }, (_, i) => {
    const sc = schools[Math.floor(rnd() * schools.length)];
    return { id: `e-${String(i).padStart(6, '0')}`, schoolId: sc.id, countyId: sc.countyId };
  });
  const judges = Array.from({ length: nJudges }, (_, i) => ({
    id: `j-${String(i).padStart(3, '0')}`,
    schoolId: rnd() < 0.5 ? schools[Math.floor(rnd() * schools.length)].id : null,
    countyId: rnd() < 0.7 ? counties[Math.floor(rnd() * counties.length)] : null,
  }));
  const conflicts = entries.flatMap((e) =>
    Array.from({ length: conflictsPerEntry }, () => ({ judgeId: judges[Math.floor(rnd() * nJudges)].id, entryId: e.id })),
  );
  return { entries, judges, judgesPerEntry: 5, conflicts };
}

function time(label: string, fn: () => unknown) {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(62)} best ${ms[0].toFixed(0).padStart(5)} ms   median ${ms[Math.floor(ms.length / 2)].toFixed(0).padStart(5)} ms`);
}

for (const cpe of [0, 1]) {
  const input = round(10_000, 60, cpe);
  const r = assignJudges(input);
  if (!r.ok) throw new Error(r.reason);
  console.log(`assign: ${r.assignments.length} pairs, loads ${r.balance.minLoad}–${r.balance.maxLoad}, balanced ${r.balance.balanced}`);
  time(`assignJudges 10,000 × k=5 × 60 judges, ${cpe ? '10,000 declared conflicts' : 'no declared conflicts'}`, () => assignJudges(input));
}

{
  const rnd = prng(3);
  const criteria = [
    { key: 'sing', max: 50 },
    { key: 'art', max: 25 },
    { key: 'spirit', max: 15 },
    { key: 'dress', max: 10 },
  ];
  const entries = Array.from({ length: 10_000 }, (_, i) => ({ id: `e-${i}`, code: `CX-${String(i).padStart(5, '0')}` }));
  const scores: ScoreRow[] = [];
  for (const e of entries) {
    const start = Math.floor(rnd() * 60);
    for (let k = 0; k < 5; k++) {
      const values: Record<string, number> = {};
      for (const c of criteria) values[c.key] = Math.round(c.max * (0.5 + 0.5 * rnd()));
      scores.push({ entryId: e.id, judgeId: `j-${(start + k * 7) % 60}`, values });
    }
  }
  for (const method of ['trimmed_mean', 'mean', 'zscore'] as AggregationMethod[]) {
    time(`rankRound ${method}: 10,000 entries × 5 scores × 4 criteria`, () => rankRound({ method, criteria, scores, entries }));
  }
}
