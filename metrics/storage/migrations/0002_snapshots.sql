-- Schema version 2: weekly KPI snapshots, so "last week" means what leadership saw last week.
CREATE TABLE kpi_snapshots (
    snapshot_date DATE NOT NULL,
    programme VARCHAR NOT NULL,
    kpi_id VARCHAR NOT NULL,
    actual DOUBLE,
    target DOUBLE,
    expected DOUBLE,
    pace DOUBLE,
    status VARCHAR NOT NULL,
    numerator DOUBLE,
    denominator DOUBLE,
    window_start DATE NOT NULL,
    window_end DATE NOT NULL,
    data_version BIGINT NOT NULL,
    taken_at TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (snapshot_date, kpi_id)
);
