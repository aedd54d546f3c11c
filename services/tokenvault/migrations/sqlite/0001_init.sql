-- +goose Up
-- subjects: one row per customer. Their data keys (DEKs) live in
-- subject_keys, only wrapped by the key-encryption key in the KeyManager
-- (Vault Transit). Erasure deletes every key row: each value of the subject
-- becomes noise.
CREATE TABLE subjects (
    tenant          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    current_version INTEGER NOT NULL,
    created_us      INTEGER  NOT NULL,
    erased_us       INTEGER,
    erase_request   TEXT,
    PRIMARY KEY (tenant, subject)
);

CREATE TABLE subject_keys (
    tenant      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    wrapped     BLOB    NOT NULL,
    kek_version INTEGER NOT NULL,
    created_us  INTEGER  NOT NULL,
    PRIMARY KEY (tenant, subject, version)
);
CREATE INDEX subject_keys_kek_version ON subject_keys (kek_version);

-- tenants: per-tenant key for deterministic tokens and exact-match lookup,
-- wrapped like the DEKs.
CREATE TABLE tenants (
    tenant      TEXT    PRIMARY KEY,
    wrapped_key BLOB    NOT NULL,
    kek_version INTEGER NOT NULL,
    created_us  INTEGER NOT NULL
);

-- tokens: the encrypted values. A deterministic token can belong to several
-- subjects (the same e-mail for two customers), hence the key; it is also
-- the exact-match lookup index (a keyed HMAC of the value).
CREATE TABLE tokens (
    token       TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    data_type   INTEGER NOT NULL,
    format      INTEGER NOT NULL,
    scope       TEXT    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    dek_version INTEGER NOT NULL,
    masked      TEXT,
    created_us  INTEGER NOT NULL,
    expires_us  INTEGER,
    PRIMARY KEY (token, tenant, subject)
) WITHOUT ROWID; -- clustered by token: one B-tree fewer to write per insert
CREATE INDEX tokens_subject ON tokens (tenant, subject, dek_version);
-- Detokenize takes a bare token, so every token that is not deterministic
-- must be unique across tenants and subjects.
CREATE UNIQUE INDEX tokens_unique ON tokens (token) WHERE format <> 2;

-- +goose Down
DROP TABLE tokens;
DROP TABLE tenants;
DROP TABLE subject_keys;
DROP TABLE subjects;
