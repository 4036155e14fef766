import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp, NullableTimestamp } from '../platform/db/schema';

/** 获奖证书 (migration 0026). */
export type CertificateKind = 'entry' | 'director' | 'organisation';
export type CertificateStatus = 'pending' | 'ready' | 'failed';

export interface CertificateSerialsTable {
  prefix: string;
  last_value: Generated<number>;
}

export interface CertificateSettingsTable {
  campaign_id: string;
  seal_key: string | null;
  issuer: Generated<string>;
  updated_at: DefaultTimestamp;
}

export interface CertificatesTable {
  id: Generated<string>;
  number: string;
  campaign_id: string;
  round_id: string;
  kind: CertificateKind;
  entry_id: string | null;
  school_id: string | null;
  county_id: string | null;
  recipient: string;
  award: string;
  award_label: string;
  entry_title: string | null;
  song_title: string | null;
  school_name: string | null;
  county_name: string | null;
  issuer: string;
  /** a Beijing calendar day 'YYYY-MM-DD' */
  issued_on: ColumnType<string, string, string>;
  verify_url: string;
  status: Generated<CertificateStatus>;
  object_key: string | null;
  error: string | null;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
  created_at: DefaultTimestamp;
}

export interface CertificatePrintsTable {
  round_id: string;
  object_key: string;
  pages: number;
  made_at: DefaultTimestamp;
}

export interface CertificateTables {
  certificate_serials: CertificateSerialsTable;
  certificate_settings: CertificateSettingsTable;
  certificates: CertificatesTable;
  certificate_prints: CertificatePrintsTable;
}
