//! The errors of connecting to and talking with an IMAP server, each naming the server.

use std::io;
use std::path::PathBuf;

use crate::sink::{MailboxId, SinkError};

/// Everything that can stop a pass over a mailbox, except a failed commit (which a
/// [`SyncSummary`](crate::SyncSummary) reports, since the pass did useful work before it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The password file could not be read.
    #[error("cannot read the IMAP password file {path}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The extra CA file could not be read or holds no certificate.
    #[error("cannot use the CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Plain IMAP was configured without allowing it.
    #[error(
        "refusing plain (unencrypted) IMAP to {host}: use implicit TLS or STARTTLS, or allow plain explicitly"
    )]
    PlainNotAllowed {
        /// The server.
        host: String,
    },
    /// The TCP connection failed.
    #[error("cannot connect to IMAP server {host}:{port}")]
    Connect {
        /// The server.
        host: String,
        /// Its port.
        port: u16,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, no common protocol…).
    #[error("TLS with IMAP server {host} failed: {reason}")]
    Tls {
        /// The server.
        host: String,
        /// Why, as rustls says it.
        reason: String,
    },
    /// STARTTLS was configured but the server does not offer it or refused it.
    #[error("IMAP server {host} does not offer STARTTLS")]
    NoStartTls {
        /// The server.
        host: String,
    },
    /// The server refused the login.
    #[error("IMAP authentication failed for user {user} at {host}: {reason}")]
    AuthFailed {
        /// The login name.
        user: String,
        /// The server.
        host: String,
        /// The server's own words, when it gave any.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("IMAP server {host} did not answer {operation} within {seconds} s")]
    Timeout {
        /// The server.
        host: String,
        /// What we were waiting for.
        operation: &'static str,
        /// The configured limit.
        seconds: u64,
    },
    /// A command failed or the connection broke.
    #[error("IMAP {operation} on {host} failed")]
    Imap {
        /// The server.
        host: String,
        /// The command.
        operation: &'static str,
        /// The protocol error.
        #[source]
        source: async_imap::error::Error,
    },
    /// The server's answer lacked something this client needs.
    #[error("IMAP server {host}: {problem}")]
    Protocol {
        /// The server.
        host: String,
        /// What was wrong.
        problem: String,
    },
    /// The sink could not load or save the resume point.
    #[error("cannot load or save the resume point of {mailbox}")]
    State {
        /// The mailbox.
        mailbox: MailboxId,
        /// The sink's error.
        #[source]
        source: SinkError,
    },
}

impl Error {
    /// Whether retrying later with the same settings may succeed: network trouble, a server
    /// restart, a busy database. Configuration mistakes are not transient, but a long-running
    /// [`run`](crate::run) still retries them with its longest backoff.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::Timeout { .. }
                | Self::Imap { .. }
                | Self::State { .. }
                | Self::Protocol { .. }
        )
    }
}
