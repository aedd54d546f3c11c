-- +goose Up
-- Data-subject requests (internal/dsr). Times are Unix microseconds, 0 for
-- "not yet". The request key a client chose is kept only as a keyed digest
-- (as consent_requests keeps request ids), and the corrections of a
-- rectification, which are personal data, only sealed under the Transit key
-- consent-dsr (additional data: the request id) while the request is open.
CREATE TABLE dsr_requests (
    request_id           TEXT PRIMARY KEY,
    tenant               TEXT NOT NULL,
    subject              TEXT NOT NULL,
    type                 BIGINT NOT NULL,
    state                BIGINT NOT NULL,
    jurisdiction         TEXT NOT NULL,
    regime               BIGINT NOT NULL,
    receive_time         BIGINT NOT NULL,
    ack_due_time         BIGINT NOT NULL,
    ack_time             BIGINT NOT NULL,
    due_time             BIGINT NOT NULL,
    original_due_time    BIGINT NOT NULL,
    extension_reason     BIGINT NOT NULL,
    paused_us            BIGINT NOT NULL,
    paused_since         BIGINT NOT NULL,
    pause_reason         BIGINT NOT NULL,
    created_by_staff     BIGINT NOT NULL,
    verification_method  BIGINT NOT NULL,
    rejection_reason     BIGINT NOT NULL,
    lift_restriction     BIGINT NOT NULL,
    sealed_corrections   BYTEA,
    correction_count     BIGINT NOT NULL,
    close_time           BIGINT NOT NULL,
    export_expire_time   BIGINT NOT NULL,
    export_download_time BIGINT NOT NULL,
    request_key_hmac     TEXT NOT NULL,
    content_hmac         TEXT NOT NULL,
    transitions          BIGINT NOT NULL
);
CREATE UNIQUE INDEX dsr_requests_key ON dsr_requests (tenant, subject, request_key_hmac);
-- One open request per type and subject (DUPLICATE_REQUEST).
CREATE UNIQUE INDEX dsr_requests_open_type ON dsr_requests (tenant, subject, type) WHERE close_time = 0;
-- Open requests by due time (ListRequests, the metrics).
CREATE INDEX dsr_requests_due ON dsr_requests (close_time, due_time, request_id);
CREATE INDEX dsr_requests_subject ON dsr_requests (subject, tenant, receive_time);

-- One participant's part of a request. Evidence is privacy.v1.Evidence as
-- JSON: counts and key ids, never values.
CREATE TABLE dsr_steps (
    request_id        TEXT NOT NULL,
    participant       TEXT NOT NULL,
    operation         BIGINT NOT NULL,
    state             BIGINT NOT NULL,
    attempts          BIGINT NOT NULL,
    last_error_reason TEXT NOT NULL,
    evidence          TEXT NOT NULL,
    done_time         BIGINT NOT NULL,
    PRIMARY KEY (request_id, participant)
);

-- Every state change of a request, oldest first.
CREATE TABLE dsr_transitions (
    request_id     TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    from_state     BIGINT NOT NULL,
    to_state       BIGINT NOT NULL,
    time           BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    audit_event_id TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);

-- Subjects whose processing is restricted (GDPR Art. 18): Check denies
-- every purpose but legal obligations.
CREATE TABLE consent_restrictions (
    subject     TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    create_time BIGINT NOT NULL
);

-- What consent's own participant answered, per request and operation, so
-- that a repeated call answers already_done with the first evidence.
CREATE TABLE dsr_participant_ops (
    request_id  TEXT NOT NULL,
    operation   BIGINT NOT NULL,
    evidence    TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (request_id, operation)
);

-- +goose Down
DROP TABLE dsr_participant_ops;
DROP TABLE consent_restrictions;
DROP TABLE dsr_transitions;
DROP TABLE dsr_steps;
DROP TABLE dsr_requests;
