//! Deviations from RFC 8460 that real reporters produce and the parser accepts
//! (TLSRPT-NOTES §4). Each is recorded on the report so that users can see it.

use std::fmt;

use serde::Serialize;

/// One accepted deviation, with where it occurred. `policy` and `detail` are
/// zero-based indexes into `policies[]` and `failure-details[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Quirk {
    /// A UTF-8 byte order mark before the JSON.
    ByteOrderMark,
    /// A timestamp without a zone, read as UTC (Microsoft, 2023 to early 2024).
    TimestampWithoutZone { path: String, value: String },
    /// `mx-host` given as a single string instead of an array.
    MxHostString { policy: usize },
    /// `mx-host` missing from an `sts` policy.
    MxHostMissing { policy: usize },
    /// `mx-host` present but empty.
    MxHostEmpty { policy: usize },
    /// A value found under a non-standard key: a schema type name such as
    /// `mx-host-pattern`, or a misspelling such as `receiving-mx-host-name`.
    AlternateKey {
        path: String,
        key: String,
        standard: String,
    },
    /// `contact-info` is `null` (Stalwart).
    ContactInfoNull,
    /// `contact-info` is missing.
    ContactInfoMissing,
    /// `organization-name` is missing; the report is stored under an empty name.
    OrganizationNameMissing,
    /// `policy-string` is missing (Mail.ru).
    PolicyStringMissing { policy: usize },
    /// Policy lines carried trailing `\r`, spaces or tabs, which were trimmed.
    PolicyStringWhitespace { policy: usize },
    /// A `tlsa` policy-string element holding a JSON array of records (Microsoft), expanded.
    TlsaPolicyStringJsonArray { policy: usize },
    /// `policy-domain` was not in canonical form (case, surrounding space, trailing dot,
    /// or a Unicode name, kept as its `xn--` A-label).
    PolicyDomainNormalised { policy: usize, original: String },
    /// A `policy-type` that RFC 8460 does not define, kept verbatim.
    UnknownPolicyType { policy: usize, value: String },
    /// A `result-type` that RFC 8460 does not define, kept verbatim.
    UnknownResultType {
        policy: usize,
        detail: usize,
        value: String,
    },
    /// The summary's failure total differs from the sum of the details (Mail.ru).
    /// Both are kept: the summary for session totals, the details for the breakdown.
    FailureCountMismatch {
        policy: usize,
        summary: u64,
        details: u64,
    },
    /// A count written as a JSON string of digits.
    CountAsString { path: String },
    /// An optional field of the wrong type, ignored.
    IgnoredField { path: String, reason: String },
    /// A key RFC 8460 does not define, kept in the original bytes.
    UnknownField { path: String },
    /// NUL characters (`\u0000`) in `strings` strings or keys, the first at `first`, were
    /// replaced with U+FFFD: no database stores NUL in text. The original bytes are kept.
    NulCharacters { first: String, strings: usize },
}

impl Quirk {
    /// The stable kebab-case code of this quirk, as serialised.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ByteOrderMark => "byte-order-mark",
            Self::TimestampWithoutZone { .. } => "timestamp-without-zone",
            Self::MxHostString { .. } => "mx-host-string",
            Self::MxHostMissing { .. } => "mx-host-missing",
            Self::MxHostEmpty { .. } => "mx-host-empty",
            Self::AlternateKey { .. } => "alternate-key",
            Self::ContactInfoNull => "contact-info-null",
            Self::ContactInfoMissing => "contact-info-missing",
            Self::OrganizationNameMissing => "organization-name-missing",
            Self::PolicyStringMissing { .. } => "policy-string-missing",
            Self::PolicyStringWhitespace { .. } => "policy-string-whitespace",
            Self::TlsaPolicyStringJsonArray { .. } => "tlsa-policy-string-json-array",
            Self::PolicyDomainNormalised { .. } => "policy-domain-normalised",
            Self::UnknownPolicyType { .. } => "unknown-policy-type",
            Self::UnknownResultType { .. } => "unknown-result-type",
            Self::FailureCountMismatch { .. } => "failure-count-mismatch",
            Self::CountAsString { .. } => "count-as-string",
            Self::IgnoredField { .. } => "ignored-field",
            Self::UnknownField { .. } => "unknown-field",
            Self::NulCharacters { .. } => "nul-characters",
        }
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ByteOrderMark => write!(f, "a UTF-8 byte order mark precedes the JSON"),
            Self::TimestampWithoutZone { path, value } => {
                write!(f, "{path} {value:?} has no time zone; read as UTC")
            }
            Self::MxHostString { policy } => {
                write!(
                    f,
                    "policies[{policy}].policy.mx-host is a string, not an array"
                )
            }
            Self::MxHostMissing { policy } => {
                write!(f, "policies[{policy}].policy.mx-host is missing")
            }
            Self::MxHostEmpty { policy } => write!(f, "policies[{policy}].policy.mx-host is empty"),
            Self::AlternateKey {
                path,
                key,
                standard,
            } => write!(f, "{path} uses the key {key:?} instead of {standard:?}"),
            Self::ContactInfoNull => write!(f, "contact-info is null"),
            Self::ContactInfoMissing => write!(f, "contact-info is missing"),
            Self::OrganizationNameMissing => write!(f, "organization-name is missing"),
            Self::PolicyStringMissing { policy } => {
                write!(f, "policies[{policy}].policy.policy-string is missing")
            }
            Self::PolicyStringWhitespace { policy } => write!(
                f,
                "policies[{policy}].policy.policy-string has lines with trailing whitespace or CR"
            ),
            Self::TlsaPolicyStringJsonArray { policy } => write!(
                f,
                "policies[{policy}].policy.policy-string holds a JSON-encoded array of TLSA records"
            ),
            Self::PolicyDomainNormalised { policy, original } => write!(
                f,
                "policies[{policy}].policy.policy-domain {original:?} was normalised"
            ),
            Self::UnknownPolicyType { policy, value } => write!(
                f,
                "policies[{policy}].policy.policy-type {value:?} is not defined by RFC 8460"
            ),
            Self::UnknownResultType {
                policy,
                detail,
                value,
            } => write!(
                f,
                "policies[{policy}].failure-details[{detail}].result-type {value:?} is not defined by RFC 8460"
            ),
            Self::FailureCountMismatch {
                policy,
                summary,
                details,
            } => write!(
                f,
                "policies[{policy}]: summary says {summary} failed sessions, details add up to {details}"
            ),
            Self::CountAsString { path } => write!(f, "{path} is a string, not a number"),
            Self::IgnoredField { path, reason } => write!(f, "{path} ignored: {reason}"),
            Self::UnknownField { path } => write!(f, "{path} is not an RFC 8460 key"),
            Self::NulCharacters { first, strings } => write!(
                f,
                "{strings} string(s) held NUL characters, replaced with U+FFFD (the first at {first})"
            ),
        }
    }
}
