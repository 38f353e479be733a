//! The result of checking one domain: the records as found, the policy, every MX address
//! with its TLS results, and the findings. Serialized as JSON by `tlsrpt check --json`.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};
use crate::policy::Policy;
use crate::sts_record::StsRecord;
use crate::tlsrpt_record::TlsRptRecord;

/// The one-line verdict of a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No error and no warning.
    Pass,
    /// Warnings, no error.
    Warn,
    /// At least one error-level finding.
    Fail,
}

impl Verdict {
    /// The lowercase name used in JSON: `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// Everything found about one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainReport {
    /// The domain as checked (A-label form, lowercase).
    pub domain: String,
    /// When the check started.
    pub checked_at: DateTime<Utc>,
    /// How long the check took, in milliseconds.
    pub elapsed_ms: u64,
    /// Pass, warn or fail, from the findings.
    pub verdict: Verdict,
    /// The `_mta-sts` TXT record.
    pub sts_record: StsRecordReport,
    /// The policy fetch, when a `v=STSv1` record was found.
    pub policy: Option<PolicyFetchReport>,
    /// The MX hosts and their TLS results.
    pub mx: MxReport,
    /// The `_smtp._tls` TXT record.
    pub tlsrpt: TlsRptReport,
    /// What was found, in the order checked.
    pub findings: Vec<Finding>,
}

impl DomainReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Number of findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub(crate) fn verdict_of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Fail,
            Some(Severity::Warning) => Verdict::Warn,
            _ => Verdict::Pass,
        }
    }
}

/// The `_mta-sts.<domain>` TXT lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRecordReport {
    /// The name queried.
    pub name: String,
    /// Every TXT record at the name, strings concatenated.
    pub txt: Vec<String>,
    /// The record, when exactly one valid `v=STSv1` record exists.
    pub record: Option<StsRecord>,
    /// Set when the lookup failed temporarily.
    pub dns_error: Option<String>,
}

/// The HTTPS policy fetch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFetchReport {
    /// The policy URL.
    pub url: String,
    /// Addresses of the policy host.
    pub addresses: Vec<IpAddr>,
    /// The address the policy was fetched from.
    pub connected_to: Option<SocketAddr>,
    /// The TLS session with the policy host.
    pub tls: Option<TlsSession>,
    /// The HTTP status code.
    pub http_status: Option<u16>,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The Location header of a redirect.
    pub location: Option<String>,
    /// The policy text as received (lossy UTF-8).
    pub body: Option<String>,
    /// The parsed policy, when valid.
    pub policy: Option<Policy>,
    /// Why the fetch failed, when it did.
    pub error: Option<String>,
}

/// The MX hosts of the domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxReport {
    /// No MX records: the domain itself is the implicit MX.
    pub implicit: bool,
    /// A null MX (RFC 7505): the domain accepts no mail.
    pub null_mx: bool,
    /// Set when the MX lookup failed temporarily.
    pub dns_error: Option<String>,
    /// The MX hosts, by preference.
    pub hosts: Vec<MxHostReport>,
}

/// One MX host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxHostReport {
    /// The host name (A-labels, lowercase, no trailing dot).
    pub name: String,
    /// The MX preference; `None` for the implicit MX.
    pub preference: Option<u16>,
    /// The policy pattern that covers this host, if any.
    pub policy_match: Option<String>,
    /// Whether TLSA records exist at `_25._tcp.<name>`; `None` when the lookup failed.
    pub tlsa: Option<bool>,
    /// Every A and AAAA address, probed one by one.
    pub addresses: Vec<AddressProbe>,
}

/// The SMTP/STARTTLS probe of one MX address on port 25.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressProbe {
    /// The address.
    pub address: IpAddr,
    /// Why the address was not probed (SSRF guard).
    pub skipped: Option<String>,
    /// A TCP connection was established.
    pub connected: bool,
    /// The SMTP greeting.
    pub banner: Option<String>,
    /// Whether EHLO listed STARTTLS; `None` when EHLO was not reached.
    pub starttls_offered: Option<bool>,
    /// The TLS session after STARTTLS.
    pub tls: Option<TlsSession>,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

impl AddressProbe {
    pub(crate) fn new(address: IpAddr) -> Self {
        Self {
            address,
            skipped: None,
            connected: false,
            banner: None,
            starttls_offered: None,
            tls: None,
            error: None,
        }
    }
}

/// A completed TLS handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    /// The negotiated cipher suite.
    pub cipher_suite: String,
    /// The server certificate, verified separately from the handshake.
    pub certificate: Option<CertificateReport>,
}

/// The server certificate and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateReport {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// SAN DNS names.
    pub san_dns: Vec<String>,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// Whole days until `not_after` (negative once expired).
    pub days_remaining: i64,
    /// Number of certificates the server sent.
    pub chain_length: usize,
    /// The chain leads to a trusted root (judged at a time inside the leaf's validity).
    pub chain_trusted: bool,
    /// Why the chain is not trusted.
    pub chain_error: Option<String>,
    /// A SAN DNS-ID matches the expected host name.
    pub name_matches: bool,
}

/// The `_smtp._tls.<domain>` TXT lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptReport {
    /// The name queried.
    pub name: String,
    /// Every TXT record at the name, strings concatenated.
    pub txt: Vec<String>,
    /// The record, when exactly one valid `v=TLSRPTv1` record exists.
    pub record: Option<TlsRptRecord>,
    /// Set when the lookup failed temporarily.
    pub dns_error: Option<String>,
}
