-- Rollups maintained at ingest, in the same transaction as the report rows, so that stats,
-- the portfolio and the readiness advisor read a few rows per domain and day instead of
-- the detail tables. The PostgreSQL twin is migrations/postgres/0003_rollups.sql.
--
-- `day` is days since the Unix epoch (UTC) of the report's start-datetime; `reporter` is
-- the organization-name; `trusted` says whether the report's auth is trusted
-- (`Auth::is_trusted`). Existing reports are rolled up below (backfill).

-- One row per (domain, day, policy type, reporter, trust) with result_type = '' for the
-- session totals, and one per failure result type and receiving MX ('' when unknown) with
-- the summed failed-session-count of those failure details. `reports` counts distinct
-- reports.
CREATE TABLE daily_rollups (
    policy_domain       TEXT    NOT NULL,
    day                 INTEGER NOT NULL,
    policy_type         TEXT    NOT NULL,
    reporter            TEXT    NOT NULL,
    trusted             INTEGER NOT NULL,
    result_type         TEXT    NOT NULL,
    receiving_mx        TEXT    NOT NULL,
    reports             INTEGER NOT NULL,
    successful_sessions INTEGER NOT NULL,
    failed_sessions     INTEGER NOT NULL,
    CONSTRAINT daily_rollups_pkey PRIMARY KEY
        (policy_domain, day, policy_type, reporter, trusted, result_type, receiving_mx)
) WITHOUT ROWID;

-- The portfolio's grain: per (domain, day, trust), distinct reports and summed sessions of
-- every policy type.
CREATE TABLE daily_domain_totals (
    policy_domain       TEXT    NOT NULL,
    day                 INTEGER NOT NULL,
    trusted             INTEGER NOT NULL,
    reports             INTEGER NOT NULL,
    successful_sessions INTEGER NOT NULL,
    failed_sessions     INTEGER NOT NULL,
    CONSTRAINT daily_domain_totals_pkey PRIMARY KEY (policy_domain, day, trusted)
) WITHOUT ROWID;
-- All domains over a window of days, read from the index alone.
CREATE INDEX daily_domain_totals_day_idx ON daily_domain_totals
    (day, policy_domain, trusted, reports, successful_sessions, failed_sessions);

-- One row per policy domain ever reported: the span of report starts, the latest trusted
-- one, when a report for it was last stored, and how many reports were (un)trusted.
CREATE TABLE domain_activity (
    policy_domain             TEXT    NOT NULL,
    first_report_start        INTEGER NOT NULL,
    last_report_start         INTEGER NOT NULL,
    last_trusted_report_start INTEGER,
    last_ingested_at          INTEGER NOT NULL,
    trusted_reports           INTEGER NOT NULL,
    untrusted_reports         INTEGER NOT NULL,
    CONSTRAINT domain_activity_pkey PRIMARY KEY (policy_domain)
);

-- Backfill. The day is the floor of start_time / 86400 (`%` truncates towards zero).
-- Trusted auth kinds are those of `is_trusted_auth`.
CREATE TEMPORARY TABLE rollup_source AS
SELECT p.id AS policy_id, p.report_ref, p.policy_domain, p.policy_type,
       p.successful_sessions, p.failed_sessions, p.start_time,
       (p.start_time - (((p.start_time % 86400) + 86400) % 86400)) / 86400 AS day,
       r.organization_name AS reporter, r.ingested_at,
       (r.auth IN ('operator', 'https-token', 'dkim-pass', 'dkim-upstream-pass')
        OR r.auth LIKE 'dkim-pass:%' OR r.auth LIKE 'dkim-upstream-pass:%') AS trusted
FROM policies p JOIN reports r ON r.id = p.report_ref;

INSERT INTO daily_rollups (policy_domain, day, policy_type, reporter, trusted, result_type,
                           receiving_mx, reports, successful_sessions, failed_sessions)
SELECT policy_domain, day, policy_type, reporter, trusted, '', '',
       COUNT(DISTINCT report_ref), SUM(successful_sessions), SUM(failed_sessions)
FROM rollup_source
GROUP BY policy_domain, day, policy_type, reporter, trusted;

-- An empty result-type would collide with the totals row: it is rolled up as '(empty)'.
INSERT INTO daily_rollups (policy_domain, day, policy_type, reporter, trusted, result_type,
                           receiving_mx, reports, successful_sessions, failed_sessions)
SELECT s.policy_domain, s.day, s.policy_type, s.reporter, s.trusted,
       CASE WHEN d.result_type = '' THEN '(empty)' ELSE d.result_type END,
       COALESCE(d.receiving_mx_hostname, ''),
       COUNT(DISTINCT s.report_ref), 0, SUM(d.failed_session_count)
FROM failure_details d JOIN rollup_source s ON s.policy_id = d.policy_ref
GROUP BY s.policy_domain, s.day, s.policy_type, s.reporter, s.trusted,
         CASE WHEN d.result_type = '' THEN '(empty)' ELSE d.result_type END,
         COALESCE(d.receiving_mx_hostname, '');

INSERT INTO daily_domain_totals (policy_domain, day, trusted, reports, successful_sessions,
                                 failed_sessions)
SELECT policy_domain, day, trusted, COUNT(DISTINCT report_ref), SUM(successful_sessions),
       SUM(failed_sessions)
FROM rollup_source
GROUP BY policy_domain, day, trusted;

INSERT INTO domain_activity (policy_domain, first_report_start, last_report_start,
                             last_trusted_report_start, last_ingested_at, trusted_reports,
                             untrusted_reports)
SELECT policy_domain, MIN(start_time), MAX(start_time),
       MAX(CASE WHEN trusted THEN start_time END), MAX(ingested_at),
       COUNT(DISTINCT CASE WHEN trusted THEN report_ref END),
       COUNT(DISTINCT CASE WHEN NOT trusted THEN report_ref END)
FROM rollup_source
GROUP BY policy_domain;

DROP TABLE rollup_source;
