//! What the parser refuses (TLSRPT-NOTES §5): inputs that cannot be a TLS report, invalid
//! counts and timestamps, and documents over `Limits`, each with its exact reason text.

use tlsrpt_report::{Limits, RejectReason, parse};

/// A valid one-policy report with `summary` and `failure-details` spliced in.
fn report(summary: &str, details: &str) -> String {
    format!(
        r#"{{"organization-name":"Google Inc.","contact-info":"smtp-tls-reporting@google.com",
        "report-id":"2024-05-06T00:00:00Z_example.org",
        "date-range":{{"start-datetime":"2024-05-06T00:00:00Z","end-datetime":"2024-05-06T23:59:59Z"}},
        "policies":[{{"policy":{{"policy-type":"sts","policy-domain":"example.org",
            "policy-string":["version: STSv1","mode: enforce","mx: mx1.example.org","max_age: 604800"],
            "mx-host":["mx1.example.org"]}},
          "summary":{summary},"failure-details":{details}}}]}}"#
    )
}

fn valid() -> String {
    report(
        r#"{"total-successful-session-count":10,"total-failure-session-count":1}"#,
        r#"[{"result-type":"validation-failure","failed-session-count":1}]"#,
    )
}

/// The reason `bytes` are rejected with default limits, as shown to users.
fn reason(bytes: &[u8]) -> String {
    match parse(bytes, &Limits::default()) {
        Ok(r) => panic!("accepted: {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_report_of_these_tests_is_valid() {
    let r = parse(valid().as_bytes(), &Limits::default()).unwrap();
    assert_eq!(r.policies[0].summary.total_successful_session_count, 10);
    assert_eq!(r.quirks, vec![]);
}

#[test]
fn not_json() {
    assert_eq!(
        parse(b"Report Domain: example.org", &Limits::default()),
        Err(RejectReason::NotJson(
            "expected value at line 1 column 1".into()
        ))
    );
    assert_eq!(
        reason(b""),
        "not valid JSON: EOF while parsing a value at line 1 column 0"
    );
    assert_eq!(
        reason(&valid().as_bytes()[..100]),
        "not valid JSON: EOF while parsing a string at line 2 column 17"
    );
}

#[test]
fn json_that_is_not_an_object() {
    assert_eq!(
        reason(br#"["report-id"]"#),
        "not a TLS report: the JSON document is an array, not an object"
    );
}

#[test]
fn no_report_id() {
    let json = valid().replace(r#""report-id":"2024-05-06T00:00:00Z_example.org","#, "");
    assert_eq!(
        parse(json.as_bytes(), &Limits::default()),
        Err(RejectReason::Missing("report-id".into()))
    );
    assert_eq!(
        reason(json.as_bytes()),
        "not a TLS report: report-id is missing"
    );
    let null_id = valid().replace(r#""2024-05-06T00:00:00Z_example.org""#, "null");
    assert_eq!(
        reason(null_id.as_bytes()),
        "not a TLS report: report-id is missing"
    );
}

#[test]
fn no_policies_array() {
    assert_eq!(
        reason(br#"{"organization-name":"Google Inc.","report-id":"x"}"#),
        "not a TLS report: policies is missing"
    );
    assert_eq!(
        reason(br#"{"report-id":"x","policies":{"policy":{}}}"#),
        "policies must be an array, found an object"
    );
}

#[test]
fn negative_count() {
    let json = report(
        r#"{"total-successful-session-count":10,"total-failure-session-count":-1}"#,
        "[]",
    );
    assert_eq!(
        parse(json.as_bytes(), &Limits::default()),
        Err(RejectReason::InvalidCount {
            path: "policies[0].summary.total-failure-session-count".into(),
            value: "-1".into(),
        })
    );
    assert_eq!(
        reason(json.as_bytes()),
        "policies[0].summary.total-failure-session-count must be a non-negative integer, found -1"
    );
}

#[test]
fn non_integer_count() {
    let json = report(
        r#"{"total-successful-session-count":10,"total-failure-session-count":1}"#,
        r#"[{"result-type":"validation-failure","failed-session-count":1.5}]"#,
    );
    assert_eq!(
        reason(json.as_bytes()),
        "policies[0].failure-details[0].failed-session-count must be a non-negative integer, found 1.5"
    );
    let as_string = report(
        r#"{"total-successful-session-count":"1.5","total-failure-session-count":0}"#,
        "[]",
    );
    assert_eq!(
        reason(as_string.as_bytes()),
        r#"policies[0].summary.total-successful-session-count must be a non-negative integer, found "1.5""#
    );
    let boolean = report(
        r#"{"total-successful-session-count":true,"total-failure-session-count":0}"#,
        "[]",
    );
    assert_eq!(
        reason(boolean.as_bytes()),
        "policies[0].summary.total-successful-session-count must be a non-negative integer, found a boolean"
    );
}

#[test]
fn count_too_large() {
    // Stores keep counts as signed 64-bit integers: 2^63 - 1 is the largest accepted.
    let at_limit = report(
        r#"{"total-successful-session-count":9223372036854775807,"total-failure-session-count":0}"#,
        "[]",
    );
    let r = parse(at_limit.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        r.policies[0].summary.total_successful_session_count,
        i64::MAX as u64
    );
    let over = report(
        r#"{"total-successful-session-count":9223372036854775808,"total-failure-session-count":0}"#,
        "[]",
    );
    assert_eq!(
        reason(over.as_bytes()),
        "policies[0].summary.total-successful-session-count must be a non-negative integer, found 9223372036854775808"
    );
    let over_u64 = report(
        r#"{"total-successful-session-count":18446744073709551616,"total-failure-session-count":0}"#,
        "[]",
    );
    assert_eq!(
        reason(over_u64.as_bytes()),
        "policies[0].summary.total-successful-session-count must be a non-negative integer, found 1.8446744073709552e+19"
    );
}

#[test]
fn invalid_timestamp() {
    let json = valid().replace("2024-05-06T00:00:00Z\",\"end", "yesterday\",\"end");
    assert_eq!(
        parse(json.as_bytes(), &Limits::default()),
        Err(RejectReason::InvalidTimestamp {
            path: "date-range.start-datetime".into(),
            value: "yesterday".into(),
        })
    );
    assert_eq!(
        reason(json.as_bytes()),
        r#"date-range.start-datetime is not an RFC 3339 timestamp: "yesterday""#
    );
    let february_30 = valid().replace("2024-05-06T23:59:59Z", "2024-02-30T23:59:59Z");
    assert_eq!(
        reason(february_30.as_bytes()),
        r#"date-range.end-datetime is not an RFC 3339 timestamp: "2024-02-30T23:59:59Z""#
    );
}

#[test]
fn json_nested_ten_thousand_deep_is_an_error_not_a_stack_overflow() {
    let depth = 10_000;
    let bare = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(
        reason(bare.as_bytes()),
        "not valid JSON: recursion limit exceeded at line 1 column 128"
    );
    // The same inside an otherwise valid report, where a parser walking the tree would recurse.
    let nested = valid().replace(
        r#""failure-details":["#,
        &format!(
            r#""failure-details":[{{"x":{}{}}},"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    assert!(
        reason(nested.as_bytes()).starts_with("not valid JSON: recursion limit exceeded"),
        "{}",
        reason(nested.as_bytes())
    );
}

#[test]
fn invalid_utf8() {
    let mut bytes = valid().into_bytes();
    let at = bytes.windows(6).position(|w| w == b"Google").unwrap();
    bytes[at + 3] = 0xFF;
    assert_eq!(
        reason(&bytes),
        format!(
            "not valid JSON: the text is not UTF-8 (invalid byte sequence at byte {})",
            at + 3
        )
    );
    // Latin-1 text where UTF-8 belongs.
    assert_eq!(
        reason(b"{\"organization-name\":\"M\xfcller AG\",\"report-id\":\"1\",\"policies\":[]}"),
        "not valid JSON: the text is not UTF-8 (invalid byte sequence at byte 23)"
    );
}

#[test]
fn document_over_max_bytes() {
    let json = valid();
    let limits = Limits {
        max_bytes: json.len() - 1,
        ..Limits::default()
    };
    assert_eq!(
        parse(json.as_bytes(), &limits),
        Err(RejectReason::TooLarge {
            size: json.len(),
            limit: json.len() - 1,
        })
    );
    assert_eq!(
        parse(json.as_bytes(), &limits).unwrap_err().to_string(),
        format!(
            "report JSON is {} bytes, over the limit of {} bytes",
            json.len(),
            json.len() - 1
        )
    );
    let exact = Limits {
        max_bytes: json.len(),
        ..Limits::default()
    };
    assert!(parse(json.as_bytes(), &exact).is_ok());
}

#[test]
fn too_many_policies() {
    let one = r#"{"policy":{"policy-type":"no-policy-found","policy-domain":"example.org"},
        "summary":{"total-successful-session-count":1,"total-failure-session-count":0}}"#;
    let json = format!(
        r#"{{"organization-name":"Google Inc.","report-id":"r",
        "date-range":{{"start-datetime":"2024-05-06T00:00:00Z","end-datetime":"2024-05-06T23:59:59Z"}},
        "policies":[{one},{one},{one}]}}"#
    );
    let limits = Limits {
        max_policies: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse(json.as_bytes(), &limits),
        Err(RejectReason::TooMany {
            what: "policies",
            found: 3,
            limit: 2,
        })
    );
    assert_eq!(
        parse(json.as_bytes(), &limits).unwrap_err().to_string(),
        "policies: 3 entries exceed the limit of 2"
    );
    let three = Limits {
        max_policies: 3,
        ..Limits::default()
    };
    assert_eq!(parse(json.as_bytes(), &three).unwrap().policies.len(), 3);
}

#[test]
fn too_many_failure_details_over_all_policies() {
    let policy = |details: usize| {
        let detail = r#"{"result-type":"certificate-expired","failed-session-count":1}"#;
        format!(
            r#"{{"policy":{{"policy-type":"tlsa","policy-domain":"example.org"}},
            "summary":{{"total-successful-session-count":0,"total-failure-session-count":{details}}},
            "failure-details":[{}]}}"#,
            vec![detail; details].join(",")
        )
    };
    let json = format!(
        r#"{{"organization-name":"Google Inc.","report-id":"r",
        "date-range":{{"start-datetime":"2024-05-06T00:00:00Z","end-datetime":"2024-05-06T23:59:59Z"}},
        "policies":[{},{}]}}"#,
        policy(2),
        policy(3)
    );
    let limits = Limits {
        max_failure_details: 4,
        ..Limits::default()
    };
    assert_eq!(
        parse(json.as_bytes(), &limits).unwrap_err().to_string(),
        "failure-details: 5 entries exceed the limit of 4"
    );
    let five = Limits {
        max_failure_details: 5,
        ..Limits::default()
    };
    let r = parse(json.as_bytes(), &five).unwrap();
    assert_eq!(
        r.policies
            .iter()
            .map(|p| p.failure_details.len())
            .sum::<usize>(),
        5
    );
}

#[test]
fn policy_domain_missing_or_blank() {
    let json = valid().replace(r#""policy-domain":"example.org","#, "");
    assert_eq!(
        reason(json.as_bytes()),
        "not a TLS report: policies[0].policy.policy-domain is missing"
    );
    let blank = valid().replace(
        r#""policy-domain":"example.org""#,
        r#""policy-domain":"  ""#,
    );
    assert_eq!(
        reason(blank.as_bytes()),
        "not a TLS report: policies[0].policy.policy-domain is missing"
    );
}

#[test]
fn policy_domain_that_normalises_to_nothing_is_rejected() {
    // " . " trims to "." and then to "": a report about no domain at all.
    for domain in [".", " . ", ".."] {
        let json = valid().replace(
            r#""policy-domain":"example.org""#,
            &format!(r#""policy-domain":"{domain}""#),
        );
        assert_eq!(
            parse(json.as_bytes(), &Limits::default())
                .map(|r| r.policies[0].policy.policy_domain.clone()),
            Err(RejectReason::Missing(
                "policies[0].policy.policy-domain".into()
            )),
            "policy-domain {domain:?}"
        );
    }
}
