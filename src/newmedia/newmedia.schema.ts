import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp, NullableTimestamp } from '../platform/db/schema';
import type { PackTextSet } from './newmedia.post';

export type PackStatus = 'queued' | 'processing' | 'ready' | 'failed';
export type PackFileKind = 'oa' | 'vertical' | 'coverWide' | 'coverSquare';

/** Where each made file is stored, and its size. */
export type PackOutputs = Record<PackFileKind, { key: string; sizeBytes: number }>;

type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface MediaPacksTable {
  id: Generated<string>;
  campaign_id: string;
  entry_id: string;
  video_id: string;
  status: Generated<PackStatus>;
  progress: Generated<number>;
  error: string | null;
  texts: Json<PackTextSet>;
  outputs: NullableJson<PackOutputs>;
  measured: NullableJson<Record<string, unknown>>;
  max_bytes: ColumnType<string | number, number, number>;
  requested_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  ready_at: NullableTimestamp;
}

export interface NewMediaTables {
  media_packs: MediaPacksTable;
}
