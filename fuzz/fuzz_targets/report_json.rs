//! Fuzzes the RFC 8460 report JSON parser: it returns a report or a reason, never panics,
//! a parsed report's domains are never empty, and the strict fast path returns a report
//! only when the tolerant parser returns the very same one, with no quirk but those it
//! handles.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsrpt_report::{Limits, parse, parse_strict, parse_tolerant};

/// The codes of the quirks the strict fast path records itself.
const FAST_PATH_QUIRKS: &[&str] = &[
    "contact-info-null",
    "contact-info-missing",
    "mx-host-string",
    "mx-host-missing",
    "mx-host-empty",
    "policy-string-missing",
    "policy-string-whitespace",
    "tlsa-policy-string-json-array",
    "failure-count-mismatch",
];

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let parsed = parse(data, &limits);
    if let Ok(report) = &parsed {
        for policy in &report.policies {
            assert!(!policy.policy.policy_domain.is_empty());
        }
    }
    let tolerant = parse_tolerant(data, &limits);
    if let Some(strict) = parse_strict(data, &limits) {
        assert_eq!(Ok(&strict), tolerant.as_ref(), "the fast path disagrees");
        // The fast path records only the common structural quirks; it leaves others to
        // the tolerant parser.
        assert!(
            strict
                .quirks
                .iter()
                .all(|q| FAST_PATH_QUIRKS.contains(&q.code())),
            "the fast path recorded {:?}",
            strict.quirks
        );
    }
    assert_eq!(parsed, tolerant, "parse differs from the tolerant parser");
});
