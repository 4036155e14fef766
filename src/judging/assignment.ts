/**
 * Balanced judge assignment (issue 5, docs/architecture.md §7) — pure: no database, no HTTP.
 *
 * Model (HotCRP's min-cost-flow autoassign): source → entry (cap = judges still needed) → judge
 * (cap 1, eligible pairs only) → sink, where the t-th unit of a judge's load costs t (convex), so a
 * min-cost max-flow spreads load evenly. Solved exactly, but on a compressed network:
 *
 *  1. Entries with the same eligible-judge set and the same need r form a CLASS (usually: one school).
 *     For a class of n entries, any split of its r·n units over judges with at most n per judge is
 *     realisable entry by entry (McNaughton's wrap-around, `decompose`), so class → judge edges with
 *     cap n lose nothing.
 *  2. A greedy start: classes in order of tightness, each unit to the least-loaded eligible judge.
 *     That already meets every entry's need whenever it can be met at all (no judge caps).
 *  3. Exact balancing: a flow is min-cost iff its residual graph has no negative cycle; the only
 *     costly arcs are judge → sink, so that means: no judge a can pass a unit to a judge b with
 *     load(a) ≥ load(b) + 2 along an alternating path a →(class where a has flow)→ y →(…)→ b.
 *     We search those paths on a 60-node judge graph (edge x→y iff some class has flow on x and room
 *     for y; kept as counts) by BFS and push along shortest paths until none is left.
 *     The result minimises Σ load² — on this kind of feasible set (an integral base polyhedron) that
 *     is at once the smallest possible max load and the largest possible min load (Frank–Murota,
 *     "decreasing minimisation"). Hence max − min ≤ 1 whenever any valid assignment has it, and
 *     otherwise max load is minimal (reported in `balance`).
 *
 * Determinism: all inputs are sorted by id first; ties between judges are broken by a stable hash
 * (FNV-1a) of (class, judge) ids, so the same judge is not always the one who gets the extra entry.
 * The same input in any order gives the same output.
 */
import type {
  AssignEntry,
  AssignFailure,
  AssignInput,
  AssignJudge,
  AssignResult,
  AssignWarning,
  IneligibleEntry,
  JudgeEntryPair,
  ReassignResult,
} from './judging.types';

/** 32-bit FNV-1a over UTF-16 code units: stable across runs and platforms. */
export function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: mixes a class salt with a judge's hash into a per-class tie-break key. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const pairKey = (judgeId: string, entryId: string) => `${judgeId}\u0000${entryId}`;
const label = (e: AssignEntry) => e.code ?? e.id;

/** Own school, or own county when both are known. */
export function isHardConflict(judge: AssignJudge, entry: AssignEntry): boolean {
  if (judge.schoolId !== null && judge.schoolId === entry.schoolId) return true;
  return judge.countyId !== null && entry.countyId !== null && judge.countyId === entry.countyId;
}

function assertUniqueIds(items: { id: string }[], what: string): void {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new Error(`assignJudges: duplicate ${what} id ${it.id}`);
    seen.add(it.id);
  }
}

function fail(reason: string, details: AssignFailure['details']): AssignFailure {
  return { ok: false, reason, details };
}

interface Klass {
  /** Entries (indexes into the sorted entries), ascending id. */
  members: number[];
  need: number;
  /** Eligible judge indexes, ascending. */
  eligible: number[];
  /** Judge indexes in this class's tie-break order. */
  order: number[];
}

export function assignJudges(input: AssignInput): AssignResult {
  const k = input.judgesPerEntry;
  if (!Number.isInteger(k) || k < 1) {
    return fail(`每件作品的评委人数必须是正整数（现为 ${k}）`, { code: 'invalid_judges_per_entry', judgesPerEntry: k });
  }
  const entries = [...input.entries].sort(byId);
  const judges = [...input.judges].sort(byId);
  assertUniqueIds(entries, 'entry');
  assertUniqueIds(judges, 'judge');
  const J = judges.length;
  const entryIdx = new Map(entries.map((e, i) => [e.id, i]));
  const judgeIdx = new Map(judges.map((j, i) => [j.id, i]));

  if (entries.length > 0 && J < k) {
    return fail(`评委人数不足：每件作品需要 ${k} 位评委，但评委名单只有 ${J} 位`, { code: 'panel_too_small', judgesPerEntry: k, panelSize: J });
  }

  const declared = new Set<string>();
  const declaredByEntry = new Map<number, Set<number>>();
  for (const c of input.conflicts ?? []) {
    declared.add(pairKey(c.judgeId, c.entryId));
    const ei = entryIdx.get(c.entryId);
    const ji = judgeIdx.get(c.judgeId);
    if (ei === undefined || ji === undefined) continue; // not in this round: irrelevant
    let set = declaredByEntry.get(ei);
    if (!set) declaredByEntry.set(ei, (set = new Set()));
    set.add(ji);
  }

  // ── kept pairs ──
  const warnings: AssignWarning[] = [];
  const existingByEntry: number[][] = entries.map(() => []);
  const unknown: JudgeEntryPair[] = [];
  const seenExisting = new Set<string>();
  const existingSorted = [...(input.existing ?? [])].sort((a, b) => cmpStr(a.entryId, b.entryId) || cmpStr(a.judgeId, b.judgeId));
  for (const p of existingSorted) {
    const ei = entryIdx.get(p.entryId);
    const ji = judgeIdx.get(p.judgeId);
    if (ei === undefined || ji === undefined) {
      unknown.push({ judgeId: p.judgeId, entryId: p.entryId });
      continue;
    }
    const key = pairKey(p.judgeId, p.entryId);
    if (seenExisting.has(key)) continue;
    seenExisting.add(key);
    const entry = entries[ei];
    if (declared.has(key)) {
      warnings.push({
        code: 'existing_declared_conflict_dropped',
        entryId: p.entryId,
        judgeId: p.judgeId,
        message: `评委 ${p.judgeId} 已申报与作品 ${label(entry)} 回避，原有分配已取消并重新分配`,
      });
      continue;
    }
    if (isHardConflict(judges[ji], entry)) {
      warnings.push({
        code: 'existing_hard_conflict_kept',
        entryId: p.entryId,
        judgeId: p.judgeId,
        message: `保留的分配中，评委 ${p.judgeId} 与作品 ${label(entry)} 同校或同县，请人工核对`,
      });
    }
    existingByEntry[ei].push(ji);
  }
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 5)
      .map((p) => `评委 ${p.judgeId} / 作品 ${p.entryId}`)
      .join('、');
    return fail(`已有分配中有 ${unknown.length} 条引用了不在本轮名单中的评委或作品：${shown}${unknown.length > 5 ? ' 等' : ''}`, {
      code: 'unknown_ids_in_existing',
      pairs: unknown,
    });
  }

  // ── eligibility per entry, grouped into classes ──
  const load = new Float64Array(J); // integers; Float64Array for speed-neutral arithmetic
  for (const list of existingByEntry) for (const ji of list) load[ji]++;
  // Eligibility from hard conflicts depends only on (school, county): computed once per pair.
  // A class key is the need plus the eligible judge indexes as UTF-16 code units.
  const hardCache = new Map<string, { ownSchool: number; ownCounty: number; eligible: number[]; key: string }>();
  const hardFor = (e: AssignEntry) => {
    const key = `${e.schoolId}\u0000${e.countyId ?? ''}`;
    let hit = hardCache.get(key);
    if (!hit) {
      let ownSchool = 0;
      let ownCounty = 0;
      const eligible: number[] = [];
      for (let j = 0; j < J; j++) {
        const jd = judges[j];
        if (jd.schoolId !== null && jd.schoolId === e.schoolId) ownSchool++;
        else if (jd.countyId !== null && e.countyId !== null && jd.countyId === e.countyId) ownCounty++;
        else eligible.push(j);
      }
      hit = { ownSchool, ownCounty, eligible, key: String.fromCharCode(...eligible) };
      hardCache.set(key, hit);
    }
    return hit;
  };

  const infeasible: IneligibleEntry[] = [];
  const classByKey = new Map<string, Klass>();
  for (let ei = 0; ei < entries.length; ei++) {
    const e = entries[ei];
    const kept = existingByEntry[ei];
    if (kept.length > k) {
      warnings.push({ code: 'existing_over_k', entryId: e.id, message: `作品 ${label(e)} 已有 ${kept.length} 位评委，多于每件 ${k} 位，全部保留` });
    }
    const need = Math.max(0, k - kept.length);
    const hard = hardFor(e);
    const declaredHere = declaredByEntry.get(ei);
    let eligible = hard.eligible;
    let key = hard.key;
    let declaredCount = 0;
    let alreadyCount = 0;
    if (kept.length > 0 || declaredHere) {
      eligible = [];
      for (const j of hard.eligible) {
        if (kept.includes(j)) alreadyCount++;
        else if (declaredHere !== undefined && declaredHere.has(j)) declaredCount++;
        else eligible.push(j);
      }
      key = String.fromCharCode(...eligible);
    }
    if (need === 0) continue;
    if (eligible.length < need) {
      infeasible.push({
        entryId: e.id,
        code: label(e),
        needed: need,
        eligible: eligible.length,
        excluded: { ownSchool: hard.ownSchool, ownCounty: hard.ownCounty, declared: declaredCount, alreadyAssigned: alreadyCount },
      });
      continue;
    }
    key = `${need}|${key}`;
    let cls = classByKey.get(key);
    if (!cls) {
      cls = { members: [], need, eligible, order: [] };
      classByKey.set(key, cls);
    }
    cls.members.push(ei);
  }
  if (infeasible.length > 0) return failNotEnough(k, infeasible);

  // Classes: tightest first (least slack between eligible judges and need), then by first entry id.
  const classes = [...classByKey.values()].sort((a, b) => a.eligible.length - a.need - (b.eligible.length - b.need) || a.members[0] - b.members[0]);
  const C = classes.length;
  const judgeHash = judges.map((jd) => stableHash(jd.id));
  const tie = new Float64Array(J);
  const cap = new Int32Array(C);
  const flow = new Int32Array(C * J);
  const elig = new Uint8Array(C * J);
  for (let c = 0; c < C; c++) {
    const cls = classes[c];
    cap[c] = cls.members.length;
    const salt = stableHash(entries[cls.members[0]].id);
    for (const j of cls.eligible) tie[j] = mix32(salt ^ judgeHash[j]);
    cls.order = [...cls.eligible].sort((x, y) => tie[x] - tie[y] || x - y);
    for (const j of cls.eligible) elig[c * J + j] = 1;
  }

  // ── greedy start: each unit to the least-loaded eligible judge with room (class tie-break order) ──
  for (let c = 0; c < C; c++) fillClass(classes[c], cap[c], flow, c * J, load);

  balance(classes, cap, flow, elig, load, J, judges);

  const maxLoad = J > 0 ? Math.max(...load) : 0;
  const minLoad = J > 0 ? Math.min(...load) : 0;
  const totalAssignments = load.reduce((s, x) => s + x, 0);
  if (input.maxLoadPerJudge !== undefined && maxLoad > input.maxLoadPerJudge) {
    return fail(
      `评委工作量上限不足：每位评委最多评 ${input.maxLoadPerJudge} 件，但共需 ${totalAssignments} 次评审、${J} 位评委，在回避关系下至少有一位评委要评 ${maxLoad} 件`,
      { code: 'max_load_too_low', maxLoadPerJudge: input.maxLoadPerJudge, minimumPossibleMaxLoad: maxLoad, totalAssignments, panelSize: J },
    );
  }

  // ── result ──
  // Judges are sorted by id, so sorting each entry's judge indexes sorts pairs by (entryId, judgeId).
  const perEntry = existingByEntry;
  for (let c = 0; c < C; c++) decompose(classes[c], flow, c * J, (ei, j) => perEntry[ei].push(j));
  const pairs: JudgeEntryPair[] = [];
  for (let ei = 0; ei < entries.length; ei++) {
    const list = perEntry[ei].sort((x, y) => x - y);
    for (const j of list) pairs.push({ judgeId: judges[j].id, entryId: entries[ei].id });
  }

  const loads: Record<string, number> = {};
  judges.forEach((jd, j) => (loads[jd.id] = load[j]));
  const balanced = maxLoad - minLoad <= 1;
  const under = judges.filter((_, j) => load[j] < maxLoad - 1).map((jd) => jd.id);
  const note = balanced
    ? null
    : `受回避关系（或已有分配）限制，评委工作量无法做到相差不超过 1：最多 ${maxLoad} 件，最少 ${minLoad} 件；已使最大工作量尽可能小。` +
      `工作量偏少的评委（${under.length} 位）：${under
        .slice(0, 10)
        .map((id) => `${id}（${loads[id]} 件）`)
        .join('、')}${under.length > 10 ? ' 等' : ''}`;
  return { ok: true, assignments: pairs, loads, balance: { minLoad, maxLoad, balanced, note, underloadedJudgeIds: under }, warnings };
}

/**
 * Give a class its need·n units, one at a time to the least-loaded eligible judge with room (< n),
 * ties in the class's order. Large classes use the equivalent water-fill: raise a level T until
 * Σ clamp(T − load_j, 0, n) reaches the units, everyone below T − 1 is filled to it, and the last
 * units at level T go to the first judges in class order.
 */
function fillClass(cls: Klass, n: number, flow: Int32Array, base: number, load: Float64Array): void {
  let units = cls.need * n;
  if (units <= 16) {
    for (; units > 0; units--) {
      let best = -1;
      for (const j of cls.order) {
        if (flow[base + j] >= n) continue;
        if (best < 0 || load[j] < load[best]) best = j;
      }
      // best ≥ 0: |eligible| ≥ need guarantees room (need·n units, n per judge).
      flow[base + best]++;
      load[best]++;
    }
    return;
  }
  const order = cls.order;
  const filledTo = (t: number) => {
    let s = 0;
    for (const j of order) s += Math.min(n, Math.max(0, t - load[j]));
    return s;
  };
  let lo = Infinity;
  for (const j of order) lo = Math.min(lo, load[j]);
  let hi = lo; // at max(load_j + n) every judge is full: n·|order| ≥ n·need = units
  for (const j of order) hi = Math.max(hi, load[j] + n);
  // smallest T with filledTo(T) ≥ units
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (filledTo(mid) >= units) hi = mid;
    else lo = mid + 1;
  }
  const T = lo;
  for (const j of order) {
    const x = Math.min(n, Math.max(0, T - 1 - load[j]));
    flow[base + j] = x;
    units -= x;
  }
  for (const j of order) {
    if (units === 0) break;
    const x = flow[base + j];
    if (x < n && load[j] + x === T - 1) {
      flow[base + j] = x + 1;
      units--;
    }
  }
  for (const j of order) load[j] += flow[base + j];
}

function failNotEnough(k: number, list: IneligibleEntry[]): AssignFailure {
  const why = (x: IneligibleEntry) => {
    const parts: string[] = [];
    if (x.excluded.ownSchool) parts.push(`同校 ${x.excluded.ownSchool} 位`);
    if (x.excluded.ownCounty) parts.push(`同县 ${x.excluded.ownCounty} 位`);
    if (x.excluded.declared) parts.push(`申报回避 ${x.excluded.declared} 位`);
    if (x.excluded.alreadyAssigned) parts.push(`已分配 ${x.excluded.alreadyAssigned} 位`);
    return parts.length ? `（${parts.join('、')}）` : '';
  };
  const one = (x: IneligibleEntry) =>
    x.excluded.alreadyAssigned > 0
      ? `作品 ${x.code} 还需 ${x.needed} 位，但只有 ${x.eligible} 位评委可以加入${why(x)}`
      : `作品 ${x.code} 只有 ${x.eligible} 位评委没有回避关系${why(x)}`;
  const reason =
    list.length === 1
      ? `评委人数不足：每件作品需要 ${k} 位评委，但${one(list[0])}`
      : `评委人数不足：每件作品需要 ${k} 位评委，但有 ${list.length} 件作品的可用评委不够：` +
        list.slice(0, 5).map(one).join('；') +
        (list.length > 5 ? `；另有 ${list.length - 5} 件见明细` : '');
  return fail(reason, { code: 'not_enough_eligible_judges', judgesPerEntry: k, entries: list });
}

/**
 * Push load from heavy to light judges along shortest alternating paths until no judge a can pass
 * a unit to a judge b with load(a) ≥ load(b) + 2 (the min-cost optimality condition; see the top).
 */
function balance(classes: Klass[], cap: Int32Array, flow: Int32Array, elig: Uint8Array, load: Float64Array, J: number, judges: AssignJudge[]): void {
  const C = classes.length;
  if (C === 0 || J < 2) return;
  // cnt[x*J+y] = number of classes where x has flow and y is eligible with room: the judge graph.
  const cnt = new Int32Array(J * J);
  const P: number[] = [];
  const R: number[] = [];
  const contribute = (c: number, sign: number) => {
    P.length = 0;
    R.length = 0;
    const base = c * J;
    for (const j of classes[c].eligible) {
      const f = flow[base + j];
      if (f > 0) P.push(j);
      if (f < cap[c]) R.push(j);
    }
    for (const x of P) {
      const row = x * J;
      for (const y of R) if (x !== y) cnt[row + y] += sign;
    }
  };
  for (let c = 0; c < C; c++) contribute(c, 1);

  const globalOrder = judges.map((_, j) => j).sort((x, y) => stableHash(judges[x].id) - stableHash(judges[y].id) || x - y);
  const prev = new Int32Array(J);
  const queue = new Int32Array(J);
  for (;;) {
    let minLoad = Infinity;
    for (let j = 0; j < J; j++) if (load[j] < minLoad) minLoad = load[j];
    // Heaviest judges first; the first that can reach a judge ≥ 2 lighter moves load.
    const heavy = [...globalOrder].sort((x, y) => load[y] - load[x]);
    let moved = false;
    for (const a of heavy) {
      if (load[a] - minLoad < 2) break;
      prev.fill(-1);
      prev[a] = a;
      let head = 0;
      let tail = 0;
      queue[tail++] = a;
      let target = -1;
      while (head < tail) {
        const x = queue[head++];
        const row = x * J;
        for (const y of globalOrder) {
          if (prev[y] !== -1 || cnt[row + y] === 0) continue;
          prev[y] = x;
          queue[tail++] = y;
          if (load[y] <= load[a] - 2 && (target < 0 || load[y] < load[target])) target = y;
        }
      }
      if (target < 0) continue;
      // Path a → … → target; for each hop the class with the most room is its witness.
      const path: number[] = [];
      for (let y = target; y !== a; y = prev[y]) path.push(y);
      path.push(a);
      path.reverse();
      const hops: { c: number; x: number; y: number }[] = [];
      let delta = Math.floor((load[a] - load[target]) / 2);
      for (let i = 0; i + 1 < path.length; i++) {
        const x = path[i];
        const y = path[i + 1];
        let bestC = -1;
        let bestRoom = 0;
        for (let c = 0; c < C; c++) {
          const base = c * J;
          if (!elig[base + y]) continue;
          const room = Math.min(flow[base + x], cap[c] - flow[base + y]);
          if (room > bestRoom) {
            bestRoom = room;
            bestC = c;
          }
        }
        hops.push({ c: bestC, x, y });
        delta = Math.min(delta, bestRoom);
      }
      // Shortest paths never use one class twice (it would be a shortcut), so hops are independent.
      for (const h of hops) contribute(h.c, -1);
      for (const h of hops) {
        flow[h.c * J + h.x] -= delta;
        flow[h.c * J + h.y] += delta;
      }
      for (const h of hops) contribute(h.c, 1);
      load[a] -= delta;
      load[target] += delta;
      moved = true;
      break;
    }
    if (!moved) return;
  }
}

/** McNaughton wrap-around: lay each judge's units out contiguously and deal position p to member p mod n. */
function decompose(cls: Klass, flow: Int32Array, base: number, emit: (entryIndex: number, judge: number) => void): void {
  const n = cls.members.length;
  let pos = 0;
  for (const j of cls.order) {
    const f = flow[base + j];
    for (let u = 0; u < f; u++, pos++) emit(cls.members[pos % n], j);
  }
}

/**
 * After a judge declares a conflict on an entry: the replacement judge — eligible (no hard or
 * declared conflict, not the declaring judge, not already on the entry), lowest current load
 * (counted over `current`, the declared pair excluded), ties by a stable hash of (entry, judge)
 * then id. Deterministic.
 */
export function reassignAfterConflict(
  current: JudgeEntryPair[],
  conflict: JudgeEntryPair,
  judges: AssignJudge[],
  entries: AssignEntry[],
  conflicts: JudgeEntryPair[] = [],
): ReassignResult {
  const entry = entries.find((e) => e.id === conflict.entryId);
  if (!entry) return { ok: false, reason: `作品 ${conflict.entryId} 不在本轮名单中` };
  const declared = new Set(conflicts.map((c) => pairKey(c.judgeId, c.entryId)));
  declared.add(pairKey(conflict.judgeId, conflict.entryId));
  const loads = new Map<string, number>();
  const onEntry = new Set<string>();
  for (const p of current) {
    if (p.judgeId === conflict.judgeId && p.entryId === conflict.entryId) continue;
    loads.set(p.judgeId, (loads.get(p.judgeId) ?? 0) + 1);
    if (p.entryId === entry.id) onEntry.add(p.judgeId);
  }
  const candidates = judges.filter(
    (j) => j.id !== conflict.judgeId && !onEntry.has(j.id) && !declared.has(pairKey(j.id, entry.id)) && !isHardConflict(j, entry),
  );
  if (candidates.length === 0) {
    return { ok: false, reason: `没有可替换的评委：作品 ${label(entry)} 的其他评委都与其有回避关系或已在评审该作品` };
  }
  const rank = (j: AssignJudge) => [loads.get(j.id) ?? 0, stableHash(`${entry.id}\u0000${j.id}`)] as const;
  candidates.sort((a, b) => {
    const [la, ha] = rank(a);
    const [lb, hb] = rank(b);
    return la - lb || ha - hb || cmpStr(a.id, b.id);
  });
  return { ok: true, judgeId: candidates[0].id };
}
