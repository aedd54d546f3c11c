-- +goose NO TRANSACTION
-- +goose Up
-- The WAL keeps page images from before 0002 (with the raw request ids in
-- them) until they are overwritten: copy it into the database file and
-- truncate it. Idempotent, so a crash before goose records it costs nothing.
PRAGMA wal_checkpoint(TRUNCATE);

-- +goose Down
