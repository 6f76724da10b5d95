-- Schema version 4: the task ledger (台账) of the 建账 → 督办 → 销账 cycle.
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.
-- Only task_accounts and milestones are updated in place, and only with a version bump; notices and closure
-- requests change their status fields once. task_updates and evidence are append-only, like change_log.
-- `reported_at` / `uploaded_at` rather than `at`, because AT is reserved in DuckDB. No foreign keys: DuckDB
-- refuses updates of referenced rows; metrics/ledger.py checks every reference inside its transaction.

-- 建账: one account per catalogue task, opened by a lead unit (牵头单位).
CREATE TABLE task_accounts (
    task_id VARCHAR PRIMARY KEY,
    programme VARCHAR NOT NULL,
    plan VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,                -- responsible person (责任人)
    linked_kpis VARCHAR[] NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'closure_requested', 'closed')),
    version INTEGER NOT NULL CHECK (version >= 1),
    opened_by VARCHAR NOT NULL,
    opened_unit VARCHAR,
    opened_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- 时间节点: due dates of an account; done_date set once by complete_milestone.
CREATE SEQUENCE milestone_seq START 1;
CREATE TABLE milestones (
    milestone_id BIGINT PRIMARY KEY DEFAULT nextval('milestone_seq'),
    task_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    due_date DATE NOT NULL,
    done_date DATE,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- 进展: append-only progress updates by a lead or cooperating unit; reported = {kpi_id: value} as entered.
CREATE SEQUENCE task_update_seq START 1;
CREATE TABLE task_updates (
    update_id BIGINT PRIMARY KEY DEFAULT nextval('task_update_seq'),
    task_id VARCHAR NOT NULL,
    unit VARCHAR,
    author VARCHAR NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    progress_pct INTEGER CHECK (progress_pct BETWEEN 0 AND 100),
    narrative VARCHAR NOT NULL,
    reported JSON,
    period_end DATE                        -- the period the reported values are for
);

-- 督办: issued by the office with a reply-by date; the lead unit answers once.
CREATE SEQUENCE notice_seq START 1;
CREATE TABLE supervision_notices (
    notice_id BIGINT PRIMARY KEY DEFAULT nextval('notice_seq'),
    task_id VARCHAR NOT NULL,
    issued_by VARCHAR NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,
    reply_by DATE NOT NULL,
    reply VARCHAR,
    replied_by VARCHAR,
    replied_unit VARCHAR,
    replied_at TIMESTAMP,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'answered'))
);

-- 销账: requested by a lead unit with evidence; the office approves or returns it with a reason.
CREATE SEQUENCE closure_seq START 1;
CREATE TABLE closure_requests (
    closure_id BIGINT PRIMARY KEY DEFAULT nextval('closure_seq'),
    task_id VARCHAR NOT NULL,
    requested_by VARCHAR NOT NULL,
    requested_unit VARCHAR,
    requested_at TIMESTAMP NOT NULL,
    summary VARCHAR NOT NULL,
    decision VARCHAR CHECK (decision IS NULL OR decision IN ('approved', 'returned')),
    decided_by VARCHAR,
    decided_at TIMESTAMP,
    reason VARCHAR,
    CHECK (decision IS DISTINCT FROM 'returned' OR (reason IS NOT NULL AND trim(reason) <> ''))
);

-- 佐证材料: append-only files attached to an update or a closure request, kept with their SHA-256.
CREATE SEQUENCE evidence_seq START 1;
CREATE TABLE evidence (
    evidence_id BIGINT PRIMARY KEY DEFAULT nextval('evidence_seq'),
    task_id VARCHAR NOT NULL,
    update_id BIGINT,
    closure_id BIGINT,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL CHECK (length(sha256) = 64),
    size BIGINT NOT NULL CHECK (size >= 0 AND size <= 20971520),
    content BLOB NOT NULL,
    uploaded_by VARCHAR NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    CHECK ((update_id IS NULL) <> (closure_id IS NULL))
);
