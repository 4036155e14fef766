-- Resumable (tus) uploads: one lease row per upload being written, so that several web processes
-- serving the same upload take turns (the tus Locker). Frozen once landed.
--
-- A request holds the lock while it reads the upload's offset and writes bytes. The holder renews
-- expires_at every few seconds; a holder that died stops renewing and its row is taken over once
-- it has expired. A waiter sets release_requested: the holder sees it at its next renewal and
-- stops its request (tus: the newest request for an upload wins, so a half-open connection cannot
-- block a resuming client).

CREATE TABLE upload_locks (
  upload_id          text PRIMARY KEY CHECK (upload_id ~ '^[0-9a-f]{32}$'),
  holder             text NOT NULL,                      -- one lock attempt: process + random
  acquired_at        timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL,
  release_requested  boolean NOT NULL DEFAULT false
);

-- The sweep removes rows of holders that died.
CREATE INDEX upload_locks_expires_idx ON upload_locks (expires_at);
