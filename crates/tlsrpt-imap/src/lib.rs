//! Fetches SMTP TLS reports (RFC 8460 §3, `rua=mailto:`) from IMAP mailboxes.
//!
//! This crate knows nothing of reports or databases: it hands each message to a [`Sink`],
//! which commits it and says what it was ([`Disposition`]). Only after the commit is the
//! message moved (or flagged); messages that are not reports are left where they are, so the
//! mailbox can be shared with DMARC reports.
//!
//! - [`sync_once`] runs one pass over one mailbox (for `tlsrpt imap sync` from cron).
//! - [`run`] keeps watching several mailboxes, with IDLE where the server has it, and
//!   reconnects with backoff (for `tlsrpt serve`).
//!
//! Connections use rustls with the ring provider, trusting the web PKI roots plus an
//! optional CA file; plain IMAP must be allowed explicitly.
//!
//! # Crash safety
//! Commit, then move or flag, then advance the resume point: killed at any moment, the
//! process loses nothing, and with a sink that deduplicates on report identity it stores
//! nothing twice (see [`Sink`]).

pub use crate::config::{AccountConfig, AfterIngest, Password, PollSettings, TlsMode};
pub use crate::error::Error;
pub use crate::poll::run;
pub use crate::sink::{Disposition, MailboxId, MailboxState, Sink, SinkError};
pub use crate::sync::{Deferred, SyncSummary, sync_once};

mod config;
mod connect;
mod error;
mod poll;
mod sink;
mod sync;
