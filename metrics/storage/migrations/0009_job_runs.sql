-- Schema version 9: the scheduler's record of every job run (docs/server.md, "Scheduler").
-- One row per attempt. A (job, due) pair that has an 'ok', 'running' or 'skipped' row is never started
-- again (the claim in metrics/ops/scheduler.py); UNIQUE (job, due, attempt) makes two claims of the same
-- attempt fail instead of both running. Stamps are naive Beijing time bound by the writer (docs/time.md).
CREATE SEQUENCE job_run_seq START 1;
CREATE TABLE job_runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('job_run_seq'),
    job VARCHAR NOT NULL,
    due TIMESTAMP NOT NULL,
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
    error TEXT,
    detail JSON,
    triggered_by VARCHAR NOT NULL,
    pid INTEGER NOT NULL,
    UNIQUE (job, due, attempt)
);
