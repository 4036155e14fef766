-- Notifications beyond the app (issue 17): per-user email with opt-out, group robots (企业微信 /
-- 钉钉) per county or for the city, and a delivery log that makes every send happen once per
-- notification × channel. notify() stamps each call with an event_id (one event, many recipients:
-- a robot posts it once) and leaves dispatched_at NULL until the delivery job has planned it.

-- A person's delivery settings (no row: no email address, so nothing by email).
CREATE TABLE notification_preferences (
  user_id       text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  email         text,
  email_notify  boolean NOT NULL DEFAULT true,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE notifications ADD COLUMN event_id text;
ALTER TABLE notifications ADD COLUMN dispatched_at timestamptz;
-- Messages written before delivery existed are not sent now.
UPDATE notifications SET dispatched_at = created_at;
CREATE INDEX notifications_undispatched_idx ON notifications (id) WHERE dispatched_at IS NULL;

-- A group robot: county_id NULL = the city's group.
CREATE TABLE notification_robots (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('wecom', 'dingtalk')),
  county_id   text REFERENCES counties(id) ON DELETE CASCADE,
  url         text NOT NULL,
  secret      text,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_robots_county_idx ON notification_robots (county_id);

-- One message to send on one channel to one target (a user's address or a robot): a single
-- notification or a digest of several.
CREATE TABLE notification_batches (
  id          bigserial PRIMARY KEY,
  channel     text NOT NULL CHECK (channel IN ('email', 'wecom', 'dingtalk')),
  target      text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL,
  item_count  integer NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX notification_batches_pending_idx ON notification_batches (id) WHERE status = 'pending';

-- What each batch carries: item = a notification id (email) or an event id (robots). The primary
-- key is the idempotency: a notification goes to a channel's target once, ever.
CREATE TABLE notification_deliveries (
  channel   text NOT NULL,
  target    text NOT NULL,
  item      text NOT NULL,
  batch_id  bigint NOT NULL REFERENCES notification_batches(id) ON DELETE CASCADE,
  PRIMARY KEY (channel, target, item)
);
CREATE INDEX notification_deliveries_batch_idx ON notification_deliveries (batch_id);
