-- Entries (one performance video submitted by a school) and their videos.

CREATE TABLE entries (
  id                 text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  code               text NOT NULL UNIQUE,                 -- CX-7K2Q9: reveals neither school nor county
  campaign_id        text NOT NULL REFERENCES campaigns(id),
  school_id          text NOT NULL REFERENCES schools(id),
  county_id          text REFERENCES counties(id),         -- the school's county when created; NULL for 市直
  period_id          text REFERENCES periods(id),          -- set when submitted
  title              text NOT NULL,
  song_id            text REFERENCES songs(id),
  custom_song_title  text,
  form               text NOT NULL REFERENCES performance_forms(code),
  level              text NOT NULL REFERENCES levels(code),
  performer_count    integer NOT NULL CHECK (performer_count BETWEEN 1 AND 2000),
  director_name      text,
  description        text,
  status             text NOT NULL DEFAULT 'draft' CHECK (status IN
                       ('draft', 'submitted', 'returned', 'forwarded', 'in_judging', 'shortlisted',
                        'not_selected', 'awarded', 'broadcast_selected', 'aired')),
  video_id           text,                                 -- the latest upload (FK below)
  forward_rank       integer,
  award              text,
  return_reason      text,
  created_by         text REFERENCES users(id) ON DELETE SET NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  submitted_at       timestamptz,
  forwarded_at       timestamptz,
  CHECK ((song_id IS NULL) <> (custom_song_title IS NULL))
);
CREATE INDEX entries_school_idx ON entries (school_id, status, updated_at DESC);
CREATE INDEX entries_county_idx ON entries (county_id, status, updated_at DESC);
CREATE INDEX entries_period_idx ON entries (period_id, status);
CREATE INDEX entries_status_idx ON entries (status, updated_at DESC);

CREATE TABLE videos (
  id              text PRIMARY KEY,
  entry_id        text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
  status          text NOT NULL CHECK (status IN ('uploaded', 'processing', 'ready', 'failed')),
  progress        integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  error           text,                                    -- Chinese reason for a teacher
  error_code      text,
  original_name   text NOT NULL,                           -- shown only, escaped and shortened
  original_key    text NOT NULL,
  size_bytes      bigint NOT NULL,
  probe           jsonb,
  qc              jsonb,
  qc_verdict      text CHECK (qc_verdict IN ('pass', 'warn', 'fail')),
  loudness        jsonb,                                   -- kept for the broadcast job's first pass
  duration_s      double precision,
  preview_key     text,
  poster_key      text,
  uploaded_by     text REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  ready_at        timestamptz
);
CREATE INDEX videos_entry_idx ON videos (entry_id, created_at);

ALTER TABLE entries ADD CONSTRAINT entries_video_fk FOREIGN KEY (video_id) REFERENCES videos(id) ON DELETE SET NULL;
