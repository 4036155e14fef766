import type { Generated } from 'kysely';
import type { DefaultTimestamp, NullableTimestamp } from '../platform/db/schema';

export interface NotificationsTable {
  id: Generated<number>;
  user_id: string;
  kind: string;
  title: string;
  body: Generated<string>;
  link: string | null;
  entry_id: string | null;
  dedupe_key: string | null;
  created_at: DefaultTimestamp;
  read_at: NullableTimestamp;
}

export interface NotificationTables {
  notifications: NotificationsTable;
}
