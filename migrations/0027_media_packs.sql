-- The new-media pack (issue 19): per awarded entry, the WeChat official-account video, the 视频号
-- vertical version, two covers and a post draft, made by the `newmedia.pack` job.

CREATE TABLE media_packs (
  id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id   text NOT NULL REFERENCES campaigns(id),
  entry_id      text NOT NULL UNIQUE REFERENCES entries(id) ON DELETE CASCADE,   -- one current pack per entry
  video_id      text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  error         text,                                  -- Chinese, with the measured values
  texts         jsonb NOT NULL,                        -- title card, credits, cover title and the post draft
  outputs       jsonb,                                 -- object keys and sizes of the four files
  measured      jsonb,                                 -- the verification's readings of the files
  max_bytes     bigint NOT NULL,                       -- the size limit the pack was made for
  requested_by  text REFERENCES users(id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  ready_at      timestamptz
);
CREATE INDEX media_packs_campaign_idx ON media_packs (campaign_id, status);

ALTER TABLE downloads DROP CONSTRAINT downloads_kind_check;
ALTER TABLE downloads ADD CONSTRAINT downloads_kind_check
  CHECK (kind IN ('master', 'programme_xlsx', 'programme_csv', 'archive', 'media_pack', 'media_pack_archive'));
