-- The health of the ingest sources: the last error of each IMAP mailbox (cleared by the
-- next successful sync), and indexes for the sources page.
ALTER TABLE mailbox_state ADD COLUMN last_error TEXT;
ALTER TABLE mailbox_state ADD COLUMN last_error_at BIGINT;
CREATE INDEX inputs_source_outcome_idx ON inputs (source, outcome, received_at);
CREATE INDEX inputs_not_report_idx ON inputs (received_at) WHERE outcome = 'not-report';
