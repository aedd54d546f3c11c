-- +goose Up
-- Held events expire (ADR 0015, "Held events expire"): the periodic
-- reconcile deletes those older than CRMSYNC_HELD_TTL by this index.
CREATE INDEX crm_held_events_by_time ON crm_held_events (update_time);

-- +goose Down
DROP INDEX crm_held_events_by_time;
