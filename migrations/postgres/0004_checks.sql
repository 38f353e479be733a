-- The history of live MTA-STS / TLS-RPT checks. The PostgreSQL twin of
-- migrations/sqlite/0004_checks.sql. Times are Unix seconds (UTC).
CREATE TABLE checks (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain       TEXT    NOT NULL,
    checked_at   BIGINT  NOT NULL,
    -- pass, warn or fail.
    verdict      TEXT    NOT NULL,
    sts_id       TEXT,
    mode         TEXT,
    -- JSON array of host names.
    mx_hosts     TEXT    NOT NULL,
    errors       BIGINT  NOT NULL,
    warnings     BIGINT  NOT NULL,
    report_json  TEXT    NOT NULL,
    changes_json TEXT    NOT NULL
);
CREATE INDEX checks_domain_time_idx ON checks (domain, checked_at);
