-- +goose Up
-- Batching across deliveries (ADR 0015). due_time is when the delivery's
-- current job may run (pkg/jobs' run_at, kept here so a batch takes only
-- deliveries already due: one waiting out a backoff or a Retry-After is not
-- sent early). lease_job and lease_until say which delivery job has taken
-- it into the batch it is sending, and until when: a batch's leader that
-- dies leaves its lease to expire, or to its own job's next run.
ALTER TABLE crm_deliveries ADD COLUMN due_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE crm_deliveries ADD COLUMN lease_job BIGINT NOT NULL DEFAULT 0;
ALTER TABLE crm_deliveries ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX crm_deliveries_due ON crm_deliveries (tenant, connector, state, due_time);

-- +goose Down
DROP INDEX crm_deliveries_due;
ALTER TABLE crm_deliveries DROP COLUMN lease_until;
ALTER TABLE crm_deliveries DROP COLUMN lease_job;
ALTER TABLE crm_deliveries DROP COLUMN due_time;
