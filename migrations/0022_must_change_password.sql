-- An initial password (typed by whoever created the account) or one reset by an administrator must
-- be replaced by the account's owner at the next sign-in. Accounts that exist already keep working.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
