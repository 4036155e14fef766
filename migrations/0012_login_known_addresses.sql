-- Login protection (issue 13): the addresses an account has logged in from. An address on this
-- list is not slowed by the account-wide ceiling (failures from elsewhere) nor refused by the
-- address-wide ceiling (other accounts' failures behind the same NAT); the per (account, address)
-- delays still apply to it. See src/accounts/auth.service.ts.
-- Frozen once landed: later changes go in new numbered files.

CREATE TABLE login_known_addresses (
  username         text NOT NULL,
  ip               text NOT NULL,
  last_success_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, ip)
);

CREATE INDEX login_failures_pair_idx ON login_failures (username, ip, at);
