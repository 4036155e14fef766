-- Resumable (tus) uploads in progress, and the locks several web processes take turns with.
-- Frozen once landed: later changes go in new numbered files.
--
-- resumable_uploads: one row per unfinished upload, written by the server when the upload is
-- created (its bytes live in the tus store: TUS_DIR or the S3 bucket). It says whose upload it is —
-- every HEAD/PATCH/DELETE by anyone else answers 404 — and how many bytes it reserves against the
-- school's cap. Removed when the upload finishes, is cancelled, or expires (the sweep).
CREATE TABLE resumable_uploads (
  id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  owner_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  school_id   text NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
  entry_id    text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
-- The school's cap: SUM(size_bytes) of its unexpired uploads.
CREATE INDEX resumable_uploads_school_idx ON resumable_uploads (school_id, expires_at);
-- The sweep.
CREATE INDEX resumable_uploads_expires_idx ON resumable_uploads (expires_at);

-- upload_locks: a lease row per upload being written, so that several web processes serving the
-- same upload take turns (the tus Locker, src/entries/upload-locker.ts). A request holds the lock
-- while it reads the upload's offset and writes bytes. The holder renews expires_at every few
-- seconds; a holder that died stops renewing and its row is taken over once it has expired. A
-- waiter sets release_requested: the holder sees it at its next renewal and stops its request
-- (tus: the newest request for an upload wins, so a half-open connection cannot block a
-- resuming client). No foreign key: a lock may be taken for an id that turns out not to exist.
CREATE TABLE upload_locks (
  upload_id          text PRIMARY KEY CHECK (upload_id ~ '^[0-9a-f]{32}$'),
  holder             text NOT NULL,                      -- one lock attempt: process + random
  acquired_at        timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL,
  release_requested  boolean NOT NULL DEFAULT false
);
-- The sweep removes rows of holders that died.
CREATE INDEX upload_locks_expires_idx ON upload_locks (expires_at);
