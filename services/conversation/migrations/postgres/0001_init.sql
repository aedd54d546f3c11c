-- +goose Up
-- A conversation names its customer by account id (the data subject) and
-- holds no other personal data.
CREATE TABLE conversations (
    conversation_id  TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    channel          BIGINT NOT NULL,
    state            BIGINT NOT NULL,
    customer_subject TEXT NOT NULL,
    create_time      BIGINT NOT NULL,
    update_time      BIGINT NOT NULL
);
CREATE INDEX conversations_by_customer ON conversations (customer_subject, create_time DESC, conversation_id DESC);
CREATE INDEX conversations_by_time ON conversations (create_time DESC, conversation_id DESC);

-- Messages hold placeholder text only. channel_digest is the keyed HMAC of
-- a channel's message id (never the id: a WhatsApp wamid embeds the
-- sender's number); reply_to links the assistant's reply to the message it
-- answers, so a replayed post returns both.
CREATE TABLE messages (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id),
    author          BIGINT NOT NULL,
    text            TEXT NOT NULL,
    create_time     BIGINT NOT NULL,
    channel_digest  TEXT,
    reply_to        TEXT
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_channel_digest ON messages (conversation_id, channel_digest) WHERE channel_digest IS NOT NULL;

-- One conversation's placeholder map: each placeholder stands for a token
-- in tokenvault. value_digest (a keyed HMAC of the type and value, per
-- conversation) gives a value seen again the placeholder it had; the value
-- itself is never stored here.
CREATE TABLE placeholders (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id),
    placeholder     TEXT NOT NULL,
    pii_type        TEXT NOT NULL,
    number          BIGINT NOT NULL,
    token           TEXT NOT NULL,
    value_digest    TEXT NOT NULL,
    create_time     BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, placeholder),
    UNIQUE (conversation_id, pii_type, value_digest),
    UNIQUE (conversation_id, pii_type, number)
);

-- +goose Down
DROP TABLE placeholders;
DROP TABLE messages;
DROP TABLE conversations;
