//! Live MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) checker.
//!
//! [`Checker::check`] reads a domain's `_mta-sts` TXT record, fetches its HTTPS policy,
//! aligns the MX hosts with the policy, probes STARTTLS and the certificate on every MX
//! address, and reads the `_smtp._tls` record. Everything found goes into a
//! [`DomainReport`], whose [`Finding`]s carry a stable [`Code`], a [`Severity`], a message
//! naming the exact record, line, host or address, and advice worded like an audit finding.
//!
//! The checker only connects to globally routable addresses unless
//! [`CheckConfig::allow_private_addresses`] is set, so user-supplied domain names cannot be
//! used to reach internal services.

pub use crate::changes::{Change, ChangeKind, detect_changes};
pub use crate::checker::Checker;
pub use crate::config::CheckConfig;
pub use crate::error::CheckError;
pub use crate::finding::{Code, Finding, Section, Severity};
pub use crate::pattern::{MxPattern, PatternError, normalize_host};
pub use crate::policy::{Mode, Policy, PolicyError, PolicyParse, parse_policy};
pub use crate::report::{
    AddressProbe, CertificateReport, DomainReport, MxHostReport, MxReport, PolicyFetchReport,
    StsRecordReport, TlsRptReport, TlsSession, Verdict,
};
pub use crate::sts_record::{StsRecord, StsRecordError, parse_sts_record};
pub use crate::tlsrpt_record::{TlsRptRecord, TlsRptRecordError, parse_tlsrpt_record};

mod address;
mod changes;
mod checker;
mod config;
mod dns;
mod error;
mod fetch;
mod finding;
mod http;
mod pattern;
mod policy;
mod report;
mod smtp;
mod sts_record;
mod text;
mod tls;
mod tlsrpt_record;
