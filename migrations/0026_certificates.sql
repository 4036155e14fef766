-- 获奖证书 (issue 18 item 3): certificates for awarded entries, their 指导教师, and 优秀组织奖 for
-- counties. A certificate number is a county code plus a serial from certificate_serials: unique
-- and never reused (a revoked certificate keeps its number; a re-issue takes a new one).

CREATE TABLE certificate_serials (
  prefix      text PRIMARY KEY,          -- the county code in capitals, or SZ for 市直 / the city
  last_value  integer NOT NULL DEFAULT 0
);

-- The bureau's seal (PNG, uploaded by the city) per campaign; none: an empty space for a stamp.
CREATE TABLE certificate_settings (
  campaign_id  text PRIMARY KEY REFERENCES campaigns(id),
  seal_key     text,
  issuer       text NOT NULL DEFAULT '吕梁市教育局',
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE certificates (
  id              text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  number          text NOT NULL UNIQUE,
  campaign_id     text NOT NULL REFERENCES campaigns(id),
  round_id        text NOT NULL REFERENCES rounds(id),
  kind            text NOT NULL CHECK (kind IN ('entry', 'director', 'organisation')),
  entry_id        text REFERENCES entries(id),
  school_id       text REFERENCES schools(id),
  county_id       text REFERENCES counties(id),
  -- what the certificate says, as issued (later edits of names do not change a printed certificate)
  recipient       text NOT NULL,
  award           text NOT NULL,         -- first / second / third / excellence / organisation
  award_label     text NOT NULL,
  entry_title     text,
  song_title      text,
  school_name     text,
  county_name     text,
  issuer          text NOT NULL,
  issued_on       date NOT NULL,
  verify_url      text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
  object_key      text,
  error           text,
  revoked_at      timestamptz,
  revoked_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'organisation') = (entry_id IS NULL))
);
-- At most one live certificate per round, kind and entry (or county for 优秀组织奖).
CREATE UNIQUE INDEX certificates_live_entry_uq ON certificates (round_id, kind, entry_id) WHERE revoked_at IS NULL AND entry_id IS NOT NULL;
CREATE UNIQUE INDEX certificates_live_county_uq ON certificates (round_id, county_id) WHERE revoked_at IS NULL AND kind = 'organisation';
CREATE INDEX certificates_round_idx ON certificates (round_id, number);
CREATE INDEX certificates_school_idx ON certificates (school_id, number);
CREATE INDEX certificates_pending_idx ON certificates (round_id) WHERE status = 'pending';

-- The round's print sheet (every live certificate of the round in one PDF), made by the job.
CREATE TABLE certificate_prints (
  round_id    text PRIMARY KEY REFERENCES rounds(id),
  object_key  text NOT NULL,
  pages       integer NOT NULL,
  made_at     timestamptz NOT NULL DEFAULT now()
);
