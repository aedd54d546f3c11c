-- +goose Up
-- A restriction of processing (GDPR Art. 18) per customer, placed by the
-- consent service's data-subject request orchestrator: while a row exists,
-- the customer's conversations refuse new messages. It is kept even when
-- the customer has no conversation yet, so that one opened later is
-- restricted too.
CREATE TABLE subject_restrictions (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    since       BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- Data-subject requests this service has carried out, by request id and
-- operation (sotto.privacy.v1's Operation numbers), so that a repeated call
-- answers already_done. No subject: the row outlives an erasure.
CREATE TABLE privacy_requests (
    request_id  TEXT NOT NULL,
    operation   BIGINT NOT NULL,
    done_time   BIGINT NOT NULL,
    PRIMARY KEY (request_id, operation)
);

-- A conversation whose customer consented to the model_improvement purpose
-- when it was last checked: retention keeps its transcript past the
-- channel's limit (up to the purpose's own), re-checking the consent first.
CREATE TABLE model_improvement (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (conversation_id),
    check_time      BIGINT NOT NULL
);

-- Retention finds idle conversations of a shop and channel by last activity.
CREATE INDEX conversations_by_activity ON conversations (tenant, channel, update_time);

-- +goose Down
DROP INDEX conversations_by_activity;
DROP TABLE model_improvement;
DROP TABLE privacy_requests;
DROP TABLE subject_restrictions;
