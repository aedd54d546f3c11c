-- +goose Up
-- Changes made in the shops' CRMs, as crmsync decided them (ADR 0015,
-- "Inbound"): one row per CRM event, so a redelivered or replayed event is
-- a duplicate. No value, token or subject: the field's key is a keyed
-- digest of (tenant, subject, field), kept to tell an out-of-order change
-- (older than the one applied last) from a new one.
CREATE TABLE crm_inbound (
    tenant     TEXT NOT NULL,
    connector  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    field_key  TEXT NOT NULL,
    outcome    INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    occur_time BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (tenant, connector, event_id)
);
CREATE INDEX crm_inbound_field ON crm_inbound (field_key, occur_time);

-- +goose Down
DROP TABLE crm_inbound;
