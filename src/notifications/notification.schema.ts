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
  /** one notify() call = one event, however many recipients (migration 0020) */
  event_id: string | null;
  /** set when the delivery job has planned its email/robot sends (NULL: still to plan) */
  dispatched_at: NullableTimestamp;
}

export type DeliveryChannel = 'email' | 'wecom' | 'dingtalk';
export type RobotKind = 'wecom' | 'dingtalk';

export interface NotificationPreferencesTable {
  user_id: string;
  email: string | null;
  email_notify: Generated<boolean>;
  updated_at: DefaultTimestamp;
}

export interface NotificationRobotsTable {
  id: Generated<string>;
  name: string;
  kind: RobotKind;
  /** NULL: the city's group */
  county_id: string | null;
  url: string;
  secret: string | null;
  enabled: Generated<boolean>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface NotificationBatchesTable {
  id: Generated<number>;
  channel: DeliveryChannel;
  target: string;
  subject: string;
  body: string;
  item_count: number;
  status: Generated<'pending' | 'sent'>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: DefaultTimestamp;
  sent_at: NullableTimestamp;
  /** after a failed send: not tried again before this (migration 0029); null: due now */
  next_attempt_at: NullableTimestamp;
}

export interface NotificationDeliveriesTable {
  channel: DeliveryChannel;
  target: string;
  item: string;
  batch_id: number;
}

export interface NotificationTables {
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
  notification_robots: NotificationRobotsTable;
  notification_batches: NotificationBatchesTable;
  notification_deliveries: NotificationDeliveriesTable;
}
