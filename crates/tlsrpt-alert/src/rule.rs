//! The rules by name, and which evidence each one reads: reports, the latest live check,
//! or the advisor's verdict.

use std::fmt;

/// One alert rule. Its kebab-case name is stable: stored alerts and configurations use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    FailureRateRise,
    NewResultType,
    NewFailingMx,
    ReporterSilent,
    PolicyFetchFailing,
    MxDrift,
    CertExpiring,
    PolicyChanged,
    StsRecordGone,
    ReadyForEnforce,
}

/// What a rule reads, and so which evaluation runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The daily rollups of trusted reports: evaluated after an ingest.
    Reports,
    /// The latest live check: evaluated after a check.
    Check,
    /// The advisor's verdict (reports and check): evaluated after either.
    Verdict,
}

impl Rule {
    /// Every rule, in the order they are documented.
    pub const ALL: [Rule; 10] = [
        Rule::FailureRateRise,
        Rule::NewResultType,
        Rule::NewFailingMx,
        Rule::ReporterSilent,
        Rule::PolicyFetchFailing,
        Rule::MxDrift,
        Rule::CertExpiring,
        Rule::PolicyChanged,
        Rule::StsRecordGone,
        Rule::ReadyForEnforce,
    ];

    /// The stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::FailureRateRise => "failure-rate-rise",
            Rule::NewResultType => "new-result-type",
            Rule::NewFailingMx => "new-failing-mx",
            Rule::ReporterSilent => "reporter-silent",
            Rule::PolicyFetchFailing => "policy-fetch-failing",
            Rule::MxDrift => "mx-drift",
            Rule::CertExpiring => "cert-expiring",
            Rule::PolicyChanged => "policy-changed",
            Rule::StsRecordGone => "sts-record-gone",
            Rule::ReadyForEnforce => "ready-for-enforce",
        }
    }

    /// The rule called `name`.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// What the rule reads.
    pub fn family(self) -> Family {
        match self {
            Rule::FailureRateRise
            | Rule::NewResultType
            | Rule::NewFailingMx
            | Rule::ReporterSilent => Family::Reports,
            Rule::PolicyFetchFailing
            | Rule::MxDrift
            | Rule::CertExpiring
            | Rule::PolicyChanged
            | Rule::StsRecordGone => Family::Check,
            Rule::ReadyForEnforce => Family::Verdict,
        }
    }

    /// The rules of the given families.
    pub fn of(families: &[Family]) -> Vec<Rule> {
        Rule::ALL
            .into_iter()
            .filter(|r| families.contains(&r.family()))
            .collect()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
