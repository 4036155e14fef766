-- Resumable uploads whose bytes live in the S3 bucket (the production store): one object per PATCH
-- under tus/<upload id>/<first byte>, listed here so that the upload's offset is one SUM and no
-- bucket listing is needed (src/entries/bucket-tus-store.ts). With the local store (the embedded
-- default) the bytes stay in TUS_DIR and this table stays empty.
-- Frozen once landed: later changes go in new numbered files.

-- The tus Upload-Metadata as the server stored it (filename, filetype, entryId, ownerId, schoolId).
ALTER TABLE resumable_uploads ADD COLUMN metadata jsonb;

CREATE TABLE resumable_upload_parts (
  upload_id   text NOT NULL REFERENCES resumable_uploads(id) ON DELETE CASCADE,
  start_byte  bigint NOT NULL CHECK (start_byte >= 0),
  size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
  PRIMARY KEY (upload_id, start_byte)
);
