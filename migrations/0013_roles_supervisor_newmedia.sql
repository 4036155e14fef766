-- Two city-level roles: 监督 (supervisor, reads a round's progress, ranking, objections and audit
-- log; changes nothing) and 新媒体 (new-media editor, makes the WeChat packs of awarded entries).
-- Like admin and tv they belong to no county or school.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('school', 'county', 'judge', 'admin', 'tv', 'supervisor', 'newmedia'));
ALTER TABLE users DROP CONSTRAINT users_check2;
ALTER TABLE users ADD CONSTRAINT users_city_roles_have_no_org CHECK (role NOT IN ('admin', 'tv', 'supervisor', 'newmedia') OR (county_id IS NULL AND school_id IS NULL));
