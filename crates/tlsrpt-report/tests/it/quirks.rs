//! One test per real-world deviation of TLSRPT-NOTES §4, each on a hand-written fixture in
//! `fixtures/quirks/` named after it: the parsed values and the exact `Quirk` recorded.

use tlsrpt_report::{
    DateRange, FailureDetail, Limits, Policy, PolicyResult, PolicyType, Quirk, Report, ResultClass,
    ResultType, Summary, parse,
};

use crate::{parse_fixture, utc};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The policy lines most fixtures carry.
const STS_LINES: [&str; 5] = [
    "version: STSv1",
    "mode: enforce",
    "mx: mx1.example.org",
    "mx: mx2.example.org",
    "max_age: 604800",
];

/// The `sts` policy of example.org that most fixtures carry, with the given `mx-host`.
fn sts_policy(mx_host: &[&str]) -> Policy {
    Policy {
        policy_type: PolicyType::Sts,
        policy_string: strings(&STS_LINES),
        policy_domain: "example.org".into(),
        mx_host: strings(mx_host),
    }
}

fn summary(successful: u64, failed: u64) -> Summary {
    Summary {
        total_successful_session_count: successful,
        total_failure_session_count: failed,
    }
}

fn clean(policy: Policy, summary: Summary) -> PolicyResult {
    PolicyResult {
        policy,
        summary,
        failure_details: Vec::new(),
    }
}

/// A Google report for example.org on 2024-05-06, as most fixtures are.
fn google(policies: Vec<PolicyResult>, quirks: Vec<Quirk>) -> Report {
    Report {
        organization_name: "Google Inc.".into(),
        date_range: DateRange {
            start: utc("2024-05-06T00:00:00Z"),
            end: utc("2024-05-06T23:59:59Z"),
        },
        contact_info: Some("smtp-tls-reporting@google.com".into()),
        report_id: "2024-05-06T00:00:00Z_example.org".into(),
        policies,
        quirks,
    }
}

#[test]
fn mx_host_array_is_the_standard_form_and_records_nothing() {
    let report = parse_fixture("mx-host-array.json");
    assert_eq!(
        report,
        google(
            vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(12, 0)
            )],
            vec![],
        )
    );
}

#[test]
fn mx_host_string_is_read_as_one_pattern() {
    // "mx-host": "*.company-y.example", as in the RFC 8460 example before erratum 6241.
    let report = parse_fixture("mx-host-string.json");
    assert_eq!(
        report,
        Report {
            organization_name: "Company-X".into(),
            date_range: DateRange {
                start: utc("2016-04-01T00:00:00Z"),
                end: utc("2016-04-01T23:59:59Z"),
            },
            contact_info: Some("sts-reporting@company-x.example".into()),
            report_id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be".into(),
            policies: vec![clean(
                Policy {
                    policy_type: PolicyType::Sts,
                    policy_string: strings(&[
                        "version: STSv1",
                        "mode: testing",
                        "mx: *.company-y.example",
                        "max_age: 86400",
                    ]),
                    policy_domain: "company-y.example".into(),
                    mx_host: strings(&["*.company-y.example"]),
                },
                summary(5326, 0),
            )],
            quirks: vec![Quirk::MxHostString { policy: 0 }],
        }
    );
}

#[test]
fn mx_host_missing_from_an_sts_policy_is_flagged() {
    // Microsoft and Mail.ru leave out "mx-host".
    let report = parse_fixture("mx-host-missing.json");
    assert_eq!(
        report,
        Report {
            organization_name: "Microsoft Corporation".into(),
            date_range: DateRange {
                start: utc("2024-05-06T00:00:00Z"),
                end: utc("2024-05-06T23:59:59Z"),
            },
            contact_info: Some("tlsrpt-noreply@microsoft.com".into()),
            report_id: "133561180919336230+example.org".into(),
            policies: vec![clean(sts_policy(&[]), summary(7, 0))],
            quirks: vec![Quirk::MxHostMissing { policy: 0 }],
        }
    );
}

#[test]
fn mx_host_empty_array_is_flagged() {
    // SocketLabs: "mx-host": [].
    let report = parse_fixture("mx-host-empty.json");
    assert_eq!(
        report,
        Report {
            organization_name: "socketlabs.com".into(),
            date_range: DateRange {
                start: utc("2024-05-06T00:00:00Z"),
                end: utc("2024-05-06T23:59:59Z"),
            },
            contact_info: Some("tlsrpt@socketlabs.com".into()),
            report_id: "sl-20240506-example.org".into(),
            policies: vec![clean(sts_policy(&[]), summary(3, 0))],
            quirks: vec![Quirk::MxHostEmpty { policy: 0 }],
        }
    );
}

#[test]
fn mx_host_pattern_key_is_read_as_mx_host() {
    // "mx-host-pattern": [...] instead of "mx-host": [...].
    let report = parse_fixture("mx-host-pattern.json");
    assert_eq!(
        report,
        google(
            vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(4, 0)
            )],
            vec![Quirk::AlternateKey {
                path: "policies[0].policy".into(),
                key: "mx-host-pattern".into(),
                standard: "mx-host".into(),
            }],
        )
    );
}

#[test]
fn additional_info_uri_key_is_read_as_additional_information() {
    let report = parse_fixture("additional-info-uri.json");
    assert_eq!(
        report,
        google(
            vec![PolicyResult {
                policy: sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary: summary(40, 2),
                failure_details: vec![FailureDetail {
                    result_type: ResultType::CertificateExpired,
                    sending_mta_ip: Some("2001:db8::25".into()),
                    receiving_mx_hostname: Some("mx2.example.org".into()),
                    receiving_mx_helo: None,
                    receiving_ip: Some("192.0.2.25".into()),
                    failed_session_count: 2,
                    additional_information: Some("https://reports.example.net/detail/42".into()),
                    failure_reason_code: None,
                }],
            }],
            vec![Quirk::AlternateKey {
                path: "policies[0].failure-details[0]".into(),
                key: "additional-info-uri".into(),
                standard: "additional-information".into(),
            }],
        )
    );
}

#[test]
fn receiving_mx_host_name_misspelling_is_read_as_receiving_mx_hostname() {
    // SocketLabs: "receiving-mx-host-name": "mx1.example.org".
    let report = parse_fixture("receiving-mx-host-name.json");
    assert_eq!(
        report,
        Report {
            organization_name: "socketlabs.com".into(),
            date_range: DateRange {
                start: utc("2024-05-07T00:00:00Z"),
                end: utc("2024-05-07T23:59:59Z"),
            },
            contact_info: Some("tlsrpt@socketlabs.com".into()),
            report_id: "sl-20240507-example.org".into(),
            policies: vec![PolicyResult {
                policy: sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary: summary(9, 1),
                failure_details: vec![FailureDetail {
                    result_type: ResultType::CertificateHostMismatch,
                    sending_mta_ip: Some("198.51.100.7".into()),
                    receiving_mx_hostname: Some("mx1.example.org".into()),
                    receiving_mx_helo: None,
                    receiving_ip: Some("192.0.2.10".into()),
                    failed_session_count: 1,
                    additional_information: None,
                    failure_reason_code: None,
                }],
            }],
            quirks: vec![Quirk::AlternateKey {
                path: "policies[0].failure-details[0]".into(),
                key: "receiving-mx-host-name".into(),
                standard: "receiving-mx-hostname".into(),
            }],
        }
    );
}

#[test]
fn contact_info_null_is_read_as_none() {
    // Stalwart: "contact-info": null.
    let report = parse_fixture("contact-info-null.json");
    assert_eq!(
        report,
        Report {
            organization_name: "mail.example.net".into(),
            date_range: DateRange {
                start: utc("2024-05-06T00:00:00Z"),
                end: utc("2024-05-06T23:59:59Z"),
            },
            contact_info: None,
            report_id: "1715040000_example.org".into(),
            policies: vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(1, 0)
            )],
            quirks: vec![Quirk::ContactInfoNull],
        }
    );
}

#[test]
fn failure_details_missing_means_no_details() {
    let report = parse_fixture("failure-details-missing.json");
    assert_eq!(
        report,
        google(
            vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(21, 0)
            )],
            vec![],
        )
    );
}

#[test]
fn failure_details_empty_array_means_no_details() {
    // Stalwart: "failure-details": [].
    let report = parse_fixture("failure-details-empty.json");
    assert_eq!(
        report,
        Report {
            organization_name: "mail.example.net".into(),
            date_range: DateRange {
                start: utc("2024-05-06T00:00:00Z"),
                end: utc("2024-05-06T23:59:59Z"),
            },
            contact_info: Some("postmaster@mail.example.net".into()),
            report_id: "1715040000_example.org".into(),
            policies: vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(6, 0)
            )],
            quirks: vec![],
        }
    );
}

#[test]
fn timestamps_without_zone_are_read_as_utc_and_flagged() {
    // Microsoft, 2023: "start-datetime": "2023-01-10T00:00:00".
    let report = parse_fixture("timestamp-without-zone.json");
    assert_eq!(
        report,
        Report {
            organization_name: "Microsoft Corporation".into(),
            date_range: DateRange {
                start: utc("2023-01-10T00:00:00Z"),
                end: utc("2023-01-10T23:59:59Z"),
            },
            contact_info: Some("tlsrpt-noreply@microsoft.com".into()),
            report_id: "133198585438131172+example.org".into(),
            policies: vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(2, 0)
            )],
            quirks: vec![
                Quirk::TimestampWithoutZone {
                    path: "date-range.start-datetime".into(),
                    value: "2023-01-10T00:00:00".into(),
                },
                Quirk::TimestampWithoutZone {
                    path: "date-range.end-datetime".into(),
                    value: "2023-01-10T23:59:59".into(),
                },
            ],
        }
    );
}

#[test]
fn tlsa_policy_string_holding_a_json_array_is_expanded() {
    // Microsoft: "policy-string": ["[\"3 1 1 6007…\",\"3 1 1 837C…\"]"].
    let report = parse_fixture("tlsa-policy-string-json-array.json");
    assert_eq!(
        report,
        Report {
            organization_name: "Microsoft Corporation".into(),
            date_range: DateRange {
                start: utc("2024-05-06T00:00:00Z"),
                end: utc("2024-05-06T23:59:59Z"),
            },
            contact_info: Some("tlsrpt-noreply@microsoft.com".into()),
            report_id: "133925885310113267+example.org".into(),
            policies: vec![clean(
                Policy {
                    policy_type: PolicyType::Tlsa,
                    policy_string: strings(&[
                        "3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC",
                        "3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B",
                    ]),
                    policy_domain: "example.org".into(),
                    mx_host: vec![],
                },
                summary(2, 0),
            )],
            quirks: vec![Quirk::TlsaPolicyStringJsonArray { policy: 0 }],
        }
    );
}

#[test]
fn policy_lines_with_trailing_cr_spaces_and_tabs_are_trimmed() {
    // Google, 2022: "version: STSv1\r", and lines ending in spaces or a tab.
    let report = parse_fixture("policy-string-whitespace.json");
    let mut expected = google(
        vec![clean(
            Policy {
                policy_string: strings(&[
                    "version: STSv1",
                    "mode: testing",
                    "mx: mx1.example.org",
                    "mx: mx2.example.org",
                    "max_age: 86400",
                ]),
                ..sts_policy(&["mx1.example.org", "mx2.example.org"])
            },
            summary(5, 0),
        )],
        vec![Quirk::PolicyStringWhitespace { policy: 0 }],
    );
    expected.report_id = "2022-01-09T00:00:00Z_example.org".into();
    expected.date_range = DateRange {
        start: utc("2022-01-09T00:00:00Z"),
        end: utc("2022-01-09T23:59:59Z"),
    };
    assert_eq!(report, expected);
}

#[test]
fn unknown_result_type_is_kept_verbatim() {
    let report = parse_fixture("unknown-result-type.json");
    assert_eq!(
        report,
        google(
            vec![PolicyResult {
                policy: sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary: summary(8, 3),
                failure_details: vec![FailureDetail {
                    result_type: ResultType::Other("mta-sts-downgrade-detected".into()),
                    sending_mta_ip: Some("203.0.113.9".into()),
                    receiving_mx_hostname: Some("mx1.example.org".into()),
                    receiving_mx_helo: None,
                    receiving_ip: Some("192.0.2.10".into()),
                    failed_session_count: 3,
                    additional_information: None,
                    failure_reason_code: None,
                }],
            }],
            vec![Quirk::UnknownResultType {
                policy: 0,
                detail: 0,
                value: "mta-sts-downgrade-detected".into(),
            }],
        )
    );
    let kept = &report.policies[0].failure_details[0].result_type;
    assert_eq!(
        (kept.as_str(), kept.class()),
        ("mta-sts-downgrade-detected", ResultClass::Unknown)
    );
}

#[test]
fn unknown_policy_type_is_kept_verbatim() {
    let report = parse_fixture("unknown-policy-type.json");
    assert_eq!(
        report,
        google(
            vec![clean(
                Policy {
                    policy_type: PolicyType::Other("dane-sts-hybrid".into()),
                    policy_string: strings(&["v=hybrid1"]),
                    policy_domain: "example.org".into(),
                    mx_host: vec![],
                },
                summary(1, 0),
            )],
            vec![Quirk::UnknownPolicyType {
                policy: 0,
                value: "dane-sts-hybrid".into(),
            }],
        )
    );
    assert_eq!(
        report.policies[0].policy.policy_type.as_str(),
        "dane-sts-hybrid"
    );
}

#[test]
fn failure_count_mismatch_keeps_both_numbers_and_is_flagged() {
    // Mail.ru: the summary says 1 failed session, its two details say 1 + 1.
    let report = parse_fixture("failure-count-mismatch.json");
    let fetch_error = |reason: &str| FailureDetail {
        result_type: ResultType::StsPolicyFetchError,
        sending_mta_ip: None,
        receiving_mx_hostname: None,
        receiving_mx_helo: None,
        receiving_ip: None,
        failed_session_count: 1,
        additional_information: None,
        failure_reason_code: Some(reason.into()),
    };
    assert_eq!(
        report,
        Report {
            organization_name: "Mail.ru".into(),
            date_range: DateRange {
                start: utc("2024-02-22T00:00:00Z"),
                end: utc("2024-02-23T00:00:00Z"),
            },
            contact_info: Some("tls_support@corp.mail.ru".into()),
            report_id: "b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru".into(),
            policies: vec![PolicyResult {
                policy: sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary: summary(0, 1),
                failure_details: vec![
                    fetch_error("bad https response code: 404"),
                    fetch_error("bad https response code: 500"),
                ],
            }],
            quirks: vec![Quirk::FailureCountMismatch {
                policy: 0,
                summary: 1,
                details: 2,
            }],
        }
    );
    assert_eq!(report.policies[0].detail_failure_sum(), 2);
}

#[test]
fn byte_order_mark_is_skipped_and_flagged() {
    let bytes = crate::fixture("byte-order-mark.json");
    assert_eq!(&bytes[..4], b"\xEF\xBB\xBF{");
    let report = parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(
        report,
        google(
            vec![clean(
                sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary(12, 0)
            )],
            vec![Quirk::ByteOrderMark],
        )
    );
}

#[test]
fn unknown_fields_at_every_level_are_flagged_with_their_path() {
    let report = parse_fixture("unknown-field.json");
    assert_eq!(
        report,
        google(
            vec![PolicyResult {
                policy: sts_policy(&["mx1.example.org", "mx2.example.org"]),
                summary: summary(30, 1),
                failure_details: vec![FailureDetail {
                    result_type: ResultType::StarttlsNotSupported,
                    sending_mta_ip: Some("198.51.100.7".into()),
                    receiving_mx_hostname: Some("mx2.example.org".into()),
                    receiving_mx_helo: None,
                    receiving_ip: Some("192.0.2.11".into()),
                    failed_session_count: 1,
                    additional_information: None,
                    failure_reason_code: None,
                }],
            }],
            [
                "x-generator",
                "date-range.x-timezone",
                "policies[0].x-note",
                "policies[0].policy.x-policy-id",
                "policies[0].summary.x-total",
                "policies[0].failure-details[0].x-tls-version",
            ]
            .into_iter()
            .map(|path| Quirk::UnknownField { path: path.into() })
            .collect(),
        )
    );
}

/// A minimal report around one `policy` object, for the quirks that need no fixture file.
fn with_policy(policy: &str) -> Vec<u8> {
    format!(
        r#"{{"organization-name":"Mail.ru","contact-info":"tls_support@corp.mail.ru",
        "report-id":"c96d67df@mail.ru",
        "date-range":{{"start-datetime":"2023-01-25T00:00:00Z","end-datetime":"2023-01-26T00:00:00Z"}},
        "policies":[{{"policy":{policy},
          "summary":{{"total-successful-session-count":0,"total-failure-session-count":"1"}},
          "failure-details":[{{"result-type":"sts-policy-fetch-error","failed-session-count":1}}]}}]}}"#
    )
    .into_bytes()
}

#[test]
fn mail_ru_policy_without_policy_string_mx_host_and_with_a_string_count() {
    // Mail.ru sends no policy-string and no mx-host; the string count is an extra deviation.
    let report = parse(
        &with_policy(r#"{"policy-type":"sts","policy-domain":"krvtz.net"}"#),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        report.policies[0].policy,
        Policy {
            policy_type: PolicyType::Sts,
            policy_string: vec![],
            policy_domain: "krvtz.net".into(),
            mx_host: vec![],
        }
    );
    assert_eq!(report.policies[0].summary, summary(0, 1));
    assert_eq!(
        report.quirks,
        vec![
            Quirk::PolicyStringMissing { policy: 0 },
            Quirk::MxHostMissing { policy: 0 },
            Quirk::CountAsString {
                path: "policies[0].summary.total-failure-session-count".into()
            },
        ]
    );
}

#[test]
fn policy_domain_is_lower_cased_and_loses_its_trailing_dot() {
    let report = parse(
        &with_policy(
            r#"{"policy-type":"no-policy-found","policy-domain":" KrVtz.NET. ","mx-host":[]}"#,
        ),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(report.policies[0].policy.policy_domain, "krvtz.net");
    assert_eq!(
        report.quirks,
        vec![
            Quirk::PolicyDomainNormalised {
                policy: 0,
                original: " KrVtz.NET. ".into()
            },
            Quirk::CountAsString {
                path: "policies[0].summary.total-failure-session-count".into()
            },
        ]
    );
}

#[test]
fn non_string_elements_of_policy_string_and_mx_host_are_flagged() {
    // A line or pattern that is not a string is dropped; like any other ignored value
    // (Quirk::IgnoredField) that must be visible, or the policy shown is silently altered.
    let report = parse(
        &with_policy(
            r#"{"policy-type":"sts","policy-domain":"krvtz.net",
               "policy-string":["version: STSv1",{"mode":"enforce"},"max_age: 86400"],
               "mx-host":["mx.krvtz.net",42]}"#,
        ),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        report.policies[0].policy.policy_string,
        strings(&["version: STSv1", "max_age: 86400"])
    );
    assert_eq!(
        report.policies[0].policy.mx_host,
        strings(&["mx.krvtz.net"])
    );
    let ignored: Vec<&str> = report
        .quirks
        .iter()
        .filter_map(|q| match q {
            Quirk::IgnoredField { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        ignored
            .iter()
            .any(|p| p.starts_with("policies[0].policy.policy-string"))
            && ignored
                .iter()
                .any(|p| p.starts_with("policies[0].policy.mx-host")),
        "no IgnoredField for the dropped elements; quirks: {:?}",
        report.quirks
    );
}
