//! The criteria, by stable id, and the group each belongs to: the group decides which
//! verdict a failure leads to.

use std::fmt;

use serde::Serialize;

/// The stable criterion ids, in the order they are listed. Their kebab-case names never
/// change meaning; the crate README describes each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriterionId {
    /// A live check recent enough to trust.
    LiveCheck,
    /// The `_mta-sts` TXT record is valid and unique.
    StsRecord,
    /// The policy file fetches cleanly over HTTPS.
    PolicyFetch,
    /// The policy file parses.
    PolicyValid,
    /// The policy is in `mode: testing`.
    PolicyMode,
    /// Every MX host matches a policy pattern, and no pattern is stale.
    MxCoverage,
    /// Every MX host offers STARTTLS with a valid certificate for its name.
    MxTls,
    /// No MX certificate expires within the `max_age` about to be published.
    MxCertExpiry,
    /// The TLS-RPT record is published.
    TlsrptRecord,
    /// Reports arrive on enough days of the window.
    ReportDays,
    /// Reports come from enough distinct organisations.
    ReportOrganisations,
    /// Reports cover enough sessions.
    ReportSessions,
    /// Every stored report is authenticated.
    ReportTrust,
    /// TLS-negotiation failures enforce would refuse stay below the threshold.
    TlsFailureRate,
    /// No such failure in the last days.
    TlsFailuresRecent,
    /// Reporters saw the policy that is published now.
    PolicyMatch,
    /// Policy-fetch failures seen by senders.
    PolicyFetchFailures,
}

/// What a failure of a criterion means for the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// The live configuration is broken: `blocked`.
    Configuration,
    /// Too little data: `insufficient-data`.
    Data,
    /// Anything else: `not-ready`.
    Readiness,
}

impl CriterionId {
    /// Every id, in listing order.
    pub const ALL: [Self; 17] = [
        Self::LiveCheck,
        Self::StsRecord,
        Self::PolicyFetch,
        Self::PolicyValid,
        Self::PolicyMode,
        Self::MxCoverage,
        Self::MxTls,
        Self::MxCertExpiry,
        Self::TlsrptRecord,
        Self::ReportDays,
        Self::ReportOrganisations,
        Self::ReportSessions,
        Self::ReportTrust,
        Self::TlsFailureRate,
        Self::TlsFailuresRecent,
        Self::PolicyMatch,
        Self::PolicyFetchFailures,
    ];

    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LiveCheck => "live-check",
            Self::StsRecord => "sts-record",
            Self::PolicyFetch => "policy-fetch",
            Self::PolicyValid => "policy-valid",
            Self::PolicyMode => "policy-mode",
            Self::MxCoverage => "mx-coverage",
            Self::MxTls => "mx-tls",
            Self::MxCertExpiry => "mx-cert-expiry",
            Self::TlsrptRecord => "tlsrpt-record",
            Self::ReportDays => "report-days",
            Self::ReportOrganisations => "report-organisations",
            Self::ReportSessions => "report-sessions",
            Self::ReportTrust => "report-trust",
            Self::TlsFailureRate => "tls-failure-rate",
            Self::TlsFailuresRecent => "tls-failures-recent",
            Self::PolicyMatch => "policy-match",
            Self::PolicyFetchFailures => "policy-fetch-failures",
        }
    }

    /// A short title, for tables.
    pub fn title(self) -> &'static str {
        match self {
            Self::LiveCheck => "Live check is recent",
            Self::StsRecord => "_mta-sts TXT record",
            Self::PolicyFetch => "Policy fetches cleanly",
            Self::PolicyValid => "Policy parses",
            Self::PolicyMode => "Policy is in testing mode",
            Self::MxCoverage => "MX hosts match the policy",
            Self::MxTls => "MX hosts offer valid STARTTLS",
            Self::MxCertExpiry => "MX certificates outlast max_age",
            Self::TlsrptRecord => "TLS-RPT record",
            Self::ReportDays => "Reports on enough days",
            Self::ReportOrganisations => "Reports from enough organisations",
            Self::ReportSessions => "Reports cover enough sessions",
            Self::ReportTrust => "Reports are authenticated",
            Self::TlsFailureRate => "TLS failures below threshold",
            Self::TlsFailuresRecent => "No recent TLS failures",
            Self::PolicyMatch => "Reporters saw the live policy",
            Self::PolicyFetchFailures => "Policy-fetch failures explained",
        }
    }

    /// The id for its kebab-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.as_str() == name)
    }

    pub(crate) fn group(self) -> Group {
        match self {
            Self::StsRecord
            | Self::PolicyFetch
            | Self::PolicyValid
            | Self::MxCoverage
            | Self::MxTls => Group::Configuration,
            Self::ReportDays | Self::ReportOrganisations | Self::ReportSessions => Group::Data,
            _ => Group::Readiness,
        }
    }

    /// Rank of the fix in the plan: lower comes first (what breaks mail, then what the
    /// reports show, then what only needs time).
    pub(crate) fn fix_rank(self) -> u8 {
        match self {
            Self::StsRecord => 0,
            Self::PolicyFetch => 1,
            Self::PolicyValid => 2,
            Self::MxCoverage => 3,
            Self::MxTls => 4,
            Self::MxCertExpiry => 5,
            Self::TlsFailureRate => 6,
            Self::TlsFailuresRecent => 7,
            Self::PolicyMatch => 8,
            Self::TlsrptRecord => 9,
            Self::PolicyMode => 10,
            Self::ReportOrganisations => 11,
            Self::ReportDays => 12,
            Self::ReportSessions => 13,
            Self::LiveCheck => 14,
            Self::ReportTrust => 15,
            Self::PolicyFetchFailures => 16,
        }
    }
}

impl fmt::Display for CriterionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
