-- +goose Up
-- A messaging-platform user (a WhatsApp number, a Messenger page-scoped id)
-- per shop and channel. The platform's id is personal data: it is found
-- again by user_digest (a keyed HMAC of tenant, channel and id) and kept
-- only as user_token, a token in tokenvault that delivery detokenises.
-- subject is the account the user linked with a one-time code, or a
-- pseudonymous channel subject ("chu_...") while linked = 0: a stranger.
-- link_failures and link_blocked_until bound the codes one user may try.
CREATE TABLE channel_identities (
    identity_id        TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL,
    channel            BIGINT NOT NULL,
    user_digest        TEXT NOT NULL,
    user_token         TEXT NOT NULL,
    subject            TEXT NOT NULL,
    linked             BIGINT NOT NULL DEFAULT 0,
    link_time          BIGINT,
    link_failures      BIGINT NOT NULL DEFAULT 0,
    link_blocked_until BIGINT NOT NULL DEFAULT 0,
    create_time        BIGINT NOT NULL,
    update_time        BIGINT NOT NULL,
    UNIQUE (tenant, channel, user_digest)
);
CREATE INDEX channel_identities_by_subject ON channel_identities (subject);

-- One-time link codes, kept only as a keyed HMAC of (tenant, channel,
-- code): a code is found from what the user sends, never read back.
CREATE TABLE channel_link_codes (
    code_digest TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    channel     BIGINT NOT NULL,
    subject     TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    expire_time BIGINT NOT NULL,
    used_time   BIGINT
);
CREATE INDEX channel_link_codes_by_expiry ON channel_link_codes (expire_time);

-- Inbound platform messages already taken, by a keyed HMAC of (tenant,
-- channel, message id): a webhook replay finds its row and stores and
-- sends nothing again. message_id is empty for link attempts, which are
-- not part of the transcript.
CREATE TABLE channel_messages (
    message_digest  TEXT PRIMARY KEY,
    identity_id     TEXT NOT NULL REFERENCES channel_identities (identity_id),
    conversation_id TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    create_time     BIGINT NOT NULL
);

-- The conversations of a channel identity: replies go to the identity a
-- conversation belongs to (one account may link several numbers).
CREATE TABLE channel_conversations (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (conversation_id),
    identity_id     TEXT NOT NULL REFERENCES channel_identities (identity_id),
    create_time     BIGINT NOT NULL
);
CREATE INDEX channel_conversations_by_identity ON channel_conversations (identity_id, create_time DESC);

-- +goose Down
DROP TABLE channel_conversations;
DROP TABLE channel_messages;
DROP TABLE channel_link_codes;
DROP TABLE channel_identities;
