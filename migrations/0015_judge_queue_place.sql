-- The judge's queue in index order (issue 14). A judge's queue sorts by: unsubmitted first, then the
-- round's creation time and id, then the round's label of the entry (blind) or its code, then the
-- assignment id. All but the first are fixed once the assignment exists, so each assignment keeps
-- them (queue_round_at, queue_key), and one index holds everything a page needs to choose its rows:
-- a page of the queue is an index-only scan of the judge's part of it and a top-N sort, instead of
-- joining round_entries and entries for the judge's whole queue on every request (1,000
-- assignments: 10-30 ms of execution, now 1-3 ms).
--
-- Triggers keep the copies right whatever writes the rows: a new assignment takes them from its
-- round, round entry and entry; a round that changes `blind` (allowed while it is a draft) or its
-- creation time, a round entry's label and an entry's code rewrite the copies of their assignments.
-- An assignment whose entry is not in its round has no key (NULL) and is not in any queue, as
-- before (the queue joined round_entries).
-- Frozen once landed: later changes go in new numbered files.

ALTER TABLE assignments ADD COLUMN queue_round_at timestamptz;
ALTER TABLE assignments ADD COLUMN queue_key text;

UPDATE assignments a
   SET queue_round_at = r.created_at,
       queue_key = CASE WHEN r.blind THEN re.label ELSE e.code END
  FROM rounds r, round_entries re, entries e
 WHERE r.id = a.round_id AND re.round_id = a.round_id AND re.entry_id = a.entry_id AND e.id = a.entry_id;

CREATE FUNCTION assignment_queue_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.queue_round_at := NULL;
  NEW.queue_key := NULL;
  SELECT r.created_at, CASE WHEN r.blind THEN re.label ELSE e.code END
    INTO NEW.queue_round_at, NEW.queue_key
    FROM rounds r
    JOIN round_entries re ON re.round_id = r.id AND re.entry_id = NEW.entry_id
    JOIN entries e ON e.id = NEW.entry_id
   WHERE r.id = NEW.round_id;
  RETURN NEW;
END
$$;

CREATE TRIGGER assignments_queue_place
  BEFORE INSERT OR UPDATE OF round_id, entry_id, queue_round_at, queue_key ON assignments
  FOR EACH ROW EXECUTE FUNCTION assignment_queue_place();

CREATE FUNCTION round_queue_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Setting round_id to itself re-runs assignment_queue_place for each of the round's assignments.
  UPDATE assignments SET round_id = round_id WHERE round_id = NEW.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER rounds_queue_places
  AFTER UPDATE OF blind, created_at ON rounds
  FOR EACH ROW WHEN (OLD.blind IS DISTINCT FROM NEW.blind OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION round_queue_places();

CREATE FUNCTION round_entry_queue_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assignments SET round_id = round_id WHERE round_id = NEW.round_id AND entry_id = NEW.entry_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER round_entries_queue_places
  AFTER UPDATE OF label ON round_entries
  FOR EACH ROW WHEN (OLD.label IS DISTINCT FROM NEW.label)
  EXECUTE FUNCTION round_entry_queue_places();

CREATE FUNCTION entry_queue_places() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE assignments a SET round_id = a.round_id
    FROM round_entries re
   WHERE re.entry_id = NEW.id AND a.round_id = re.round_id AND a.entry_id = NEW.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER entries_queue_places
  AFTER UPDATE OF code ON entries
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code)
  EXECUTE FUNCTION entry_queue_places();

-- The judge's queue: every column a page reads to choose and order its rows (status decides
-- "unsubmitted first", reopened_at whether a closed round's score is visible), so the choice is an
-- index-only scan. (An index on the sort expression `status = 'submitted'` was tried: PostgreSQL
-- estimates the round's visibility filter at 0.5 % of the judge's rows, so it never used the
-- ordered scan, and an expression column rules out index-only scans.)
CREATE INDEX assignments_queue_idx ON assignments (judge_id, status, queue_round_at, round_id, queue_key, id) INCLUDE (reopened_at);

-- The rounds list counts each round's assignments and submitted scores (a round of 10,000 entries
-- × 5 judges has 50,000): from this index alone (an index-only scan), not the table's rows.
CREATE INDEX assignments_round_status_idx ON assignments (round_id, status);
