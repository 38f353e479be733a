//! Findings: the stable interface users script against (MTASTS-RULES.md §7).
//!
//! A finding has a stable code, a severity, a message naming the exact record, line, host
//! or address, and advice worded like an audit finding.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How much a finding matters for taking the domain to `mode: enforce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Should be fixed, but mail is not at risk today.
    Warning,
    /// Breaks MTA-STS or TLS-RPT for this domain, or could not be verified.
    Error,
}

impl Severity {
    /// The lowercase name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable finding codes. Their kebab-case names never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The domain name given to the checker is not a valid domain name.
    DomainInvalid,
    /// A DNS query failed with SERVFAIL, REFUSED or a timeout: the answer is unknown.
    DnsTemporaryFailure,
    /// No `v=STSv1` TXT record at `_mta-sts.<domain>`.
    StsRecordMissing,
    /// More than one `v=STSv1` TXT record at `_mta-sts.<domain>`.
    StsRecordMultiple,
    /// The one `v=STSv1` record breaks the RFC 8461 §3.1 grammar.
    StsRecordInvalid,
    /// Other TXT records share the `_mta-sts` name; harmless.
    StsRecordUnrelated,
    /// A `v=STSv1` record was published at the wrong name.
    StsRecordMisplaced,
    /// The policy could not be fetched (DNS, connection, HTTP framing, deadline).
    PolicyFetchFailed,
    /// The policy host's TLS is not acceptable (chain, name, expiry, version).
    PolicyTlsInvalid,
    /// The policy URL answered with a redirect.
    PolicyRedirect,
    /// The policy URL answered with a status other than 200.
    PolicyHttpStatus,
    /// The policy was not served as `text/plain`.
    PolicyContentType,
    /// The policy is larger than 64 KiB.
    PolicyTooLarge,
    /// The policy file breaks the RFC 8461 §3.2 grammar.
    PolicyInvalid,
    /// The policy mode is `testing`.
    PolicyModeTesting,
    /// The policy mode is `none`.
    PolicyModeNone,
    /// The policy `max_age` is shorter than one day.
    PolicyMaxAgeShort,
    /// A non-mx field appears more than once; the first one applies.
    PolicyDuplicateField,
    /// A field the checker does not know; ignored.
    PolicyUnknownField,
    /// The policy mixes LF and CRLF line endings.
    PolicyMixedLineEndings,
    /// The policy ends with more than one line terminator.
    PolicyTrailingBlankLine,
    /// A policy mx pattern is written with U-labels instead of A-labels.
    PolicyMxNotALabel,
    /// An MX host is not covered by any policy mx pattern.
    MxNotInPolicy,
    /// A policy mx pattern matches no current MX host.
    PolicyMxUnused,
    /// The domain has no MX records; its own address is the implicit MX.
    MxImplicit,
    /// The domain publishes a null MX (RFC 7505) and accepts no mail.
    MxNull,
    /// The domain has neither MX records nor an address to use as implicit MX.
    MxNone,
    /// An MX host has no A or AAAA record.
    MxNoAddress,
    /// No TCP connection to port 25 of an MX address.
    MxUnreachable,
    /// Connected, but the SMTP dialogue failed before STARTTLS.
    MxSmtpError,
    /// The server did not offer STARTTLS after EHLO.
    MxStarttlsMissing,
    /// STARTTLS was offered but refused, or the TLS handshake failed.
    MxTlsFailed,
    /// The MX certificate does not chain to a trusted root.
    MxCertUntrusted,
    /// The MX certificate has no SAN DNS-ID matching the MX host name.
    MxCertNameMismatch,
    /// The MX certificate has expired.
    MxCertExpired,
    /// The MX certificate is not valid yet.
    MxCertNotYetValid,
    /// The MX certificate expires within 14 days.
    MxCertExpiring,
    /// DANE TLSA records exist for an MX host.
    TlsaPresent,
    /// No `v=TLSRPTv1` TXT record at `_smtp._tls.<domain>`.
    TlsrptRecordMissing,
    /// More than one `v=TLSRPTv1` TXT record at `_smtp._tls.<domain>`.
    TlsrptRecordMultiple,
    /// The one `v=TLSRPTv1` record breaks the RFC 8460 §3 grammar.
    TlsrptRecordInvalid,
    /// A `v=TLSRPTv1` record was published at the wrong name.
    TlsrptRecordMisplaced,
    /// A target address is loopback, private or otherwise not public; not connected to.
    AddressNotPublic,
}

impl Code {
    /// The stable kebab-case name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DomainInvalid => "domain-invalid",
            Self::DnsTemporaryFailure => "dns-temporary-failure",
            Self::StsRecordMissing => "sts-record-missing",
            Self::StsRecordMultiple => "sts-record-multiple",
            Self::StsRecordInvalid => "sts-record-invalid",
            Self::StsRecordUnrelated => "sts-record-unrelated",
            Self::StsRecordMisplaced => "sts-record-misplaced",
            Self::PolicyFetchFailed => "policy-fetch-failed",
            Self::PolicyTlsInvalid => "policy-tls-invalid",
            Self::PolicyRedirect => "policy-redirect",
            Self::PolicyHttpStatus => "policy-http-status",
            Self::PolicyContentType => "policy-content-type",
            Self::PolicyTooLarge => "policy-too-large",
            Self::PolicyInvalid => "policy-invalid",
            Self::PolicyModeTesting => "policy-mode-testing",
            Self::PolicyModeNone => "policy-mode-none",
            Self::PolicyMaxAgeShort => "policy-max-age-short",
            Self::PolicyDuplicateField => "policy-duplicate-field",
            Self::PolicyUnknownField => "policy-unknown-field",
            Self::PolicyMixedLineEndings => "policy-mixed-line-endings",
            Self::PolicyTrailingBlankLine => "policy-trailing-blank-line",
            Self::PolicyMxNotALabel => "policy-mx-not-a-label",
            Self::MxNotInPolicy => "mx-not-in-policy",
            Self::PolicyMxUnused => "policy-mx-unused",
            Self::MxImplicit => "mx-implicit",
            Self::MxNull => "mx-null",
            Self::MxNone => "mx-none",
            Self::MxNoAddress => "mx-no-address",
            Self::MxUnreachable => "mx-unreachable",
            Self::MxSmtpError => "mx-smtp-error",
            Self::MxStarttlsMissing => "mx-starttls-missing",
            Self::MxTlsFailed => "mx-tls-failed",
            Self::MxCertUntrusted => "mx-cert-untrusted",
            Self::MxCertNameMismatch => "mx-cert-name-mismatch",
            Self::MxCertExpired => "mx-cert-expired",
            Self::MxCertNotYetValid => "mx-cert-not-yet-valid",
            Self::MxCertExpiring => "mx-cert-expiring",
            Self::TlsaPresent => "tlsa-present",
            Self::TlsrptRecordMissing => "tlsrpt-record-missing",
            Self::TlsrptRecordMultiple => "tlsrpt-record-multiple",
            Self::TlsrptRecordInvalid => "tlsrpt-record-invalid",
            Self::TlsrptRecordMisplaced => "tlsrpt-record-misplaced",
            Self::AddressNotPublic => "address-not-public",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which record or step of the check a finding is about; text output groups by it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    /// The domain name itself.
    #[default]
    Domain,
    /// The `_mta-sts` TXT record.
    StsRecord,
    /// The policy fetch and the policy file.
    Policy,
    /// The MX hosts and their STARTTLS and certificates.
    Mx,
    /// The `_smtp._tls` TLS-RPT record.
    Tlsrpt,
}

impl Section {
    /// The heading used in text output.
    pub fn title(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::StsRecord => "_mta-sts TXT record",
            Self::Policy => "policy",
            Self::Mx => "MX hosts",
            Self::Tlsrpt => "_smtp._tls TLS-RPT record",
        }
    }
}

/// One thing the checker found, worded for a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The record or step the finding is about.
    pub section: Section,
    /// Stable machine-readable code.
    pub code: Code,
    /// Error, warning or info.
    pub severity: Severity,
    /// What was found, naming the exact record, line, host or address.
    pub message: String,
    /// What to do about it.
    pub advice: String,
}

impl Finding {
    /// Builds a finding from its parts.
    pub fn new(
        code: Code,
        severity: Severity,
        message: impl Into<String>,
        advice: impl Into<String>,
    ) -> Self {
        Self {
            section: Section::Domain,
            code,
            severity,
            message: message.into(),
            advice: advice.into(),
        }
    }
}
