-- County review and forwarding: per-county quota overrides and the indexes the worklists use.

CREATE TABLE period_county_quotas (
  period_id   text NOT NULL REFERENCES periods(id) ON DELETE CASCADE,
  county_id   text NOT NULL REFERENCES counties(id),
  quota       integer NOT NULL CHECK (quota >= 0),
  PRIMARY KEY (period_id, county_id)
);

-- Forwarded entries of one county in one period, in rank order (quota counts and the ranked list).
CREATE INDEX entries_forwarded_idx ON entries (period_id, county_id, status, forward_rank);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);
