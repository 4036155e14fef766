-- Broadcast delivery: masters made for the TV station, airing dates, and a log of every download.

CREATE TABLE masters (
  id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  entry_id      text NOT NULL UNIQUE REFERENCES entries(id) ON DELETE CASCADE,   -- one current master per entry
  video_id      text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  profile       text NOT NULL CHECK (profile IN ('xdcam-hd422', 'h264-1080p25')),
  pillarbox     text NOT NULL DEFAULT 'black' CHECK (pillarbox IN ('black', 'blur')),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  error         text,                                  -- Chinese, with the measured values
  needs_person  boolean NOT NULL DEFAULT false,         -- e.g. a source too quiet to rescue
  object_key    text,
  size_bytes    bigint,
  loudness      jsonb,                                 -- measured on the finished file
  verification  jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  ready_at      timestamptz
);

ALTER TABLE entries ADD COLUMN aired_on date;

CREATE TABLE downloads (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  user_id    text REFERENCES users(id) ON DELETE SET NULL,
  username   text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('master', 'programme_xlsx', 'programme_csv', 'archive')),
  entry_id   text REFERENCES entries(id) ON DELETE SET NULL,
  range      text
);
CREATE INDEX downloads_at_idx ON downloads (at DESC);
