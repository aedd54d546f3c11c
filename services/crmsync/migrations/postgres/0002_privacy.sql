-- +goose Up
-- What a delivery sent, in the forms sent (tokens, masked views; a
-- plaintext value as its token), for the subject's export: sealed with the
-- delivery's data key (sent_key is its wrapped copy) under its own
-- associated data. An erasure deletes the rows; the key goes with them.
ALTER TABLE crm_deliveries ADD COLUMN sent_key TEXT;
ALTER TABLE crm_deliveries ADD COLUMN sent BYTEA;
CREATE INDEX crm_deliveries_by_tenant_subject ON crm_deliveries (tenant, subject, create_time);

-- Subjects whose processing is restricted (GDPR Art. 18): nothing is sent
-- for them until the restriction is lifted.
CREATE TABLE crm_restrictions (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- The answer to each data-subject request's operation, so a repeated call
-- answers with the same evidence. subject_digest is a keyed HMAC of the
-- tenant and subject (a request id reused for someone else is refused);
-- evidence is the protojson of sotto.privacy.v1.Evidence (counts, digests,
-- times; no values).
CREATE TABLE crm_privacy_ops (
    request_id     TEXT NOT NULL,
    op             INTEGER NOT NULL,
    subject_digest TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    done_time      BIGINT NOT NULL,
    PRIMARY KEY (request_id, op)
);

-- Erasure evidence: each CRM the subject was sent to answered not-found
-- for the record after its delete. external_id_digest is a keyed HMAC of
-- the tenant, connector and external id (the subject), never the id.
CREATE TABLE crm_erasures (
    request_id         TEXT NOT NULL,
    tenant             TEXT NOT NULL,
    connector          TEXT NOT NULL,
    external_id_digest TEXT NOT NULL,
    not_found_time     BIGINT NOT NULL,
    PRIMARY KEY (request_id, connector)
);

-- +goose Down
DROP TABLE crm_erasures;
DROP TABLE crm_privacy_ops;
DROP TABLE crm_restrictions;
DROP INDEX crm_deliveries_by_tenant_subject;
ALTER TABLE crm_deliveries DROP COLUMN sent;
ALTER TABLE crm_deliveries DROP COLUMN sent_key;
