-- The in-app message centre (消息). One row per recipient; every component writes through
-- notify() in the same transaction as the change that caused it, so a message exists exactly when
-- its cause committed. dedupe_key makes a repeated cause (a retried job, a double click) one message.
CREATE TABLE notifications (
  id          bigserial PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        text NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL DEFAULT '',
  link        text,
  entry_id    text REFERENCES entries(id) ON DELETE CASCADE,
  dedupe_key  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  read_at     timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_dedupe_uq ON notifications (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
