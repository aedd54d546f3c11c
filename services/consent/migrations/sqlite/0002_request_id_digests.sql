-- +goose Up
-- Request ids are chosen by the client and their pattern admits a card
-- number or a name, so they are kept only as a keyed digest (HMAC-SHA256
-- under a key derived from the receipt key's HMAC secret, internal/consent).
-- SQL cannot compute that digest (the key is in the KeyManager), so the raw
-- ids of the previous release are deleted rather than rewritten. What that
-- costs: a client retrying across the upgrade a grant or withdrawal it sent
-- before gets a second record of the same decision instead of the first
-- answer; the state and the proof are unchanged. secure_delete, set on every
-- connection, zeroes the bytes the deleted cells held; 0003 then empties
-- the WAL, which still holds the old pages.
--
-- Replicas of the previous version cannot insert once this has run (they
-- name the old column): they fail, rather than store another raw id.
DELETE FROM consent_requests;
ALTER TABLE consent_requests RENAME COLUMN request_id TO request_hmac;

-- +goose Down
-- The previous version stores raw ids; the digests mean nothing to it.
DELETE FROM consent_requests;
ALTER TABLE consent_requests RENAME COLUMN request_hmac TO request_id;
