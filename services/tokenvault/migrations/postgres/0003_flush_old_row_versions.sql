-- +goose NO TRANSACTION
-- +goose Up
-- 0002 left the plaintext masks in dead tuple versions, which plain VACUUM
-- marks reusable without overwriting. VACUUM FULL writes the live rows to a
-- new file and removes the old one. It holds an exclusive lock on tokens
-- while it runs: on a large table, run this upgrade in a maintenance window
-- (the previous version's replicas cannot write after 0002 anyway).
-- Idempotent, so a crash before goose records it costs nothing.
VACUUM FULL tokens;

-- +goose Down
