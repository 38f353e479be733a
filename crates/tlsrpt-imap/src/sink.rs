//! The boundary between the IMAP side and the rest of the program: the [`Sink`] trait
//! that commits messages and keeps each mailbox's resume point.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;

/// Names one mailbox of one account, as `user@host:port/MAILBOX`.
///
/// It is the key under which a [`Sink`] stores the [`MailboxState`] of that mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId(String);

impl MailboxId {
    /// Builds the id of `mailbox` in the account `user` at `host:port`.
    pub fn new(user: &str, host: &str, port: u16, mailbox: &str) -> Self {
        Self(format!("{user}@{host}:{port}/{mailbox}"))
    }

    /// The id as text, suitable as a database key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a mailbox pass resumes: the mailbox's UIDVALIDITY and the highest UID fully handled.
///
/// "Fully handled" means committed by the sink and then moved or flagged (or, for a message
/// that is not a report, committed as [`Disposition::NotReport`] and left alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    /// The mailbox's UIDVALIDITY when `last_uid` was recorded. When the server reports a
    /// different value, UIDs were renumbered and the resume point no longer applies.
    pub uid_validity: u32,
    /// Every message with a UID up to and including this one has been handled.
    pub last_uid: u32,
}

/// What a committed message turned out to be, which decides what happens to it in the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// One or more reports were stored, or all of them were already stored (a duplicate).
    /// The message is moved to the processed folder or flagged.
    Stored,
    /// The message claimed to be a report but could not be used; its rejection (with the
    /// reason) was stored. The message is moved to the rejected folder.
    Rejected,
    /// Not a TLS report (a DMARC report, a plain mail): the message is left untouched.
    NotReport,
}

/// A failure of the sink, such as the database being down. The message stays where it is.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SinkError(Box<dyn StdError + Send + Sync + 'static>);

impl SinkError {
    /// Wraps any error (an `anyhow::Error` works too).
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self(error.into())
    }
}

/// What the IMAP side needs from the rest of the program.
///
/// # No loss, no duplicates
/// A message is moved or flagged only after [`Sink::commit`] returned `Ok`, and the resume
/// point is saved only over messages that were committed and then moved or flagged. If the
/// process is killed between a commit and the move, the message is still in the mailbox and
/// is fetched and committed again on the next pass: the sink must therefore be idempotent
/// (deduplicate on report identity) and answer [`Disposition::Stored`] for a report it
/// already holds. With that, a kill at any moment loses nothing and stores nothing twice.
pub trait Sink: Send + Sync {
    /// Parses and durably commits one message (its reports, or its rejection) and says what
    /// it was. `Err` means "not committed" (for example, the database is down): the message
    /// stays where it is, unflagged, and the pass for this mailbox stops; a later pass retries.
    fn commit(
        &self,
        mailbox: &MailboxId,
        uid: u32,
        message: &[u8],
    ) -> impl Future<Output = Result<Disposition, SinkError>> + Send;

    /// The resume point stored for this mailbox, if any.
    fn load_state(
        &self,
        mailbox: &MailboxId,
    ) -> impl Future<Output = Result<Option<MailboxState>, SinkError>> + Send;

    /// Stores the resume point for this mailbox.
    fn save_state(
        &self,
        mailbox: &MailboxId,
        state: MailboxState,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Notes why the connection to this mailbox failed, for the operator's view of the
    /// sources' health. Best effort: by default nothing is kept.
    fn record_error(&self, mailbox: &MailboxId, error: &str) -> impl Future<Output = ()> + Send {
        let _ = (mailbox, error);
        async {}
    }

    /// Notes how many messages of this mailbox are above its resume point, still to be
    /// handled: after the search of each pass and after each batch. For monitoring; by
    /// default nothing is kept.
    fn note_waiting(&self, mailbox: &MailboxId, waiting: usize) {
        let _ = (mailbox, waiting);
    }
}
