-- Retention after a campaign closes (issue 16, part 4): a dry run lists exactly the objects to delete;
-- the job deletes those and nothing else, item by item (idempotent, resumable after a crash);
-- a tombstone per entry keeps what the archive needs after the files are gone.

CREATE TABLE retention_runs (
  id                   text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id          text NOT NULL REFERENCES campaigns(id),
  include_not_awarded  boolean NOT NULL,
  status               text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'queued', 'running', 'done', 'cancelled')),
  entry_count          integer NOT NULL,
  object_count         integer NOT NULL,
  total_bytes          bigint NOT NULL,
  created_by           text REFERENCES users(id) ON DELETE SET NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  confirmed_at         timestamptz,
  not_before           timestamptz NOT NULL,               -- closed_at + retention days
  finished_at          timestamptz
);
CREATE INDEX retention_runs_campaign_idx ON retention_runs (campaign_id, created_at DESC);

CREATE TABLE retention_items (
  run_id      text NOT NULL REFERENCES retention_runs(id) ON DELETE CASCADE,
  object_key  text NOT NULL,
  entry_id    text NOT NULL REFERENCES entries(id),
  video_id    text NOT NULL REFERENCES videos(id),
  kind        text NOT NULL CHECK (kind IN ('original', 'preview', 'poster')),
  size_bytes  bigint NOT NULL,                             -- as the store reported it at the dry run (0: already absent)
  etag        text,
  deleted_at  timestamptz,
  PRIMARY KEY (run_id, object_key)
);
CREATE INDEX retention_items_pending_idx ON retention_items (run_id, entry_id) WHERE deleted_at IS NULL;

CREATE TABLE entry_tombstones (
  entry_id     text PRIMARY KEY REFERENCES entries(id),
  campaign_id  text NOT NULL REFERENCES campaigns(id),
  run_id       text NOT NULL REFERENCES retention_runs(id),
  code         text NOT NULL,
  school_id    text NOT NULL REFERENCES schools(id),
  school_name  text NOT NULL,
  status       text NOT NULL,
  qc_verdict   text,
  qc           jsonb,
  hashes       jsonb NOT NULL,                             -- [{ kind, key, etag, sizeBytes }]
  deleted_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entry_tombstones_campaign_idx ON entry_tombstones (campaign_id, deleted_at);

ALTER TABLE videos ADD COLUMN purged_at timestamptz;      -- original, preview and poster deleted by retention
