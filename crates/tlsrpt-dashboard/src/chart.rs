//! Chart geometry for the pages: a sparkline of daily failure rates and a daily bar chart
//! of sessions stacked by result type. Only numbers and CSS class names are computed here;
//! the templates draw the SVG and escape every label.

use std::collections::BTreeMap;

/// A sparkline: the `points` attribute of an SVG polyline in a `width`×`height` box.
#[derive(Debug, Clone, PartialEq)]
pub struct Sparkline {
    pub width: u32,
    pub height: u32,
    pub points: String,
    /// The highest value drawn, for the tooltip.
    pub peak: f64,
}

/// Draws `values` (one per day, oldest first) scaled to the largest one.
pub fn sparkline(values: &[f64], width: u32, height: u32) -> Sparkline {
    let peak = values.iter().copied().fold(0.0_f64, f64::max);
    let steps = values.len().saturating_sub(1).max(1) as f64;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = i as f64 * f64::from(width) / steps;
            let y = if peak > 0.0 {
                f64::from(height) - v / peak * f64::from(height - 2) - 1.0
            } else {
                f64::from(height) - 1.0
            };
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    Sparkline {
        width,
        height,
        points,
        peak,
    }
}

/// One day's sessions: successful ones and failures by result type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySessions {
    pub label: String,
    pub successful: i64,
    pub failures: BTreeMap<String, i64>,
}

/// One rectangle of the stacked chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub y: f64,
    pub height: f64,
    /// A CSS class from a fixed list (never a string from a report).
    pub class: &'static str,
    /// The tooltip, escaped by the template.
    pub title: String,
}

/// One day's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    pub segments: Vec<Segment>,
}

/// A daily chart of sessions stacked by outcome, and its legend.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedChart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    /// (CSS class, label) for every series drawn.
    pub legend: Vec<(&'static str, String)>,
    pub max_sessions: i64,
}

/// The CSS class of a result type's colour: known RFC 8460 types have their own, every
/// other value shares one.
pub fn result_class(result_type: &str) -> &'static str {
    match result_type {
        "starttls-not-supported" => "rt-starttls",
        "certificate-host-mismatch" => "rt-host-mismatch",
        "certificate-expired" => "rt-expired",
        "certificate-not-trusted" => "rt-untrusted",
        "validation-failure" => "rt-validation",
        "sts-policy-fetch-error" => "rt-fetch",
        "sts-policy-invalid" => "rt-invalid",
        "sts-webpki-invalid" => "rt-webpki",
        "tlsa-invalid" | "dnssec-invalid" | "dane-required" => "rt-dane",
        _ => "rt-other",
    }
}

/// Lays out one bar per day; the height of each segment is proportional to its sessions
/// against the busiest day.
pub fn stacked(days: &[DaySessions], width: u32, height: u32) -> StackedChart {
    let max_sessions = days
        .iter()
        .map(|d| d.successful + d.failures.values().sum::<i64>())
        .max()
        .unwrap_or(0);
    let slot = f64::from(width) / days.len().max(1) as f64;
    let scale = if max_sessions > 0 {
        f64::from(height) / max_sessions as f64
    } else {
        0.0
    };
    let mut legend: Vec<(&'static str, String)> = Vec::new();
    let mut add_legend = |class: &'static str, label: &str| {
        if !legend.iter().any(|(_, l)| l == label) {
            legend.push((class, label.to_owned()));
        }
    };
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let mut top = f64::from(height);
            let mut segments = Vec::new();
            let mut push = |sessions: i64, class: &'static str, what: &str| {
                if sessions <= 0 {
                    return;
                }
                let h = sessions as f64 * scale;
                top -= h;
                segments.push(Segment {
                    y: top,
                    height: h,
                    class,
                    title: format!("{}: {sessions} {what}", day.label),
                });
            };
            push(day.successful, "ok", "successful sessions");
            if day.successful > 0 {
                add_legend("ok", "successful");
            }
            for (result_type, &sessions) in &day.failures {
                let class = result_class(result_type);
                push(sessions, class, &format!("failed ({result_type})"));
                if sessions > 0 {
                    add_legend(class, result_type);
                }
            }
            Bar {
                x: i as f64 * slot + slot * 0.1,
                width: slot * 0.8,
                segments,
            }
        })
        .collect();
    StackedChart {
        width,
        height,
        bars,
        legend,
        max_sessions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_peak() {
        let line = sparkline(&[0.0, 5.0, 10.0], 100, 20);
        assert_eq!(line.points, "0.0,19.0 50.0,10.0 100.0,1.0");
        assert!((line.peak - 10.0).abs() < f64::EPSILON);
        let flat = sparkline(&[0.0, 0.0], 10, 20);
        assert_eq!(flat.points, "0.0,19.0 10.0,19.0");
    }

    #[test]
    fn stacked_segments_add_up_to_the_day() {
        let days = vec![
            DaySessions {
                label: "2026-11-01".into(),
                successful: 90,
                failures: BTreeMap::from([("starttls-not-supported".into(), 10)]),
            },
            DaySessions {
                label: "2026-11-02".into(),
                successful: 50,
                failures: BTreeMap::from([("<script>".into(), 0)]),
            },
        ];
        let chart = stacked(&days, 200, 100);
        assert_eq!(chart.max_sessions, 100);
        assert_eq!(chart.bars.len(), 2);
        let first: f64 = chart.bars[0].segments.iter().map(|s| s.height).sum();
        assert!((first - 100.0).abs() < 1e-9);
        assert_eq!(chart.bars[0].segments[1].class, "rt-starttls");
        let second: f64 = chart.bars[1].segments.iter().map(|s| s.height).sum();
        assert!((second - 50.0).abs() < 1e-9);
        assert_eq!(chart.legend.len(), 2, "{:?}", chart.legend);
        assert_eq!(result_class("<script>"), "rt-other");
    }
}
