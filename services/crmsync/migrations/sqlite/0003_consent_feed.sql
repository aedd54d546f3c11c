-- +goose Up
-- Where crmsync is in the consent service's change feed (its opaque
-- cursor), so a restart resumes after the last withdrawal it acted on
-- instead of missing those made while it was down.
CREATE TABLE crm_consent_feed (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    cursor    TEXT NOT NULL
);

-- +goose Down
DROP TABLE crm_consent_feed;
