//! Settings of one IMAP account and mailbox, and of the polling loop.
//!
//! Folder names use `/` as the hierarchy separator; it is translated to the server's own.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::sink::MailboxId;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS, usually port 993).
    Implicit,
    /// A plain connection upgraded with `STARTTLS` before logging in (usually port 143).
    StartTls,
    /// No encryption at all. Refused unless [`AccountConfig::allow_plain`] is set.
    Plain,
}

impl TlsMode {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Implicit => 993,
            Self::StartTls | Self::Plain => 143,
        }
    }
}

/// Where the password comes from. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    /// The password itself.
    Inline(String),
    /// A file whose content, without the trailing newline, is the password. It is read
    /// at every connection, so a rotated password is picked up without a restart.
    File(PathBuf),
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(hidden)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// What happens to a message once its reports are committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterIngest {
    /// Move it to this folder, created when missing.
    Move {
        /// The folder, with `/` as separator, such as `TLSRPT/Processed`.
        folder: String,
    },
    /// Set `\Seen` and this keyword, and leave the message in place. Messages carrying the
    /// keyword are never fetched again, even when the resume point is lost.
    Flag {
        /// An IMAP keyword (an atom), such as `$TlsrptProcessed`.
        keyword: String,
    },
}

impl Default for AfterIngest {
    fn default() -> Self {
        Self::Move {
            folder: "TLSRPT/Processed".to_owned(),
        }
    }
}

/// One mailbox of one IMAP account.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    /// The server's host name, also used for SNI and certificate checking.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// How the connection is protected.
    pub tls: TlsMode,
    /// Must be set for [`TlsMode::Plain`] to be used: a guard against sending the password
    /// in clear by mistake.
    pub allow_plain: bool,
    /// The login name.
    pub user: String,
    /// The password.
    pub password: Password,
    /// The mailbox that receives the reports, `INBOX` by default.
    pub mailbox: String,
    /// What happens to a stored report's message.
    pub after_ingest: AfterIngest,
    /// Where rejected messages are moved (created when missing), `TLSRPT/Rejected` by
    /// default. `None` treats them like stored ones (see [`AccountConfig::after_ingest`]).
    pub rejected_folder: Option<String>,
    /// A PEM file of extra CA certificates trusted for the server, besides the built-in
    /// web PKI roots (for a private CA or a self-signed server).
    pub extra_ca_file: Option<PathBuf>,
    /// How many messages are handled per batch: moved or flagged together, with the
    /// resume point saved after each batch.
    pub batch_size: usize,
    /// About the most message bytes held at once: each batch's bodies are fetched in
    /// groups whose sizes (`RFC822.SIZE`) add up to no more than this, and a larger
    /// message alone. 32 MiB by default.
    pub fetch_bytes: u64,
    /// The longest wait for the server to answer a connection attempt or a command.
    pub timeout: Duration,
}

impl AccountConfig {
    /// An account with the defaults: implicit TLS on port 993, `INBOX`, messages moved to
    /// `TLSRPT/Processed`, rejected ones to `TLSRPT/Rejected`, batches of 100 fetched
    /// 32 MiB at a time.
    pub fn new(host: impl Into<String>, user: impl Into<String>, password: Password) -> Self {
        Self {
            host: host.into(),
            port: TlsMode::Implicit.default_port(),
            tls: TlsMode::Implicit,
            allow_plain: false,
            user: user.into(),
            password,
            mailbox: "INBOX".to_owned(),
            after_ingest: AfterIngest::default(),
            rejected_folder: Some("TLSRPT/Rejected".to_owned()),
            extra_ca_file: None,
            batch_size: 100,
            fetch_bytes: 32 << 20,
            timeout: Duration::from_secs(60),
        }
    }

    /// The id under which this mailbox's resume point is stored.
    pub fn mailbox_id(&self) -> MailboxId {
        MailboxId::new(&self.user, &self.host, self.port, &self.mailbox)
    }
}

/// How [`run`](crate::run) waits for new mail and retries.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// The wait between passes when the server has no IDLE, and after a pass that stopped
    /// because the sink failed.
    pub interval: Duration,
    /// How long one IDLE lasts before it is renewed; RFC 2177 asks for less than 29 minutes.
    pub idle_timeout: Duration,
    /// The first wait before reconnecting after an error; it doubles at each failure.
    pub backoff_initial: Duration,
    /// The longest wait before reconnecting.
    pub backoff_max: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(25 * 60),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}
