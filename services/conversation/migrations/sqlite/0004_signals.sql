-- +goose Up
-- Suspicious activity (internal/signals). Nothing here is personal data
-- in the clear: scope_key is a keyed HMAC of (shop, scope, the
-- conversation, visitor, account id or client address), value_digest a
-- keyed HMAC of a value (the message path's placeholder digest for cards
-- and e-mail addresses, a signals digest for order numbers) or a random
-- event id for messages counted by velocity.
CREATE TABLE signal_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_key    TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    value_digest TEXT NOT NULL,
    create_time  INTEGER NOT NULL
);
CREATE INDEX signal_events_by_key ON signal_events (scope_key, kind, create_time, value_digest);
CREATE INDEX signal_events_by_time ON signal_events (create_time);

-- One row per signal a rule raised: ids, kinds, counts and times only.
-- expire_time ends a throttle, step-up or block (0: the action does not
-- last); clear_time is when a staff member lifted it (0: not cleared).
-- conversation_id is not a foreign key: signals outlive a conversation's
-- retention, as the audit trail does.
CREATE TABLE signals (
    signal_id       TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    kind            INTEGER NOT NULL,
    scope           INTEGER NOT NULL,
    scope_key       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    action          INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    create_time     INTEGER NOT NULL,
    expire_time     INTEGER NOT NULL DEFAULT 0,
    clear_time      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signals_by_time ON signals (create_time DESC, signal_id DESC);
CREATE INDEX signals_by_conversation ON signals (conversation_id, create_time DESC, signal_id DESC);
CREATE INDEX signals_by_key ON signals (scope_key, kind, action, create_time);

-- +goose Down
DROP TABLE signals;
DROP TABLE signal_events;
