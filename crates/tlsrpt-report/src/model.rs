//! The report as RFC 8460 §4 defines it, normalised: one type per JSON object of the
//! schema, counts as unsigned integers, timestamps in UTC, unknown enum values kept verbatim.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::Quirk;

/// One SMTP TLS report (RFC 8460 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `organization-name`: the reporter, for example "Google Inc.".
    pub organization_name: String,
    /// `date-range`.
    pub date_range: DateRange,
    /// `contact-info`; `None` when missing or `null` (Stalwart sends `null`).
    pub contact_info: Option<String>,
    /// `report-id`: unique per reporter. `(organization_name, report_id)` identifies a report.
    pub report_id: String,
    /// `policies[]`, in report order.
    pub policies: Vec<PolicyResult>,
    /// Deviations from RFC 8460 that the parser accepted, in the order met.
    pub quirks: Vec<Quirk>,
}

/// `date-range` (RFC 8460 §4.4): the period the report covers, read as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    /// `start-datetime`.
    pub start: DateTime<Utc>,
    /// `end-datetime`.
    pub end: DateTime<Utc>,
}

/// One element of `policies[]`: a policy as the reporter saw it, and what happened under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyResult {
    /// `policy`.
    pub policy: Policy,
    /// `summary`.
    pub summary: Summary,
    /// `failure-details[]`; empty when the key is missing or `[]`.
    pub failure_details: Vec<FailureDetail>,
}

impl PolicyResult {
    /// The sum of `failed-session-count` over the failure details. It may differ from
    /// [`Summary::total_failure_session_count`]: Mail.ru's do (TLSRPT-NOTES §4.5).
    pub fn detail_failure_sum(&self) -> u64 {
        self.failure_details
            .iter()
            .fold(0u64, |sum, d| sum.saturating_add(d.failed_session_count))
    }
}

/// `policy` (RFC 8460 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// `policy-type`.
    pub policy_type: PolicyType,
    /// `policy-string[]`, one policy line per element, trimmed of trailing `\r` and
    /// spaces. Microsoft's TLSA array-in-a-string is expanded to one record per element.
    pub policy_string: Vec<String>,
    /// `policy-domain`, lower-cased and without a trailing dot.
    pub policy_domain: String,
    /// `mx-host[]`: the MX patterns of the policy. A single string is read as one element.
    pub mx_host: Vec<String>,
}

/// `summary` (RFC 8460 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// `total-successful-session-count`.
    pub total_successful_session_count: u64,
    /// `total-failure-session-count`.
    pub total_failure_session_count: u64,
}

/// One element of `failure-details[]` (RFC 8460 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureDetail {
    /// `result-type`.
    pub result_type: ResultType,
    /// `sending-mta-ip`, verbatim (reporters anonymise it in non-IP ways).
    pub sending_mta_ip: Option<String>,
    /// `receiving-mx-hostname` (also read from the misspelt `receiving-mx-host-name`).
    pub receiving_mx_hostname: Option<String>,
    /// `receiving-mx-helo`.
    pub receiving_mx_helo: Option<String>,
    /// `receiving-ip`, verbatim.
    pub receiving_ip: Option<String>,
    /// `failed-session-count`.
    pub failed_session_count: u64,
    /// `additional-information` (also read from the schema type name `additional-info-uri`).
    pub additional_information: Option<String>,
    /// `failure-reason-code`, free text.
    pub failure_reason_code: Option<String>,
}

/// `policy-type` (RFC 8460 §4.4). Unknown values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// `sts`: an MTA-STS policy (RFC 8461).
    Sts,
    /// `tlsa`: a DANE TLSA record set (RFC 6698).
    Tlsa,
    /// `no-policy-found`.
    NoPolicyFound,
    /// Any other value, exactly as the reporter wrote it.
    Other(String),
}

impl PolicyType {
    /// Reads a `policy-type` value. Matching is exact, as the RFC spells the values.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "sts" => Self::Sts,
            "tlsa" => Self::Tlsa,
            "no-policy-found" => Self::NoPolicyFound,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The value as written in a report.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sts => "sts",
            Self::Tlsa => "tlsa",
            Self::NoPolicyFound => "no-policy-found",
            Self::Other(s) => s,
        }
    }
}

impl Serialize for PolicyType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a result type means for a move to `mode: enforce` (TLSRPT-NOTES §2, READINESS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResultClass {
    /// TLS negotiation failed: under enforce the sender refuses to deliver.
    Negotiation,
    /// DANE validation failed.
    Dane,
    /// The sender could not fetch or use the MTA-STS policy: mail flows unprotected.
    PolicyFetch,
    /// A result type this version does not know.
    Unknown,
}

/// `result-type` (RFC 8460 §4.3). Unknown values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// `starttls-not-supported`.
    StarttlsNotSupported,
    /// `certificate-host-mismatch`.
    CertificateHostMismatch,
    /// `certificate-expired`.
    CertificateExpired,
    /// `certificate-not-trusted`.
    CertificateNotTrusted,
    /// `validation-failure`.
    ValidationFailure,
    /// `tlsa-invalid`.
    TlsaInvalid,
    /// `dnssec-invalid`.
    DnssecInvalid,
    /// `dane-required`.
    DaneRequired,
    /// `sts-policy-fetch-error`.
    StsPolicyFetchError,
    /// `sts-policy-invalid`.
    StsPolicyInvalid,
    /// `sts-webpki-invalid`.
    StsWebpkiInvalid,
    /// Any other value, exactly as the reporter wrote it.
    Other(String),
}

impl ResultType {
    /// Reads a `result-type` value.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "starttls-not-supported" => Self::StarttlsNotSupported,
            "certificate-host-mismatch" => Self::CertificateHostMismatch,
            "certificate-expired" => Self::CertificateExpired,
            "certificate-not-trusted" => Self::CertificateNotTrusted,
            "validation-failure" => Self::ValidationFailure,
            "tlsa-invalid" => Self::TlsaInvalid,
            "dnssec-invalid" => Self::DnssecInvalid,
            "dane-required" => Self::DaneRequired,
            "sts-policy-fetch-error" => Self::StsPolicyFetchError,
            "sts-policy-invalid" => Self::StsPolicyInvalid,
            "sts-webpki-invalid" => Self::StsWebpkiInvalid,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The value as written in a report.
    pub fn as_str(&self) -> &str {
        match self {
            Self::StarttlsNotSupported => "starttls-not-supported",
            Self::CertificateHostMismatch => "certificate-host-mismatch",
            Self::CertificateExpired => "certificate-expired",
            Self::CertificateNotTrusted => "certificate-not-trusted",
            Self::ValidationFailure => "validation-failure",
            Self::TlsaInvalid => "tlsa-invalid",
            Self::DnssecInvalid => "dnssec-invalid",
            Self::DaneRequired => "dane-required",
            Self::StsPolicyFetchError => "sts-policy-fetch-error",
            Self::StsPolicyInvalid => "sts-policy-invalid",
            Self::StsWebpkiInvalid => "sts-webpki-invalid",
            Self::Other(s) => s,
        }
    }

    /// The class that decides what this failure would mean under `mode: enforce`.
    pub fn class(&self) -> ResultClass {
        match self {
            Self::StarttlsNotSupported
            | Self::CertificateHostMismatch
            | Self::CertificateExpired
            | Self::CertificateNotTrusted
            | Self::ValidationFailure => ResultClass::Negotiation,
            Self::TlsaInvalid | Self::DnssecInvalid | Self::DaneRequired => ResultClass::Dane,
            Self::StsPolicyFetchError | Self::StsPolicyInvalid | Self::StsWebpkiInvalid => {
                ResultClass::PolicyFetch
            }
            Self::Other(_) => ResultClass::Unknown,
        }
    }
}

impl Serialize for ResultType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
