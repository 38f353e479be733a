//! Formatting shared by the pages: times, ages, percentages and counts as people read them.

use chrono::{DateTime, Utc};

/// `2026-11-21 14:03 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A Unix time in seconds, formatted; `—` when absent or out of range.
pub fn unix(seconds: Option<i64>) -> String {
    seconds
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map_or_else(|| "—".to_owned(), time)
}

/// `3 h ago`, `2 days ago`.
pub fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - t).num_minutes();
    match minutes {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

/// A share from 0 to 1 as a percentage with enough digits to tell 0.05 % from zero.
pub fn percent(share: f64) -> String {
    if share <= 0.0 || !share.is_finite() {
        "0 %".into()
    } else if share < 0.001 {
        format!("{:.3} %", share * 100.0)
    } else {
        format!("{:.2} %", share * 100.0)
    }
}

/// `failed / total` as a percentage, `—` without sessions.
pub fn rate(failed: i64, total: i64) -> String {
    if total <= 0 {
        "—".into()
    } else {
        percent(failed as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_small_shares_visible() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.0004), "0.040 %");
        assert_eq!(percent(0.25), "25.00 %");
        assert_eq!(rate(1, 0), "—");
        assert_eq!(rate(1, 4), "25.00 %");
    }

    #[test]
    fn ages_read_naturally() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(age(now, now), "just now");
        assert_eq!(age(now - chrono::Duration::minutes(5), now), "5 min ago");
        assert_eq!(age(now - chrono::Duration::hours(5), now), "5 h ago");
        assert_eq!(age(now - chrono::Duration::days(3), now), "3 days ago");
        assert_eq!(unix(None), "—");
    }
}
