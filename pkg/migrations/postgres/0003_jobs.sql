-- Durable background jobs (pkg/jobs). A row is one job: claimed by a runner
-- under a lease it renews while the handler runs, retried with backoff,
-- kept as 'dead' after its last attempt until an operator re-queues it.
-- Times are Unix microseconds from the runners' clock. last_error_reason
-- holds an error's machine-readable reason only, never its text, which may
-- carry personal data.

-- +goose Up
CREATE TABLE jobs (
    id                BIGSERIAL PRIMARY KEY,
    kind              TEXT    NOT NULL,
    args              BYTEA   NOT NULL,
    state             TEXT    NOT NULL
        CHECK (state IN ('available', 'running', 'retryable', 'completed', 'dead')),
    attempt           INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at_us         BIGINT  NOT NULL,
    leased_by         TEXT,
    lease_until_us    BIGINT,
    last_error_reason TEXT,
    -- Idempotency key of an enqueue, or a periodic job's occurrence; NULL
    -- for neither (NULLs never conflict).
    unique_key        TEXT,
    created_us        BIGINT  NOT NULL,
    finished_us       BIGINT,
    UNIQUE (kind, unique_key)
);
CREATE INDEX jobs_due ON jobs (run_at_us, id) WHERE state IN ('available', 'retryable');
CREATE INDEX jobs_leases ON jobs (lease_until_us) WHERE state = 'running';
CREATE INDEX jobs_kind_state ON jobs (kind, state);
CREATE INDEX jobs_completed ON jobs (finished_us) WHERE state = 'completed';

-- +goose Down
DROP TABLE jobs;
