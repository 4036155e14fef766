import type { ColumnType, Generated } from 'kysely';

/**
 * Row type of `jobs` (migrations/0002_jobs.sql). Timestamps are spelled as whole ColumnTypes:
 * Kysely does not unwrap a ColumnType nested in Generated<> or in `| null`.
 */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobsTable {
  id: Generated<number>;
  type: string;
  /** jsonb: read as parsed JSON, written as a JSON string. */
  payload: ColumnType<unknown, string, string>;
  status: Generated<JobStatus>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  run_at: Stamp;
  lease_owner: string | null;
  lease_expires_at: NullableStamp;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: Stamp;
  updated_at: Stamp;
  finished_at: NullableStamp;
  /** Outage deferrals since the job last ran to a verdict (migration 0010). */
  infra_retries: Generated<number>;
  infra_retry_since: NullableStamp;
}

export interface QueueTables {
  jobs: JobsTable;
}
