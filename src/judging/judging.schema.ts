import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp, Json, NullableJson, NullableTimestamp } from '../platform/db/schema';
import type { AggregationMethod } from './judging.types';

export type RoundStatus = 'draft' | 'open' | 'closed';
export type AssignmentStatus = 'pending' | 'draft' | 'submitted';
export type AwardTier = 'first' | 'second' | 'third' | 'excellence';

export interface RoundsTable {
  id: Generated<string>;
  campaign_id: string;
  name: string;
  period_id: string | null;
  source_round_id: string | null;
  judges_per_entry: number;
  blind: boolean;
  aggregation: AggregationMethod;
  rubric: Json;
  status: Generated<RoundStatus>;
  opens_at: NullableTimestamp;
  closes_at: NullableTimestamp;
  awards_confirmed_at: NullableTimestamp;
  published_at: NullableTimestamp;
  /** 公示期 and the objection contact (issue 18), set on publishing. */
  publicity_from: NullableTimestamp;
  publicity_to: NullableTimestamp;
  objection_contact: string | null;
  /** Schools see their entry's criterion means and comments (评委A/B/…) once published. */
  feedback_enabled: Generated<boolean>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface RoundEntriesTable {
  round_id: string;
  entry_id: string;
  shortlisted: Generated<boolean>;
  award: AwardTier | null;
  /** Per-round blind label ("B-017"), random order; what judges of a blind round see instead of the code. */
  label: string;
}

export interface RoundJudgesTable {
  round_id: string;
  judge_id: string;
}

export interface AssignmentsTable {
  id: Generated<string>;
  round_id: string;
  entry_id: string;
  judge_id: string;
  status: Generated<AssignmentStatus>;
  scores: NullableJson;
  comment: string | null;
  total: number | null;
  submitted_at: NullableTimestamp;
  reopened_at: NullableTimestamp;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  /** The assignment's fixed place in its judge's queue (migration 0015): written by triggers only. */
  queue_round_at: ColumnType<Date | null, never, never>;
  queue_key: ColumnType<string | null, never, never>;
}

/**
 * Per round: how many entries, judges, assignments and submitted assignments it has (migration
 * 0028). Kept by statement triggers on round_entries, round_judges and assignments; read only.
 */
export interface RoundTalliesTable {
  round_id: string;
  entries: ColumnType<number, never, never>;
  judges: ColumnType<number, never, never>;
  assignments: ColumnType<number, never, never>;
  submitted: ColumnType<number, never, never>;
}

export interface JudgeConflictsTable {
  round_id: string;
  entry_id: string;
  judge_id: string;
  reason: string;
  created_at: DefaultTimestamp;
}

export interface JudgingTables {
  rounds: RoundsTable;
  round_entries: RoundEntriesTable;
  round_judges: RoundJudgesTable;
  assignments: AssignmentsTable;
  judge_conflicts: JudgeConflictsTable;
  round_tallies: RoundTalliesTable;
}
