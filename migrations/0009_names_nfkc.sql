-- Names are stored normalised by the app (src/platform/validate.ts normalizeName: NFKC except
-- Chinese full-width punctuation, invisible format and bidi characters removed). Two schools in
-- one county must not differ only in width or compatibility forms either (「实验小学（东）」 vs
-- 「实验小学(东)」, full-width vs ASCII letters): uniqueness compares the full NFKC form.
-- normalize() is IMMUTABLE (PostgreSQL ≥ 13, UTF8 databases). Existing rows were typed through
-- the forms and are assumed clean; a pair that collides under NFKC makes this migration fail
-- with the two names in the error, to be renamed by hand.
-- Frozen once landed: later changes go in new numbered files.
DROP INDEX schools_county_name_uq;
CREATE UNIQUE INDEX schools_county_name_uq ON schools (coalesce(county_id, ''), normalize(name, NFKC));
