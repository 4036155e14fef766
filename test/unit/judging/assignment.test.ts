import { assignJudges, isHardConflict, reassignAfterConflict } from '../../../src/judging/assignment';
import type { AssignEntry, AssignInput, AssignJudge, AssignSuccess, JudgeEntryPair } from '../../../src/judging/judging.types';

/** Small deterministic PRNG (mulberry32) so generated panels are the same on every run. */
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
const pad = (n: number, w = 5) => String(n).padStart(w, '0');

/**
 * A Lüliang-like round: 13 counties, schools spread over them (every 20th is 市直, county null),
 * judges of whom about half have a school and most a county.
 */
function makeRound(nEntries: number, nJudges: number, seed: number) {
  const rnd = prng(seed);
  const counties = Array.from({ length: 13 }, (_, i) => `county-${pad(i, 2)}`);
  const schools = Array.from({ length: Math.max(5, Math.round(nEntries / 20)) }, (_, i) => ({
    id: `school-${pad(i)}`,
    countyId: i % 20 === 0 ? null : counties[i % 13],
  }));
  const entries: AssignEntry[] = Array.from({ length: nEntries }, (_, i) => {
    const sc = schools[Math.floor(rnd() * schools.length)];
    return { id: `entry-${pad(i)}`, code: `CX-${pad(i, 4)}`, schoolId: sc.id, countyId: sc.countyId };
  });
  const judges: AssignJudge[] = Array.from({ length: nJudges }, (_, i) => ({
    id: `judge-${pad(i, 3)}`,
    schoolId: rnd() < 0.5 ? schools[Math.floor(rnd() * schools.length)].id : null,
    countyId: rnd() < 0.8 ? counties[Math.floor(rnd() * counties.length)] : null,
  }));
  return { entries, judges };
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const rnd = prng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function ok(input: AssignInput): AssignSuccess {
  const r = assignJudges(input);
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r;
}

/**
 * Every invariant of a successful result: k distinct judges per entry, no hard or declared conflict
 * (kept pairs excepted), kept pairs present, loads = counted pairs. Problems are collected and
 * asserted once (an expect() per pair would dominate the run time at 50,000 pairs).
 */
function checkValid(input: AssignInput, r: AssignSuccess) {
  const problems: string[] = [];
  const k = input.judgesPerEntry;
  const judges = new Map(input.judges.map((j) => [j.id, j]));
  const entries = new Map(input.entries.map((e) => [e.id, e]));
  const declared = new Set((input.conflicts ?? []).map((c) => `${c.judgeId}|${c.entryId}`));
  const kept = new Set((input.existing ?? []).map((c) => `${c.judgeId}|${c.entryId}`));
  const perEntry = new Map<string, Set<string>>();
  const loads: Record<string, number> = Object.fromEntries(input.judges.map((j) => [j.id, 0]));
  for (const p of r.assignments) {
    const key = `${p.judgeId}|${p.entryId}`;
    const set = perEntry.get(p.entryId) ?? new Set<string>();
    if (set.has(p.judgeId)) problems.push(`duplicate ${key}`);
    set.add(p.judgeId);
    perEntry.set(p.entryId, set);
    loads[p.judgeId]++;
    if (!kept.has(key)) {
      if (isHardConflict(judges.get(p.judgeId)!, entries.get(p.entryId)!)) problems.push(`hard conflict ${key}`);
      if (declared.has(key)) problems.push(`declared conflict ${key}`);
    }
  }
  for (const key of kept) if (!declared.has(key) && !r.assignments.some((p) => `${p.judgeId}|${p.entryId}` === key)) problems.push(`kept pair lost ${key}`);
  for (const e of input.entries) if ((perEntry.get(e.id)?.size ?? 0) < k) problems.push(`entry ${e.id} has ${perEntry.get(e.id)?.size ?? 0} judges`);
  expect(problems).toEqual([]);
  expect(r.loads).toEqual(loads);
  const values = Object.values(loads);
  expect(r.balance.maxLoad).toBe(Math.max(...values));
  expect(r.balance.minLoad).toBe(Math.min(...values));
}

describe('assignJudges — balance and hard conflicts', () => {
  test.each([
    [7, 3, 2, 1],
    [10, 4, 3, 2],
    [101, 7, 5, 3],
    [1000, 13, 5, 4],
    [2500, 31, 3, 5],
  ])(
    'when %i entries go to %i judges with k = %i (seed %i), then every entry has k distinct judges, no own school/county, and loads differ by at most one',
    (nE, nJ, k, seed) => {
      const { entries, judges } = makeRound(nE, nJ, seed);
      // Small panels: drop school/county of judges so the case is surely feasible; larger ones keep them.
      const panel = nJ < 10 ? judges.map((j) => ({ ...j, schoolId: null, countyId: null })) : judges;
      const input = { entries, judges: panel, judgesPerEntry: k };
      const r = ok(input);
      checkValid(input, r);
      expect(r.assignments).toHaveLength(nE * k);
      expect(r.balance.maxLoad - r.balance.minLoad).toBeLessThanOrEqual(1);
      expect(r.balance).toMatchObject({ balanced: true, note: null, underloadedJudgeIds: [] });
      // Σ loads = nE·k, so the loads are ⌊nE·k/nJ⌋ and ⌈nE·k/nJ⌉.
      expect(r.balance.minLoad).toBe(Math.floor((nE * k) / nJ));
    },
  );

  test('when a judge is from the same school or the same county, then they never get that entry; a null county matches nothing', () => {
    // E1 (school s1, county c1), E2 (s2, c1), E3 (s3, 市直: county null).
    // J-school: school s1, no county → not E1.  J-county: county c1 → not E1, not E2.  J-free, J-free2: anything.
    const entries = [
      { id: 'E1', schoolId: 's1', countyId: 'c1' },
      { id: 'E2', schoolId: 's2', countyId: 'c1' },
      { id: 'E3', schoolId: 's3', countyId: null },
    ];
    const judges = [
      { id: 'J-school', schoolId: 's1', countyId: null },
      { id: 'J-county', schoolId: null, countyId: 'c1' },
      { id: 'J-free', schoolId: null, countyId: null },
      { id: 'J-free2', schoolId: 's9', countyId: 'c9' },
    ];
    const input = { entries, judges, judgesPerEntry: 2 };
    const r = ok(input);
    checkValid(input, r);
    const on = (e: string) => r.assignments.filter((p) => p.entryId === e).map((p) => p.judgeId);
    expect(on('E1')).not.toContain('J-school');
    expect(on('E1')).not.toContain('J-county');
    expect(on('E2')).not.toContain('J-county');
    // 6 units, 4 judges → loads 2,2,1,1 are possible (J-county can take E3 only … and does: load 1).
    expect(r.balance.maxLoad - r.balance.minLoad).toBeLessThanOrEqual(1);
  });

  test('when conflicts make balance impossible, then the max load is minimised, the result says so, and the short judges are named', () => {
    // 10 entries, k = 2 → 20 units. Entries 1–8 in county c1, 9–10 in c2. J1 is from c1, so J1 can take
    // at most entries 9 and 10 → load ≤ 2. The other 18 units over J2, J3, J4 → 18 / 3 = 6 each.
    // Best possible: J1 2, J2–J4 6 (max 6 is minimal; max − min = 4 > 1).
    const entries = Array.from({ length: 10 }, (_, i) => ({ id: `E${pad(i + 1, 2)}`, schoolId: `s${i}`, countyId: i < 8 ? 'c1' : 'c2' }));
    const judges = [{ id: 'J1', schoolId: null, countyId: 'c1' }, ...['J2', 'J3', 'J4'].map((id) => ({ id, schoolId: null, countyId: null }))];
    const input = { entries, judges, judgesPerEntry: 2 };
    const r = ok(input);
    checkValid(input, r);
    expect(r.loads).toEqual({ J1: 2, J2: 6, J3: 6, J4: 6 });
    expect(r.balance).toMatchObject({ minLoad: 2, maxLoad: 6, balanced: false, underloadedJudgeIds: ['J1'] });
    expect(r.balance.note).toContain('无法做到相差不超过 1');
    expect(r.balance.note).toContain('J1（2 件）');
  });

  test('when the greedy start is unbalanced, then load moves along chains of entries (exchange through a third judge)', () => {
    // County A entries (6) can go to J-b, J-free; county B entries (6) to J-a, J-free; k = 1.
    // 12 units over 3 judges → 4 each is possible (J-a: 4 of B, J-b: 4 of A, J-free: 2 A + 2 B).
    const entries = Array.from({ length: 12 }, (_, i) => ({ id: `E${pad(i, 2)}`, schoolId: `s${i}`, countyId: i < 6 ? 'A' : 'B' }));
    const judges = [
      { id: 'J-a', schoolId: null, countyId: 'A' },
      { id: 'J-b', schoolId: null, countyId: 'B' },
      { id: 'J-free', schoolId: null, countyId: null },
    ];
    const r = ok({ entries, judges, judgesPerEntry: 1 });
    expect(r.loads).toEqual({ 'J-a': 4, 'J-b': 4, 'J-free': 4 });
  });
});

describe('assignJudges — declared conflicts and kept pairs', () => {
  const { entries, judges } = makeRound(200, 12, 11);
  const panel = judges.map((j) => ({ ...j, countyId: null })); // schools only: plenty of room

  test('when judges declared conflicts, then those pairs are never assigned', () => {
    const conflicts = entries.slice(0, 40).map((e, i) => ({ judgeId: panel[i % panel.length].id, entryId: e.id }));
    const input = { entries, judges: panel, judgesPerEntry: 5, conflicts };
    const r = ok(input);
    checkValid(input, r);
    const got = new Set(r.assignments.map((p) => `${p.judgeId}|${p.entryId}`));
    for (const c of conflicts) expect(got.has(`${c.judgeId}|${c.entryId}`)).toBe(false);
    expect(r.balance.balanced).toBe(true);
  });

  test('when existing pairs are given, then they are all kept and count toward k and the loads', () => {
    // Give judge-000 thirty kept pairs: the rest is balanced around them (200·5 = 1000 units / 12 → 83 or 84).
    const free = entries.filter((e) => !isHardConflict(panel[0], e)).slice(0, 30);
    const existing = free.map((e) => ({ judgeId: panel[0].id, entryId: e.id }));
    const input = { entries, judges: panel, judgesPerEntry: 5, existing };
    const r = ok(input);
    checkValid(input, r);
    const got = new Set(r.assignments.map((p) => `${p.judgeId}|${p.entryId}`));
    for (const p of existing) expect(got.has(`${p.judgeId}|${p.entryId}`)).toBe(true);
    expect(r.assignments).toHaveLength(1000); // kept pairs count toward each entry's 5
    expect(r.balance).toMatchObject({ minLoad: 83, maxLoad: 84, balanced: true });
    expect(r.warnings).toEqual([]);
  });

  test('when a kept pair overloads a judge beyond balance, then the others are balanced around it and the result says so', () => {
    // 6 entries, k = 1, 3 judges. J1 keeps 4 → the 2 remaining go one each to J2, J3: loads 4, 1, 1.
    const entries6 = Array.from({ length: 6 }, (_, i) => ({ id: `E${i}`, schoolId: `s${i}`, countyId: null }));
    const judges3 = ['J1', 'J2', 'J3'].map((id) => ({ id, schoolId: null, countyId: null }));
    const existing = ['E0', 'E1', 'E2', 'E3'].map((entryId) => ({ judgeId: 'J1', entryId }));
    const r = ok({ entries: entries6, judges: judges3, judgesPerEntry: 1, existing });
    expect(r.loads).toEqual({ J1: 4, J2: 1, J3: 1 });
    expect(r.balance.balanced).toBe(false);
  });

  test('when a kept pair matches a declared conflict, then the conflict wins: the pair is dropped, re-assigned and reported', () => {
    const entries2 = [{ id: 'E1', code: 'CX-0001', schoolId: 's1', countyId: null }];
    const judges3 = ['J1', 'J2', 'J3'].map((id) => ({ id, schoolId: null, countyId: null }));
    const r = ok({
      entries: entries2,
      judges: judges3,
      judgesPerEntry: 2,
      existing: [{ judgeId: 'J1', entryId: 'E1' }],
      conflicts: [{ judgeId: 'J1', entryId: 'E1' }],
    });
    expect(r.assignments).toEqual([
      { judgeId: 'J2', entryId: 'E1' },
      { judgeId: 'J3', entryId: 'E1' },
    ]);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'existing_declared_conflict_dropped', judgeId: 'J1', entryId: 'E1' })]);
    expect(r.warnings[0].message).toContain('CX-0001');
  });

  test('when a kept pair breaks a hard conflict, then it is kept (a staff decision) with a warning', () => {
    const r = ok({
      entries: [{ id: 'E1', schoolId: 's1', countyId: 'c1' }],
      judges: [
        { id: 'J1', schoolId: null, countyId: 'c1' },
        { id: 'J2', schoolId: null, countyId: null },
      ],
      judgesPerEntry: 2,
      existing: [{ judgeId: 'J1', entryId: 'E1' }],
    });
    expect(r.assignments).toEqual([
      { judgeId: 'J1', entryId: 'E1' },
      { judgeId: 'J2', entryId: 'E1' },
    ]);
    expect(r.warnings.map((w) => w.code)).toEqual(['existing_hard_conflict_kept']);
  });

  test('when a kept pair names a judge or entry outside the round, then ok is false and the pair is listed', () => {
    const r = assignJudges({
      entries: [{ id: 'E1', schoolId: 's1', countyId: null }],
      judges: [{ id: 'J1', schoolId: null, countyId: null }],
      judgesPerEntry: 1,
      existing: [{ judgeId: 'J9', entryId: 'E1' }],
    });
    expect(r).toMatchObject({ ok: false, details: { code: 'unknown_ids_in_existing', pairs: [{ judgeId: 'J9', entryId: 'E1' }] } });
  });
});

describe('assignJudges — determinism', () => {
  test('when the same input comes in any order, then the output is identical', () => {
    const { entries, judges } = makeRound(600, 17, 21);
    const conflicts = entries.slice(0, 30).map((e, i) => ({ judgeId: judges[i % 17].id, entryId: e.id }));
    const eligibleFor = (e: AssignEntry) => judges.find((j) => !isHardConflict(j, e) && !conflicts.some((c) => c.judgeId === j.id && c.entryId === e.id))!;
    const existing = entries.slice(100, 120).map((e) => ({ judgeId: eligibleFor(e).id, entryId: e.id }));
    const a = assignJudges({ entries, judges, judgesPerEntry: 5, conflicts, existing });
    const b = assignJudges({
      entries: shuffle(entries, 1),
      judges: shuffle(judges, 2),
      judgesPerEntry: 5,
      conflicts: shuffle(conflicts, 3),
      existing: shuffle(existing, 4),
    });
    expect(a.ok).toBe(true);
    expect(b).toEqual(a);
  });

  test('when entries differ, then the judge who gets the extra unit differs too (hash tie-break, not always the first id)', () => {
    // 3 interchangeable judges, 4 entries, k = 1 → loads 2, 1, 1. Across 12 rounds with different entry
    // ids, more than one judge is the one with 2.
    const judges3 = ['J1', 'J2', 'J3'].map((id) => ({ id, schoolId: null, countyId: null }));
    const heavy = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const es = Array.from({ length: 4 }, (_, i) => ({ id: `r${round}-e${i}`, schoolId: `s${i}`, countyId: null }));
      const r = ok({ entries: es, judges: judges3, judgesPerEntry: 1 });
      heavy.add(Object.entries(r.loads).find(([, n]) => n === 2)![0]);
    }
    expect(heavy.size).toBeGreaterThan(1);
  });
});

describe('assignJudges — infeasible', () => {
  test('when k is larger than the judges an entry can have, then ok is false with a Chinese reason naming the entry', () => {
    // 3 judges, k = 3; J1 is from CX-0002's school → CX-0002 has only 2 judges without a conflict.
    const r = assignJudges({
      entries: [
        { id: 'E1', code: 'CX-0001', schoolId: 's1', countyId: 'c1' },
        { id: 'E2', code: 'CX-0002', schoolId: 's2', countyId: 'c1' },
      ],
      judges: [
        { id: 'J1', schoolId: 's2', countyId: null },
        { id: 'J2', schoolId: null, countyId: null },
        { id: 'J3', schoolId: null, countyId: null },
      ],
      judgesPerEntry: 3,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('评委人数不足：每件作品需要 3 位评委，但作品 CX-0002 只有 2 位评委没有回避关系（同校 1 位）');
    expect(r.details).toEqual({
      code: 'not_enough_eligible_judges',
      judgesPerEntry: 3,
      entries: [{ entryId: 'E2', code: 'CX-0002', needed: 3, eligible: 2, excluded: { ownSchool: 1, ownCounty: 0, declared: 0, alreadyAssigned: 0 } }],
    });
  });

  test("when all judges are from the entry's county, then ok is false and every such entry is named with why", () => {
    const entries = [
      { id: 'E1', code: 'CX-0001', schoolId: 's1', countyId: 'lishi' },
      { id: 'E2', code: 'CX-0002', schoolId: 's2', countyId: 'lishi' },
      { id: 'E3', code: 'CX-0003', schoolId: 's3', countyId: 'xiaoyi' },
    ];
    const judges = ['J1', 'J2', 'J3'].map((id) => ({ id, schoolId: null, countyId: 'lishi' }));
    const r = assignJudges({ entries, judges, judgesPerEntry: 2 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(
      '评委人数不足：每件作品需要 2 位评委，但有 2 件作品的可用评委不够：作品 CX-0001 只有 0 位评委没有回避关系（同县 3 位）；作品 CX-0002 只有 0 位评委没有回避关系（同县 3 位）',
    );
    expect(r.details.code).toBe('not_enough_eligible_judges');
  });

  test('when declared conflicts and kept pairs leave too few judges, then the reason counts them', () => {
    const r = assignJudges({
      entries: [{ id: 'E1', code: 'CX-0001', schoolId: 's1', countyId: null }],
      judges: ['J1', 'J2', 'J3'].map((id) => ({ id, schoolId: null, countyId: null })),
      judgesPerEntry: 3,
      existing: [{ judgeId: 'J1', entryId: 'E1' }],
      conflicts: [{ judgeId: 'J2', entryId: 'E1' }],
    });
    expect(r).toMatchObject({
      ok: false,
      reason: '评委人数不足：每件作品需要 3 位评委，但作品 CX-0001 还需 2 位，但只有 1 位评委可以加入（申报回避 1 位、已分配 1 位）',
    });
  });

  test('when the panel is smaller than k, then ok is false with the panel size', () => {
    const r = assignJudges({
      entries: [{ id: 'E1', schoolId: 's1', countyId: null }],
      judges: [{ id: 'J1', schoolId: null, countyId: null }],
      judgesPerEntry: 5,
    });
    expect(r).toEqual({
      ok: false,
      reason: '评委人数不足：每件作品需要 5 位评委，但评委名单只有 1 位',
      details: { code: 'panel_too_small', judgesPerEntry: 5, panelSize: 1 },
    });
  });

  test('when a per-judge load cap is below the least possible max load, then ok is false with the minimum', () => {
    // 10 entries × 3 = 30 units over 4 judges → best max load ⌈30/4⌉ = 8 > cap 7.
    const entries = Array.from({ length: 10 }, (_, i) => ({ id: `E${i}`, schoolId: `s${i}`, countyId: null }));
    const judges = ['J1', 'J2', 'J3', 'J4'].map((id) => ({ id, schoolId: null, countyId: null }));
    expect(assignJudges({ entries, judges, judgesPerEntry: 3, maxLoadPerJudge: 7 })).toMatchObject({
      ok: false,
      details: { code: 'max_load_too_low', minimumPossibleMaxLoad: 8, totalAssignments: 30 },
    });
    expect(assignJudges({ entries, judges, judgesPerEntry: 3, maxLoadPerJudge: 8 }).ok).toBe(true);
  });

  test('when k is not a positive integer, then ok is false', () => {
    expect(assignJudges({ entries: [], judges: [], judgesPerEntry: 0 })).toMatchObject({ ok: false, details: { code: 'invalid_judges_per_entry' } });
  });
});

describe('assignJudges — performance', () => {
  test('when 10,000 entries need 5 judges each from 60, then it finishes well under 2 s (asserted < 5 s)', () => {
    const { entries, judges } = makeRound(10_000, 60, 99);
    const input = { entries, judges, judgesPerEntry: 5 };
    const t0 = performance.now();
    const r = ok(input);
    const ms = performance.now() - t0;
    // A harder variant: one declared conflict per entry makes nearly every entry its own class.
    const rnd = prng(5);
    const conflicts = entries.map((e) => ({ judgeId: judges[Math.floor(rnd() * 60)].id, entryId: e.id }));
    const t1 = performance.now();
    const r2 = ok({ ...input, conflicts });
    const ms2 = performance.now() - t1;
    console.log(`assignJudges 10,000 × k=5 × 60 judges: ${ms.toFixed(0)} ms; with 10,000 declared conflicts: ${ms2.toFixed(0)} ms`);
    checkValid(input, r);
    expect(r.assignments).toHaveLength(50_000);
    expect(r.balance).toMatchObject({ minLoad: 833, maxLoad: 834 });
    expect(r2.balance).toMatchObject({ minLoad: 833, maxLoad: 834 });
    expect(ms).toBeLessThan(5000);
    expect(ms2).toBeLessThan(5000);
  });
});

describe('reassignAfterConflict', () => {
  const entries = [
    { id: 'E1', code: 'CX-0001', schoolId: 's1', countyId: 'c1' },
    { id: 'E2', schoolId: 's2', countyId: 'c2' },
  ];
  const judges = [
    { id: 'J1', schoolId: null, countyId: null },
    { id: 'J2', schoolId: null, countyId: 'c1' }, // own county of E1
    { id: 'J3', schoolId: null, countyId: null },
    { id: 'J4', schoolId: null, countyId: null },
    { id: 'J5', schoolId: null, countyId: null },
  ];
  // Loads before: J1 E1+E2 (2), J3 E1+E2 (2), J4 E2 (1), J5 none (0) — but J5 declared a conflict on E1 earlier.
  const current: JudgeEntryPair[] = [
    { judgeId: 'J1', entryId: 'E1' },
    { judgeId: 'J3', entryId: 'E1' },
    { judgeId: 'J1', entryId: 'E2' },
    { judgeId: 'J3', entryId: 'E2' },
    { judgeId: 'J4', entryId: 'E2' },
  ];

  test('when a judge declares a conflict, then the eligible judge with the lowest load who is not on the entry replaces them', () => {
    // J1 declares on E1. Candidates: not J1 (declaring), not J2 (own county), not J3 (already on E1),
    // not J5 (declared earlier) → J4.
    const r = reassignAfterConflict(current, { judgeId: 'J1', entryId: 'E1' }, judges, entries, [{ judgeId: 'J5', entryId: 'E1' }]);
    expect(r).toEqual({ ok: true, judgeId: 'J4' });
    // Without J5's earlier conflict, J5 (load 0) is lower than J4 (load 1).
    expect(reassignAfterConflict(current, { judgeId: 'J1', entryId: 'E1' }, judges, entries)).toEqual({ ok: true, judgeId: 'J5' });
    // Same input in another order → same answer.
    expect(reassignAfterConflict(shuffle(current, 9), { judgeId: 'J1', entryId: 'E1' }, shuffle(judges, 8), entries)).toEqual({ ok: true, judgeId: 'J5' });
  });

  test('when nobody else can take the entry, then ok is false with a Chinese reason naming it', () => {
    const r = reassignAfterConflict(current, { judgeId: 'J1', entryId: 'E1' }, judges.slice(0, 3), entries);
    expect(r).toEqual({ ok: false, reason: '没有可替换的评委：作品 CX-0001 的其他评委都与其有回避关系或已在评审该作品' });
  });
});
