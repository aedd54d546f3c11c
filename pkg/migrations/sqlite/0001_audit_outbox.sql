-- The audit outbox (pkg/auditclient): events committed with the state change
-- they describe, relayed to the audit service. IF NOT EXISTS because services
-- created before the platform schema existed made this table themselves.

-- +goose Up
CREATE TABLE IF NOT EXISTS audit_outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT    NOT NULL UNIQUE,
    payload  BLOB    NOT NULL,
    rejected BOOLEAN NOT NULL DEFAULT FALSE
);

-- +goose Down
DROP TABLE audit_outbox;
