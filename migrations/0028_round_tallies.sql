-- 轮次计数 (round tallies): the rounds list shows, per round, how many entries, judges, assignments
-- and submitted scores it has. Counting them on every view meant counting 60,000 rows (an open round
-- of 10,000 entries × 5 judges plus 199 closed rounds of 50): 16-24 ms of PostgreSQL time for one
-- statement, most of the /rounds page. The database now keeps the four numbers per round, and the
-- list reads one row per round.
--
-- A table of its own, not columns on `rounds`: a score save locks the round row FOR SHARE (and a
-- close FOR UPDATE, see scoring.repository lockForChange); a trigger that updated a counter on that
-- same row would upgrade the savers' share locks and two concurrent savers would deadlock. Here a
-- submit takes only the tally row's lock, after its own write, until it commits.
--
-- Statement-level triggers with transition tables, not row triggers: assigning a round inserts
-- 50,000 assignments in one statement (batches of 1,000 in the app), and a row trigger would update
-- the same tally row once per row. Each statement adds its changes grouped by round: new rows count
-- +1, old rows −1 (an UPDATE is its old rows out and its new rows in, so a change of status or of
-- round_id is counted and anything else sums to nothing). A statement that changes no count writes
-- nothing (a draft save takes no lock on the tally).
--
-- The closed-campaign guard (cx_campaign_write_guard, 0018) runs BEFORE each row of these tables:
-- a refused write never reaches the tallies, an allowed one (retention with cx.archive_write) is
-- counted. round_tallies needs no guard of its own. Deleting a round deletes its tally (cascade);
-- the cascaded deletes of its assignments then find no round and write nothing.
-- 计数只由触发器维护；应用只读。
-- Frozen once landed: later changes go in new numbered files.

-- No write may slip between the backfill and the triggers: writers wait for this migration.
LOCK TABLE rounds, round_entries, round_judges, assignments IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE round_tallies (
  round_id     text PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
  entries      integer NOT NULL DEFAULT 0,
  judges       integer NOT NULL DEFAULT 0,
  assignments  integer NOT NULL DEFAULT 0,
  submitted    integer NOT NULL DEFAULT 0      -- assignments with status 'submitted'
);

INSERT INTO round_tallies (round_id, entries, judges, assignments, submitted)
SELECT r.id, coalesce(e.n, 0), coalesce(j.n, 0), coalesce(a.n, 0), coalesce(a.s, 0)
  FROM rounds r
  LEFT JOIN (SELECT round_id, count(*) AS n FROM round_entries GROUP BY round_id) e ON e.round_id = r.id
  LEFT JOIN (SELECT round_id, count(*) AS n FROM round_judges GROUP BY round_id) j ON j.round_id = r.id
  LEFT JOIN (SELECT round_id, count(*) AS n, count(*) FILTER (WHERE status = 'submitted') AS s FROM assignments GROUP BY round_id) a
         ON a.round_id = r.id;

-- Adds grouped changes (one element per round; a NULL array: no change of that count) to the
-- tallies, in round order (two statements touching the same rounds lock their tally rows in the
-- same order). A missing tally row (none should be: the backfill and rounds_tally_insert make one
-- per round) is created by the upsert; a round that is gone (deleted, and its assignments deleted
-- by the cascade) is skipped. PL/pgSQL, not SQL: its plan is kept for the session.
CREATE FUNCTION round_tallies_add(ids text[], d_entries int[], d_judges int[], d_assignments int[], d_submitted int[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO round_tallies AS t (round_id, entries, judges, assignments, submitted)
  SELECT d.round_id, coalesce(d.e, 0), coalesce(d.j, 0), coalesce(d.a, 0), coalesce(d.s, 0)
    FROM unnest(ids, d_entries, d_judges, d_assignments, d_submitted) AS d(round_id, e, j, a, s)
   WHERE EXISTS (SELECT 1 FROM rounds r WHERE r.id = d.round_id)
   ORDER BY d.round_id
  ON CONFLICT (round_id) DO UPDATE
     SET entries = t.entries + EXCLUDED.entries,
         judges = t.judges + EXCLUDED.judges,
         assignments = t.assignments + EXCLUDED.assignments,
         submitted = t.submitted + EXCLUDED.submitted;
END
$$;

-- A new round starts at zero.
CREATE FUNCTION round_tallies_new_round() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO round_tallies (round_id) SELECT id FROM new_rounds ORDER BY id ON CONFLICT (round_id) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER rounds_tally_insert AFTER INSERT ON rounds
  REFERENCING NEW TABLE AS new_rounds FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_new_round();

-- Assignments: ±1 per row, and per submitted row. Rounds whose counts do not change are left out
-- (a draft save, or an UPDATE that moves nothing, writes no tally).
CREATE FUNCTION round_tallies_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text[];
  n int[];
  s int[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(g.round_id), array_agg(g.n), array_agg(g.s) INTO ids, n, s
      FROM (SELECT round_id, count(*)::int AS n, (count(*) FILTER (WHERE status = 'submitted'))::int AS s
              FROM new_rows GROUP BY round_id) g;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(g.round_id), array_agg(-g.n), array_agg(-g.s) INTO ids, n, s
      FROM (SELECT round_id, count(*)::int AS n, (count(*) FILTER (WHERE status = 'submitted'))::int AS s
              FROM old_rows GROUP BY round_id) g;
  ELSIF TG_OP = 'UPDATE' THEN
    -- Old rows out, new rows in: only a changed status or round_id leaves a difference.
    SELECT array_agg(g.round_id), array_agg(g.n), array_agg(g.s) INTO ids, n, s
      FROM (SELECT round_id, sum(d.n)::int AS n, sum(d.s)::int AS s
              FROM (SELECT round_id, 1 AS n, (status = 'submitted')::int AS s FROM new_rows
                    UNION ALL
                    SELECT round_id, -1, -(status = 'submitted')::int FROM old_rows) d
             GROUP BY round_id
            HAVING sum(d.n) <> 0 OR sum(d.s) <> 0) g;
  ELSE -- TRUNCATE
    UPDATE round_tallies SET assignments = 0, submitted = 0 WHERE assignments <> 0 OR submitted <> 0;
    RETURN NULL;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM round_tallies_add(ids, NULL, NULL, n, s);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER assignments_tally_insert AFTER INSERT ON assignments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_assignments();
CREATE TRIGGER assignments_tally_delete AFTER DELETE ON assignments
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_assignments();
CREATE TRIGGER assignments_tally_update AFTER UPDATE ON assignments
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_assignments();
CREATE TRIGGER assignments_tally_truncate AFTER TRUNCATE ON assignments
  FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_assignments();

-- Entries and judges of a round: ±1 per row (an UPDATE counts only a moved round_id). TG_ARGV[0]
-- names the column: 'entries' or 'judges'.
CREATE FUNCTION round_tallies_members() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text[];
  n int[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(g.round_id), array_agg(g.n) INTO ids, n
      FROM (SELECT round_id, count(*)::int AS n FROM new_rows GROUP BY round_id) g;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(g.round_id), array_agg(-g.n) INTO ids, n
      FROM (SELECT round_id, count(*)::int AS n FROM old_rows GROUP BY round_id) g;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(g.round_id), array_agg(g.n) INTO ids, n
      FROM (SELECT round_id, sum(d.n)::int AS n
              FROM (SELECT round_id, 1 AS n FROM new_rows UNION ALL SELECT round_id, -1 FROM old_rows) d
             GROUP BY round_id
            HAVING sum(d.n) <> 0) g;
  ELSE -- TRUNCATE
    IF TG_ARGV[0] = 'entries' THEN
      UPDATE round_tallies SET entries = 0 WHERE entries <> 0;
    ELSE
      UPDATE round_tallies SET judges = 0 WHERE judges <> 0;
    END IF;
    RETURN NULL;
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  ELSIF TG_ARGV[0] = 'entries' THEN
    PERFORM round_tallies_add(ids, n, NULL, NULL, NULL);
  ELSE
    PERFORM round_tallies_add(ids, NULL, n, NULL, NULL);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER round_entries_tally_insert AFTER INSERT ON round_entries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('entries');
CREATE TRIGGER round_entries_tally_delete AFTER DELETE ON round_entries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('entries');
CREATE TRIGGER round_entries_tally_update AFTER UPDATE ON round_entries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('entries');
CREATE TRIGGER round_entries_tally_truncate AFTER TRUNCATE ON round_entries
  FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('entries');

CREATE TRIGGER round_judges_tally_insert AFTER INSERT ON round_judges
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('judges');
CREATE TRIGGER round_judges_tally_delete AFTER DELETE ON round_judges
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('judges');
CREATE TRIGGER round_judges_tally_update AFTER UPDATE ON round_judges
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('judges');
CREATE TRIGGER round_judges_tally_truncate AFTER TRUNCATE ON round_judges
  FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_members('judges');
