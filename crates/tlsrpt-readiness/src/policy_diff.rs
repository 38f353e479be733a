//! The policy each reporter saw next to the live policy, compared line by line after
//! trimming. Field order in a policy file carries no meaning (RFC 8461 §3.2), so lines are
//! compared as a multiset: only lines missing on one side are differences.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::assessment::{PolicyComparison, SeenPolicy};
use crate::counts::add;
use crate::window::Windowed;

/// The lines of a policy text: split at line ends, trimmed, blank lines dropped.
pub fn policy_lines<S: AsRef<str>>(parts: &[S]) -> Vec<String> {
    parts
        .iter()
        .flat_map(|p| p.as_ref().split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The differences between two policies' lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LineDiff {
    /// Lines of the first policy that the second lacks, in the first one's order.
    pub only_seen: Vec<String>,
    /// Lines of the second policy that the first lacks, in the second one's order.
    pub only_live: Vec<String>,
}

impl LineDiff {
    /// No difference.
    pub fn is_empty(&self) -> bool {
        self.only_seen.is_empty() && self.only_live.is_empty()
    }
}

/// Compares the lines a reporter saw with the live policy's lines (both already trimmed,
/// see [`policy_lines`]). A line repeated on one side only counts as a difference.
pub fn diff_policy_lines(seen: &[String], live: &[String]) -> LineDiff {
    LineDiff {
        only_seen: missing_from(seen, live),
        only_live: missing_from(live, seen),
    }
}

/// The lines of `a` left over once each line of `b` has cancelled one equal line of `a`.
fn missing_from(a: &[String], b: &[String]) -> Vec<String> {
    let mut available: BTreeMap<&str, usize> = BTreeMap::new();
    for line in b {
        *available.entry(line.as_str()).or_default() += 1;
    }
    a.iter()
        .filter(|line| match available.get_mut(line.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// Groups the `sts` policies of the window by reporter and text, and compares each with
/// the live policy.
pub(crate) fn compare(live: Option<Vec<String>>, windowed: &Windowed<'_>) -> PolicyComparison {
    struct Group {
        first: NaiveDate,
        last: NaiveDate,
        sessions: u64,
    }
    let mut groups: BTreeMap<(&str, Vec<String>), Group> = BTreeMap::new();
    for p in windowed
        .policies_seen
        .iter()
        .filter(|p| p.policy_type == "sts")
    {
        let key = (p.organization.as_str(), policy_lines(&p.policy_string));
        let g = groups.entry(key).or_insert(Group {
            first: p.day,
            last: p.day,
            sessions: 0,
        });
        g.first = g.first.min(p.day);
        g.last = g.last.max(p.day);
        add(&mut g.sessions, p.sessions);
    }
    let mut latest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for ((org, _), g) in &groups {
        let day = latest.entry(org).or_insert(g.last);
        *day = (*day).max(g.last);
    }
    let seen = groups
        .into_iter()
        .map(|((org, lines), g)| {
            let diff = live
                .as_deref()
                .map(|live| diff_policy_lines(&lines, live))
                .unwrap_or_default();
            SeenPolicy {
                organization: org.to_owned(),
                first_seen: g.first,
                last_seen: g.last,
                sessions: g.sessions,
                latest: latest.get(org) == Some(&g.last),
                matches_live: live.as_ref().map(|_| diff.is_empty()),
                only_seen: diff.only_seen,
                only_live: diff.only_live,
                lines,
            }
        })
        .collect();
    PolicyComparison { live, seen }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        policy_lines(&[text])
    }

    #[test]
    fn trimming_and_order_do_not_count_as_differences() {
        let live = lines("version: STSv1\r\nmode: testing\nmx: mx1.example.com\nmax_age: 86400\n");
        let seen = policy_lines(&[
            "  mode: testing",
            "version: STSv1 ",
            "max_age: 86400\t",
            "mx: mx1.example.com",
        ]);
        assert!(diff_policy_lines(&seen, &live).is_empty());
    }

    #[test]
    fn differences_are_listed_on_each_side() {
        let live = lines("version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 86400");
        let seen = lines("version: STSv1\nmode: testing\nmx: old.example.net\nmax_age: 604800");
        let diff = diff_policy_lines(&seen, &live);
        assert_eq!(diff.only_seen, ["mx: old.example.net", "max_age: 604800"]);
        assert_eq!(diff.only_live, ["mx: mx1.example.com", "max_age: 86400"]);
    }

    #[test]
    fn a_repeated_line_on_one_side_is_a_difference() {
        let live = lines("mx: a.example.com\nmx: a.example.com");
        let seen = lines("mx: a.example.com");
        let diff = diff_policy_lines(&seen, &live);
        assert!(diff.only_seen.is_empty());
        assert_eq!(diff.only_live, ["mx: a.example.com"]);
    }

    #[test]
    fn a_whole_policy_in_one_element_is_split_into_lines() {
        assert_eq!(
            policy_lines(&["version: STSv1\nmode: enforce", "", "  "]),
            ["version: STSv1", "mode: enforce"]
        );
    }
}
