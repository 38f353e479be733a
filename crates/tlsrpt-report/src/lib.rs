//! The SMTP TLS Reporting (RFC 8460) report model, and a parser that accepts every
//! real-world deviation documented for reporters while rejecting what cannot be a report.
//!
//! Every other crate of the workspace depends on this one and on nothing above it:
//! sources turn bytes into [`Report`]s, stores persist them, advisors read them.
//!
//! ```
//! let json = br#"{"organization-name":"Example","report-id":"r1",
//!   "date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},
//!   "policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com"},
//!   "summary":{"total-successful-session-count":5,"total-failure-session-count":0}}]}"#;
//! let report = tlsrpt_report::parse(json, &tlsrpt_report::Limits::default()).unwrap();
//! assert_eq!(report.policies[0].policy.policy_domain, "example.com");
//! ```

mod model;
mod parse;
mod quirk;
mod strict;
mod timestamp;

pub use model::{
    DateRange, FailureDetail, Policy, PolicyResult, PolicyType, Report, ResultClass, ResultType,
    Summary,
};
#[doc(hidden)]
pub use parse::parse_tolerant;
pub use parse::{Limits, RejectReason, parse};
pub use quirk::Quirk;
#[doc(hidden)]
pub use strict::parse_strict;
