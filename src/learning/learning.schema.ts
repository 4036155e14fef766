import type { ColumnType, Generated } from 'kysely';
import type { DefaultTimestamp } from '../platform/db/schema';

/** 人人会唱 (migration 0025): the deadline per campaign and the schools' reports, history kept. */
export interface LearningSettingsTable {
  campaign_id: string;
  /** a Beijing calendar day, read back as 'YYYY-MM-DD' (see learning.repository.ts) */
  deadline: ColumnType<string, string, string>;
  updated_at: DefaultTimestamp;
}

export interface LearningReportsTable {
  id: Generated<string>;
  campaign_id: string;
  school_id: string;
  teachers: number;
  classes: number;
  note: Generated<string>;
  reported_by: string | null;
  reported_at: DefaultTimestamp;
  is_latest: Generated<boolean>;
}

export interface LearningReportSongsTable {
  report_id: string;
  song_id: string;
  teachers_learned: number;
  classes_singing: number;
}

export interface LearningTables {
  learning_settings: LearningSettingsTable;
  learning_reports: LearningReportsTable;
  learning_report_songs: LearningReportSongsTable;
}
