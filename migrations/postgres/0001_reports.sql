-- Reports, their policies and failure details (RFC 8460 §4), and a record of every input.
-- The PostgreSQL twin of migrations/sqlite/0001_reports.sql: the same tables, columns,
-- constraint names and indexes, with PostgreSQL types. Times are Unix seconds (UTC);
-- raw bytes are gzip-compressed.

CREATE TABLE reports (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_name TEXT    NOT NULL,
    report_id         TEXT    NOT NULL,
    start_time        BIGINT  NOT NULL,
    end_time          BIGINT  NOT NULL,
    contact_info      TEXT,
    -- Who vouches for the report: 'operator' (imported by hand), later DKIM and HTTPS.
    auth              TEXT    NOT NULL,
    -- Accepted deviations from RFC 8460, as a JSON array of {"code":…} objects.
    quirks            TEXT    NOT NULL,
    raw_json          BYTEA   NOT NULL,
    raw_size          BIGINT  NOT NULL,
    ingested_at       BIGINT  NOT NULL,
    CONSTRAINT reports_reporter_report_id_key UNIQUE (organization_name, report_id)
);

CREATE TABLE policies (
    id                     BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_ref             BIGINT  NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    position               BIGINT  NOT NULL,
    policy_type            TEXT    NOT NULL,
    policy_domain          TEXT    NOT NULL,
    -- JSON arrays of strings.
    policy_string          TEXT    NOT NULL,
    mx_host                TEXT    NOT NULL,
    successful_sessions    BIGINT  NOT NULL,
    failed_sessions        BIGINT  NOT NULL,
    detail_failed_sessions BIGINT  NOT NULL,
    -- A copy of the report's start, so that per-domain windows need no join.
    start_time             BIGINT  NOT NULL,
    CONSTRAINT policies_report_position_key UNIQUE (report_ref, position)
);
CREATE INDEX policies_domain_start_idx ON policies (policy_domain, start_time);

CREATE TABLE failure_details (
    id                     BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_ref             BIGINT  NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    result_type            TEXT    NOT NULL,
    sending_mta_ip         TEXT,
    receiving_mx_hostname  TEXT,
    receiving_mx_helo      TEXT,
    receiving_ip           TEXT,
    failed_session_count   BIGINT  NOT NULL,
    additional_information TEXT,
    failure_reason_code    TEXT
);
CREATE INDEX failure_details_policy_idx ON failure_details (policy_ref);

-- One row per report candidate of every input: what it was, where it came from, what
-- became of it and why. Rejected inputs keep their bytes here.
CREATE TABLE inputs (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       TEXT    NOT NULL,
    locator      TEXT    NOT NULL,
    part         TEXT,
    message_id   TEXT,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('stored', 'duplicate', 'rejected', 'not-report')),
    reason       TEXT,
    report_ref   BIGINT  REFERENCES reports (id) ON DELETE SET NULL,
    raw          BYTEA,
    raw_size     BIGINT,
    raw_complete BOOLEAN,
    received_at  BIGINT  NOT NULL
);
-- Rejections are what users list and inspect; the other outcomes need no index.
CREATE INDEX inputs_rejected_idx ON inputs (received_at) WHERE outcome = 'rejected';
CREATE INDEX inputs_report_idx ON inputs (report_ref);
