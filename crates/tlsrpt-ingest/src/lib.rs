//! Turns bytes from any source into TLS reports: detects the format by content (JSON,
//! gzip, zip, base64, RFC 5322 mail, mbox), unpacks it within bounds, and says for each
//! report candidate whether it is a report, a rejection with its reason, or not a TLS report.
//!
//! Sources (files, directories, mbox archives, Maildir folders) live in [`files`]; the
//! mail-borne paths (IMAP, HTTPS) call [`extract`] directly on the bytes they receive.

mod content;
mod decompress;
mod extract;
pub mod files;
mod mail;
mod source;

pub use extract::{Claim, Found, Limits, extract};
pub use mail::MessageMeta;
pub use source::Source;
