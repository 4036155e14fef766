-- Issue 18: 公示 with a period and objections, frozen results with numbered revisions, feedback.
-- Frozen once landed: later changes go in new numbered files.

-- The 公示期 and whom to contact, set when the city publishes; whether schools see their feedback.
ALTER TABLE rounds ADD COLUMN publicity_from timestamptz;
ALTER TABLE rounds ADD COLUMN publicity_to timestamptz;
ALTER TABLE rounds ADD COLUMN objection_contact text;
ALTER TABLE rounds ADD COLUMN feedback_enabled boolean NOT NULL DEFAULT false;

-- The frozen results of a round: revision 0 is the first 公示, each later change a numbered revision
-- with its reason. `snapshot` is the canonical JSON text itself (the hash is of these exact bytes).
CREATE TABLE result_revisions (
  round_id         text NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
  revision         integer NOT NULL CHECK (revision >= 0),
  reason           text,
  snapshot         text NOT NULL,
  snapshot_sha256  text NOT NULL,
  actor_id         text REFERENCES users(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, revision)
);

-- Objections (异议) during the 公示期: personal data, read by the city and 监督 only.
CREATE TABLE objections (
  id               text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id      text NOT NULL REFERENCES campaigns(id),
  round_id         text NOT NULL REFERENCES rounds(id),
  receipt_number   text NOT NULL UNIQUE,
  entry_code       text,
  name             text NOT NULL,
  phone            text NOT NULL,
  relation         text NOT NULL,
  reason           text NOT NULL,
  attachment_key   text,
  attachment_type  text,
  attachment_size  integer,
  status           text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'accepted', 'reviewing', 'concluded')),
  outcome          text CHECK (outcome IN ('upheld', 'rejected')),
  conclusion       text,
  client_key       text NOT NULL,                       -- SHA-256 of the caller's address: the rate limit
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX objections_round_idx ON objections (round_id, created_at DESC);
CREATE INDEX objections_open_idx ON objections (campaign_id, status);
CREATE INDEX objections_client_idx ON objections (client_key, created_at);

-- 监督 reads a round's audit trail: its own rows and those naming it in detail.roundId (awards,
-- revocations, objections, score reopenings).
CREATE INDEX audit_log_round_idx ON audit_log ((detail->>'roundId'), at) WHERE detail->>'roundId' IS NOT NULL;
