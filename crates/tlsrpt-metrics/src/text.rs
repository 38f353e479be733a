//! The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines for
//! each metric family, then its samples, with label values and help texts escaped.

use std::fmt::Write as _;

/// The `Content-Type` of a scrape in this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// A scrape being written. Each family is started once with [`Exposition::family`], and
/// all its samples follow before the next family starts.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a metric family: its help text and type.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample: `name{labels} value`. `name` is the family's name, or for a histogram
    /// the family's name with `_bucket`, `_sum` or `_count`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                escape_label_value(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_value(&mut self.out, value);
        self.out.push('\n');
    }

    /// The scrape's text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Backslash, double quote and line feed are escaped in label values.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value as Go's `ParseFloat` reads it: `+Inf`, `-Inf`, `NaN` or a decimal.
pub(crate) fn write_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_are_written_in_the_text_format() {
        let mut text = Exposition::new();
        text.family("tlsrpt_x_total", Kind::Counter, "Things.\nMore \\ help.");
        text.sample("tlsrpt_x_total", &[("a", "b\"c\\d\ne"), ("z", "")], 3.0);
        text.sample("tlsrpt_x_total", &[], 0.25);
        text.family("tlsrpt_y", Kind::Gauge, "Y.");
        text.sample("tlsrpt_y", &[], f64::INFINITY);
        text.sample("tlsrpt_y", &[], f64::NEG_INFINITY);
        text.sample("tlsrpt_y", &[], f64::NAN);
        text.sample("tlsrpt_y", &[], 1_700_000_000.0);
        assert_eq!(
            text.finish(),
            "# HELP tlsrpt_x_total Things.\\nMore \\\\ help.\n\
             # TYPE tlsrpt_x_total counter\n\
             tlsrpt_x_total{a=\"b\\\"c\\\\d\\ne\",z=\"\"} 3\n\
             tlsrpt_x_total 0.25\n\
             # HELP tlsrpt_y Y.\n\
             # TYPE tlsrpt_y gauge\n\
             tlsrpt_y +Inf\n\
             tlsrpt_y -Inf\n\
             tlsrpt_y NaN\n\
             tlsrpt_y 1700000000\n"
        );
    }
}
