-- Judging: rounds with a rubric and a judge panel, assignments with scores, conflicts, awards.

CREATE TABLE rounds (
  id                text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id       text NOT NULL REFERENCES campaigns(id),
  name              text NOT NULL,
  period_id         text REFERENCES periods(id),
  source_round_id   text REFERENCES rounds(id),          -- a final round built from this round's shortlist
  judges_per_entry  integer NOT NULL CHECK (judges_per_entry BETWEEN 1 AND 50),
  blind             boolean NOT NULL DEFAULT true,
  aggregation       text NOT NULL CHECK (aggregation IN ('trimmed_mean', 'mean', 'zscore')),
  rubric            jsonb NOT NULL,                      -- [{ key, label, max }], maxima sum to 100
  status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
  opens_at          timestamptz,
  closes_at         timestamptz,
  awards_confirmed_at timestamptz,
  published_at      timestamptz,                         -- 公示: the awards list is public
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE round_entries (
  round_id     text NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
  entry_id     text NOT NULL REFERENCES entries(id),
  shortlisted  boolean NOT NULL DEFAULT false,
  award        text CHECK (award IN ('first', 'second', 'third', 'excellence')),
  PRIMARY KEY (round_id, entry_id)
);
CREATE INDEX round_entries_entry_idx ON round_entries (entry_id);

CREATE TABLE round_judges (
  round_id  text NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
  judge_id  text NOT NULL REFERENCES users(id),
  PRIMARY KEY (round_id, judge_id)
);

CREATE TABLE assignments (
  id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  round_id      text NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
  entry_id      text NOT NULL REFERENCES entries(id),
  judge_id      text NOT NULL REFERENCES users(id),
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'draft', 'submitted')),
  scores        jsonb,                                   -- { [criterionKey]: number }
  comment       text,
  total         double precision,
  submitted_at  timestamptz,
  reopened_at   timestamptz,                             -- an admin reopened this score after the round closed
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (round_id, entry_id, judge_id)
);
CREATE INDEX assignments_judge_idx ON assignments (judge_id, round_id, status);
CREATE INDEX assignments_round_idx ON assignments (round_id, entry_id);

-- A judge's declared conflict with an entry: never assigned again in that round.
CREATE TABLE judge_conflicts (
  round_id    text NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
  entry_id    text NOT NULL REFERENCES entries(id),
  judge_id    text NOT NULL REFERENCES users(id),
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, entry_id, judge_id)
);
