-- Jobs kept from running by an outage (database or object store unavailable) are retried without
-- spending their attempts, which are meant for bad media (src/platform/queue/queue.ts `defer`).
-- Frozen once landed: later changes go in new numbered files.

-- Deferrals since the job last ran to a verdict (drives the backoff: 5 s doubling to 2 min).
ALTER TABLE jobs ADD COLUMN infra_retries integer NOT NULL DEFAULT 0 CHECK (infra_retries >= 0);
-- When the current outage first stopped this job; past JOB_INFRA_RETRY_HOURS it fails for good.
ALTER TABLE jobs ADD COLUMN infra_retry_since timestamptz;
