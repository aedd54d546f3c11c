-- +goose Up
-- A shop's events of a customer's browsing and order history, kept for the
-- assistant's recommendations only while the customer consents to the
-- personalisation purpose (ADR 0014, "Shopper events"). No account id:
-- shopper_id is the keyed digest of (tenant, customer subject) and
-- event_digest the keyed digest of (tenant, the shop's event id), which
-- makes a repeated event a no-op.
CREATE TABLE shopper_events (
    event_digest TEXT PRIMARY KEY,
    shopper_id   TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    sku          TEXT NOT NULL,
    event_time   INTEGER NOT NULL,
    record_time  INTEGER NOT NULL
);
CREATE INDEX shopper_events_by_shopper ON shopper_events (shopper_id, event_time);
CREATE INDEX shopper_events_by_record_time ON shopper_events (record_time);

-- +goose Down
DROP TABLE shopper_events;
