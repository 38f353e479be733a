//! The fast path of [`crate::parse`]: reads a report straight into borrowed structs when
//! it follows RFC 8460 to the letter or deviates only in the common structural quirks
//! (`contact-info` null or missing; `mx-host` a string, missing or empty; `policy-string`
//! missing, with trailing whitespace, or TLSA records in a JSON array; a failure count
//! mismatch), recording those exactly as the tolerant parser does, in the same order. It
//! gives up (`None`) on anything else the tolerant parser would record or convert, so
//! that it never returns a different report.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

use crate::Quirk;
use crate::model::{
    DateRange, FailureDetail, Policy, PolicyResult, PolicyType, Report, ResultType, Summary,
};
use crate::parse::{Limits, normalise_domain, tlsa_json_array, trim_policy_line};
use crate::timestamp::{self, Zone};

/// The longest key RFC 8460 defines (`total-successful-session-count`). The tolerant
/// parser rejects keys over [`Limits::max_string_bytes`], so a smaller limit means doubt.
const LONGEST_KEY: usize = 30;

/// Parses a report that needs no tolerance beyond the common structural quirks. Returns
/// `Some` only when the tolerant parser returns exactly this report, quirks included; on
/// any doubt, `None` (never an error: errors and the other quirks come from the tolerant
/// parser).
#[doc(hidden)]
pub fn parse_strict(bytes: &[u8], limits: &Limits) -> Option<Report> {
    if bytes.len() > limits.max_bytes
        || limits.max_string_bytes < LONGEST_KEY
        || bytes.starts_with(b"\xEF\xBB\xBF")
    {
        return None;
    }
    // One UTF-8 check of the whole input, rather than one per string as `from_slice`
    // makes: a report is mostly short strings, and that was a fifth of the parse. Input
    // that is not UTF-8 is left to the tolerant parser, which says where.
    let text = std::str::from_utf8(bytes).ok()?;
    let Object(raw): Object<RawReport<'_>> = serde_json::from_str(text).ok()?;
    Strict {
        limits,
        quirks: Vec::new(),
    }
    .report(raw)
}

/// A string as it appears in the JSON: borrowed unless it had escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Reads a field that may be `null` as `Some(None)`: with `#[serde(default)]` a missing
/// key stays `None`, as the tolerant parser records the two differently.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `mx-host`: an array of hosts, or a single host as a plain string (a quirk).
enum Hosts<'a> {
    One(Text<'a>),
    Many(Vec<Text<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Hosts<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HostsVisitor(PhantomData))
    }
}

/// Takes a string or an array as it comes, where `#[serde(untagged)]` would first buffer
/// the value.
struct HostsVisitor<'a>(PhantomData<Hosts<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for HostsVisitor<'a> {
    type Value = Hosts<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Hosts::One(Text(Cow::Borrowed(s))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Hosts::One(Text(Cow::Owned(s.to_owned()))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut hosts = Vec::new();
        while let Some(host) = seq.next_element()? {
            hosts.push(host);
        }
        Ok(Hosts::Many(hosts))
    }
}

/// A struct read from a JSON object only. A derived `Deserialize` also accepts the array
/// form (`[12, 3]` for a summary), which the tolerant parser rejects.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Object)
    }
}

/// A deserializer that reads structs as maps, so that a JSON array is a type error.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReport<'a> {
    #[serde(borrow)]
    organization_name: Text<'a>,
    #[serde(borrow)]
    date_range: Object<RawDateRange<'a>>,
    #[serde(borrow, default, deserialize_with = "nullable")]
    contact_info: Option<Option<Text<'a>>>,
    #[serde(borrow)]
    report_id: Text<'a>,
    #[serde(borrow)]
    policies: Vec<Object<RawPolicyResult<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDateRange<'a> {
    #[serde(borrow)]
    start_datetime: Text<'a>,
    #[serde(borrow)]
    end_datetime: Text<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicyResult<'a> {
    #[serde(borrow)]
    policy: Object<RawPolicy<'a>>,
    summary: Object<RawSummary>,
    #[serde(borrow)]
    failure_details: Option<Vec<Object<RawDetail<'a>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy<'a> {
    #[serde(borrow)]
    policy_type: Text<'a>,
    #[serde(borrow)]
    policy_string: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    policy_domain: Text<'a>,
    #[serde(borrow, default, deserialize_with = "nullable")]
    mx_host: Option<Option<Hosts<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSummary {
    total_successful_session_count: u64,
    total_failure_session_count: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDetail<'a> {
    #[serde(borrow)]
    result_type: Text<'a>,
    failed_session_count: u64,
    #[serde(borrow)]
    sending_mta_ip: Option<Text<'a>>,
    #[serde(borrow)]
    receiving_mx_hostname: Option<Text<'a>>,
    #[serde(borrow)]
    receiving_mx_helo: Option<Text<'a>>,
    #[serde(borrow)]
    receiving_ip: Option<Text<'a>>,
    #[serde(borrow)]
    additional_information: Option<Text<'a>>,
    #[serde(borrow)]
    failure_reason_code: Option<Text<'a>>,
}

/// The checks that stand in for every quirk and rejection of the tolerant parser, and the
/// handled quirks found so far, in the tolerant parser's order.
struct Strict<'l> {
    limits: &'l Limits,
    quirks: Vec<Quirk>,
}

impl Strict<'_> {
    fn report(mut self, raw: RawReport<'_>) -> Option<Report> {
        if raw.policies.len() > self.limits.max_policies {
            return None;
        }
        let details: usize = raw
            .policies
            .iter()
            .map(|Object(p)| p.failure_details.as_ref().map_or(0, Vec::len))
            .sum();
        if details > self.limits.max_failure_details {
            return None;
        }
        let report_id = self.text(raw.report_id)?;
        if report_id.trim().is_empty() {
            return None;
        }
        let organization_name = self.text(raw.organization_name)?;
        let contact_info = match raw.contact_info {
            Some(Some(text)) => Some(self.text(text)?),
            Some(None) => {
                self.quirks.push(Quirk::ContactInfoNull);
                None
            }
            None => {
                self.quirks.push(Quirk::ContactInfoMissing);
                None
            }
        };
        let date_range = DateRange {
            start: self.timestamp(&raw.date_range.0.start_datetime)?,
            end: self.timestamp(&raw.date_range.0.end_datetime)?,
        };
        let policies = raw
            .policies
            .into_iter()
            .enumerate()
            .map(|(index, Object(p))| self.policy_result(index, p))
            .collect::<Option<_>>()?;
        Some(Report {
            organization_name,
            date_range,
            contact_info,
            report_id,
            policies,
            quirks: self.quirks,
        })
    }

    /// The string, when the tolerant parser would take it as it is: within the length
    /// limit and free of NUL characters (which it replaces, recording a quirk).
    fn vet<'t>(&self, text: &'t Text<'_>) -> Option<&'t str> {
        let s: &str = &text.0;
        (s.len() <= self.limits.max_string_bytes && !s.contains('\0')).then_some(s)
    }

    fn text(&self, text: Text<'_>) -> Option<String> {
        self.vet(&text)?;
        Some(text.0.into_owned())
    }

    fn optional(&self, text: Option<Text<'_>>) -> Option<Option<String>> {
        match text {
            None => Some(None),
            Some(t) => self.text(t).map(Some),
        }
    }

    fn timestamp(&self, text: &Text<'_>) -> Option<chrono::DateTime<chrono::Utc>> {
        match timestamp::parse(self.vet(text)?)? {
            (t, Zone::Explicit) => Some(t),
            (_, Zone::Assumed) => None,
        }
    }

    fn count(n: u64) -> Option<u64> {
        // Stores keep counts in signed 64-bit columns; the tolerant parser rejects more.
        i64::try_from(n).is_ok().then_some(n)
    }

    fn policy_result(&mut self, index: usize, raw: RawPolicyResult<'_>) -> Option<PolicyResult> {
        let result = PolicyResult {
            policy: self.policy(index, raw.policy.0)?,
            summary: Summary {
                total_successful_session_count: Self::count(
                    raw.summary.0.total_successful_session_count,
                )?,
                total_failure_session_count: Self::count(
                    raw.summary.0.total_failure_session_count,
                )?,
            },
            failure_details: raw
                .failure_details
                .unwrap_or_default()
                .into_iter()
                .map(|Object(d)| self.failure_detail(d))
                .collect::<Option<_>>()?,
        };
        let details = result.detail_failure_sum();
        let summary = result.summary.total_failure_session_count;
        if !result.failure_details.is_empty() && details != summary {
            self.quirks.push(Quirk::FailureCountMismatch {
                policy: index,
                summary,
                details,
            });
        }
        Some(result)
    }

    fn policy(&mut self, index: usize, raw: RawPolicy<'_>) -> Option<Policy> {
        let policy_type = PolicyType::from_wire(self.vet(&raw.policy_type)?);
        if matches!(policy_type, PolicyType::Other(_)) {
            return None;
        }
        let raw_domain = self.vet(&raw.policy_domain)?;
        let policy_domain = normalise_domain(raw_domain).ok()?;
        if raw_domain.trim().trim_end_matches('.').is_empty() || policy_domain != raw_domain {
            return None;
        }
        let policy_string = match raw.policy_string {
            None => {
                if policy_type != PolicyType::NoPolicyFound {
                    self.quirks
                        .push(Quirk::PolicyStringMissing { policy: index });
                }
                Vec::new()
            }
            Some(lines) => self.policy_lines(index, &policy_type, lines)?,
        };
        let mx_host = self.mx_host(index, &policy_type, raw.mx_host)?;
        Some(Policy {
            policy_type,
            policy_string,
            policy_domain,
            mx_host,
        })
    }

    /// The policy lines: a TLSA record set wrapped in a JSON array expanded, or else each
    /// line without trailing whitespace.
    fn policy_lines(
        &mut self,
        index: usize,
        policy_type: &PolicyType,
        lines: Vec<Text<'_>>,
    ) -> Option<Vec<String>> {
        if *policy_type == PolicyType::Tlsa
            && let [only] = lines.as_slice()
            && let Some(records) = tlsa_json_array(self.vet(only)?)
        {
            self.quirks
                .push(Quirk::TlsaPolicyStringJsonArray { policy: index });
            return Some(records);
        }
        let mut trimmed_any = false;
        let lines = lines
            .into_iter()
            .map(|line| {
                let s = self.vet(&line)?;
                let trimmed = trim_policy_line(s);
                Some(if trimmed.len() == s.len() {
                    line.0.into_owned()
                } else {
                    trimmed_any = true;
                    trimmed.to_owned()
                })
            })
            .collect::<Option<_>>()?;
        if trimmed_any {
            self.quirks
                .push(Quirk::PolicyStringWhitespace { policy: index });
        }
        Some(lines)
    }

    /// The hosts, each trimmed and the blank ones dropped (which the tolerant parser does
    /// without a quirk).
    fn mx_host(
        &mut self,
        index: usize,
        policy_type: &PolicyType,
        raw: Option<Option<Hosts<'_>>>,
    ) -> Option<Vec<String>> {
        let sts = *policy_type == PolicyType::Sts;
        let hosts = match raw {
            None => {
                if sts {
                    self.quirks.push(Quirk::MxHostMissing { policy: index });
                }
                return Some(Vec::new());
            }
            Some(None) => Vec::new(),
            Some(Some(Hosts::One(host))) => {
                self.quirks.push(Quirk::MxHostString { policy: index });
                vec![host]
            }
            Some(Some(Hosts::Many(hosts))) => hosts,
        };
        let mut mx_host = Vec::with_capacity(hosts.len());
        for host in &hosts {
            let host = self.vet(host)?.trim();
            if !host.is_empty() {
                mx_host.push(host.to_owned());
            }
        }
        if mx_host.is_empty() && sts {
            self.quirks.push(Quirk::MxHostEmpty { policy: index });
        }
        Some(mx_host)
    }

    fn failure_detail(&self, raw: RawDetail<'_>) -> Option<FailureDetail> {
        let result_type = ResultType::from_wire(self.vet(&raw.result_type)?);
        if matches!(result_type, ResultType::Other(_)) {
            return None;
        }
        Some(FailureDetail {
            result_type,
            failed_session_count: Self::count(raw.failed_session_count)?,
            sending_mta_ip: self.optional(raw.sending_mta_ip)?,
            receiving_mx_hostname: self.optional(raw.receiving_mx_hostname)?,
            receiving_mx_helo: self.optional(raw.receiving_mx_helo)?,
            receiving_ip: self.optional(raw.receiving_ip)?,
            additional_information: self.optional(raw.additional_information)?,
            failure_reason_code: self.optional(raw.failure_reason_code)?,
        })
    }
}
