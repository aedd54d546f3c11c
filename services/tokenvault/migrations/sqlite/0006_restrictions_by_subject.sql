-- +goose Up
-- A restriction of processing (GDPR Art. 18) belongs to (tenant, subject),
-- whether or not the vault holds a value of the subject yet: one placed
-- before the subject's first value must hold for the values tokenised
-- after it. subjects has a row only once a data key exists, so the
-- restriction moves to a table of its own, read with every token row
-- (storage.tokenSelect). A row here means restricted; lifting deletes it.
CREATE TABLE subject_restrictions (
    tenant           TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    restricted_us    INTEGER NOT NULL,
    restrict_request TEXT    NOT NULL,
    PRIMARY KEY (tenant, subject)
);
INSERT INTO subject_restrictions (tenant, subject, restricted_us, restrict_request)
    SELECT tenant, subject, restricted_us, COALESCE(restrict_request, '') FROM subjects WHERE restricted_us IS NOT NULL;

-- Dropped rather than left unused: a replica of the previous version would
-- read a column nothing sets any more and reveal a restricted subject's
-- values; without the column its reads fail instead.
ALTER TABLE subjects DROP COLUMN restrict_request;
ALTER TABLE subjects DROP COLUMN restricted_us;

-- +goose Down
-- Restrictions of subjects the vault holds no value of are lost: the
-- previous version cannot represent them.
ALTER TABLE subjects ADD COLUMN restricted_us INTEGER;
ALTER TABLE subjects ADD COLUMN restrict_request TEXT;
UPDATE subjects SET
    restricted_us = (SELECT r.restricted_us FROM subject_restrictions r WHERE r.tenant = subjects.tenant AND r.subject = subjects.subject),
    restrict_request = (SELECT r.restrict_request FROM subject_restrictions r WHERE r.tenant = subjects.tenant AND r.subject = subjects.subject);
DROP TABLE subject_restrictions;
