-- +goose Up
-- The pseudonymous channel subject ("chu_...") a messaging-platform user
-- had before linking an account. The token vault holds what they sent as a
-- stranger, and their platform id, under it: when the account is erased,
-- conversation erases this subject in the vault too (ADR 0014, "Channel
-- identities and delivery"). NULL while unlinked, and for links made
-- before this column (their stranger conversations still name it).
ALTER TABLE channel_identities ADD COLUMN previous_subject TEXT;

-- +goose Down
ALTER TABLE channel_identities DROP COLUMN previous_subject;
