/**
 * Shared types of the pure judging core (issue 5): judge assignment (`assignment.ts`) and ranking
 * (`aggregation.ts`). No database, no HTTP — ids are opaque strings; the wiring layer maps them.
 */

/** One judge ↔ entry pair (an assignment, a declared conflict, or a pair to keep). */
export interface JudgeEntryPair {
  judgeId: string;
  entryId: string;
}

export interface AssignEntry {
  id: string;
  /** Used only in messages (e.g. "CX-2025-0012"); the id is shown when absent. */
  code?: string;
  schoolId: string;
  countyId: string | null;
}

export interface AssignJudge {
  id: string;
  schoolId: string | null;
  countyId: string | null;
}

export interface AssignInput {
  entries: AssignEntry[];
  judges: AssignJudge[];
  /** k: distinct judges per entry. */
  judgesPerEntry: number;
  /** Declared conflicts: never assigned; an `existing` pair that matches one is dropped (with a warning). */
  conflicts?: JudgeEntryPair[];
  /** Pairs to keep (manual edits, submitted scores); they count toward the entry's k and the judge's load. */
  existing?: JudgeEntryPair[];
  /** Optional cap on a judge's total load (existing pairs included); exceeding it is infeasible. */
  maxLoadPerJudge?: number;
}

export type AssignWarningCode =
  /** An `existing` pair matches a declared conflict: the pair was dropped and the entry re-assigned. */
  | 'existing_declared_conflict_dropped'
  /** An `existing` pair breaks a hard (own school / own county) conflict: kept as given, flagged for staff. */
  | 'existing_hard_conflict_kept'
  /** An entry already has more than k judges in `existing`: all kept, none added. */
  | 'existing_over_k';

export interface AssignWarning {
  code: AssignWarningCode;
  entryId: string;
  judgeId?: string;
  /** Chinese, for city staff. */
  message: string;
}

export interface AssignBalance {
  minLoad: number;
  maxLoad: number;
  /** max − min ≤ 1 over the whole panel. */
  balanced: boolean;
  /** Chinese explanation when not balanced (conflicts made it impossible), else null. */
  note: string | null;
  /** Judges whose load is below maxLoad − 1 (they cannot take more because of conflicts). */
  underloadedJudgeIds: string[];
}

export interface AssignSuccess {
  ok: true;
  /** Every pair of the result (kept existing pairs included), sorted by entryId then judgeId. */
  assignments: JudgeEntryPair[];
  /** Every panel judge, zero included; existing pairs count. */
  loads: Record<string, number>;
  balance: AssignBalance;
  warnings: AssignWarning[];
}

export interface IneligibleEntry {
  entryId: string;
  code: string;
  /** Judges still needed after kept pairs. */
  needed: number;
  /** Judges who could still be added (no conflict, not already on the entry). */
  eligible: number;
  excluded: { ownSchool: number; ownCounty: number; declared: number; alreadyAssigned: number };
}

export type AssignFailureDetails =
  | { code: 'invalid_judges_per_entry'; judgesPerEntry: number }
  | { code: 'panel_too_small'; judgesPerEntry: number; panelSize: number }
  | { code: 'unknown_ids_in_existing'; pairs: JudgeEntryPair[] }
  | { code: 'not_enough_eligible_judges'; judgesPerEntry: number; entries: IneligibleEntry[] }
  | { code: 'max_load_too_low'; maxLoadPerJudge: number; minimumPossibleMaxLoad: number; totalAssignments: number; panelSize: number };

export interface AssignFailure {
  ok: false;
  /** Chinese, for city staff. */
  reason: string;
  details: AssignFailureDetails;
}

export type AssignResult = AssignSuccess | AssignFailure;

export type ReassignResult = { ok: true; judgeId: string } | { ok: false; reason: string };

// ── aggregation ──────────────────────────────────────────────────────────────────────────────

export type AggregationMethod = 'trimmed_mean' | 'mean' | 'zscore';

export interface Criterion {
  key: string;
  max: number;
}

export interface ScoreRow {
  entryId: string;
  judgeId: string;
  values: Record<string, number>;
}

export interface RankInput {
  method: AggregationMethod;
  /** Order matters: the first criterion is the first tie-break. */
  criteria: Criterion[];
  /** Submitted scores only; one per (entry, judge). */
  scores: ScoreRow[];
  entries: { id: string; code: string }[];
  /** An entry is flagged `wide_spread` when high − low of its totals is greater than this. Default 20. */
  spreadFlag?: number;
  /** A judge is flagged `harsh` / `lenient` beyond this many panel SDs. Default 1.5. */
  judgeFlagZ?: number;
}

export type EntryFlag = 'no_scores' | 'wide_spread';
export type JudgeFlag = 'harsh' | 'lenient' | 'narrow';

export interface RankedEntry {
  entryId: string;
  code: string;
  /** Competition ranking (1, 2, 2, 4); entries without scores share the last rank. */
  rank: number;
  /** Full precision; null without scores. For `zscore` on the 0–100 scale, else on the rubric's scale. */
  score: number | null;
  /** `score` to two decimals (half-up), null without scores. */
  scoreDisplay: string | null;
  /** Untrimmed mean of the totals. */
  rawMean: number | null;
  scoreCount: number;
  /** High − low of the totals (0 with one score), null without scores. */
  spread: number | null;
  /** Still equal after every tie-break: the same rank as its neighbours, for a person to settle. */
  tied: boolean;
  flags: EntryFlag[];
}

export interface JudgeStat {
  judgeId: string;
  /** Mean of this judge's totals in the round. */
  mean: number;
  /** Population SD of this judge's totals (0 with one score). */
  sd: number;
  count: number;
  flags: JudgeFlag[];
}

export interface RankResult {
  ranking: RankedEntry[];
  judges: JudgeStat[];
}

export interface RubricCriterion {
  key: string;
  label: string;
  max: number;
}

/** The sensible default of docs/architecture.md §7: 演唱水平 50 / 艺术表现 25 / 精神面貌 15 / 服装形象 10. */
export const DEFAULT_RUBRIC: RubricCriterion[] = [
  { key: 'singing', label: '演唱水平', max: 50 },
  { key: 'artistry', label: '艺术表现', max: 25 },
  { key: 'spirit', label: '精神面貌', max: 15 },
  { key: 'costume', label: '服装形象', max: 10 },
];
