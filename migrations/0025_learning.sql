-- 人人会唱 (issue 20): schools report, per designated song, how many teachers can sing it and how
-- many classes sing it before lessons (课前一歌). Every report is kept; the latest one counts.

-- The city's reporting deadline per campaign (a Beijing calendar day). No row: 30 June of the
-- campaign's year (the first 30 June on or after the campaign was created).
CREATE TABLE learning_settings (
  campaign_id  text PRIMARY KEY REFERENCES campaigns(id),
  deadline     date NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE learning_reports (
  id           text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id  text NOT NULL REFERENCES campaigns(id),
  school_id    text NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
  teachers     integer NOT NULL CHECK (teachers >= 0),
  classes      integer NOT NULL CHECK (classes >= 0),
  note         text NOT NULL DEFAULT '',
  reported_by  text REFERENCES users(id) ON DELETE SET NULL,
  reported_at  timestamptz NOT NULL DEFAULT now(),
  -- true on exactly one report per school and campaign: the one that counts
  is_latest    boolean NOT NULL DEFAULT true
);
CREATE INDEX learning_reports_school_idx ON learning_reports (campaign_id, school_id, reported_at DESC);
CREATE UNIQUE INDEX learning_reports_latest_uq ON learning_reports (campaign_id, school_id) WHERE is_latest;

CREATE TABLE learning_report_songs (
  report_id         text NOT NULL REFERENCES learning_reports(id) ON DELETE CASCADE,
  song_id           text NOT NULL REFERENCES songs(id),
  teachers_learned  integer NOT NULL CHECK (teachers_learned >= 0),
  classes_singing   integer NOT NULL CHECK (classes_singing >= 0),
  PRIMARY KEY (report_id, song_id)
);
