-- +goose Up
-- email_proven: the account's mailbox was proved at least once (a
-- verification code or a password reset). email_verified says whether the
-- current address is proved; a rectified address (data-subject request) is
-- not, until its code is used. Only the first proof of any address clears
-- what was attached before it (factors, sessions): a later one follows a
-- change the proved owner asked for.
ALTER TABLE accounts ADD COLUMN email_proven INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET email_proven = email_verified;

-- +goose Down
ALTER TABLE accounts DROP COLUMN email_proven;
