import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp, NullableJson, NullableTimestamp, Timestamp } from '../platform/db/schema';

export type EntryStatus =
  'draft' | 'submitted' | 'returned' | 'forwarded' | 'in_judging' | 'shortlisted' | 'not_selected' | 'awarded' | 'broadcast_selected' | 'aired';

export type VideoStatus = 'uploaded' | 'processing' | 'ready' | 'failed';
export type QcVerdict = 'pass' | 'warn' | 'fail';

export interface EntriesTable {
  id: Generated<string>;
  code: string;
  campaign_id: string;
  school_id: string;
  county_id: string | null;
  period_id: string | null;
  title: string;
  song_id: string | null;
  custom_song_title: string | null;
  form: string;
  level: string;
  performer_count: number;
  director_name: string | null;
  description: string | null;
  status: Generated<EntryStatus>;
  video_id: string | null;
  forward_rank: number | null;
  award: string | null;
  return_reason: string | null;
  created_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  submitted_at: NullableTimestamp;
  forwarded_at: NullableTimestamp;
  /** the day Lüliang TV aired it (a date, Beijing) */
  aired_on: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface VideosTable {
  id: string;
  entry_id: string;
  status: VideoStatus;
  progress: Generated<number>;
  error: string | null;
  error_code: string | null;
  original_name: string;
  original_key: string;
  size_bytes: number;
  probe: NullableJson;
  qc: NullableJson;
  qc_verdict: QcVerdict | null;
  loudness: NullableJson;
  duration_s: number | null;
  preview_key: string | null;
  poster_key: string | null;
  uploaded_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  ready_at: NullableTimestamp;
  /** migration 0019: the files were deleted by the campaign's retention policy */
  purged_at: NullableTimestamp;
}

/** An unfinished resumable upload: whose it is and what it reserves (migration 0007). */
export interface ResumableUploadsTable {
  id: string;
  owner_id: string;
  school_id: string;
  entry_id: string;
  size_bytes: number;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  /** tus Upload-Metadata as the server stored it (migration 0008; the bucket store reads it back). */
  metadata: NullableJson;
}

/** One PATCH's bytes of an upload kept in the bucket (migration 0008, src/entries/bucket-tus-store.ts). */
export interface ResumableUploadPartsTable {
  upload_id: string;
  start_byte: number;
  size_bytes: number;
}

/** Lease rows of the tus locker (src/entries/upload-locker.ts). */
export interface UploadLocksTable {
  upload_id: string;
  holder: string;
  acquired_at: DefaultTimestamp;
  expires_at: Timestamp;
  release_requested: Generated<boolean>;
}

export interface EntryTables {
  entries: EntriesTable;
  videos: VideosTable;
  upload_locks: UploadLocksTable;
  resumable_uploads: ResumableUploadsTable;
  resumable_upload_parts: ResumableUploadPartsTable;
}
