//! Deterministic synthetic TLS-RPT corpora: many reporters and domains, each reporter
//! with the quirks it shows in the wild (TLSRPT-NOTES §4), written as `.json.gz` files
//! or as report mails. The same seed always gives the same bytes.

use std::io::Write;

use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use flate2::{Compression, write::GzEncoder};
use serde_json::{Value, json};

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How reports are written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A gzip-compressed JSON report, as reporters attach it.
    JsonGz,
    /// A complete multipart/report mail with an `application/tlsrpt+gzip` attachment.
    Eml,
}

/// One generated report.
#[derive(Debug, Clone)]
pub struct Generated {
    /// A file name in the RFC 8460 §5.1 style, with the format's extension.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Google,
    Microsoft,
    MailRu,
    Stalwart,
    Generic,
}

const REPORTERS: &[(&str, &str, Style)] = &[
    ("Google Inc.", "google.com", Style::Google),
    ("Microsoft Corporation", "microsoft.com", Style::Microsoft),
    ("Mail.ru", "mail.ru", Style::MailRu),
    ("Stalwart Mail Server", "stalw.art", Style::Stalwart),
    ("Yahoo", "yahoo.com", Style::Generic),
    ("Comcast", "comcast.net", Style::Generic),
    ("GMX", "gmx.net", Style::Generic),
    ("Zoho", "zoho.com", Style::Generic),
    ("Proton AG", "proton.me", Style::Generic),
    ("socketlabs.com", "socketlabs.com", Style::Generic),
];

const FAILURES: &[&str] = &[
    "starttls-not-supported",
    "certificate-host-mismatch",
    "certificate-expired",
    "certificate-not-trusted",
    "validation-failure",
    "sts-policy-fetch-error",
    "sts-policy-invalid",
    "sts-webpki-invalid",
    "tlsa-invalid",
];

/// A corpus generator for `domains` policy domains, starting on `first_day`.
#[derive(Debug, Clone)]
pub struct Corpus {
    rng: Rng,
    domains: u64,
    first_day: DateTime<Utc>,
    /// Reports start on one of this many days from `first_day`.
    days: u64,
    serial: u64,
}

impl Corpus {
    pub fn new(seed: u64, domains: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            domains: domains.max(1),
            first_day: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            days: 365,
            serial: 0,
        }
    }

    /// Spreads report starts over `days` days (365 by default) instead, ending on the
    /// same first day plus `days - 1`.
    pub fn with_days(mut self, days: u64) -> Self {
        self.days = days.max(1);
        self
    }

    /// The first day a report can start on (midnight UTC).
    pub fn first_day(&self) -> DateTime<Utc> {
        self.first_day
    }

    /// The next report, as JSON.
    pub fn next_report(&mut self) -> (Value, String, String, DateTime<Utc>) {
        self.serial += 1;
        let (org, reporter_domain, style) = *self.rng.pick(REPORTERS);
        let domain = format!("domain{}.example", self.rng.below(self.domains));
        let day = self.first_day + Duration::days(self.rng.below(self.days) as i64);
        let end = day + Duration::seconds(86_399);
        let (start_s, end_s) = match style {
            Style::Microsoft if self.rng.chance(30) => (
                day.format("%Y-%m-%dT%H:%M:%S").to_string(),
                end.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            _ => (
                day.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
        };
        let mode = if self.rng.chance(70) {
            "testing"
        } else {
            "enforce"
        };
        let mx = format!("mx{}.{domain}", self.rng.below(3) + 1);
        let mut policy_lines = vec![
            "version: STSv1".to_owned(),
            format!("mode: {mode}"),
            format!("mx: {mx}"),
            format!("mx: *.backup.{domain}"),
            "max_age: 604800".to_owned(),
        ];
        if matches!(style, Style::Google) && self.rng.chance(20) {
            for line in &mut policy_lines {
                line.push('\r');
            }
        }
        let successful = self.rng.below(5000);
        let details: Vec<Value> = (0..self.rng.below(4))
            .map(|_| {
                let result = *self.rng.pick(FAILURES);
                let count = self.rng.below(50) + 1;
                match style {
                    Style::Microsoft if result.starts_with("sts-") => {
                        json!({"result-type": result, "failed-session-count": count})
                    }
                    Style::MailRu => json!({
                        "result-type": result,
                        "failed-session-count": count,
                        "failure-reason-code": "tls: failed to verify certificate: x509: certificate signed by unknown authority",
                    }),
                    _ => json!({
                        "result-type": result,
                        "sending-mta-ip": format!("203.0.113.{}", self.rng.below(255)),
                        "receiving-mx-hostname": mx,
                        "receiving-ip": format!("198.51.100.{}", self.rng.below(255)),
                        "failed-session-count": count,
                    }),
                }
            })
            .collect();
        let detail_sum: u64 = details
            .iter()
            .filter_map(|d| d["failed-session-count"].as_u64())
            .sum();
        let failed = if matches!(style, Style::MailRu) && detail_sum > 0 {
            detail_sum - 1
        } else {
            detail_sum
        };
        let mut policy = json!({"policy-type": "sts", "policy-domain": domain});
        match style {
            Style::MailRu => {}
            Style::Microsoft => policy["policy-string"] = json!(policy_lines),
            Style::Generic if self.rng.chance(30) => {
                policy["policy-string"] = json!(policy_lines);
                policy["mx-host"] = json!(mx);
            }
            _ => {
                policy["policy-string"] = json!(policy_lines);
                policy["mx-host"] = json!([mx, format!("*.backup.{domain}")]);
            }
        }
        let mut entry = json!({
            "policy": policy,
            "summary": {
                "total-successful-session-count": successful,
                "total-failure-session-count": failed,
            },
        });
        if !details.is_empty() || matches!(style, Style::Stalwart) {
            entry["failure-details"] = json!(details);
        }
        let mut policies = vec![entry];
        if matches!(style, Style::Microsoft) && self.rng.chance(25) {
            policies.push(json!({
                "policy": {
                    "policy-type": "tlsa",
                    "policy-string": ["[\"3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC\"]"],
                    "policy-domain": domain,
                },
                "summary": {"total-successful-session-count": self.rng.below(100), "total-failure-session-count": 0},
            }));
        }
        let report_id = match style {
            Style::Google => format!(
                "{}_{domain}_{}",
                day.format("%Y-%m-%dT%H:%M:%SZ"),
                self.serial
            ),
            Style::Microsoft => format!("{}+{domain}", 133_000_000_000_000_000u64 + self.serial),
            _ => format!(
                "{:016x}-{}@{reporter_domain}",
                self.rng.next_u64(),
                self.serial
            ),
        };
        let contact = match style {
            Style::Stalwart => Value::Null,
            _ => json!(format!("tlsrpt@{reporter_domain}")),
        };
        let report = json!({
            "organization-name": org,
            "date-range": {"start-datetime": start_s, "end-datetime": end_s},
            "contact-info": contact,
            "report-id": report_id,
            "policies": policies,
        });
        (report, reporter_domain.to_owned(), domain, day)
    }

    /// The next report, written in `format`.
    pub fn next(&mut self, format: Format) -> Generated {
        let (report, reporter, domain, day) = self.next_report();
        let json = serde_json::to_vec(&report).unwrap_or_default();
        let gz = gzip(&json);
        let stem = format!(
            "{reporter}!{domain}!{}!{}!{}",
            day.timestamp(),
            day.timestamp() + 86_399,
            self.serial
        );
        match format {
            Format::JsonGz => Generated {
                file_name: format!("{stem}.json.gz"),
                bytes: gz,
            },
            Format::Eml => Generated {
                file_name: format!("{stem}.eml"),
                bytes: mail(&reporter, &domain, &report, &stem, &gz, self.serial),
            },
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn mail(
    reporter: &str,
    domain: &str,
    report: &Value,
    stem: &str,
    gz: &[u8],
    serial: u64,
) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(gz);
    let mut body = String::with_capacity(encoded.len() + 2048);
    for chunk in encoded.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        body.push_str("\r\n");
    }
    let report_id = report["report-id"].as_str().unwrap_or_default();
    let boundary = format!("=_tlsrpt_{serial:x}");
    format!(
        "From: TLS Reporting <noreply-smtp-tls-reporting@{reporter}>\r\n\
         To: tlsrpt@{domain}\r\n\
         Subject: Report Domain: {domain} Submitter: {reporter} Report-ID: <{report_id}>\r\n\
         Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n\
         Message-ID: <{serial}.{stem}@{reporter}>\r\n\
         TLS-Report-Domain: {domain}\r\n\
         TLS-Report-Submitter: {reporter}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"{boundary}\"\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=\"UTF-8\"\r\n\
         \r\n\
         This is an aggregate TLS report from {reporter}\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: application/tlsrpt+gzip; name=\"{stem}.json.gz\"\r\n\
         Content-Disposition: attachment; filename=\"{stem}.json.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {body}\
         --{boundary}--\r\n"
    )
    .into_bytes()
}
