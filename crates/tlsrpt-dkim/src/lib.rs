//! DKIM verification of mailed TLS reports. RFC 8460 §3: "Reports sent via SMTP MUST
//! contain a valid DKIM signature by the reporting domain. Reports lacking such a signature
//! MUST be ignored by the recipient." Without it, anyone who knows the rua address could
//! forge "all clean" reports and push the advice towards enforce.
//!
//! A signature counts when it verifies and its `d=` is the domain of the message's `From`
//! address or a parent of it (relaxed alignment). Keys in the wild do not set `s=tlsrpt`,
//! so the service type is not required. Behind an MTA that already verifies DKIM, its
//! `Authentication-Results` can be trusted instead, for one named authserv-id.

mod upstream;
mod verifier;

pub use verifier::{DkimConfig, DkimError, DkimVerifier, MailAuth};
