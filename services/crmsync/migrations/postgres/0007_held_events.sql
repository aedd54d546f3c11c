-- +goose Up
-- A customer's last customer event that queued nothing for want of consent
-- (ADR 0015, "Held events"): a grant on the consent change feed releases
-- it into the queue, a withdrawal or an erasure deletes it, a newer refused
-- event replaces it. One per shop and customer. Like a delivery's payload,
-- the event (its id, kind and the mapped fields' tokens) is sealed under a
-- data key of its own, wrapped by crmsync-queue with the shop and subject
-- as associated data; subject is the customer's pseudonymous subject.
CREATE TABLE crm_held_events (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    update_time BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject)
);
CREATE INDEX crm_held_events_by_subject ON crm_held_events (subject);
-- A delivery that carries a consent mapping's withdrawn value (an opt-out):
-- it is sent even after crm_sync is withdrawn (ADR 0015, "Opt-outs first").
ALTER TABLE crm_deliveries ADD COLUMN opt_out INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE crm_deliveries DROP COLUMN opt_out;
DROP TABLE crm_held_events;
