-- +goose Up
-- One change on its way to one CRM of one shop (a customer event becomes a
-- delivery per mapped connector). The payload (the customer's subject and
-- the mapped fields' tokens) is encrypted with a data key of its own,
-- wrapped by the KeyManager key crmsync-queue with the delivery's id as
-- associated data; both are deleted once the delivery is finished
-- (delivered, cancelled, discarded), so a finished delivery keeps no
-- values, only which properties it set (properties) for the ledger.
-- subject is the customer's pseudonymous subject (identity's), the key
-- consent and erasure find deliveries by. state is sotto.crmsync.v1's
-- DeliveryState; job_id the pkg/jobs job that runs the current attempt.
CREATE TABLE crm_deliveries (
    delivery_id  TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    connector    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    state        INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    reason       TEXT NOT NULL DEFAULT '',
    purposes     TEXT NOT NULL,
    properties   TEXT NOT NULL,
    job_id       BIGINT NOT NULL DEFAULT 0,
    wrapped_key  TEXT,
    payload      BYTEA,
    create_time  BIGINT NOT NULL,
    update_time  BIGINT NOT NULL,
    UNIQUE (tenant, event_id, connector)
);
CREATE INDEX crm_deliveries_by_time ON crm_deliveries (create_time DESC, delivery_id DESC);
CREATE INDEX crm_deliveries_by_state ON crm_deliveries (state, create_time DESC, delivery_id DESC);
CREATE INDEX crm_deliveries_by_subject ON crm_deliveries (subject, state);

-- +goose Down
DROP TABLE crm_deliveries;
