-- +goose Up
-- A "LINK <code>" with a valid code is only a request: the platform user is
-- told a shop account asked to link the chat and must answer YES from the
-- same chat while the code is valid (ADR 0014, "Review fixes (session 6)").
-- One pending confirmation per channel identity, by the code's keyed digest.
CREATE TABLE channel_link_confirmations (
    identity_id TEXT PRIMARY KEY,
    code_digest TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    expire_time INTEGER NOT NULL
);

-- Replay records of platform messages whose identity was erased: only the
-- keyed digest of (tenant, channel, message id), no identity or subject,
-- so that a platform's retry after an erasure does not create the person
-- again. Deleted by the retention sweep after 7 days.
CREATE TABLE channel_message_tombstones (
    message_digest TEXT PRIMARY KEY,
    erase_time     INTEGER NOT NULL
);
CREATE INDEX channel_message_tombstones_by_time ON channel_message_tombstones (erase_time);

-- +goose Down
DROP TABLE channel_message_tombstones;
DROP TABLE channel_link_confirmations;
