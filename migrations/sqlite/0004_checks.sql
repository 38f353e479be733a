-- The history of live MTA-STS / TLS-RPT checks: one row per check of a domain, with the
-- headline facts as columns for listing, the whole check (records, policy text, MX set,
-- TLS results, findings) as JSON, and the changes since the domain's previous check.
-- Times are Unix seconds (UTC).
CREATE TABLE checks (
    id           INTEGER PRIMARY KEY,
    domain       TEXT    NOT NULL,
    checked_at   INTEGER NOT NULL,
    -- pass, warn or fail.
    verdict      TEXT    NOT NULL,
    sts_id       TEXT,
    mode         TEXT,
    -- JSON array of host names.
    mx_hosts     TEXT    NOT NULL,
    errors       INTEGER NOT NULL,
    warnings     INTEGER NOT NULL,
    report_json  TEXT    NOT NULL,
    changes_json TEXT    NOT NULL
);
CREATE INDEX checks_domain_time_idx ON checks (domain, checked_at);
