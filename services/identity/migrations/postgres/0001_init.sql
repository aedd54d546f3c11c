-- +goose Up
-- Identity's schema. No raw personal data: e-mail addresses and phone numbers
-- are deterministic tokens of the token vault; passwords are argon2id PHC
-- strings; codes, refresh tokens and client secrets are SHA-256 of random
-- values of 256 bits; TOTP secrets are wrapped by the KeyManager; recovery
-- codes are HMACs under it. Times are microseconds since the epoch (_us),
-- 0 for "never". Booleans are 0/1 in both dialects, so one SQL text serves both.

-- accounts: customers (tenant set) and staff (tenant ''). The login name is
-- (kind, tenant, email_token), the address's deterministic token;
-- email_mask_token is a random token of the same address, unique to the
-- account, for its masked view. webauthn_handle is the random WebAuthn user
-- handle (never the account id). failed_logins / locked_until_us and
-- mfa_failures / mfa_locked_until_us are the lockout counters, reserved
-- atomically before a password or code is evaluated.
CREATE TABLE accounts (
    account_id          TEXT    PRIMARY KEY,
    kind                TEXT    NOT NULL,
    tenant              TEXT    NOT NULL,
    email_token         TEXT    NOT NULL,
    email_mask_token    TEXT    NOT NULL DEFAULT '',
    phone_token         TEXT    NOT NULL DEFAULT '',
    email_verified      INTEGER NOT NULL DEFAULT 0,
    roles               TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until_us     BIGINT NOT NULL DEFAULT 0,
    mfa_failures        INTEGER NOT NULL DEFAULT 0,
    mfa_locked_until_us BIGINT NOT NULL DEFAULT 0,
    request_id          TEXT,
    webauthn_handle     BYTEA,
    created_us          BIGINT NOT NULL,
    updated_us          BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_login ON accounts (kind, tenant, email_token);
CREATE UNIQUE INDEX accounts_request ON accounts (request_id);
CREATE UNIQUE INDEX accounts_webauthn_handle ON accounts (webauthn_handle);

-- bootstrap: at most one row, ever: the first admin BootstrapAdmin created.
CREATE TABLE bootstrap (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    account_id TEXT    NOT NULL,
    created_us BIGINT NOT NULL
);

-- codes: e-mail verification, password reset and staff password-set codes,
-- by the SHA-256 of the code; single use (used_us), expiring.
CREATE TABLE codes (
    code_hash  TEXT    PRIMARY KEY,
    account_id TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    expires_us BIGINT NOT NULL,
    used_us    BIGINT NOT NULL DEFAULT 0,
    created_us BIGINT NOT NULL
);
CREATE INDEX codes_account ON codes (account_id, purpose);

-- sessions: one per login; aal/amr/auth_time say how the user authenticated
-- last (a step-up moves them). expires_us is absolute, whatever the refreshes.
CREATE TABLE sessions (
    session_id   TEXT    PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    aal          INTEGER NOT NULL,
    amr          TEXT    NOT NULL,
    auth_time_us BIGINT NOT NULL,
    created_us   BIGINT NOT NULL,
    last_used_us BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL,
    revoked_us   BIGINT NOT NULL DEFAULT 0,
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id, created_us);

-- refresh_tokens: the SHA-256 of each refresh token a session was given; a
-- token is spent when rotated_us is set. Presenting a spent one revokes the
-- session (the family).
CREATE TABLE refresh_tokens (
    token_hash TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL,
    created_us BIGINT NOT NULL,
    rotated_us BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- revocations: what WatchRevocations starts a new subscriber with (every
-- revocation whose access tokens may still be valid); each is also an event
-- in the outbox, written in the same transaction.
CREATE TABLE revocations (
    kind       TEXT    NOT NULL,
    target_id  TEXT    NOT NULL,
    revoked_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL,
    PRIMARY KEY (kind, target_id)
);
CREATE INDEX revocations_expiry ON revocations (expires_us);

-- factors: TOTP (wrapped secret, last accepted time step; pending until the
-- first code confirms it) and WebAuthn credentials.
CREATE TABLE factors (
    factor_id          TEXT    PRIMARY KEY,
    account_id         TEXT    NOT NULL,
    type               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    display_name       TEXT    NOT NULL DEFAULT '',
    secret             BYTEA,
    last_used_step     BIGINT NOT NULL DEFAULT 0,
    credential_id      BYTEA,
    credential         BYTEA,
    pending_expires_us BIGINT NOT NULL DEFAULT 0,
    created_us         BIGINT NOT NULL,
    last_used_us       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX factors_account ON factors (account_id);
CREATE UNIQUE INDEX factors_credential ON factors (credential_id);

-- recovery_codes: HMACs of the account's current set; used marks a spent one.
CREATE TABLE recovery_codes (
    account_id  TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    mac         BYTEA    NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, idx)
);

-- webauthn_ceremonies: the server side of a registration or login ceremony
-- between its begin and finish; taken (deleted) once.
CREATE TABLE webauthn_ceremonies (
    ceremony_id TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    account_id  TEXT    NOT NULL DEFAULT '',
    session_id  TEXT    NOT NULL DEFAULT '',
    tenant      TEXT    NOT NULL DEFAULT '',
    display_name TEXT   NOT NULL DEFAULT '',
    data        BYTEA    NOT NULL,
    expires_us  BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_us);

-- clients: integrators. secret_hash is the SHA-256 of a 256-bit secret, or
-- public_jwk an Ed25519 key for private_key_jwt.
CREATE TABLE clients (
    client_id    TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL DEFAULT '',
    public_jwk   TEXT    NOT NULL DEFAULT '',
    created_us   BIGINT NOT NULL,
    revoked_us   BIGINT NOT NULL DEFAULT 0
);

-- client_assertions: jti of private-key JWT assertions seen, until they
-- expire, so that one is never accepted twice (RFC 7523 section 3).
CREATE TABLE client_assertions (
    client_id  TEXT    NOT NULL,
    jti        TEXT    NOT NULL,
    expires_us BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertions_expiry ON client_assertions (expires_us);

-- +goose Down
DROP TABLE client_assertions;
DROP TABLE clients;
DROP TABLE webauthn_ceremonies;
DROP TABLE recovery_codes;
DROP TABLE factors;
DROP TABLE revocations;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE codes;
DROP TABLE bootstrap;
DROP TABLE accounts;
