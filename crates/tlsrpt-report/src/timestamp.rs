//! RFC 3339 timestamps as reporters write them: with a zone, as the RFC requires, or
//! without one (read as UTC), or as a bare date.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// How a timestamp was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// The value carried a zone or offset.
    Explicit,
    /// The value had none and was read as UTC.
    Assumed,
}

/// Parses a `date-range` timestamp. Returns `None` when it is not a date at all.
pub(crate) fn parse(value: &str) -> Option<(DateTime<Utc>, Zone)> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some((t.with_timezone(&Utc), Zone::Explicit));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Some((t.and_utc(), Zone::Assumed));
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| (t.and_utc(), Zone::Assumed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zones_offsets_and_naive_times() {
        let (t, z) = parse("2024-02-22T00:00:00Z").unwrap();
        assert_eq!(
            (t.to_rfc3339(), z),
            ("2024-02-22T00:00:00+00:00".into(), Zone::Explicit)
        );
        let (t, z) = parse("2024-02-22T02:00:00+02:00").unwrap();
        assert_eq!(
            (t.to_rfc3339(), z),
            ("2024-02-22T00:00:00+00:00".into(), Zone::Explicit)
        );
        let (t, z) = parse("2023-01-10T00:00:00").unwrap();
        assert_eq!(
            (t.to_rfc3339(), z),
            ("2023-01-10T00:00:00+00:00".into(), Zone::Assumed)
        );
        let (t, z) = parse("2023-01-10").unwrap();
        assert_eq!(
            (t.to_rfc3339(), z),
            ("2023-01-10T00:00:00+00:00".into(), Zone::Assumed)
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse(""), None);
    }
}
