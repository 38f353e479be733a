//! Never-panic properties of the parser: arbitrary bytes, byte-level damage to a valid
//! report, and random JSON values swapped into, added to or removed from a valid report.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value};
use tlsrpt_report::{Limits, Quirk, parse};

/// Every key RFC 8460 and the known deviations use, plus a stranger.
pub(crate) const KEYS: &[&str] = &[
    "organization-name",
    "date-range",
    "start-datetime",
    "end-datetime",
    "contact-info",
    "report-id",
    "policies",
    "policy",
    "policy-type",
    "policy-string",
    "policy-domain",
    "mx-host",
    "mx-host-pattern",
    "summary",
    "total-successful-session-count",
    "total-failure-session-count",
    "failure-details",
    "result-type",
    "sending-mta-ip",
    "receiving-mx-hostname",
    "receiving-mx-host-name",
    "receiving-mx-helo",
    "receiving-ip",
    "failed-session-count",
    "additional-information",
    "additional-info-uri",
    "failure-reason-code",
    "x-unknown",
];

/// Strings that mean something to the parser.
const TEXTS: &[&str] = &[
    "",
    " ",
    ".",
    "sts",
    "tlsa",
    "no-policy-found",
    "validation-failure",
    "2023-01-10T00:00:00",
    "2024-02-30T00:00:00Z",
    "2024-05-06",
    "[\"3 1 1 AB\",\"3 1 1 CD\"]",
    "[",
    "18446744073709551616",
    "-1",
    " 42 ",
    "\u{feff}",
    "mode: enforce\r",
    "EXAMPLE.ORG.",
];

pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        select(TEXTS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(KEYS), inner), 0..4).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Put this value where the chosen value was.
    Replace(Value),
    /// Remove the chosen value from its object or array.
    Remove,
    /// Add this key (or element) to the chosen object (or array).
    Insert(&'static str, Value),
}

pub(crate) fn mutation() -> impl Strategy<Value = (Index, Mutation)> {
    let m = prop_oneof![
        json_value().prop_map(Mutation::Replace),
        Just(Mutation::Remove),
        (select(KEYS), json_value()).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ];
    (any::<Index>(), m)
}

/// A valid report that uses every level of the schema.
fn seed() -> Value {
    serde_json::from_slice(&crate::fixture("unknown-field.json")).unwrap()
}

/// The JSON pointers of every value in `v`, the root included.
fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

pub(crate) fn apply(doc: &mut Value, at: &Index, mutation: Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let pointer = at.get(&all).clone();
    match mutation {
        Mutation::Replace(v) => *doc.pointer_mut(&pointer).unwrap() = v,
        Mutation::Insert(key, v) => match doc.pointer_mut(&pointer).unwrap() {
            Value::Object(m) => {
                m.insert(key.to_owned(), v);
            }
            Value::Array(a) => a.push(v),
            other => *other = v,
        },
        Mutation::Remove => {
            let Some((parent, last)) = pointer.rsplit_once('/') else {
                *doc = Value::Null;
                return;
            };
            let last = last.replace("~1", "/").replace("~0", "~");
            match doc.pointer_mut(parent).unwrap() {
                Value::Object(m) => {
                    m.remove(&last);
                }
                Value::Array(a) => {
                    a.remove(last.parse::<usize>().unwrap());
                }
                _ => unreachable!("a pointer's parent holds it"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn damaged_report_bytes_never_panic(
        cut in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 0..8),
    ) {
        let mut bytes = crate::fixture("unknown-field.json");
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn json_mutations_of_a_valid_report_never_panic(
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut doc = seed();
        for (at, m) in mutations {
            apply(&mut doc, &at, m);
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        if let Ok(report) = parse(&bytes, &Limits::default()) {
            // Whatever survives keeps its policies in order and flags every count mismatch.
            let policies = doc["policies"].as_array().unwrap();
            prop_assert_eq!(report.policies.len(), policies.len());
            for (i, p) in report.policies.iter().enumerate() {
                let flagged = report.quirks.contains(&Quirk::FailureCountMismatch {
                    policy: i,
                    summary: p.summary.total_failure_session_count,
                    details: p.detail_failure_sum(),
                });
                let differs = !p.failure_details.is_empty()
                    && p.detail_failure_sum() != p.summary.total_failure_session_count;
                prop_assert_eq!(flagged, differs, "policy {}", i);
            }
        }
    }
}
