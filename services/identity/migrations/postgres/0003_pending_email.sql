-- +goose Up
-- A corrected e-mail address (a data-subject rectification) waits here until
-- the code mailed to it is used; the login name (email_token) stays the
-- current address until then, so a mistyped or hostile correction never
-- locks the owner out. pending_email_token and pending_email_mask_token are
-- the new address's deterministic and random tokens; pending_email_code is
-- the SHA-256 of the one code that may make it the login name (a newer
-- correction replaces all three, so an older code proves nothing). '' when
-- no change is pending.
ALTER TABLE accounts ADD COLUMN pending_email_token TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN pending_email_mask_token TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN pending_email_code TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE accounts DROP COLUMN pending_email_code;
ALTER TABLE accounts DROP COLUMN pending_email_mask_token;
ALTER TABLE accounts DROP COLUMN pending_email_token;
