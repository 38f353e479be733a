//! The advisor: judges every criterion, then decides the verdict from the worst failure's
//! group, writes the headline, the plan and the estimate.

use tlsrpt_check::{Code, DomainReport, Mode};

use crate::assessment::Freshness;
use crate::assessment::{Assessment, Criterion, Projection, Status, Verdict};
use crate::criterion::Group;
use crate::estimate::estimate;
use crate::evidence::Evidence;
use crate::live;
use crate::plan::{self, Case};
use crate::policy_diff::{self, policy_lines};
use crate::projection::{Coverage, percent, project};
use crate::reports;
use crate::thresholds::Thresholds;
use crate::window::Windowed;

/// Assesses one domain. Pure: the same evidence and thresholds always give the same answer.
///
/// The verdict is decided in this order:
/// 1. `not-applicable`: the live check shows a null MX, `mode: enforce` or `mode: none`, or
///    no `_mta-sts` record while no reporter saw a policy either;
/// 2. `blocked`: a configuration criterion fails (`sts-record`, `policy-fetch`,
///    `policy-valid`, `mx-coverage`, `mx-tls`);
/// 3. `insufficient-data`: a data criterion fails (`report-days`, `report-organisations`,
///    `report-sessions`);
/// 4. `not-ready`: any other criterion fails. A missing or stale live check fails
///    `live-check`, so the verdict is never `ready` without a fresh one;
/// 5. `ready`.
pub fn assess(evidence: &Evidence, thresholds: &Thresholds) -> Assessment {
    let live = evidence.live_check.as_ref();
    let now = evidence.now;
    let windowed = Windowed::select(evidence, thresholds);
    let coverage = Coverage::new(live, &windowed);
    let projection = project(&windowed, &coverage);
    let live_policy = live
        .and_then(|r| r.policy.as_ref())
        .filter(|f| f.policy.is_some())
        .and_then(|f| f.body.as_deref())
        .map(|body| policy_lines(&[body]));
    let comparison = policy_diff::compare(live_policy, &windowed);
    let freshness = live::freshness(live, now, thresholds);

    let mut criteria = live::criteria(live, &evidence.domain, now, thresholds);
    criteria.extend(reports::criteria(&reports::Inputs {
        windowed: &windowed,
        coverage: &coverage,
        projection: &projection,
        comparison: &comparison,
        excluded: evidence.excluded,
        live,
        thresholds,
    }));

    let case = case(live, comparison.seen.is_empty());
    let verdict = verdict(case, &criteria);
    let plan = plan::plan(&plan::Inputs {
        case,
        ready: verdict == Verdict::Ready,
        domain: &evidence.domain,
        now,
        live,
        criteria: &criteria,
        projection: &projection,
        thresholds,
    });
    let ready_estimate = estimate(verdict, &criteria, &windowed, &coverage, thresholds);
    let headline = headline(
        &evidence.domain,
        case,
        verdict,
        &criteria,
        &projection,
        &windowed,
        freshness,
    );
    Assessment {
        domain: evidence.domain.clone(),
        generated_at: now,
        verdict,
        headline,
        window: windowed.window,
        live_check: live::summary(live, freshness),
        criteria,
        projection,
        policy_comparison: comparison,
        plan,
        ready_estimate,
        thresholds: thresholds.clone(),
    }
}

fn case(live: Option<&DomainReport>, nothing_seen: bool) -> Case {
    let Some(report) = live else {
        return Case::Testing;
    };
    if report.mx.null_mx {
        return Case::NoMail;
    }
    match live::live_mode(live) {
        Some(Mode::Enforce) => return Case::Enforce,
        Some(Mode::None) => return Case::Withdrawn,
        _ => {}
    }
    let record_missing = report
        .findings
        .iter()
        .any(|f| f.code == Code::StsRecordMissing);
    if record_missing && nothing_seen {
        Case::NoMtaSts
    } else {
        Case::Testing
    }
}

fn verdict(case: Case, criteria: &[Criterion]) -> Verdict {
    if case != Case::Testing {
        return Verdict::NotApplicable;
    }
    let fails = |group: Group| {
        criteria
            .iter()
            .any(|c| c.status == Status::Fail && c.id.group() == group)
    };
    if fails(Group::Configuration) {
        Verdict::Blocked
    } else if fails(Group::Data) {
        Verdict::InsufficientData
    } else if fails(Group::Readiness) {
        Verdict::NotReady
    } else {
        Verdict::Ready
    }
}

fn headline(
    domain: &str,
    case: Case,
    verdict: Verdict,
    criteria: &[Criterion],
    p: &Projection,
    windowed: &Windowed<'_>,
    freshness: Freshness,
) -> String {
    let stale = match freshness {
        Freshness::Fresh => "",
        Freshness::Stale => " (from a stale live check)",
        Freshness::Missing => "",
    };
    match (case, verdict) {
        (Case::NoMail, _) => {
            format!(
                "{domain} publishes a null MX and accepts no mail, so MTA-STS does not apply{stale}."
            )
        }
        (Case::Enforce, _) => {
            let broken = first_failing(criteria, Group::Configuration)
                .map(|c| {
                    format!(
                        "; the live check found a problem that bounces mail now: {}",
                        lower_first(c.summary.trim_end_matches('.'))
                    )
                })
                .unwrap_or_default();
            format!(
                "{domain} already enforces MTA-STS{stale}; this is regression monitoring: {} of \
                 {} session(s) ({}) failed TLS negotiation and were refused over the window{broken}.",
                p.would_refuse_sessions,
                p.total_sessions,
                percent(p.would_refuse_share)
            )
        }
        (Case::Withdrawn, _) => format!(
            "{domain}'s policy is in mode: none{stale}, so MTA-STS is being withdrawn; publish \
             mode: testing before considering enforce."
        ),
        (Case::NoMtaSts, _) => format!(
            "{domain} publishes no MTA-STS record{stale}, so there is nothing to enforce yet; \
             the plan shows how to start in mode: testing."
        ),
        (Case::Testing, Verdict::Ready) => {
            let refusals = if p.would_refuse_sessions == 0 {
                "none of which enforce would have refused".to_owned()
            } else {
                format!(
                    "of which {} ({}) enforce would have refused, within the threshold",
                    p.would_refuse_sessions,
                    percent(p.would_refuse_share)
                )
            };
            format!(
                "{domain} is ready for mode: enforce: {} session(s) reported by {} \
                 organisation(s) over {} days, {refusals}.",
                p.total_sessions,
                windowed.reporters().len(),
                windowed.window.days
            )
        }
        (Case::Testing, verdict) => {
            let prefix = match verdict {
                Verdict::Blocked => format!("{domain} is blocked by its live configuration"),
                Verdict::InsufficientData => {
                    format!("There is not enough data yet to judge {domain}")
                }
                _ => format!("{domain} is not ready for mode: enforce"),
            };
            let group = match verdict {
                Verdict::Blocked => Group::Configuration,
                Verdict::InsufficientData => Group::Data,
                _ => Group::Readiness,
            };
            let others = criteria
                .iter()
                .filter(|c| c.status == Status::Fail)
                .count()
                .saturating_sub(1);
            let reason = first_failing(criteria, group).map_or_else(String::new, |c| {
                lower_first(c.summary.trim_end_matches('.'))
            });
            let more = match others {
                0 => String::new(),
                1 => " (and 1 more failing criterion)".to_owned(),
                n => format!(" (and {n} more failing criteria)"),
            };
            format!("{prefix}: {reason}{more}.")
        }
    }
}

/// The failing criterion of `group` whose fix comes first.
fn first_failing(criteria: &[Criterion], group: Group) -> Option<&Criterion> {
    criteria
        .iter()
        .filter(|c| c.status == Status::Fail && c.id.group() == group)
        .min_by_key(|c| c.id.fix_rank())
}

/// Lower-cases the first letter of a sentence that starts with an ordinary word.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_ascii_uppercase() && b.is_ascii_lowercase() => {
            let mut out = a.to_ascii_lowercase().to_string();
            out.push_str(&s[1..]);
            out
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CriterionId;

    #[test]
    fn lower_first_keeps_names_and_acronyms() {
        assert_eq!(lower_first("The policy"), "the policy");
        assert_eq!(lower_first("MX host"), "MX host");
        assert_eq!(lower_first("5 sessions"), "5 sessions");
    }

    #[test]
    fn criteria_are_listed_in_id_order() {
        let evidence = Evidence {
            domain: "example.com".to_owned(),
            now: chrono::DateTime::UNIX_EPOCH,
            reporter_days: Vec::new(),
            failures: Vec::new(),
            policies_seen: Vec::new(),
            excluded: crate::Excluded::default(),
            live_check: None,
        };
        let a = assess(&evidence, &Thresholds::default());
        let ids: Vec<CriterionId> = a.criteria.iter().map(|c| c.id).collect();
        assert_eq!(ids, CriterionId::ALL);
    }
}
