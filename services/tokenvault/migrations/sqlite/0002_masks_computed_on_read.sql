-- +goose Up
-- Masked views are computed from the encrypted value when they are asked for
-- (ADR 0004, addendum of 2026-11-29): a stored mask was plaintext at rest
-- ("j•••@smith-family.name" names a person) that erasure had to remember to
-- clear. Dropping the column rewrites every row without it; secure_delete,
-- set on every connection, zeroes the bytes the old cells held. 0003 then
-- empties the WAL, which still holds the old pages.
--
-- Replicas of the previous version cannot insert once this has run (they
-- name the column): they fail, rather than write another plaintext mask.
ALTER TABLE tokens DROP COLUMN masked;

-- +goose Down
-- The previous version reads an empty mask as an erased subject: after a
-- downgrade, masked views are unavailable until re-tokenization.
ALTER TABLE tokens ADD COLUMN masked TEXT;
