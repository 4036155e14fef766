-- Guardian authorisation (授权书) per entry, and the city's setting of what it takes (issue 16).

-- What the city accepts as an authorisation, per campaign: the school's declaration (default) or only a signed scan.
CREATE TABLE consent_settings (
  campaign_id   text PRIMARY KEY REFERENCES campaigns(id),
  require_scan  boolean NOT NULL DEFAULT false,
  updated_by    text REFERENCES users(id) ON DELETE SET NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One authorisation per entry: the school's declaration and/or a signed scan (kept privately in the
-- bucket under consents/<entryId>/<scanId>), with its scopes. A withdrawn scope is false again; a
-- whole withdrawal sets withdrawn_at. An erasure on request clears names and the scan (erased_at).
CREATE TABLE entry_consents (
  entry_id           text PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
  campaign_id        text NOT NULL REFERENCES campaigns(id),
  school_id          text NOT NULL REFERENCES schools(id),
  declaration        boolean NOT NULL DEFAULT false,
  signer_name        text,
  signer_post        text,
  scope_broadcast    boolean NOT NULL DEFAULT false,
  scope_newmedia     boolean NOT NULL DEFAULT false,
  scope_public       boolean NOT NULL DEFAULT false,
  scan_key           text,
  scan_type          text CHECK (scan_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  scan_name          text,
  scan_bytes         bigint,
  recorded_by        text REFERENCES users(id) ON DELETE SET NULL,
  recorded_at        timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  withdrawn_at       timestamptz,
  withdrawal_reason  text,
  erased_at          timestamptz,
  CHECK (declaration OR scan_key IS NOT NULL OR erased_at IS NOT NULL)
);
CREATE INDEX entry_consents_school_idx ON entry_consents (school_id);
