import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp, NullableJson, NullableTimestamp } from '../platform/db/schema';

/**
 * A campaign's lifecycle (migration 0018): 筹备中 → 报送中 (at most one) → 评审中 → 已关闭 (read-only, enforced by
 * a trigger on every table that belongs to a campaign).
 */
export const CAMPAIGN_STATUSES = ['preparing', 'open', 'running', 'closed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Retention runs, their items and the tombstones they leave (migration 0019). */
export interface RetentionRunsTable {
  id: Generated<string>;
  campaign_id: string;
  include_not_awarded: boolean;
  status: ColumnType<RetentionRunStatus, RetentionRunStatus | undefined, RetentionRunStatus>;
  entry_count: number;
  object_count: number;
  total_bytes: ColumnType<string | number, number, number>;
  created_by: string | null;
  created_at: DefaultTimestamp;
  confirmed_at: NullableTimestamp;
  not_before: ColumnType<Date, Date | string, Date | string>;
  finished_at: NullableTimestamp;
}
export type RetentionRunStatus = 'planned' | 'queued' | 'running' | 'done' | 'cancelled';

export interface RetentionItemsTable {
  run_id: string;
  object_key: string;
  entry_id: string;
  video_id: string;
  kind: 'original' | 'preview' | 'poster';
  size_bytes: ColumnType<string | number, number, number>;
  etag: string | null;
  deleted_at: NullableTimestamp;
}

export interface EntryTombstonesTable {
  entry_id: string;
  campaign_id: string;
  run_id: string;
  code: string;
  school_id: string;
  school_name: string;
  status: string;
  qc_verdict: string | null;
  qc: NullableJson;
  hashes: ColumnType<unknown, string, string>;
  deleted_at: DefaultTimestamp;
}

export interface RetentionTables {
  retention_runs: RetentionRunsTable;
  retention_items: RetentionItemsTable;
  entry_tombstones: EntryTombstonesTable;
}
