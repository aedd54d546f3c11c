-- +goose Up
-- The CRM's own record id of each customer crmsync delivered (ADR 0015,
-- "Inbound"): HubSpot's contact id, Salesforce's record Id, as the CRM
-- answered the upsert. An inbound change is taken only for the subject
-- whose record it is: the external id or subject property in the CRM is
-- editable by the shop's CRM users, this is not.
CREATE TABLE crm_records (
    tenant      TEXT NOT NULL,
    connector   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    update_time BIGINT NOT NULL,
    PRIMARY KEY (tenant, connector, subject)
);

-- +goose Down
DROP TABLE crm_records;
