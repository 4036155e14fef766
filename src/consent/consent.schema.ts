import type { ColumnType } from 'kysely';
import type { DefaultTimestamp, NullableTimestamp } from '../platform/db/schema';

/** Where an entry may be published: TV broadcast, WeChat and other new media, the public 公示 page. */
export type ConsentScope = 'broadcast' | 'newmedia' | 'public';
export type ScanType = 'application/pdf' | 'image/jpeg' | 'image/png';

/** The city's setting per campaign (migration 0016): whether the school's declaration suffices. */
export interface ConsentSettingsTable {
  campaign_id: string;
  require_scan: ColumnType<boolean, boolean | undefined, boolean>;
  updated_by: string | null;
  updated_at: DefaultTimestamp;
}

/** One entry's guardian authorisation (授权书), migration 0016. */
export interface EntryConsentsTable {
  entry_id: string;
  campaign_id: string;
  school_id: string;
  declaration: boolean;
  signer_name: string | null;
  signer_post: string | null;
  scope_broadcast: boolean;
  scope_newmedia: boolean;
  scope_public: boolean;
  scan_key: string | null;
  scan_type: ScanType | null;
  scan_name: string | null;
  scan_bytes: ColumnType<number | null, number | null | undefined, number | null>;
  recorded_by: string | null;
  recorded_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  withdrawn_at: NullableTimestamp;
  withdrawal_reason: string | null;
  erased_at: NullableTimestamp;
}

export interface ConsentTables {
  consent_settings: ConsentSettingsTable;
  entry_consents: EntryConsentsTable;
}
