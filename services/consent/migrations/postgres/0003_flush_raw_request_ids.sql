-- +goose NO TRANSACTION
-- +goose Up
-- 0002 left the raw request ids in dead tuples of consent_requests and in
-- its primary-key index, which plain VACUUM marks reusable without
-- overwriting. VACUUM FULL writes the live rows and a new index to new
-- files and removes the old ones. It locks consent_requests while it runs,
-- which is brief: the table was just emptied. Idempotent, so a crash before
-- goose records it costs nothing.
VACUUM FULL consent_requests;

-- +goose Down
