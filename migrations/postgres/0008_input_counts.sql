-- The PostgreSQL twin of migrations/sqlite/0008_input_counts.sql: the inputs ledger
-- summed per source and outcome, kept in the same transaction as the inputs themselves,
-- so the sources page and /metrics read a few rows instead of counting the whole ledger.
CREATE TABLE input_counts (
    source           TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    inputs           BIGINT  NOT NULL,
    last_received_at BIGINT  NOT NULL,
    PRIMARY KEY (source, outcome)
);
INSERT INTO input_counts (source, outcome, inputs, last_received_at)
SELECT source, outcome, COUNT(*), MAX(received_at) FROM inputs GROUP BY source, outcome;
DROP INDEX inputs_source_outcome_idx;
