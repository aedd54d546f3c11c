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
    type                 INTEGER NOT NULL,
    state                INTEGER NOT NULL,
    jurisdiction         TEXT NOT NULL,
    regime               INTEGER NOT NULL,
    receive_time         INTEGER NOT NULL,
    ack_due_time         INTEGER NOT NULL,
    ack_time             INTEGER NOT NULL,
    due_time             INTEGER NOT NULL,
    original_due_time    INTEGER NOT NULL,
    extension_reason     INTEGER NOT NULL,
    paused_us            INTEGER NOT NULL,
    paused_since         INTEGER NOT NULL,
    pause_reason         INTEGER NOT NULL,
    created_by_staff     INTEGER NOT NULL,
    verification_method  INTEGER NOT NULL,
    rejection_reason     INTEGER NOT NULL,
    lift_restriction     INTEGER NOT NULL,
    sealed_corrections   BLOB,
    correction_count     INTEGER NOT NULL,
    close_time           INTEGER NOT NULL,
    export_expire_time   INTEGER NOT NULL,
    export_download_time INTEGER NOT NULL,
    request_key_hmac     TEXT NOT NULL,
    content_hmac         TEXT NOT NULL,
    transitions          INTEGER NOT NULL
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
    operation         INTEGER NOT NULL,
    state             INTEGER NOT NULL,
    attempts          INTEGER NOT NULL,
    last_error_reason TEXT NOT NULL,
    evidence          TEXT NOT NULL,
    done_time         INTEGER NOT NULL,
    PRIMARY KEY (request_id, participant)
);

-- Every state change of a request, oldest first.
CREATE TABLE dsr_transitions (
    request_id     TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    from_state     INTEGER NOT NULL,
    to_state       INTEGER NOT NULL,
    time           INTEGER NOT NULL,
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
    create_time INTEGER NOT NULL
);

-- What consent's own participant answered, per request and operation, so
-- that a repeated call answers already_done with the first evidence.
CREATE TABLE dsr_participant_ops (
    request_id  TEXT NOT NULL,
    operation   INTEGER NOT NULL,
    evidence    TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (request_id, operation)
);

-- +goose Down
DROP TABLE dsr_participant_ops;
DROP TABLE consent_restrictions;
DROP TABLE dsr_transitions;
DROP TABLE dsr_steps;
DROP TABLE dsr_requests;
