//! The tolerant RFC 8460 §4 JSON parser: accepts every documented real-world deviation
//! (recording it as a [`Quirk`]) and rejects only what cannot be a TLS report, saying why.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::Quirk;
use crate::model::{
    DateRange, FailureDetail, Policy, PolicyResult, PolicyType, Report, ResultType, Summary,
};
use crate::strict::parse_strict;
use crate::timestamp::{self, Zone};

/// Bounds that keep parsing cheap whatever the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON document accepted, in bytes.
    pub max_bytes: usize,
    /// Most `policies[]` entries in one report.
    pub max_policies: usize,
    /// Most `failure-details[]` entries in one report, over all its policies.
    pub max_failure_details: usize,
    /// Longest string (value or key) anywhere in the document, in bytes.
    pub max_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_policies: 10_000,
            max_failure_details: 100_000,
            max_string_bytes: 64 * 1024,
        }
    }
}

/// Why an input cannot be a TLS report. The message names the JSON path at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The bytes are not a JSON document (syntax, encoding or nesting depth).
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// The bytes are not UTF-8, which JSON requires (RFC 8259 §8.1).
    #[error("not valid JSON: the text is not UTF-8 (invalid byte sequence at byte {offset})")]
    NotUtf8 { offset: usize },
    /// The JSON document is not an object.
    #[error("not a TLS report: the JSON document is {0}, not an object")]
    NotAnObject(&'static str),
    /// A required key is missing.
    #[error("not a TLS report: {0} is missing")]
    Missing(String),
    /// A required value has the wrong JSON type.
    #[error("{path} must be {expected}, found {found}")]
    WrongType {
        path: String,
        expected: &'static str,
        found: String,
    },
    /// A count that is negative, fractional or too large.
    #[error("{path} must be a non-negative integer, found {value}")]
    InvalidCount { path: String, value: String },
    /// A timestamp that is not a date.
    #[error("{path} is not an RFC 3339 timestamp: {value:?}")]
    InvalidTimestamp { path: String, value: String },
    /// More entries than [`Limits`] allow.
    #[error("{what}: {found} entries exceed the limit of {limit}")]
    TooMany {
        what: &'static str,
        found: usize,
        limit: usize,
    },
    /// A domain name that cannot be converted to its ASCII (A-label) form.
    #[error("{path} is not a domain name: {value:?}: {why}")]
    InvalidDomain {
        path: String,
        value: String,
        why: String,
    },
    /// A string longer than [`Limits::max_string_bytes`].
    #[error("{path} is a string of {size} bytes, over the limit of {limit} bytes")]
    StringTooLong {
        path: String,
        size: usize,
        limit: usize,
    },
    /// A document larger than [`Limits::max_bytes`].
    #[error("report JSON is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

/// Parses one report from JSON bytes (optionally preceded by a UTF-8 BOM).
///
/// A report without any quirk, or with only the common structural ones (see
/// [`parse_strict`]), is read by the strict fast path; everything else, and every error,
/// comes from the tolerant parser.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Report, RejectReason> {
    if bytes.len() > limits.max_bytes {
        return Err(too_large(bytes, limits));
    }
    parse_strict(bytes, limits).map_or_else(|| parse_tolerant(bytes, limits), Ok)
}

/// The tolerant parser alone: what [`parse`] returns, without the fast path.
#[doc(hidden)]
pub fn parse_tolerant(bytes: &[u8], limits: &Limits) -> Result<Report, RejectReason> {
    if bytes.len() > limits.max_bytes {
        return Err(too_large(bytes, limits));
    }
    let mut quirks = Vec::new();
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            quirks.push(Quirk::ByteOrderMark);
            rest
        }
        None => bytes,
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| match std::str::from_utf8(bytes) {
            Ok(_) => RejectReason::NotJson(e.to_string()),
            Err(utf8) => RejectReason::NotUtf8 {
                offset: utf8.valid_up_to(),
            },
        })?;
    let Value::Object(mut root) = value else {
        return Err(RejectReason::NotAnObject(type_name(&value)));
    };
    let mut nul = NulFound::default();
    vet_strings(
        &mut String::new(),
        &mut root,
        limits.max_string_bytes,
        &mut nul,
    )?;
    quirks.extend(nul.quirk());
    Parser { quirks, limits }.report(&root)
}

/// Rejects the first string or key longer than `limit`, naming its path, and replaces
/// every NUL character in strings and keys with U+FFFD, counting the strings changed:
/// databases cannot store NUL in text (PostgreSQL refuses it), and no field of a TLS report
/// needs one. The original bytes are stored unchanged. serde_json's recursion limit
/// bounds the depth of this walk.
fn vet_strings(
    path: &mut String,
    map: &mut Map<String, Value>,
    limit: usize,
    nul: &mut NulFound,
) -> Result<(), RejectReason> {
    if map.keys().any(|k| k.contains('\0')) {
        for (key, value) in std::mem::take(map) {
            let key = nul.clean(path, &key).unwrap_or(key);
            map.insert(key, value);
        }
    }
    for (key, value) in map.iter_mut() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        if key.len() > limit {
            path.push_str(&key.chars().take(32).collect::<String>());
            path.push('…');
            return Err(too_long(path, key, limit));
        }
        path.push_str(key);
        vet_value(path, value, limit, nul)?;
        path.truncate(len);
    }
    Ok(())
}

fn vet_value(
    path: &mut String,
    value: &mut Value,
    limit: usize,
    nul: &mut NulFound,
) -> Result<(), RejectReason> {
    match value {
        Value::String(s) if s.len() > limit => Err(too_long(path, s, limit)),
        Value::String(s) => {
            if let Some(clean) = nul.clean(path, s) {
                *s = clean;
            }
            Ok(())
        }
        Value::Object(map) => vet_strings(path, map, limit, nul),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                // Writing to a String cannot fail.
                let _ = write!(path, "[{i}]");
                vet_value(path, item, limit, nul)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The strings in which NUL characters were replaced: how many, and the first one's path.
#[derive(Default)]
struct NulFound {
    first: Option<String>,
    strings: usize,
}

impl NulFound {
    /// `text` with its NUL characters replaced, or `None` when it has none.
    fn clean(&mut self, path: &str, text: &str) -> Option<String> {
        if !text.contains('\0') {
            return None;
        }
        self.strings += 1;
        if self.first.is_none() {
            self.first = Some(if path.is_empty() {
                "(top level key)".to_owned()
            } else {
                path.to_owned()
            });
        }
        Some(text.replace('\0', "\u{FFFD}"))
    }

    fn quirk(self) -> Option<Quirk> {
        self.first.map(|first| Quirk::NulCharacters {
            first,
            strings: self.strings,
        })
    }
}

fn too_large(bytes: &[u8], limits: &Limits) -> RejectReason {
    RejectReason::TooLarge {
        size: bytes.len(),
        limit: limits.max_bytes,
    }
}

fn too_long(path: &str, text: &str, limit: usize) -> RejectReason {
    RejectReason::StringTooLong {
        path: path.to_owned(),
        size: text.len(),
        limit,
    }
}

struct Parser<'l> {
    quirks: Vec<Quirk>,
    limits: &'l Limits,
}

const REPORT_KEYS: &[&str] = &[
    "organization-name",
    "date-range",
    "contact-info",
    "report-id",
    "policies",
];
const DATE_RANGE_KEYS: &[&str] = &["start-datetime", "end-datetime"];
const POLICY_RESULT_KEYS: &[&str] = &["policy", "summary", "failure-details"];
const POLICY_KEYS: &[&str] = &[
    "policy-type",
    "policy-string",
    "policy-domain",
    "mx-host",
    "mx-host-pattern",
];
const SUMMARY_KEYS: &[&str] = &[
    "total-successful-session-count",
    "total-failure-session-count",
];
const DETAIL_KEYS: &[&str] = &[
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
];

impl Parser<'_> {
    fn report(mut self, root: &Map<String, Value>) -> Result<Report, RejectReason> {
        // The keys that make a JSON object a TLS report come first, so that other JSON
        // (a DMARC report converted to JSON, say) is rejected for the right reason.
        let report_id = match root.get("report-id") {
            None | Some(Value::Null) => return Err(RejectReason::Missing("report-id".into())),
            // An empty id would make every such report of the reporter one duplicate.
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(RejectReason::Missing("report-id".into()));
            }
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => return Err(wrong_type("report-id", "a string", other)),
        };
        let policies = match root.get("policies") {
            None | Some(Value::Null) => return Err(RejectReason::Missing("policies".into())),
            Some(Value::Array(a)) => a,
            Some(other) => return Err(wrong_type("policies", "an array", other)),
        };
        if policies.len() > self.limits.max_policies {
            return Err(RejectReason::TooMany {
                what: "policies",
                found: policies.len(),
                limit: self.limits.max_policies,
            });
        }
        let total_details: usize = policies
            .iter()
            .filter_map(|p| p.get("failure-details").and_then(Value::as_array))
            .map(Vec::len)
            .sum();
        if total_details > self.limits.max_failure_details {
            return Err(RejectReason::TooMany {
                what: "failure-details",
                found: total_details,
                limit: self.limits.max_failure_details,
            });
        }
        self.unknown_keys("", root, REPORT_KEYS);

        let organization_name = match root.get("organization-name") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                self.quirks.push(Quirk::OrganizationNameMissing);
                String::new()
            }
            Some(other) => return Err(wrong_type("organization-name", "a string", other)),
        };
        let contact_info = match root.get("contact-info") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) => {
                self.quirks.push(Quirk::ContactInfoNull);
                None
            }
            None => {
                self.quirks.push(Quirk::ContactInfoMissing);
                None
            }
            Some(other) => {
                self.ignore(
                    "contact-info",
                    format!("{} is not a string", type_name(other)),
                );
                None
            }
        };
        let date_range = self.date_range(root.get("date-range"))?;
        let policies = policies
            .iter()
            .enumerate()
            .map(|(i, p)| self.policy_result(i, p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Report {
            organization_name,
            date_range,
            contact_info,
            report_id,
            policies,
            quirks: self.quirks,
        })
    }

    fn date_range(&mut self, value: Option<&Value>) -> Result<DateRange, RejectReason> {
        let range = match value {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => return Err(RejectReason::Missing("date-range".into())),
            Some(other) => return Err(wrong_type("date-range", "an object", other)),
        };
        self.unknown_keys("date-range", range, DATE_RANGE_KEYS);
        Ok(DateRange {
            start: self.timestamp(range, "start-datetime")?,
            end: self.timestamp(range, "end-datetime")?,
        })
    }

    fn timestamp(
        &mut self,
        range: &Map<String, Value>,
        key: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, RejectReason> {
        let path = || format!("date-range.{key}");
        let text = match range.get(key) {
            Some(Value::String(s)) => s,
            None | Some(Value::Null) => return Err(RejectReason::Missing(path())),
            Some(other) => return Err(wrong_type(&path(), "a string", other)),
        };
        match timestamp::parse(text) {
            Some((t, Zone::Explicit)) => Ok(t),
            Some((t, Zone::Assumed)) => {
                self.quirks.push(Quirk::TimestampWithoutZone {
                    path: path(),
                    value: text.clone(),
                });
                Ok(t)
            }
            None => Err(RejectReason::InvalidTimestamp {
                path: path(),
                value: text.clone(),
            }),
        }
    }

    fn policy_result(&mut self, index: usize, value: &Value) -> Result<PolicyResult, RejectReason> {
        let path = format!("policies[{index}]");
        let Value::Object(entry) = value else {
            return Err(wrong_type(&path, "an object", value));
        };
        self.unknown_keys(&path, entry, POLICY_RESULT_KEYS);
        let policy = match entry.get("policy") {
            Some(Value::Object(p)) => self.policy(index, p)?,
            None | Some(Value::Null) => {
                return Err(RejectReason::Missing(format!("{path}.policy")));
            }
            Some(other) => return Err(wrong_type(&format!("{path}.policy"), "an object", other)),
        };
        let summary = match entry.get("summary") {
            Some(Value::Object(s)) => self.summary(index, s)?,
            None | Some(Value::Null) => {
                return Err(RejectReason::Missing(format!("{path}.summary")));
            }
            Some(other) => return Err(wrong_type(&format!("{path}.summary"), "an object", other)),
        };
        let failure_details = match entry.get("failure-details") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(details)) => details
                .iter()
                .enumerate()
                .map(|(d, v)| self.failure_detail(index, d, v))
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(wrong_type(
                    &format!("{path}.failure-details"),
                    "an array",
                    other,
                ));
            }
        };
        let result = PolicyResult {
            policy,
            summary,
            failure_details,
        };
        let details = result.detail_failure_sum();
        if !result.failure_details.is_empty() && details != summary.total_failure_session_count {
            self.quirks.push(Quirk::FailureCountMismatch {
                policy: index,
                summary: summary.total_failure_session_count,
                details,
            });
        }
        Ok(result)
    }

    fn policy(&mut self, index: usize, p: &Map<String, Value>) -> Result<Policy, RejectReason> {
        let path = format!("policies[{index}].policy");
        self.unknown_keys(&path, p, POLICY_KEYS);
        let policy_type = match p.get("policy-type") {
            Some(Value::String(s)) => PolicyType::from_wire(s),
            None | Some(Value::Null) => {
                return Err(RejectReason::Missing(format!("{path}.policy-type")));
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("{path}.policy-type"),
                    "a string",
                    other,
                ));
            }
        };
        if let PolicyType::Other(value) = &policy_type {
            self.quirks.push(Quirk::UnknownPolicyType {
                policy: index,
                value: value.clone(),
            });
        }
        let raw_domain = match p.get("policy-domain") {
            Some(Value::String(s)) if !s.trim().trim_end_matches('.').is_empty() => s,
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(RejectReason::Missing(format!("{path}.policy-domain")));
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("{path}.policy-domain"),
                    "a string",
                    other,
                ));
            }
        };
        let policy_domain =
            normalise_domain(raw_domain).map_err(|why| RejectReason::InvalidDomain {
                path: format!("{path}.policy-domain"),
                value: raw_domain.clone(),
                why,
            })?;
        if policy_domain != *raw_domain {
            self.quirks.push(Quirk::PolicyDomainNormalised {
                policy: index,
                original: raw_domain.clone(),
            });
        }
        let policy_string = self.policy_string(index, &policy_type, p.get("policy-string"));
        let mx_host = self.mx_host(index, &policy_type, p);
        Ok(Policy {
            policy_type,
            policy_string,
            policy_domain,
            mx_host,
        })
    }

    fn policy_string(
        &mut self,
        index: usize,
        policy_type: &PolicyType,
        value: Option<&Value>,
    ) -> Vec<String> {
        let path = format!("policies[{index}].policy.policy-string");
        let lines: Vec<&str> = match value {
            None | Some(Value::Null) => {
                if *policy_type != PolicyType::NoPolicyFound {
                    self.quirks
                        .push(Quirk::PolicyStringMissing { policy: index });
                }
                return Vec::new();
            }
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => self.strings(&path, items),
            Some(other) => {
                self.ignore(&path, format!("{} is not an array", type_name(other)));
                return Vec::new();
            }
        };
        if *policy_type == PolicyType::Tlsa
            && let [only] = lines.as_slice()
            && let Some(records) = tlsa_json_array(only)
        {
            self.quirks
                .push(Quirk::TlsaPolicyStringJsonArray { policy: index });
            return records;
        }
        let trimmed: Vec<String> = lines
            .iter()
            .map(|l| trim_policy_line(l).to_owned())
            .collect();
        if trimmed.iter().zip(&lines).any(|(t, l)| t.len() != l.len()) {
            self.quirks
                .push(Quirk::PolicyStringWhitespace { policy: index });
        }
        trimmed
    }

    fn mx_host(
        &mut self,
        index: usize,
        policy_type: &PolicyType,
        p: &Map<String, Value>,
    ) -> Vec<String> {
        let (key, value) = match (p.get("mx-host"), p.get("mx-host-pattern")) {
            (Some(v), _) => ("mx-host", v),
            (None, Some(v)) => {
                self.quirks.push(Quirk::AlternateKey {
                    path: format!("policies[{index}].policy"),
                    key: "mx-host-pattern".into(),
                    standard: "mx-host".into(),
                });
                ("mx-host-pattern", v)
            }
            (None, None) => {
                if *policy_type == PolicyType::Sts {
                    self.quirks.push(Quirk::MxHostMissing { policy: index });
                }
                return Vec::new();
            }
        };
        let hosts: Vec<String> = match value {
            Value::String(s) => {
                self.quirks.push(Quirk::MxHostString { policy: index });
                vec![s.trim().to_owned()]
            }
            Value::Array(items) => self
                .strings(&format!("policies[{index}].policy.{key}"), items)
                .into_iter()
                .map(|s| s.trim().to_owned())
                .collect(),
            Value::Null => Vec::new(),
            other => {
                self.ignore(
                    &format!("policies[{index}].policy.{key}"),
                    format!("{} is not an array", type_name(other)),
                );
                Vec::new()
            }
        };
        let hosts: Vec<String> = hosts.into_iter().filter(|h| !h.is_empty()).collect();
        if hosts.is_empty() && *policy_type == PolicyType::Sts {
            self.quirks.push(Quirk::MxHostEmpty { policy: index });
        }
        hosts
    }

    fn summary(&mut self, index: usize, s: &Map<String, Value>) -> Result<Summary, RejectReason> {
        let path = format!("policies[{index}].summary");
        self.unknown_keys(&path, s, SUMMARY_KEYS);
        Ok(Summary {
            total_successful_session_count: self.count(
                &path,
                s,
                "total-successful-session-count",
            )?,
            total_failure_session_count: self.count(&path, s, "total-failure-session-count")?,
        })
    }

    fn failure_detail(
        &mut self,
        policy: usize,
        detail: usize,
        value: &Value,
    ) -> Result<FailureDetail, RejectReason> {
        let path = format!("policies[{policy}].failure-details[{detail}]");
        let Value::Object(d) = value else {
            return Err(wrong_type(&path, "an object", value));
        };
        self.unknown_keys(&path, d, DETAIL_KEYS);
        let result_type = match d.get("result-type") {
            Some(Value::String(s)) => ResultType::from_wire(s),
            None | Some(Value::Null) => {
                return Err(RejectReason::Missing(format!("{path}.result-type")));
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("{path}.result-type"),
                    "a string",
                    other,
                ));
            }
        };
        if let ResultType::Other(v) = &result_type {
            self.quirks.push(Quirk::UnknownResultType {
                policy,
                detail,
                value: v.clone(),
            });
        }
        Ok(FailureDetail {
            result_type,
            failed_session_count: self.count(&path, d, "failed-session-count")?,
            sending_mta_ip: self.text(&path, d, "sending-mta-ip", None),
            receiving_mx_hostname: self.text(
                &path,
                d,
                "receiving-mx-hostname",
                Some("receiving-mx-host-name"),
            ),
            receiving_mx_helo: self.text(&path, d, "receiving-mx-helo", None),
            receiving_ip: self.text(&path, d, "receiving-ip", None),
            additional_information: self.text(
                &path,
                d,
                "additional-information",
                Some("additional-info-uri"),
            ),
            failure_reason_code: self.text(&path, d, "failure-reason-code", None),
        })
    }

    /// An optional string field, also looked up under a known non-standard key.
    fn text(
        &mut self,
        path: &str,
        map: &Map<String, Value>,
        key: &str,
        alternate: Option<&str>,
    ) -> Option<String> {
        let (found_key, value) = match (
            map.get(key),
            alternate.and_then(|a| map.get(a).map(|v| (a, v))),
        ) {
            (Some(v), _) => (key, v),
            (None, Some((a, v))) => {
                self.quirks.push(Quirk::AlternateKey {
                    path: path.to_owned(),
                    key: a.to_owned(),
                    standard: key.to_owned(),
                });
                (a, v)
            }
            (None, None) => return None,
        };
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.ignore(
                    &format!("{path}.{found_key}"),
                    format!("{} is not a string", type_name(other)),
                );
                None
            }
        }
    }

    fn count(
        &mut self,
        path: &str,
        map: &Map<String, Value>,
        key: &str,
    ) -> Result<u64, RejectReason> {
        // The path is only spelt out for an error or a quirk: this runs for every count.
        let path = || format!("{path}.{key}");
        let invalid = |value: String| RejectReason::InvalidCount {
            path: path(),
            value,
        };
        let n = match map.get(key) {
            None | Some(Value::Null) => return Err(RejectReason::Missing(path())),
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| invalid(n.to_string()))?,
            Some(Value::String(s)) => {
                let n = s
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| invalid(format!("{s:?}")))?;
                self.quirks.push(Quirk::CountAsString { path: path() });
                n
            }
            Some(other) => return Err(invalid(type_name(other).to_owned())),
        };
        // Stores keep counts in signed 64-bit columns.
        if i64::try_from(n).is_err() {
            return Err(invalid(n.to_string()));
        }
        Ok(n)
    }

    fn unknown_keys(&mut self, path: &str, map: &Map<String, Value>, known: &[&str]) {
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            self.quirks.push(Quirk::UnknownField { path });
        }
    }

    /// The string elements of an array; other elements are ignored and recorded.
    fn strings<'v>(&mut self, path: &str, items: &'v [Value]) -> Vec<&'v str> {
        let mut strings = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => strings.push(s.as_str()),
                other => self.ignore(
                    &format!("{path}[{i}]"),
                    format!("{} is not a string", type_name(other)),
                ),
            }
        }
        strings
    }

    fn ignore(&mut self, path: &str, reason: String) {
        self.quirks.push(Quirk::IgnoredField {
            path: path.to_owned(),
            reason,
        });
    }
}

/// The records of a `tlsa` policy line that holds a JSON array of them (Microsoft), each
/// trimmed; `None` when the line is not such an array.
pub(crate) fn tlsa_json_array(line: &str) -> Option<Vec<String>> {
    if !line.trim_start().starts_with('[') {
        return None;
    }
    let records = serde_json::from_str::<Vec<String>>(line.trim()).ok()?;
    Some(records.iter().map(|r| r.trim().to_owned()).collect())
}

/// A policy line without the trailing spaces, tabs, CR and LF some reporters leave.
pub(crate) fn trim_policy_line(line: &str) -> &str {
    line.trim_end_matches([' ', '\t', '\r', '\n'])
}

/// A domain in the form reports are grouped by: trimmed, lower-case, no trailing dot.
/// Lower-cases, trims and drops the root dot; an internationalised name is turned into
/// its A-label (`xn--…`) form, so that a homograph never looks like the domain it mimics.
pub(crate) fn normalise_domain(domain: &str) -> Result<String, String> {
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_ascii() {
        return Ok(domain.to_ascii_lowercase());
    }
    match idna::domain_to_ascii(domain) {
        Ok(ascii) if !ascii.trim_end_matches('.').is_empty() => Ok(ascii),
        Ok(_) => Err("the name maps to nothing".into()),
        Err(e) => Err(format!("not a valid internationalised domain name ({e})")),
    }
}

fn wrong_type(path: &str, expected: &'static str, found: &Value) -> RejectReason {
    RejectReason::WrongType {
        path: path.to_owned(),
        expected,
        found: type_name(found).to_owned(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
