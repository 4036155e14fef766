import type { ColumnType, Generated } from 'kysely';
import type { BroadcastTables } from '../../broadcast/broadcast.schema';
import type { CampaignStatus, RetentionTables } from '../../campaign/campaign.schema';
import type { ConsentTables } from '../../consent/consent.schema';
import type { EntryTables } from '../../entries/entry.schema';
import type { JudgingTables } from '../../judging/judging.schema';
import type { ResultsTables } from '../../judging/results.schema';
import type { LearningTables } from '../../learning/learning.schema';
import type { CertificateTables } from '../../certificates/certificate.schema';
import type { NewMediaTables } from '../../newmedia/newmedia.schema';
import type { NotificationTables } from '../../notifications/notification.schema';
import type { QueueTables } from '../queue/queue.schema';

/**
 * Row types of every table, as the database holds them. Functions use Selectable/Insertable/
 * Updateable of these; a nullable column is `T | null`. Each migration adds its tables here.
 */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp with a database default (now()). */
export type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
export type Json = ColumnType<unknown, string | undefined, string>;
export type NullableJson = ColumnType<unknown, string | null | undefined, string | null>;

export interface CountiesTable {
  id: string;
  code: string;
  name: string;
  sort: Generated<number>;
}

export interface SchoolsTable {
  id: Generated<string>;
  name: string;
  county_id: string | null;
  level: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export type Role = 'school' | 'county' | 'judge' | 'admin' | 'tv' | 'supervisor' | 'newmedia';

export interface UsersTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  role: Role;
  county_id: string | null;
  school_id: string | null;
  password_hash: string;
  /** Initial or admin-reset password: the owner must replace it at the next sign-in (migration 0022). */
  must_change_password: Generated<boolean>;
  disabled_at: NullableTimestamp;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: DefaultTimestamp;
  last_seen_at: DefaultTimestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface LoginFailuresTable {
  id: Generated<number>;
  username: string;
  ip: string;
  at: DefaultTimestamp;
}

/** An address an account has logged in from (login protection, migration 0012). */
export interface LoginKnownAddressesTable {
  username: string;
  ip: string;
  last_success_at: DefaultTimestamp;
}

export interface CampaignsTable {
  id: string;
  title: string;
  max_duration_s: Generated<number>;
  created_at: DefaultTimestamp;
  /** migration 0018: the lifecycle (src/campaign/campaign.schema.ts) */
  year: number;
  status: ColumnType<CampaignStatus, CampaignStatus | undefined, CampaignStatus>;
  rubric: NullableJson;
  copied_from: string | null;
  closed_at: NullableTimestamp;
  retention_days: number | null;
  retention_not_awarded: Generated<boolean>;
}

export interface SongsTable {
  id: Generated<string>;
  campaign_id: string;
  title: string;
  designated: boolean;
  sort: Generated<number>;
}

export interface CodeLabelTable {
  code: string;
  label: string;
  sort: Generated<number>;
}

export interface PeriodsTable {
  id: Generated<string>;
  campaign_id: string;
  name: string;
  submit_by: Timestamp;
  forward_by: Timestamp;
  quota: number;
  sort: Generated<number>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: DefaultTimestamp;
  actor_id: string | null;
  actor_name: string;
  action: string;
  object_type: string;
  object_id: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  detail: NullableJson;
}

export interface PeriodCountyQuotasTable {
  period_id: string;
  county_id: string;
  quota: number;
}

export interface FoundationTables {
  counties: CountiesTable;
  schools: SchoolsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_failures: LoginFailuresTable;
  login_known_addresses: LoginKnownAddressesTable;
  campaigns: CampaignsTable;
  songs: SongsTable;
  performance_forms: CodeLabelTable;
  levels: CodeLabelTable;
  periods: PeriodsTable;
  audit_log: AuditLogTable;
  period_county_quotas: PeriodCountyQuotasTable;
}

export interface DB
  extends
    FoundationTables,
    QueueTables,
    EntryTables,
    JudgingTables,
    ResultsTables,
    BroadcastTables,
    NotificationTables,
    RetentionTables,
    ConsentTables,
    LearningTables,
    CertificateTables,
    NewMediaTables {}
