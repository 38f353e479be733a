-- The inputs ledger summed per source and outcome, kept in the same transaction as the
-- inputs themselves: the sources page and /metrics read these few rows instead of
-- counting a ledger that grows with every input. Backfilled from the ledger; the index
-- that only served that count goes, which saves one index write per input.
CREATE TABLE input_counts (
    source           TEXT    NOT NULL,
    outcome          TEXT    NOT NULL,
    inputs           INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL,
    PRIMARY KEY (source, outcome)
);
INSERT INTO input_counts (source, outcome, inputs, last_received_at)
SELECT source, outcome, COUNT(*), MAX(received_at) FROM inputs GROUP BY source, outcome;
DROP INDEX inputs_source_outcome_idx;
