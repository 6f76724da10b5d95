-- Schema version 1: a table per record type of the data contract, uploads, change log, data version.
-- Frozen: change the schema with a new numbered migration, never by editing this file.

CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL);

-- 就业安置记录; natural key (placement_id)
CREATE TABLE placements (
    placement_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    street VARCHAR NOT NULL,
    placement_date DATE NOT NULL,
    employer_id VARCHAR NOT NULL,
    employer_name VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    person_group VARCHAR NOT NULL,
    is_local BOOLEAN NOT NULL,
    is_beijing_hukou BOOLEAN NOT NULL,
    project_id VARCHAR,
    contract_signed BOOLEAN NOT NULL,
    contract_months BIGINT,
    social_insurance BOOLEAN NOT NULL,
    monthly_wage DECIMAL(18,2),
    public_service_post BOOLEAN,
    work_lat DOUBLE,
    work_lon DOUBLE,
    stable_6m BOOLEAN,
    upload_id BIGINT
);

-- 培训记录; natural key (training_id)
CREATE TABLE trainings (
    training_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    course_category VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    class_hours BIGINT NOT NULL,
    completed BOOLEAN NOT NULL,
    certificate_level VARCHAR,
    skill_evaluated BOOLEAN NOT NULL,
    employed_within_3m BOOLEAN,
    upload_id BIGINT
);

-- 补贴申请; natural key (application_id)
CREATE TABLE applications (
    application_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    measure_code VARCHAR NOT NULL,
    applicant_type VARCHAR NOT NULL,
    applicant_id VARCHAR NOT NULL,
    submitted_date DATE NOT NULL,
    quantity DOUBLE,
    year_index BIGINT,
    amount_requested DECIMAL(18,2) NOT NULL,
    amount_approved DECIMAL(18,2),
    status VARCHAR NOT NULL,
    decision_date DATE,
    paid_date DATE,
    upload_id BIGINT
);

-- 招聘及服务活动; natural key (event_id)
CREATE TABLE events (
    event_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    event_type VARCHAR NOT NULL,
    event_date DATE NOT NULL,
    title VARCHAR NOT NULL,
    organiser VARCHAR NOT NULL,
    employers BIGINT,
    vacancies_offered BIGINT,
    attendees BIGINT,
    intents BIGINT,
    upload_id BIGINT
);

-- 空岗信息采集; natural key (vacancy_id)
CREATE TABLE vacancies (
    vacancy_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    employer_id VARCHAR NOT NULL,
    collected_date DATE NOT NULL,
    industry VARCHAR NOT NULL,
    positions BIGINT NOT NULL,
    upload_id BIGINT
);

-- 劳动人事争议案件; natural key (case_id)
CREATE TABLE disputes (
    case_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    accepted_date DATE NOT NULL,
    closed_date DATE,
    closure_method VARCHAR,
    upload_id BIGINT
);

-- 劳动合同签订情况报表; natural key (enterprise_id, report_month)
CREATE TABLE contract_returns (
    enterprise_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    street VARCHAR NOT NULL,
    report_month DATE NOT NULL,
    employees BIGINT NOT NULL,
    contracts_signed BIGINT NOT NULL,
    upload_id BIGINT
);

-- 创业主体; natural key (entity_id)
CREATE TABLE startups (
    entity_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    registered_date DATE NOT NULL,
    first_insured_date DATE,
    entity_type VARCHAR NOT NULL,
    jobs_created BIGINT NOT NULL,
    local_jobs_created BIGINT,
    guaranteed_loan_amount DECIMAL(18,2),
    loan_date DATE,
    incubator VARCHAR,
    upload_id BIGINT
);

-- 社区（村）就业服务力量; natural key (community_id, as_of)
CREATE TABLE communities (
    community_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    street VARCHAR NOT NULL,
    community_name VARCHAR NOT NULL,
    specialists BIGINT NOT NULL,
    as_of DATE NOT NULL,
    upload_id BIGINT
);

-- 离校未就业高校毕业生回访; natural key (person_id, graduation_year)
CREATE TABLE graduate_followups (
    person_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    graduation_year BIGINT NOT NULL,
    followed_up BOOLEAN NOT NULL,
    followup_date DATE,
    outcome VARCHAR,
    upload_id BIGINT
);

-- 指标进度填报; natural key (kpi_id, district, period_end)
CREATE TABLE progress_reports (
    kpi_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    period_end DATE NOT NULL,
    value DOUBLE NOT NULL,
    unit_name VARCHAR NOT NULL,
    note VARCHAR,
    upload_id BIGINT
);

-- 就业友好社会评价问卷; natural key (response_id)
CREATE TABLE survey_responses (
    response_id VARCHAR NOT NULL,
    district VARCHAR NOT NULL,
    response_date DATE NOT NULL,
    opportunity BIGINT,
    environment BIGINT,
    ability BIGINT,
    service BIGINT,
    labour_relations BIGINT,
    policy_awareness BIGINT,
    participation BIGINT,
    upload_id BIGINT
);

CREATE SEQUENCE upload_seq START 1;
CREATE TABLE uploads (
    upload_id BIGINT PRIMARY KEY DEFAULT nextval('upload_seq'),
    record_type VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    user_name VARCHAR NOT NULL,
    unit_name VARCHAR,
    uploaded_at TIMESTAMP NOT NULL DEFAULT now(),
    row_count BIGINT NOT NULL,
    new_rows BIGINT NOT NULL,
    changed_rows BIGINT NOT NULL,
    unchanged_rows BIGINT NOT NULL,
    warnings VARCHAR[]
);

-- Append-only: no code path updates or deletes these rows.
CREATE SEQUENCE change_seq START 1;
CREATE TABLE change_log (
    change_id BIGINT PRIMARY KEY DEFAULT nextval('change_seq'),
    changed_at TIMESTAMP NOT NULL DEFAULT now(),
    user_name VARCHAR NOT NULL,
    upload_id BIGINT,
    entity VARCHAR NOT NULL,
    entity_key VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    old_values JSON,
    new_values JSON
);

CREATE TABLE data_version (version BIGINT NOT NULL, changed_at TIMESTAMP NOT NULL);
INSERT INTO data_version VALUES (0, now());
