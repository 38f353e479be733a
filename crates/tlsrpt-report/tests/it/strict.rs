//! The strict fast path against the tolerant parser: on every real report, every fixture
//! and mutations of a clean report, `parse_strict` either gives up or returns exactly the
//! report `parse_tolerant` returns, quirks and their order included; it takes every
//! report whose quirks are all among the common structural ones it handles, and gives up
//! on each other quirk the tolerant parser records.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};
use tlsrpt_report::{Limits, Quirk, Report, parse, parse_strict, parse_tolerant};

use crate::props::{apply, json_value, mutation};

/// The property the fast path must keep: it returns a report only when the tolerant
/// parser returns the same one. Returns whether the fast path took the input.
fn agrees(bytes: &[u8], limits: &Limits) -> Result<bool, String> {
    match parse_strict(bytes, limits) {
        None => Ok(false),
        Some(report) => match parse_tolerant(bytes, limits) {
            Ok(tolerant) if tolerant == report => Ok(true),
            other => Err(format!("strict gave {report:?}, tolerant {other:?}")),
        },
    }
}

/// Whether the fast path records this quirk itself instead of giving up.
fn handled(quirk: &Quirk) -> bool {
    matches!(
        quirk,
        Quirk::ContactInfoNull
            | Quirk::ContactInfoMissing
            | Quirk::MxHostString { .. }
            | Quirk::MxHostMissing { .. }
            | Quirk::MxHostEmpty { .. }
            | Quirk::PolicyStringMissing { .. }
            | Quirk::PolicyStringWhitespace { .. }
            | Quirk::TlsaPolicyStringJsonArray { .. }
            | Quirk::FailureCountMismatch { .. }
    )
}

/// Whether the tolerant parser accepts `bytes` with no quirk but handled ones.
fn only_handled_quirks(bytes: &[u8], limits: &Limits) -> bool {
    parse_tolerant(bytes, limits).is_ok_and(|r| r.quirks.iter().all(handled))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The JSON reports of the real corpus (gzip-compressed ones decompressed) and of the
/// crate's fixtures, with their paths.
fn json_files() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files_under(&root.join("../../../shared/corpus/tlsrpt-real"), &mut paths);
    files_under(&root.join("../../fixtures/quirks"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let bytes = std::fs::read(&path).unwrap();
            if name.ends_with(".json") {
                Some((path, bytes))
            } else if name.ends_with(".json.gz") {
                let mut json = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut json,
                )
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                Some((path, json))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn real_reports_and_fixtures_agree_and_handled_ones_take_the_fast_path() {
    let limits = Limits::default();
    let files = json_files();
    assert!(files.len() > 30, "only {} JSON files found", files.len());
    let (mut fast, mut fast_with_quirks) = (0, 0);
    for (path, bytes) in &files {
        let took = agrees(bytes, &limits).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // None of these has a numeric report-id or a plain-string policy-string (which the
        // tolerant parser takes without a quirk), so handled quirks only means fast.
        assert_eq!(
            took,
            only_handled_quirks(bytes, &limits),
            "{}",
            path.display()
        );
        fast += usize::from(took);
        fast_with_quirks +=
            usize::from(took && parse(bytes, &limits).is_ok_and(|r| !r.quirks.is_empty()));
        assert_eq!(parse(bytes, &limits), parse_tolerant(bytes, &limits));
    }
    assert!(
        fast > fast_with_quirks && fast_with_quirks > 0,
        "the fast path fired on {fast} of {} files, {fast_with_quirks} with quirks",
        files.len()
    );
}

/// A clean report that uses every key of the schema, and every policy type.
fn seed() -> Value {
    json!({
        "organization-name": "Example Mail",
        "date-range": {
            "start-datetime": "2024-05-06T00:00:00Z",
            "end-datetime": "2024-05-06T23:59:59+02:00"
        },
        "contact-info": "tlsrpt@example.net",
        "report-id": "r-42",
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.org"],
                    "policy-domain": "example.org",
                    "mx-host": ["mx1.example.org", "*.example.org"]
                },
                "summary": {
                    "total-successful-session-count": 12,
                    "total-failure-session-count": 3
                },
                "failure-details": [
                    {
                        "result-type": "certificate-expired",
                        "sending-mta-ip": "203.0.113.7",
                        "receiving-mx-hostname": "mx1.example.org",
                        "receiving-mx-helo": "mx1",
                        "receiving-ip": "198.51.100.1",
                        "failed-session-count": 2,
                        "additional-information": "https://example.net/why",
                        "failure-reason-code": "X509_V_ERR_CERT_HAS_EXPIRED"
                    },
                    {"result-type": "starttls-not-supported", "failed-session-count": 1}
                ]
            },
            {
                "policy": {
                    "policy-type": "tlsa",
                    "policy-string": ["3 1 1 AB12", "3 1 1 CD34"],
                    "policy-domain": "mx1.example.org"
                },
                "summary": {
                    "total-successful-session-count": 5,
                    "total-failure-session-count": 0
                },
                "failure-details": []
            },
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": "example.com"},
                "summary": {
                    "total-successful-session-count": 0,
                    "total-failure-session-count": 0
                },
                "failure-details": null
            }
        ]
    })
}

fn bytes(doc: &Value) -> Vec<u8> {
    serde_json::to_vec(doc).unwrap()
}

#[test]
fn the_clean_seed_takes_the_fast_path() {
    let limits = Limits::default();
    let b = bytes(&seed());
    assert_eq!(parse_tolerant(&b, &limits).map(|r| r.quirks), Ok(vec![]));
    assert_eq!(agrees(&b, &limits), Ok(true));
    assert_eq!(
        agrees(&serde_json::to_vec_pretty(&seed()).unwrap(), &limits),
        Ok(true)
    );
}

/// `seed()` with the value at the JSON pointer `at` replaced (or removed, for `None`).
fn seed_with(at: &str, value: Option<Value>) -> Vec<u8> {
    let mut doc = seed();
    match value {
        Some(v) => match doc.pointer_mut(at) {
            Some(slot) => *slot = v,
            None => {
                let (parent, key) = at.rsplit_once('/').unwrap();
                doc.pointer_mut(parent)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .insert(key.to_owned(), v);
            }
        },
        None => {
            let (parent, key) = at.rsplit_once('/').unwrap();
            doc.pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key)
                .unwrap();
        }
    }
    bytes(&doc)
}

/// Inputs the fast path must leave to the tolerant parser: each is a quirk, an error, or
/// a value the tolerant parser converts.
fn doubtful() -> Vec<(&'static str, Vec<u8>)> {
    let sts = "/policies/0/policy";
    let detail = "/policies/0/failure-details/0";
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(bytes(&seed()));
    let duplicate =
        String::from_utf8(bytes(&seed()))
            .unwrap()
            .replacen('{', r#"{"report-id":"r-0","#, 1);
    vec![
        ("byte order mark", bom),
        ("duplicate key", duplicate.into_bytes()),
        ("unknown key", seed_with("/x-extra", Some(json!(1)))),
        ("mx-host-pattern", {
            let mut doc = seed();
            let policy = doc.pointer_mut(sts).unwrap().as_object_mut().unwrap();
            let hosts = policy.remove("mx-host").unwrap();
            policy.insert("mx-host-pattern".into(), hosts);
            bytes(&doc)
        }),
        ("receiving-mx-host-name", {
            let mut doc = seed();
            let d = doc.pointer_mut(detail).unwrap().as_object_mut().unwrap();
            let host = d.remove("receiving-mx-hostname").unwrap();
            d.insert("receiving-mx-host-name".into(), host);
            bytes(&doc)
        }),
        ("additional-info-uri", {
            let mut doc = seed();
            let d = doc.pointer_mut(detail).unwrap().as_object_mut().unwrap();
            let info = d.remove("additional-information").unwrap();
            d.insert("additional-info-uri".into(), info);
            bytes(&doc)
        }),
        (
            "NUL in a string",
            seed_with("/contact-info", Some(json!("a\0b"))),
        ),
        (
            "NUL in an mx-host",
            seed_with(&format!("{sts}/mx-host/1"), Some(json!("\0"))),
        ),
        (
            "organization-name missing",
            seed_with("/organization-name", None),
        ),
        (
            "organization-name null",
            seed_with("/organization-name", Some(Value::Null)),
        ),
        (
            "organization-name a number",
            seed_with("/organization-name", Some(json!(7))),
        ),
        (
            "contact-info an array",
            seed_with("/contact-info", Some(json!(["a"]))),
        ),
        (
            "report-id a number",
            seed_with("/report-id", Some(json!(42))),
        ),
        (
            "report-id blank",
            seed_with("/report-id", Some(json!(" \t"))),
        ),
        ("report-id missing", seed_with("/report-id", None)),
        (
            "timestamp without zone",
            seed_with(
                "/date-range/start-datetime",
                Some(json!("2024-05-06T00:00:00")),
            ),
        ),
        (
            "bare date",
            seed_with("/date-range/end-datetime", Some(json!("2024-05-06"))),
        ),
        (
            "not a timestamp",
            seed_with("/date-range/end-datetime", Some(json!("soon"))),
        ),
        (
            "unknown policy-type",
            seed_with(&format!("{sts}/policy-type"), Some(json!("STS"))),
        ),
        (
            "blank policy-domain",
            seed_with(&format!("{sts}/policy-domain"), Some(json!(" . "))),
        ),
        (
            "upper-case policy-domain",
            seed_with(&format!("{sts}/policy-domain"), Some(json!("Example.org"))),
        ),
        (
            "policy-domain with a root dot",
            seed_with(&format!("{sts}/policy-domain"), Some(json!("example.org."))),
        ),
        (
            "Unicode policy-domain",
            seed_with(
                &format!("{sts}/policy-domain"),
                Some(json!("bücher.example")),
            ),
        ),
        (
            "policy-string a plain string",
            seed_with(
                &format!("{sts}/policy-string"),
                Some(json!("version: STSv1")),
            ),
        ),
        (
            "policy-string with a number",
            seed_with(&format!("{sts}/policy-string/1"), Some(json!(1))),
        ),
        (
            "count as a string",
            seed_with(
                "/policies/0/summary/total-successful-session-count",
                Some(json!("12")),
            ),
        ),
        (
            "count a float",
            seed_with(
                "/policies/0/summary/total-successful-session-count",
                Some(json!(12.0)),
            ),
        ),
        (
            "count negative",
            seed_with(
                "/policies/1/summary/total-failure-session-count",
                Some(json!(-1)),
            ),
        ),
        (
            "count over i64::MAX",
            seed_with(
                "/policies/1/summary/total-successful-session-count",
                Some(json!(1u64 << 63)),
            ),
        ),
        (
            "detail count over i64::MAX",
            seed_with(
                &format!("{detail}/failed-session-count"),
                Some(json!(u64::MAX)),
            ),
        ),
        (
            "unknown result-type",
            seed_with(&format!("{detail}/result-type"), Some(json!("nope"))),
        ),
        (
            "detail field a number",
            seed_with(&format!("{detail}/receiving-ip"), Some(json!(17))),
        ),
        (
            "detail field a bool",
            seed_with(&format!("{detail}/receiving-mx-helo"), Some(json!(true))),
        ),
        (
            "mx-host a number",
            seed_with(&format!("{sts}/mx-host"), Some(json!(7))),
        ),
        (
            "mx-host with a number",
            seed_with(&format!("{sts}/mx-host/1"), Some(json!(7))),
        ),
        (
            "NUL in an mx-host string",
            seed_with(&format!("{sts}/mx-host"), Some(json!("mx\u{0}"))),
        ),
        (
            "NUL in a TLSA JSON array",
            seed_with(
                "/policies/1/policy/policy-string",
                Some(json!(["[\"3 1 1 AB\u{0}\"]"])),
            ),
        ),
        ("duplicate mx-host", {
            String::from_utf8(bytes(&seed()))
                .unwrap()
                .replacen(
                    r#""mx-host":"#,
                    r#""mx-host":"mx9.example.org","mx-host":"#,
                    1,
                )
                .into_bytes()
        }),
        // A handled quirk does not make the others acceptable.
        ("contact-info null and an unknown key", {
            let mut doc = seed();
            doc["contact-info"] = Value::Null;
            doc["x-extra"] = json!(1);
            bytes(&doc)
        }),
        ("mx-host a string and a timestamp without zone", {
            let mut doc = seed();
            doc["policies"][0]["policy"]["mx-host"] = json!("mx1.example.org");
            doc["date-range"]["start-datetime"] = json!("2024-05-06T00:00:00");
            bytes(&doc)
        }),
        ("policy-string missing and an upper-case policy-domain", {
            let mut doc = seed();
            let policy = doc["policies"][1]["policy"].as_object_mut().unwrap();
            policy.remove("policy-string");
            policy.insert("policy-domain".into(), json!("MX1.example.org"));
            bytes(&doc)
        }),
        ("failure count mismatch and an unknown result-type", {
            let mut doc = seed();
            doc["policies"][0]["summary"]["total-failure-session-count"] = json!(9);
            doc["policies"][0]["failure-details"][1]["result-type"] = json!("nope");
            bytes(&doc)
        }),
        ("policy missing", seed_with("/policies/0/policy", None)),
        ("not an object", b"[1]".to_vec()),
        // serde reads a struct from an array of its fields, in order; reports never.
        (
            "report as an array",
            bytes(&json!([
                "Example Mail",
                ["2024-05-06T00:00:00Z", "2024-05-06T23:59:59Z"],
                "tlsrpt@example.net",
                "r-42",
                []
            ])),
        ),
        (
            "date-range as an array",
            seed_with(
                "/date-range",
                Some(json!(["2024-05-06T00:00:00Z", "2024-05-06T23:59:59Z"])),
            ),
        ),
        (
            "summary as an array",
            seed_with("/policies/1/summary", Some(json!([5, 0]))),
        ),
        (
            "policy as an array",
            seed_with(
                "/policies/2/policy",
                Some(json!(["no-policy-found", null, "example.com", null])),
            ),
        ),
        (
            "failure detail as an array",
            seed_with(
                "/policies/0/failure-details/1",
                Some(json!([
                    "starttls-not-supported",
                    1,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null
                ])),
            ),
        ),
    ]
}

#[test]
fn every_quirk_and_conversion_is_left_to_the_tolerant_parser() {
    let limits = Limits::default();
    for (case, input) in doubtful() {
        assert_eq!(parse_strict(&input, &limits), None, "{case}");
        assert_eq!(
            parse(&input, &limits),
            parse_tolerant(&input, &limits),
            "{case}"
        );
    }
}

/// Inputs with only handled quirks, and the quirks the tolerant parser records for them.
fn handled_cases() -> Vec<(&'static str, Vec<u8>, Vec<Quirk>)> {
    let sts = "/policies/0/policy";
    let tlsa_lines = "/policies/1/policy/policy-string";
    vec![
        (
            "contact-info missing",
            seed_with("/contact-info", None),
            vec![Quirk::ContactInfoMissing],
        ),
        (
            "contact-info null",
            seed_with("/contact-info", Some(Value::Null)),
            vec![Quirk::ContactInfoNull],
        ),
        (
            "mx-host a string",
            seed_with(&format!("{sts}/mx-host"), Some(json!(" mx1.example.org "))),
            vec![Quirk::MxHostString { policy: 0 }],
        ),
        (
            "mx-host a blank string",
            seed_with(&format!("{sts}/mx-host"), Some(json!(" "))),
            vec![
                Quirk::MxHostString { policy: 0 },
                Quirk::MxHostEmpty { policy: 0 },
            ],
        ),
        (
            "mx-host an escaped string",
            seed_with(
                &format!("{sts}/mx-host"),
                Some(json!("mx1.\"example\".org")),
            ),
            vec![Quirk::MxHostString { policy: 0 }],
        ),
        (
            "mx-host a string for tlsa",
            seed_with("/policies/1/policy/mx-host", Some(json!("mx1.example.org"))),
            vec![Quirk::MxHostString { policy: 1 }],
        ),
        (
            "mx-host missing",
            seed_with(&format!("{sts}/mx-host"), None),
            vec![Quirk::MxHostMissing { policy: 0 }],
        ),
        (
            "mx-host null",
            seed_with(&format!("{sts}/mx-host"), Some(Value::Null)),
            vec![Quirk::MxHostEmpty { policy: 0 }],
        ),
        (
            "mx-host empty",
            seed_with(&format!("{sts}/mx-host"), Some(json!([]))),
            vec![Quirk::MxHostEmpty { policy: 0 }],
        ),
        (
            "mx-host blanks only",
            seed_with(&format!("{sts}/mx-host"), Some(json!([" ", ""]))),
            vec![Quirk::MxHostEmpty { policy: 0 }],
        ),
        (
            "policy-string missing",
            seed_with(&format!("{sts}/policy-string"), None),
            vec![Quirk::PolicyStringMissing { policy: 0 }],
        ),
        (
            "policy-string null",
            seed_with(&format!("{sts}/policy-string"), Some(Value::Null)),
            vec![Quirk::PolicyStringMissing { policy: 0 }],
        ),
        (
            "policy line with a CR",
            seed_with(
                &format!("{sts}/policy-string/1"),
                Some(json!("mode: enforce\r")),
            ),
            vec![Quirk::PolicyStringWhitespace { policy: 0 }],
        ),
        (
            "policy lines with trailing tabs, spaces and CR LF",
            seed_with(
                &format!("{sts}/policy-string"),
                Some(json!(["version: STSv1\t", "mode: enforce \r\n", "  "])),
            ),
            vec![Quirk::PolicyStringWhitespace { policy: 0 }],
        ),
        (
            "TLSA records in a JSON array",
            seed_with(
                tlsa_lines,
                Some(json!([r#" ["3 1 1 AB12","3 1 1 CD34"] "#])),
            ),
            vec![Quirk::TlsaPolicyStringJsonArray { policy: 1 }],
        ),
        (
            "TLSA records in a JSON array, padded and escaped",
            seed_with(
                tlsa_lines,
                Some(json!([r#"[" 3 1 1 AB12\r", "3 1 1 \u0043D34"]"#])),
            ),
            vec![Quirk::TlsaPolicyStringJsonArray { policy: 1 }],
        ),
        (
            "TLSA empty JSON array",
            seed_with(tlsa_lines, Some(json!(["[]"]))),
            vec![Quirk::TlsaPolicyStringJsonArray { policy: 1 }],
        ),
        (
            "failure count mismatch",
            seed_with(
                "/policies/0/summary/total-failure-session-count",
                Some(json!(4)),
            ),
            vec![Quirk::FailureCountMismatch {
                policy: 0,
                summary: 4,
                details: 3,
            }],
        ),
        (
            "Microsoft: no mx-host, TLSA records in a JSON array",
            {
                let mut doc = seed();
                doc["policies"][0]["policy"]
                    .as_object_mut()
                    .unwrap()
                    .remove("mx-host");
                doc["policies"][1]["policy"]["policy-string"] = json!([r#"["3 1 1 AB12"]"#]);
                bytes(&doc)
            },
            vec![
                Quirk::MxHostMissing { policy: 0 },
                Quirk::TlsaPolicyStringJsonArray { policy: 1 },
            ],
        ),
        (
            "Mail.ru: no policy-string, no mx-host, count mismatch",
            {
                let mut doc = seed();
                let policy = doc["policies"][0]["policy"].as_object_mut().unwrap();
                policy.remove("policy-string");
                policy.remove("mx-host");
                doc["policies"][0]["summary"]["total-failure-session-count"] = json!(0);
                bytes(&doc)
            },
            vec![
                Quirk::PolicyStringMissing { policy: 0 },
                Quirk::MxHostMissing { policy: 0 },
                Quirk::FailureCountMismatch {
                    policy: 0,
                    summary: 0,
                    details: 3,
                },
            ],
        ),
        // Report-level quirks first, then each policy's in the tolerant parser's order:
        // policy-string, mx-host, then the failure count.
        (
            "every handled quirk in several policies",
            {
                let mut doc = seed();
                doc["contact-info"] = Value::Null;
                doc["policies"][0]["policy"]["policy-string"][0] = json!("version: STSv1 ");
                doc["policies"][0]["policy"]["mx-host"] = json!("mx1.example.org");
                doc["policies"][0]["summary"]["total-failure-session-count"] = json!(7);
                doc["policies"][1]["policy"]["policy-string"] = json!([r#"["3 1 1 AB12"]"#]);
                doc["policies"][1]["failure-details"] =
                    json!([{"result-type": "dane-required", "failed-session-count": 2}]);
                doc["policies"][2]["policy"]["policy-type"] = json!("sts");
                doc["policies"][2]["policy"]["mx-host"] = json!([]);
                bytes(&doc)
            },
            vec![
                Quirk::ContactInfoNull,
                Quirk::PolicyStringWhitespace { policy: 0 },
                Quirk::MxHostString { policy: 0 },
                Quirk::FailureCountMismatch {
                    policy: 0,
                    summary: 7,
                    details: 3,
                },
                Quirk::TlsaPolicyStringJsonArray { policy: 1 },
                Quirk::FailureCountMismatch {
                    policy: 1,
                    summary: 0,
                    details: 2,
                },
                Quirk::PolicyStringMissing { policy: 2 },
                Quirk::MxHostEmpty { policy: 2 },
            ],
        ),
    ]
}

#[test]
fn each_handled_quirk_takes_the_fast_path_with_the_tolerant_parsers_quirks() {
    let limits = Limits::default();
    for (case, input, quirks) in handled_cases() {
        let tolerant = parse_tolerant(&input, &limits).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(tolerant.quirks, quirks, "{case}");
        assert_eq!(parse_strict(&input, &limits), Some(tolerant), "{case}");
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&input).unwrap()).unwrap();
        assert_eq!(agrees(&pretty, &limits), Ok(true), "{case}, pretty");
    }
}

#[test]
fn handled_quirks_keep_the_tolerant_parsers_values() {
    let limits = Limits::default();
    let cases = handled_cases();
    let report = |name: &str| {
        let (_, input, _) = cases.iter().find(|(case, ..)| *case == name).unwrap();
        parse_strict(input, &limits).unwrap()
    };
    let policy = |name: &str, i: usize| report(name).policies[i].policy.clone();
    assert_eq!(policy("mx-host a string", 0).mx_host, ["mx1.example.org"]);
    assert_eq!(
        policy("mx-host an escaped string", 0).mx_host,
        ["mx1.\"example\".org"]
    );
    assert!(policy("mx-host a blank string", 0).mx_host.is_empty());
    assert_eq!(report("contact-info null").contact_info, None);
    assert_eq!(
        policy("policy lines with trailing tabs, spaces and CR LF", 0).policy_string,
        ["version: STSv1", "mode: enforce", ""]
    );
    assert_eq!(
        policy("TLSA records in a JSON array, padded and escaped", 1).policy_string,
        ["3 1 1 AB12", "3 1 1 CD34"]
    );
    assert!(policy("TLSA empty JSON array", 1).policy_string.is_empty());
    assert!(policy("policy-string missing", 0).policy_string.is_empty());
}

#[test]
fn limits_the_tolerant_parser_enforces_are_left_to_it() {
    let b = bytes(&seed());
    let default = Limits::default();
    for (case, limits) in [
        (
            "document size",
            Limits {
                max_bytes: b.len() - 1,
                ..default
            },
        ),
        (
            "policies",
            Limits {
                max_policies: 2,
                ..default
            },
        ),
        (
            "failure details",
            Limits {
                max_failure_details: 1,
                ..default
            },
        ),
        (
            "string length",
            Limits {
                max_string_bytes: 20,
                ..default
            },
        ),
        // Every value fits, but the longest key does not.
        (
            "key length",
            Limits {
                max_string_bytes: 29,
                ..default
            },
        ),
    ] {
        assert_eq!(parse_strict(&b, &limits), None, "{case}");
        assert!(parse_tolerant(&b, &limits).is_err(), "{case}");
    }
    let exact = Limits {
        max_bytes: b.len(),
        max_policies: 3,
        max_failure_details: 2,
        max_string_bytes: 30,
    };
    assert_eq!(agrees(&b, &exact), Ok(true));
}

#[test]
fn what_the_tolerant_parser_takes_silently_the_fast_path_takes_alike() {
    let limits = Limits::default();
    let sts = "/policies/0/policy";
    for (case, input) in [
        // mx-host elements are trimmed and blank ones dropped, without a quirk.
        (
            "mx-host with blanks",
            seed_with(
                &format!("{sts}/mx-host"),
                Some(json!([" mx1.example.org ", "", "\t"])),
            ),
        ),
        ("escaped strings", {
            String::from_utf8(bytes(&seed()))
                .unwrap()
                .replace("Example Mail", r#"Ex\u0061mple \"Mail\""#)
                .replace("mx1.example.org", r"mx1\u002eexample.org")
                .replace("policy-type", r"policy\u002dtype")
                .into_bytes()
        }),
        (
            "null optional detail",
            seed_with(
                "/policies/0/failure-details/0/receiving-ip",
                Some(Value::Null),
            ),
        ),
        (
            "policy-string for no-policy-found",
            seed_with("/policies/2/policy/policy-string", Some(json!(["x"]))),
        ),
        (
            "TLSA without records",
            seed_with("/policies/1/policy/policy-string", Some(json!([]))),
        ),
        (
            "empty organization-name",
            seed_with("/organization-name", Some(json!(""))),
        ),
        ("no policies", seed_with("/policies", Some(json!([])))),
        (
            "TLSA line that only looks like an array",
            seed_with("/policies/1/policy/policy-string", Some(json!(["[3 1 1"]))),
        ),
        (
            "mx-host null for tlsa",
            seed_with("/policies/1/policy/mx-host", Some(Value::Null)),
        ),
        (
            "policy-string null for no-policy-found",
            seed_with("/policies/2/policy/policy-string", Some(Value::Null)),
        ),
    ] {
        assert_eq!(agrees(&input, &limits), Ok(true), "{case}");
    }
}

/// Values that probe the fast path's checks.
fn probe_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        select(
            &[
                "a\0b",
                "bücher.example",
                "EXAMPLE.org",
                "example.org.",
                " example.org",
                "mx1.example.org ",
                "mode: testing ",
                "version: STSv1\n",
                "[\"3 1 1 AB\"]",
                "2024-05-06T00:00:00",
                "2024-05-06T00:00:00+01:00",
                "sts",
                "tlsa",
                "no-policy-found",
                "dane-required",
                "",
                " ",
            ][..]
        )
        .prop_map(Value::from),
        select(&[0u64, 1, 2, 3, 12, i64::MAX as u64, 1 << 63, u64::MAX][..]).prop_map(Value::from),
        select(&[0.0f64, 1.0, -0.0, 1e300][..]).prop_map(Value::from),
        Just(json!(-1)),
    ]
}

/// A textual change that `serde_json::Value` cannot express.
#[derive(Debug, Clone)]
enum Text {
    None,
    Pretty,
    /// Writes every occurrence of this ASCII character as a `\u` escape.
    Escape(char),
    /// Inserts `"key": value,` after the n-th `{` (a duplicate when the key is there).
    Member(Index, &'static str, Value),
}

fn text_change() -> impl Strategy<Value = Text> {
    prop_oneof![
        Just(Text::None),
        Just(Text::Pretty),
        select(vec!['m', 'x', 'o', '.', 'S', 'y']).prop_map(Text::Escape),
        (
            any::<Index>(),
            select(crate::props::KEYS),
            prop_oneof![json_value(), probe_value()]
        )
            .prop_map(|(at, key, value)| Text::Member(at, key, value)),
    ]
}

fn write(doc: &Value, change: &Text) -> Vec<u8> {
    match change {
        Text::None => bytes(doc),
        Text::Pretty => serde_json::to_vec_pretty(doc).unwrap(),
        Text::Escape(c) => String::from_utf8(bytes(doc))
            .unwrap()
            .replace(*c, &format!("\\u{:04x}", u32::from(*c)))
            .into_bytes(),
        Text::Member(at, key, value) => {
            let text = String::from_utf8(bytes(doc)).unwrap();
            let braces: Vec<usize> = text.match_indices('{').map(|(i, _)| i).collect();
            if braces.is_empty() {
                return text.into_bytes();
            }
            let i = *at.get(&braces) + 1;
            format!("{}{}:{value},{}", &text[..i], json!(key), &text[i..]).into_bytes()
        }
    }
}

fn limits() -> impl Strategy<Value = Limits> {
    let default = Limits::default();
    (
        select(vec![default.max_policies, 0, 2, 3]),
        select(vec![default.max_failure_details, 1, 2]),
        select(vec![default.max_string_bytes, 10, 29, 30, 40]),
    )
        .prop_map(
            move |(max_policies, max_failure_details, max_string_bytes)| Limits {
                max_policies,
                max_failure_details,
                max_string_bytes,
                ..default
            },
        )
}

/// A change to `seed()` that gives it one of the quirks the fast path handles (or, on a
/// policy whose type makes it none, no quirk). `policy` is an index into `policies[]`.
#[derive(Debug, Clone)]
enum Handled {
    /// Removes `contact-info` (`None`) or sets it to null.
    ContactInfo(Option<Value>),
    /// Removes the policy's `mx-host` or sets it to this value.
    MxHost(usize, Option<Value>),
    /// Removes the policy's `policy-string` or sets it to null.
    PolicyString(usize, Option<Value>),
    /// Appends this whitespace to one of the policy's lines.
    TrailingSpace(usize, Index, &'static str),
    /// Makes the policy a `tlsa` one whose lines are wrapped in one JSON array line,
    /// itself padded with this whitespace.
    TlsaJsonArray(usize, &'static str),
    /// Sets the policy's summary failure count.
    FailureCount(usize, u64),
    /// Adds a failure detail of this many sessions to the policy.
    Detail(usize, u64),
}

fn handled_change() -> impl Strategy<Value = Handled> {
    let policy = 0..3usize;
    let space = select(&[" ", "\t", "\r", "\r\n", " \t "][..]);
    let hosts = select(vec![
        Value::Null,
        json!([]),
        json!([" ", ""]),
        json!("mx1.example.org"),
        json!(" mx2.example.org "),
        json!(""),
        json!(["mx3.example.org", " "]),
    ]);
    prop_oneof![
        select(vec![None, Some(Value::Null)]).prop_map(Handled::ContactInfo),
        (policy.clone(), prop::option::of(hosts)).prop_map(|(p, v)| Handled::MxHost(p, v)),
        (policy.clone(), select(vec![None, Some(Value::Null)]))
            .prop_map(|(p, v)| Handled::PolicyString(p, v)),
        (policy.clone(), any::<Index>(), space.clone())
            .prop_map(|(p, i, s)| Handled::TrailingSpace(p, i, s)),
        (policy.clone(), space).prop_map(|(p, s)| Handled::TlsaJsonArray(p, s)),
        (policy.clone(), select(&[0u64, 1, 3, 4, 1000][..]))
            .prop_map(|(p, n)| Handled::FailureCount(p, n)),
        (policy, select(&[0u64, 1, 5][..])).prop_map(|(p, n)| Handled::Detail(p, n)),
    ]
}

impl Handled {
    fn apply(&self, doc: &mut Value) {
        fn set(map: &mut Value, key: &str, value: Option<&Value>) {
            let map = map.as_object_mut().unwrap();
            match value {
                Some(v) => map.insert(key.to_owned(), v.clone()),
                None => map.remove(key),
            };
        }
        match self {
            Self::ContactInfo(v) => set(doc, "contact-info", v.as_ref()),
            Self::MxHost(p, v) => set(&mut doc["policies"][*p]["policy"], "mx-host", v.as_ref()),
            Self::PolicyString(p, v) => set(
                &mut doc["policies"][*p]["policy"],
                "policy-string",
                v.as_ref(),
            ),
            Self::TrailingSpace(p, i, space) => {
                if let Some(lines) = doc["policies"][*p]["policy"]["policy-string"].as_array_mut()
                    && !lines.is_empty()
                {
                    let line = i.get_mut(lines);
                    *line = Value::from(format!("{}{space}", line.as_str().unwrap()));
                }
            }
            Self::TlsaJsonArray(p, space) => {
                let policy = &mut doc["policies"][*p]["policy"];
                let lines = match policy.get("policy-string") {
                    Some(Value::Array(lines)) => lines.clone(),
                    _ => Vec::new(),
                };
                policy["policy-type"] = json!("tlsa");
                policy["policy-string"] = json!([format!("{space}{}{space}", json!(lines))]);
            }
            Self::FailureCount(p, n) => {
                doc["policies"][*p]["summary"]["total-failure-session-count"] = json!(n);
            }
            Self::Detail(p, n) => {
                let details = &mut doc["policies"][*p]["failure-details"];
                if !details.is_array() {
                    *details = json!([]);
                }
                details
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"result-type": "validation-failure", "failed-session-count": n}));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any combination of handled quirks, in any policies and however the JSON is
    /// written, takes the fast path and agrees with the tolerant parser.
    #[test]
    fn handled_quirks_always_take_the_fast_path(
        changes in prop::collection::vec(handled_change(), 0..6),
        change in prop_oneof![
            Just(Text::None),
            Just(Text::Pretty),
            select(vec!['m', 'x', 'o', '.', 'S', 'A']).prop_map(Text::Escape),
        ],
    ) {
        let mut doc = seed();
        for c in &changes {
            c.apply(&mut doc);
        }
        let input = write(&doc, &change);
        let limits = Limits::default();
        prop_assert!(only_handled_quirks(&input, &limits), "{}", String::from_utf8_lossy(&input));
        prop_assert_eq!(agrees(&input, &limits), Ok(true), "{}", String::from_utf8_lossy(&input));
    }

    #[test]
    fn mutated_reports_agree(
        handled in prop::collection::vec(handled_change(), 0..4),
        mutations in prop::collection::vec(
            prop_oneof![
                mutation(),
                (any::<Index>(), probe_value().prop_map(crate::props::Mutation::Replace)),
            ],
            0..3,
        ),
        change in text_change(),
        limits in limits(),
    ) {
        let mut doc = seed();
        for c in &handled {
            c.apply(&mut doc);
        }
        for (at, m) in mutations {
            apply(&mut doc, &at, m);
        }
        let input = write(&doc, &change);
        if let Err(e) = agrees(&input, &limits) {
            return Err(TestCaseError::fail(format!("{e}\ninput: {}", String::from_utf8_lossy(&input))));
        }
    }
}

#[test]
fn the_public_parse_returns_what_the_tolerant_parser_returns() {
    let limits = Limits::default();
    let b = bytes(&seed());
    let report: Report = parse(&b, &limits).unwrap();
    assert_eq!(Ok(report), parse_tolerant(&b, &limits));
    let big = Limits {
        max_bytes: 10,
        ..limits
    };
    assert_eq!(parse(&b, &big), parse_tolerant(&b, &big));
}
