-- Campaigns first-class (issue 16, part 3 and 4): a lifecycle per campaign, one open for submissions,
-- closed campaigns read-only at the database, and the city's retention setting.
-- Today's data stays as it is: the one campaign ('main') becomes the open one; every row keeps its campaign_id.

ALTER TABLE campaigns ADD COLUMN year integer;
ALTER TABLE campaigns ADD COLUMN status text NOT NULL DEFAULT 'running' CHECK (status IN ('preparing', 'open', 'running', 'closed'));
ALTER TABLE campaigns ADD COLUMN rubric jsonb;                 -- default rubric of new rounds: [{ key, label, max }]
ALTER TABLE campaigns ADD COLUMN copied_from text REFERENCES campaigns(id);
ALTER TABLE campaigns ADD COLUMN closed_at timestamptz;
ALTER TABLE campaigns ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 0 AND 3650);
ALTER TABLE campaigns ADD COLUMN retention_not_awarded boolean NOT NULL DEFAULT false;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_closed_at_ck CHECK ((status = 'closed') = (closed_at IS NOT NULL));

UPDATE campaigns SET year = extract(year FROM created_at)::integer;
-- The oldest campaign (before this migration: the only one, 'main') is the one open for submissions.
UPDATE campaigns SET status = 'open' WHERE id = (SELECT id FROM campaigns ORDER BY created_at, id LIMIT 1);
ALTER TABLE campaigns ALTER COLUMN year SET NOT NULL;
ALTER TABLE campaigns ALTER COLUMN status SET DEFAULT 'preparing';

-- At most one campaign takes submissions.
CREATE UNIQUE INDEX campaigns_one_open_uq ON campaigns ((true)) WHERE status = 'open';
CREATE INDEX campaigns_year_idx ON campaigns (year DESC, created_at DESC);

-- Every list is scoped to a campaign now.
CREATE INDEX entries_campaign_idx ON entries (campaign_id, status, updated_at DESC);
CREATE INDEX rounds_campaign_idx ON rounds (campaign_id, created_at DESC);

-- A closed campaign is read-only: every write to its rows is refused here, whichever code path
-- tries it (SQLSTATE CXR01 → 409 campaign_closed). Retention sets cx.archive_write for its own writes.
CREATE FUNCTION cx_campaign_write_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ref text;
  cid text;
BEGIN
  IF coalesce(current_setting('cx.archive_write', true), '') = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  ref := CASE WHEN TG_OP = 'INSERT' THEN to_jsonb(NEW) ELSE to_jsonb(OLD) END ->> TG_ARGV[1];
  cid := CASE TG_ARGV[0]
    WHEN 'campaign' THEN ref
    WHEN 'entry' THEN (SELECT campaign_id FROM entries WHERE id = ref)
    WHEN 'round' THEN (SELECT campaign_id FROM rounds WHERE id = ref)
    WHEN 'period' THEN (SELECT campaign_id FROM periods WHERE id = ref)
  END;
  IF cid IS NOT NULL AND EXISTS (SELECT 1 FROM campaigns WHERE id = cid AND status = 'closed') THEN
    RAISE EXCEPTION 'campaign % is closed (read-only)', cid USING ERRCODE = 'CXR01';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE TRIGGER entries_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON entries FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('campaign', 'campaign_id');
CREATE TRIGGER songs_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON songs FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('campaign', 'campaign_id');
CREATE TRIGGER periods_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON periods FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('campaign', 'campaign_id');
CREATE TRIGGER rounds_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON rounds FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('campaign', 'campaign_id');
CREATE TRIGGER videos_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON videos FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('entry', 'entry_id');
CREATE TRIGGER masters_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON masters FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('entry', 'entry_id');
CREATE TRIGGER round_entries_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON round_entries FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('round', 'round_id');
CREATE TRIGGER round_judges_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON round_judges FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('round', 'round_id');
CREATE TRIGGER assignments_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON assignments FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('round', 'round_id');
CREATE TRIGGER judge_conflicts_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON judge_conflicts FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('round', 'round_id');
CREATE TRIGGER period_county_quotas_closed_guard BEFORE INSERT OR UPDATE OR DELETE ON period_county_quotas FOR EACH ROW EXECUTE FUNCTION cx_campaign_write_guard('period', 'period_id');
