import type { Generated } from 'kysely';
import type { DefaultTimestamp, NullableJson, NullableTimestamp } from '../platform/db/schema';

export type MasterStatus = 'queued' | 'processing' | 'ready' | 'failed';
export type MasterProfile = 'xdcam-hd422' | 'h264-1080p25';

export interface MastersTable {
  id: Generated<string>;
  entry_id: string;
  video_id: string;
  profile: MasterProfile;
  pillarbox: 'black' | 'blur';
  status: Generated<MasterStatus>;
  progress: Generated<number>;
  error: string | null;
  needs_person: Generated<boolean>;
  object_key: string | null;
  size_bytes: number | null;
  loudness: NullableJson;
  verification: NullableJson;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  ready_at: NullableTimestamp;
}

export interface DownloadsTable {
  id: Generated<number>;
  at: DefaultTimestamp;
  user_id: string | null;
  username: string;
  kind: 'master' | 'programme_xlsx' | 'programme_csv' | 'archive' | 'media_pack' | 'media_pack_archive';
  entry_id: string | null;
  range: string | null;
}

export interface BroadcastTables {
  masters: MastersTable;
  downloads: DownloadsTable;
}
