-- +goose Up
-- The version of the catalogue file last applied (catalogue.yaml).
CREATE TABLE consent_catalogue (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    file_version INTEGER NOT NULL
);

-- Purposes as they are now; purpose_revisions keeps every version.
CREATE TABLE purposes (
    purpose_id     TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    description    TEXT NOT NULL,
    legal_basis    INTEGER NOT NULL,
    jurisdictions  TEXT NOT NULL,
    sale_or_share  INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    retired        INTEGER NOT NULL,
    revision       INTEGER NOT NULL,
    source         TEXT NOT NULL,
    update_time    INTEGER NOT NULL
);

CREATE TABLE purpose_revisions (
    purpose_id     TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    display_name   TEXT NOT NULL,
    description    TEXT NOT NULL,
    legal_basis    INTEGER NOT NULL,
    jurisdictions  TEXT NOT NULL,
    sale_or_share  INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    retired        INTEGER NOT NULL,
    source         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    update_time    INTEGER NOT NULL,
    PRIMARY KEY (purpose_id, revision)
);

-- Notice versions are immutable.
CREATE TABLE notices (
    notice_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    purposes    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (notice_id, version)
);

CREATE TABLE notice_texts (
    notice_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    language  TEXT NOT NULL,
    body      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (notice_id, version, language)
);

-- Every decision ever recorded: the proof. Never updated.
CREATE TABLE consent_records (
    record_id        TEXT PRIMARY KEY,
    subject          TEXT NOT NULL,
    purpose_id       TEXT NOT NULL,
    decision         INTEGER NOT NULL,
    method           INTEGER NOT NULL,
    channel          INTEGER NOT NULL,
    notice_id        TEXT NOT NULL,
    notice_version   INTEGER NOT NULL,
    notice_language  TEXT NOT NULL,
    text_sha256      TEXT NOT NULL,
    purpose_revision INTEGER NOT NULL,
    jurisdiction     TEXT NOT NULL,
    actor            TEXT NOT NULL,
    by_staff         INTEGER NOT NULL,
    receipt_id       TEXT NOT NULL,
    record_time      INTEGER NOT NULL
);
CREATE INDEX consent_records_subject ON consent_records (subject, record_time, record_id);
CREATE INDEX consent_records_receipt ON consent_records (receipt_id);

-- The latest decision per subject and purpose, for Check.
CREATE TABLE consent_state (
    subject     TEXT NOT NULL,
    purpose_id  TEXT NOT NULL,
    decision    INTEGER NOT NULL,
    method      INTEGER NOT NULL,
    record_id   TEXT NOT NULL,
    record_time INTEGER NOT NULL,
    PRIMARY KEY (subject, purpose_id)
);

-- Signed receipts as issued.
CREATE TABLE consent_receipts (
    receipt_id     TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    jws            TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    audit_event_id TEXT NOT NULL,
    issue_time     INTEGER NOT NULL
);
CREATE INDEX consent_receipts_subject ON consent_receipts (subject);

-- Idempotency keys of grants and withdrawals, per subject.
CREATE TABLE consent_requests (
    subject     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    receipt_id  TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (subject, request_id)
);
