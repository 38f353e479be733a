-- Where each IMAP mailbox resumes: its UIDVALIDITY and the highest UID fully handled.
-- The PostgreSQL twin of migrations/sqlite/0002_mailboxes.sql.
CREATE TABLE mailbox_state (
    mailbox      TEXT    PRIMARY KEY,
    uid_validity BIGINT  NOT NULL,
    last_uid     BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
