-- 消息投递重试 (delivery retries over a day): a batch of email or robot messages that failed to send
-- waits `next_attempt_at` before its next try, longer each time (30 s, 2 min, 10 min, 30 min, 1 h,
-- 2 h, 4 h, 8 h, 8 h: its tenth failure, about a day after the first, gives up and is left on the
-- robots page for a person). Until now the delivery job retried a batch eight times within ten
-- minutes and gave up: a mail server down for a quarter of an hour lost the emails of that time.
-- NULL: due now (every batch written before this migration).
-- Frozen once landed: later changes go in new numbered files.
ALTER TABLE notification_batches ADD COLUMN next_attempt_at timestamptz;
