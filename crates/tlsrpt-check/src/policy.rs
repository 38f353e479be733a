//! The MTA-STS policy file (RFC 8461 §3.2, erratum 6253).
//!
//! Lines end in LF or CRLF; each is `key ":" *WSP value *WSP`. The first occurrence of a
//! repeated non-mx field wins, unknown fields are ignored, and field order is free.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::pattern::{MxPattern, PatternError};

/// Largest `max_age` allowed (about one year).
pub(crate) const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The policy mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Senders refuse delivery to MX hosts that fail validation.
    Enforce,
    /// Senders deliver anyway and report failures.
    Testing,
    /// The domain withdraws its policy.
    None,
}

impl Mode {
    /// The policy file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Testing => "testing",
            Self::None => "none",
        }
    }
}

/// A valid policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Always `STSv1`.
    pub version: String,
    /// The mode.
    pub mode: Mode,
    /// Seconds a sender may cache the policy.
    pub max_age: u64,
    /// The mx patterns, in order.
    pub mx: Vec<MxPattern>,
}

/// Why a policy file is invalid. Line numbers start at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is empty.
    Empty,
    /// A blank line before the end.
    BlankLine(usize),
    /// A line that starts with whitespace.
    LeadingWhitespace(usize),
    /// A line without `key:`, or a key with characters that are not allowed.
    BadLine(usize, String),
    /// A carriage return not followed by a line feed.
    BareCarriageReturn(usize),
    /// `version` is not `STSv1`.
    BadVersion(usize, String),
    /// `mode` is not `enforce`, `testing` or `none`.
    BadMode(usize, String),
    /// `max_age` is not 1 to 10 digits, or above 31557600.
    BadMaxAge(usize, String),
    /// An `mx` value is not a valid pattern.
    BadMx(usize, String, PatternError),
    /// A required field is missing.
    Missing(&'static str),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("the policy is not valid UTF-8"),
            Self::Empty => f.write_str("the policy is empty"),
            Self::BlankLine(n) => write!(
                f,
                "line {n} is blank; blank lines are only allowed at the end"
            ),
            Self::LeadingWhitespace(n) => write!(f, "line {n} starts with whitespace"),
            Self::BadLine(n, line) => write!(f, "line {n} `{line}` is not `key: value`"),
            Self::BareCarriageReturn(n) => {
                write!(
                    f,
                    "line {n} contains a carriage return that is not followed by a line feed"
                )
            }
            Self::BadVersion(n, v) => write!(f, "line {n}: version is `{v}`, it must be `STSv1`"),
            Self::BadMode(n, v) => write!(
                f,
                "line {n}: mode is `{v}`, it must be `enforce`, `testing` or `none` (lowercase)"
            ),
            Self::BadMaxAge(n, v) => write!(
                f,
                "line {n}: max_age is `{v}`, it must be 1 to 10 digits with a value from 0 to \
                 {MAX_AGE_LIMIT}"
            ),
            Self::BadMx(n, v, e) => write!(f, "line {n}: mx `{v}` is not a valid pattern: {e}"),
            Self::Missing(field) => write!(f, "the required field `{field}` is missing"),
        }
    }
}

/// Everything the parser noticed besides the verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyParse {
    /// The policy, or the first reason it is invalid.
    pub result: Option<Result<Policy, PolicyError>>,
    /// `(field, first line, repeated line, first value, repeated value)` for repeated
    /// non-mx fields; the first one applies.
    pub duplicates: Vec<(String, usize, usize, String, String)>,
    /// `(line, key)` of fields the checker does not know; ignored.
    pub unknown: Vec<(usize, String)>,
    /// Both LF and CRLF line endings are used.
    pub mixed_line_endings: bool,
    /// Number of extra blank lines at the end, beyond the one allowed terminator.
    pub trailing_blank_lines: usize,
}

impl PolicyParse {
    /// The policy when it is valid.
    pub fn policy(&self) -> Option<&Policy> {
        self.result.as_ref().and_then(|r| r.as_ref().ok())
    }
}

/// Parses a policy body.
pub fn parse_policy(body: &[u8]) -> PolicyParse {
    let mut parse = PolicyParse::default();
    parse.result = Some(parse_into(body, &mut parse));
    parse
}

fn parse_into(body: &[u8], parse: &mut PolicyParse) -> Result<Policy, PolicyError> {
    let text = std::str::from_utf8(body).map_err(|_| PolicyError::NotUtf8)?;
    if text.is_empty() {
        return Err(PolicyError::Empty);
    }
    let mut lines: Vec<&str> = text.split('\n').collect();
    let crlf = lines
        .iter()
        .take(lines.len() - 1)
        .filter(|l| l.ends_with('\r'))
        .count();
    let terminators = lines.len() - 1;
    parse.mixed_line_endings = crlf > 0 && crlf < terminators;
    for line in &mut lines {
        *line = line.strip_suffix('\r').unwrap_or(line);
    }
    // One terminator after the last line is allowed; further empty lines are noted.
    if lines.last() == Some(&"") {
        lines.pop();
    }
    while lines.len() > 1 && lines.last() == Some(&"") {
        lines.pop();
        parse.trailing_blank_lines += 1;
    }

    let mut version: Option<(usize, &str)> = None;
    let mut mode: Option<(usize, &str)> = None;
    let mut max_age: Option<(usize, &str)> = None;
    let mut mx: Vec<(usize, &str)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.is_empty() {
            return Err(PolicyError::BlankLine(n));
        }
        if line.contains('\r') {
            return Err(PolicyError::BareCarriageReturn(n));
        }
        if line.starts_with([' ', '\t']) {
            return Err(PolicyError::LeadingWhitespace(n));
        }
        let (key, value) = line
            .split_once(':')
            .filter(|(key, _)| valid_key(key))
            .ok_or_else(|| PolicyError::BadLine(n, (*line).to_owned()))?;
        let value = value.trim_matches([' ', '\t']);
        let slot = match key {
            "version" => &mut version,
            "mode" => &mut mode,
            "max_age" => &mut max_age,
            "mx" => {
                mx.push((n, value));
                continue;
            }
            _ => {
                parse.unknown.push((n, key.to_owned()));
                continue;
            }
        };
        match slot {
            Some((first_line, first_value)) => parse.duplicates.push((
                key.to_owned(),
                *first_line,
                n,
                (*first_value).to_owned(),
                value.to_owned(),
            )),
            None => *slot = Some((n, value)),
        }
    }

    let (n, v) = version.ok_or(PolicyError::Missing("version"))?;
    if v != "STSv1" {
        return Err(PolicyError::BadVersion(n, v.to_owned()));
    }
    let (n, v) = mode.ok_or(PolicyError::Missing("mode"))?;
    let mode = match v {
        "enforce" => Mode::Enforce,
        "testing" => Mode::Testing,
        "none" => Mode::None,
        _ => return Err(PolicyError::BadMode(n, v.to_owned())),
    };
    let (n, v) = max_age.ok_or(PolicyError::Missing("max_age"))?;
    let max_age = parse_max_age(v).ok_or_else(|| PolicyError::BadMaxAge(n, v.to_owned()))?;
    let mx = mx
        .into_iter()
        .map(|(n, v)| MxPattern::parse(v).map_err(|e| PolicyError::BadMx(n, v.to_owned(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    if mx.is_empty() && mode != Mode::None {
        return Err(PolicyError::Missing("mx"));
    }
    Ok(Policy {
        version: "STSv1".to_owned(),
        mode,
        max_age,
        mx,
    })
}

/// `sts-policy-ext-name`: a letter or digit, then up to 31 letters, digits, `_`, `-`, `.`.
fn valid_key(key: &str) -> bool {
    crate::sts_record::valid_ext_name(key)
}

fn parse_max_age(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().filter(|v| *v <= MAX_AGE_LIMIT)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn valid(body: &str) -> Policy {
        parse_policy(body.as_bytes())
            .result
            .expect("parsed")
            .expect("valid policy")
    }

    fn invalid(body: &str) -> PolicyError {
        parse_policy(body.as_bytes())
            .result
            .expect("parsed")
            .expect_err("invalid policy")
    }

    #[test]
    fn minimal_enforce_policy() {
        let p = valid("version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n");
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.max_age, 604_800);
        assert_eq!(p.mx.len(), 1);
        assert_eq!(p.mx[0].domain, "mx1.example.com");
    }

    #[test]
    fn field_order_is_free_and_crlf_is_accepted() {
        let p = valid("mx: *.example.com\r\nmax_age: 86400\r\nmode: testing\r\nversion: STSv1\r\n");
        assert_eq!(p.mode, Mode::Testing);
        assert!(p.mx[0].wildcard);
    }

    #[test]
    fn no_trailing_terminator_and_trailing_whitespace() {
        let p = valid("version: STSv1\nmode:enforce \nmx:mx.example.com\t\nmax_age:\t0");
        assert_eq!(p.max_age, 0);
        assert_eq!(p.mode, Mode::Enforce);
    }

    #[test]
    fn mode_none_needs_no_mx() {
        let p = valid("version: STSv1\nmode: none\nmax_age: 86400\n");
        assert_eq!(p.mode, Mode::None);
        assert!(p.mx.is_empty());
    }

    #[test]
    fn first_value_wins_for_repeated_fields() {
        let parse = parse_policy(
            b"version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.com\nmax_age: 10\n",
        );
        assert_eq!(parse.policy().map(|p| p.mode), Some(Mode::Testing));
        assert_eq!(
            parse.duplicates,
            vec![(
                "mode".to_owned(),
                2,
                3,
                "testing".to_owned(),
                "enforce".to_owned()
            )]
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_noted() {
        let parse = parse_policy(
            b"version: STSv1\nmode: enforce\nx-note: hello world\nmx: a.example.com\nmax_age: 10\n",
        );
        assert!(parse.policy().is_some());
        assert_eq!(parse.unknown, vec![(3, "x-note".to_owned())]);
    }

    #[test]
    fn mixed_line_endings_are_noted_not_rejected() {
        let parse =
            parse_policy(b"version: STSv1\r\nmode: enforce\nmx: a.example.com\r\nmax_age: 10\n");
        assert!(parse.policy().is_some());
        assert!(parse.mixed_line_endings);
    }

    #[test]
    fn trailing_blank_lines_are_noted() {
        let parse = parse_policy(b"version: STSv1\nmode: none\nmax_age: 10\n\n\n");
        assert!(parse.policy().is_some());
        assert_eq!(parse.trailing_blank_lines, 2);
    }

    #[test]
    fn invalid_policies() {
        let cases = [
            ("", PolicyError::Empty),
            (
                "version: STSv1\n\nmode: enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BlankLine(2),
            ),
            (
                "version: STSv1\n mode: enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::LeadingWhitespace(2),
            ),
            (
                "version: STSv1\nmode enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BadLine(2, "mode enforce".to_owned()),
            ),
            (
                "version: STSv1\nmode : enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BadLine(2, "mode : enforce".to_owned()),
            ),
            (
                "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BadVersion(1, "STSv2".to_owned()),
            ),
            (
                "version: STSv1\nmode: Enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BadMode(2, "Enforce".to_owned()),
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n",
                PolicyError::BadMaxAge(4, "31557601".to_owned()),
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 00000000001\n",
                PolicyError::BadMaxAge(4, "00000000001".to_owned()),
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n",
                PolicyError::BadMaxAge(4, "-1".to_owned()),
            ),
            (
                "version: STSv1\nmode: enforce\nmax_age: 1\n",
                PolicyError::Missing("mx"),
            ),
            (
                "mode: enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::Missing("version"),
            ),
            (
                "version: STSv1\nmx: a.b\nmax_age: 1\n",
                PolicyError::Missing("mode"),
            ),
            (
                "version: STSv1\nmode: testing\nmx: a.b\n",
                PolicyError::Missing("max_age"),
            ),
            (
                "version: STSv1\nmode: enforce\nmx: mx.example.com.\nmax_age: 1\n",
                PolicyError::BadMx(3, "mx.example.com.".to_owned(), PatternError::TrailingDot),
            ),
            (
                "version: STSv1\rmode: enforce\nmx: a.b\nmax_age: 1\n",
                PolicyError::BareCarriageReturn(1),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(invalid(body), want, "{body:?}");
        }
    }

    #[test]
    fn max_age_bounds() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("31557600"), Some(31_557_600));
        assert_eq!(parse_max_age("0000000001"), Some(1));
        assert_eq!(parse_max_age("31557601"), None);
        assert_eq!(parse_max_age(""), None);
        assert_eq!(parse_max_age("1e5"), None);
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_policy(&body);
        }

        #[test]
        fn never_panics_on_policy_like_text(body in "((version|mode|max_age|mx|x)[ :]{0,2}[a-zA-Z0-9.* ]{0,12}\r?\n){0,8}") {
            let _ = parse_policy(body.as_bytes());
        }
    }
}
