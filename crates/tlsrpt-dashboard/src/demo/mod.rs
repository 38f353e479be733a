//! Demo data for `tlsrpt serve --demo`: realistic reports for several domains at different
//! rollout stages, written through the real parser and store, so that a newcomer sees a
//! working dashboard with one command.
//!
//! The domains, from the most to the least advanced:
//! - `enforced.example`: already `mode: enforce` (not applicable, regression watch);
//! - `ready.example`: testing, clean reports from three organisations for a month;
//! - `expiring.example`: clean reports, but an MX certificate expires in five days;
//! - `failing.example`: one MX without STARTTLS, seen by two reporters;
//! - `stale-mx.example`: the MX moved, the policy still names the old host;
//! - `new.example`: two days of reports from one organisation (too few to judge).

mod checks;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use tlsrpt_store::{Auth, Candidate, NewInput, Raw, Store, StoreError};

pub use checks::checks;

/// A reporting organisation of the demo: its name, its report-id prefix and the share of
/// the domain's traffic it sees.
struct Reporter {
    name: &'static str,
    contact: &'static str,
    prefix: &'static str,
    sessions: i64,
}

const REPORTERS: [Reporter; 3] = [
    Reporter {
        name: "Google Inc.",
        contact: "smtp-tls-reporting@google.com",
        prefix: "google",
        sessions: 420,
    },
    Reporter {
        name: "Microsoft Corporation",
        contact: "tlsrpt-noreply@microsoft.com",
        prefix: "microsoft",
        sessions: 260,
    },
    Reporter {
        name: "Mail.Ru",
        contact: "tlsrpt@corp.mail.ru",
        prefix: "mailru",
        sessions: 35,
    },
];

/// A failure seen every day by some reporters on one MX.
struct DailyFailure {
    result_type: &'static str,
    mx: &'static str,
    sending_ip: &'static str,
    sessions: i64,
    /// Indexes into [`REPORTERS`].
    reporters: &'static [usize],
}

/// One demo domain's reports.
struct DemoDomain {
    domain: &'static str,
    /// The policy text reporters fetched.
    policy: &'static [&'static str],
    mx: &'static [&'static str],
    days: i64,
    reporters: &'static [usize],
    failures: &'static [DailyFailure],
}

/// The policy lines of a testing policy for `ready.example`-like domains.
const DOMAINS: &[DemoDomain] = &[
    DemoDomain {
        domain: "enforced.example",
        policy: &[
            "version: STSv1",
            "mode: enforce",
            "mx: mx1.enforced.example",
            "mx: mx2.enforced.example",
            "max_age: 1209600",
        ],
        mx: &["mx1.enforced.example", "mx2.enforced.example"],
        days: 30,
        reporters: &[0, 1, 2],
        failures: &[],
    },
    DemoDomain {
        domain: "ready.example",
        policy: &[
            "version: STSv1",
            "mode: testing",
            "mx: mx1.ready.example",
            "mx: mx2.ready.example",
            "max_age: 86400",
        ],
        mx: &["mx1.ready.example", "mx2.ready.example"],
        days: 30,
        reporters: &[0, 1, 2],
        failures: &[],
    },
    DemoDomain {
        domain: "expiring.example",
        policy: &[
            "version: STSv1",
            "mode: testing",
            "mx: mx1.expiring.example",
            "mx: mx2.expiring.example",
            "max_age: 604800",
        ],
        mx: &["mx1.expiring.example", "mx2.expiring.example"],
        days: 30,
        reporters: &[0, 1],
        failures: &[],
    },
    DemoDomain {
        domain: "failing.example",
        policy: &[
            "version: STSv1",
            "mode: testing",
            "mx: mx1.failing.example",
            "mx: mx2.failing.example",
            "max_age: 86400",
        ],
        mx: &["mx1.failing.example", "mx2.failing.example"],
        days: 30,
        reporters: &[0, 1],
        failures: &[DailyFailure {
            result_type: "starttls-not-supported",
            mx: "mx2.failing.example",
            sending_ip: "209.85.220.41",
            sessions: 9,
            reporters: &[0, 1],
        }],
    },
    DemoDomain {
        domain: "stale-mx.example",
        policy: &[
            "version: STSv1",
            "mode: testing",
            "mx: mx.old-provider.example",
            "max_age: 86400",
        ],
        mx: &["mx.old-provider.example"],
        days: 21,
        reporters: &[0, 1],
        failures: &[DailyFailure {
            result_type: "validation-failure",
            mx: "inbound.new-provider.example",
            sending_ip: "40.107.22.51",
            sessions: 120,
            reporters: &[0, 1],
        }],
    },
    DemoDomain {
        domain: "new.example",
        policy: &[
            "version: STSv1",
            "mode: testing",
            "mx: mail.new.example",
            "max_age: 86400",
        ],
        mx: &["mail.new.example"],
        days: 2,
        reporters: &[0],
        failures: &[],
    },
];

/// What the demo loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub domains: Vec<&'static str>,
    pub reports: usize,
    pub checks: usize,
}

/// Loads the demo: the reports, then the recorded checks (an earlier and a current one per
/// domain, so the change history has entries). Safe to run again: reports are stored
/// once, and the checks are recorded again with fresh times.
pub async fn load(store: &Store, now: DateTime<Utc>) -> Result<Loaded, tlsrpt_watch::WatchError> {
    let mut loaded = load_reports(store, now).await?;
    for report in checks(now) {
        tlsrpt_watch::record(store, &report).await?;
        loaded.checks += 1;
    }
    Ok(loaded)
}

/// The demo domains, for the checks that go with them.
pub fn domains() -> Vec<&'static str> {
    DOMAINS.iter().map(|d| d.domain).collect()
}

/// Writes the demo reports, ending yesterday (UTC) relative to `now`. Loading twice
/// stores nothing new: report ids are derived from the domain and the day.
pub async fn load_reports(store: &Store, now: DateTime<Utc>) -> Result<Loaded, StoreError> {
    let today = now.date_naive();
    let mut batch = Vec::new();
    for domain in DOMAINS {
        for back in (1..=domain.days).rev() {
            let day = today - Duration::days(back);
            for &r in domain.reporters {
                let json = report_json(domain, &REPORTERS[r], r, day);
                batch.push(input(&json, now, Auth::Operator));
            }
        }
    }
    // An unsigned report claiming failures everywhere: stored, but never counted.
    let forged = DemoDomain {
        domain: "ready.example",
        failures: &[DailyFailure {
            result_type: "certificate-expired",
            mx: "mx1.ready.example",
            sending_ip: "198.51.100.66",
            sessions: 5000,
            reporters: &[0],
        }],
        ..DOMAINS[1]
    };
    let forger = Reporter {
        name: "Totally Legit Mail",
        contact: "reports@forged.invalid",
        prefix: "forged",
        sessions: 10,
    };
    let json = report_json(&forged, &forger, 0, today - Duration::days(2));
    batch.push(input(&json, now, Auth::DkimNone));

    let reports = batch.len();
    store.write_batch(&batch).await?;
    Ok(Loaded {
        domains: domains(),
        reports,
        checks: 0,
    })
}

fn input(json: &str, now: DateTime<Utc>, auth: Auth) -> NewInput {
    let report = tlsrpt_report::parse(json.as_bytes(), &tlsrpt_report::Limits::default())
        .unwrap_or_else(|e| unreachable!("the demo report does not parse: {e}"));
    NewInput {
        source: "demo",
        locator: format!("demo:{}", report.report_id),
        part: None,
        message_id: None,
        received_at: now.timestamp(),
        candidate: Candidate::Report {
            report: Box::new(report),
            raw_json: Raw::compress(json.as_bytes(), json.len() as u64),
            auth,
        },
    }
}

/// One RFC 8460 report of `reporter` for `domain` covering `day`.
fn report_json(domain: &DemoDomain, reporter: &Reporter, index: usize, day: NaiveDate) -> String {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = start + Duration::days(1) - Duration::seconds(1);
    // A little daily variation, the same on every run.
    let wobble = (day.to_string().bytes().map(i64::from).sum::<i64>() + index as i64 * 7) % 23;
    let failures: Vec<Value> = domain
        .failures
        .iter()
        .filter(|f| f.reporters.contains(&index))
        .map(|f| {
            json!({
                "result-type": f.result_type,
                "sending-mta-ip": f.sending_ip,
                "receiving-mx-hostname": f.mx,
                "failed-session-count": f.sessions + wobble % 3,
            })
        })
        .collect();
    let failed: i64 = failures
        .iter()
        .filter_map(|f| f["failed-session-count"].as_i64())
        .sum();
    let report = json!({
        "organization-name": reporter.name,
        "date-range": {
            "start-datetime": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "end-datetime": end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        "contact-info": reporter.contact,
        "report-id": format!("{}-{}-{}", reporter.prefix, domain.domain, day),
        "policies": [{
            "policy": {
                "policy-type": "sts",
                "policy-string": domain.policy,
                "policy-domain": domain.domain,
                "mx-host": domain.mx,
            },
            "summary": {
                "total-successful-session-count": reporter.sessions + wobble,
                "total-failure-session-count": failed,
            },
            "failure-details": failures,
        }],
    });
    report.to_string()
}
