-- Alerts raised by the monitoring rules, and their deliveries. Times are Unix seconds (UTC).
--
-- One row per episode of a condition: a rule (e.g. cert-expiring) holding for a domain and
-- a subject within it (an MX host, a result type, a reporter; '' when the rule has one
-- condition per domain). At most one episode of a condition is open at a time.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    domain        TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    -- info, warning or critical.
    severity      TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    -- JSON object: the figures and facts that raised it, as last seen.
    evidence      TEXT    NOT NULL,
    opened_at     INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    -- NULL while the condition holds.
    resolved_at   INTEGER,
    acked_at      INTEGER,
    acked_by      TEXT,
    snoozed_until INTEGER
);
CREATE UNIQUE INDEX alerts_open_idx ON alerts (domain, rule, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_condition_idx ON alerts (domain, rule, subject, resolved_at);
CREATE INDEX alerts_opened_idx ON alerts (opened_at);

-- The outbox: one row per notification of an alert event (opened, resolved) on one
-- channel (a configured webhook or email route), retried until delivered or given up.
CREATE TABLE alert_deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    -- opened or resolved.
    event           TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    -- Set when delivery was given up.
    failed_at       INTEGER,
    last_error      TEXT,
    UNIQUE (alert_id, event, channel)
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
