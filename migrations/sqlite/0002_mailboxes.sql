-- Where each IMAP mailbox resumes: its UIDVALIDITY and the highest UID fully handled.
CREATE TABLE mailbox_state (
    mailbox      TEXT    PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
