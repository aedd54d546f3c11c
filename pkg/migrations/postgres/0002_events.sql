-- Domain events (pkg/events): an outbox log of events committed with the
-- state change they describe, read by change feeds and per-consumer relays.
-- seq is the cursor; pkg/events takes a transaction-level advisory lock
-- before it draws a seq, so on PostgreSQL too a seq commits only after every
-- lower one (see the package documentation).

-- +goose Up
CREATE TABLE event_outbox (
    seq          BIGSERIAL PRIMARY KEY,
    event_id     TEXT      NOT NULL UNIQUE,
    topic        TEXT      NOT NULL,
    event_key    TEXT      NOT NULL,
    payload      BYTEA     NOT NULL,
    -- 0: payload in plaintext; N: sealed under event_keys version N.
    key_version  INTEGER   NOT NULL DEFAULT 0,
    -- Unix microseconds from the publisher's clock, for retention.
    published_at BIGINT    NOT NULL
);
CREATE INDEX event_outbox_topic_seq ON event_outbox (topic, seq);

-- One row: the log's identity (a cursor from another database, or from
-- before the table was recreated, is refused) and how far it was trimmed.
CREATE TABLE event_log (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    log_id          BYTEA   NOT NULL,
    trimmed_through BIGINT  NOT NULL
);
INSERT INTO event_log (singleton, log_id, trimmed_through)
VALUES (1, decode(replace(gen_random_uuid()::text, '-', ''), 'hex'), 0);

-- Relays' cursors: the last seq each consumer has dealt with.
CREATE TABLE event_consumers (
    name TEXT   PRIMARY KEY,
    seq  BIGINT NOT NULL
);

-- Events a consumer's destination refused for good, set aside.
CREATE TABLE event_rejections (
    consumer TEXT   NOT NULL,
    seq      BIGINT NOT NULL,
    event_id TEXT   NOT NULL,
    topic    TEXT   NOT NULL,
    PRIMARY KEY (consumer, seq)
);

-- Data keys that seal payloads, wrapped by the service's KeyManager.
CREATE TABLE event_keys (
    version INTEGER PRIMARY KEY,
    wrapped BYTEA   NOT NULL
);

-- +goose Down
DROP TABLE event_keys;
DROP TABLE event_rejections;
DROP TABLE event_consumers;
DROP TABLE event_log;
DROP TABLE event_outbox;
