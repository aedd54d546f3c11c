-- +goose Up
-- Masked views are computed from the encrypted value when they are asked for
-- (ADR 0004, addendum of 2026-11-29): a stored mask was plaintext at rest
-- ("j•••@smith-family.name" names a person) that erasure had to remember to
-- clear. DROP COLUMN alone only hides the values, which stay in every tuple,
-- so they are overwritten with NULL first (the old tuple versions are dead
-- from then on, and 0003 rewrites the table without them).
--
-- Replicas of the previous version cannot insert once this has run (they
-- name the column): they fail, rather than write another plaintext mask.
UPDATE tokens SET masked = NULL WHERE masked IS NOT NULL;
ALTER TABLE tokens DROP COLUMN masked;

-- +goose Down
-- The previous version reads an empty mask as an erased subject: after a
-- downgrade, masked views are unavailable until re-tokenization.
ALTER TABLE tokens ADD COLUMN masked TEXT;
