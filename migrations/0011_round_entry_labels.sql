-- Blind labels (issue 13): every entry of a round gets a per-round label such as "B-017", assigned
-- by a random permutation when the entry is put in the round (src/judging/round.service.ts). Judges
-- of a blind round see only this label — never the entry code, which is public on the 公示 page.
-- The letter is the round's place in creation order (A, B, …, Z, A, …); the number is random.
-- Frozen once landed: later changes go in new numbered files.

ALTER TABLE round_entries ADD COLUMN label text;

WITH ord AS (
  SELECT id, chr(65 + ((row_number() OVER (ORDER BY created_at, id) - 1) % 26)::int) AS letter FROM rounds
), lab AS (
  SELECT re.round_id, re.entry_id,
         ord.letter || '-' || lpad((row_number() OVER (PARTITION BY re.round_id ORDER BY random()))::text, 3, '0') AS label
  FROM round_entries re JOIN ord ON ord.id = re.round_id
)
UPDATE round_entries re SET label = lab.label FROM lab WHERE lab.round_id = re.round_id AND lab.entry_id = re.entry_id;

ALTER TABLE round_entries ALTER COLUMN label SET NOT NULL;
CREATE UNIQUE INDEX round_entries_label_idx ON round_entries (round_id, label);
