-- 唱响 job queue: one table, claimed with FOR UPDATE SKIP LOCKED, leased, retried with backoff.
-- Frozen once landed: later changes go in new numbered files.
--
-- Life of a row:  queued ──claim──▶ running ──complete──▶ succeeded
--                   ▲                  │ ├──fail (retryable, attempts left)──▶ queued (run_at = now + backoff)
--                   │                  │ └──fail (permanent or exhausted)────▶ failed (last_error = reason)
--                   └──release (graceful stop; attempt not counted)
-- A running row whose lease expired is reclaimed by the next claim (attempt + 1), or moved to
-- failed when it was already on its last attempt.

CREATE TABLE jobs (
  id                bigserial PRIMARY KEY,
  type              text NOT NULL CHECK (type <> ''),
  payload           jsonb NOT NULL DEFAULT '{}'::jsonb,
  status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),     -- attempts started so far
  max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  run_at            timestamptz NOT NULL DEFAULT now(),                   -- not claimable before this
  lease_owner       text,                                                 -- lease token of the running attempt
  lease_expires_at  timestamptz,
  last_error        text,                                                 -- reason a person can read
  dedupe_key        text,                                                 -- idempotent enqueue
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  CHECK ((status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK ((status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL))
);

-- The same dedupe key is enqueued once, ever (a re-upload gets a new key).
CREATE UNIQUE INDEX jobs_dedupe_key_uq ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
-- The claim query: queued jobs due now, oldest first …
CREATE INDEX jobs_runnable_idx ON jobs (run_at, id) WHERE status = 'queued';
-- … and running jobs whose lease has expired (a dead worker's job).
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'running';
-- Admin lists and stats.
CREATE INDEX jobs_status_type_idx ON jobs (status, type);
