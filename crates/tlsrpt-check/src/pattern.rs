//! MX host names and policy mx patterns (RFC 8461 §3.2 and §4.1).
//!
//! Names are compared case-insensitively, without a trailing dot, in A-label form; a
//! `*.` pattern matches exactly one extra left-most label.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A host name in the form used for comparison: A-labels, lowercase, no trailing dot.
/// `None` when the name cannot be converted (invalid IDN, empty label).
pub fn normalize_host(name: &str) -> Option<String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return None;
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).ok()?
    };
    if ascii.split('.').any(str::is_empty) {
        return None;
    }
    Some(ascii)
}

/// One validated `mx:` pattern of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxPattern {
    /// The pattern exactly as written in the policy.
    pub text: String,
    /// `true` for a `*.` pattern.
    pub wildcard: bool,
    /// The domain part (after `*.`), in A-label form, lowercase.
    pub domain: String,
}

/// Why an `mx:` value is not a valid pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// Nothing after `mx:`.
    Empty,
    /// The pattern ends with a dot.
    TrailingDot,
    /// The pattern is an IP address literal.
    IpLiteral,
    /// A `*` that is not the whole left-most label.
    PartialWildcard,
    /// A label is empty, too long, or has characters outside letters, digits and hyphens.
    BadLabel(String),
    /// The name is longer than 253 characters.
    TooLong,
    /// U-labels that cannot be converted to A-labels.
    BadIdn,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the pattern is empty"),
            Self::TrailingDot => f.write_str("the pattern ends with a dot"),
            Self::IpLiteral => f.write_str("an IP address is not allowed, only host names"),
            Self::PartialWildcard => f.write_str(
                "`*` is only allowed as the whole left-most label, as in `*.example.com`",
            ),
            Self::BadLabel(label) => write!(
                f,
                "the label `{label}` is not a valid host name label (letters, digits and \
                 inner hyphens, 1 to 63 characters)"
            ),
            Self::TooLong => f.write_str("the name is longer than 253 characters"),
            Self::BadIdn => {
                f.write_str("the internationalized name cannot be converted to A-labels")
            }
        }
    }
}

impl MxPattern {
    /// Validates one `mx:` value.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text.ends_with('.') {
            return Err(PatternError::TrailingDot);
        }
        if text.starts_with('[') || text.parse::<std::net::IpAddr>().is_ok() {
            return Err(PatternError::IpLiteral);
        }
        let (wildcard, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if rest.contains('*') {
            return Err(PatternError::PartialWildcard);
        }
        let domain = if rest.is_ascii() {
            rest.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(rest).map_err(|_| PatternError::BadIdn)?
        };
        if domain.len() > 253 {
            return Err(PatternError::TooLong);
        }
        if domain
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(PatternError::IpLiteral);
        }
        for label in domain.split('.') {
            if !valid_label(label) {
                return Err(PatternError::BadLabel(label.to_owned()));
            }
        }
        Ok(Self {
            text: text.to_owned(),
            wildcard,
            domain,
        })
    }

    /// Whether `host` (already normalized by [`normalize_host`]) matches this pattern.
    /// `*.example.com` matches `a.example.com` but neither `example.com` nor
    /// `b.a.example.com`.
    pub fn matches(&self, host: &str) -> bool {
        if !self.wildcard {
            return host == self.domain;
        }
        match host.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest == self.domain,
            None => false,
        }
    }

    /// Whether the pattern was written with U-labels rather than A-labels.
    pub fn has_u_labels(&self) -> bool {
        !self.text.is_ascii()
    }
}

fn valid_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pattern(text: &str) -> MxPattern {
        MxPattern::parse(text).expect("valid pattern")
    }

    #[test]
    fn exact_pattern_matches_case_insensitively() {
        let p = pattern("MX1.Example.COM");
        assert!(p.matches("mx1.example.com"));
        assert!(!p.matches("mx2.example.com"));
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let p = pattern("*.example.com");
        assert!(p.matches("a.example.com"));
        assert!(!p.matches("example.com"));
        assert!(!p.matches("b.a.example.com"));
        assert!(!p.matches("mail.example.com.evil.net"));
        assert!(!p.matches("aexample.com"));
    }

    #[test]
    fn microsoft_wildcard_does_not_cover_two_labels() {
        let p = pattern("*.mx.microsoft");
        assert!(!p.matches("tenant.h-v1.mx.microsoft"));
        assert!(p.matches("h-v1.mx.microsoft"));
    }

    #[test]
    fn host_normalization() {
        assert_eq!(
            normalize_host("MX.Example.com."),
            Some("mx.example.com".to_owned())
        );
        assert_eq!(
            normalize_host("mäil.example.com"),
            Some("xn--mil-qla.example.com".to_owned())
        );
        assert_eq!(normalize_host("."), None);
        assert_eq!(normalize_host("a..b"), None);
    }

    #[test]
    fn u_label_pattern_is_compared_as_a_label() {
        let p = pattern("mäil.example.com");
        assert!(p.has_u_labels());
        assert!(p.matches("xn--mil-qla.example.com"));
    }

    #[test]
    fn invalid_patterns() {
        let cases = [
            ("", PatternError::Empty),
            ("mx.example.com.", PatternError::TrailingDot),
            ("192.0.2.1", PatternError::IpLiteral),
            ("[192.0.2.1]", PatternError::IpLiteral),
            ("2001:db8::1", PatternError::IpLiteral),
            ("mx*.example.com", PatternError::PartialWildcard),
            ("*mx.example.com", PatternError::PartialWildcard),
            ("a.*.example.com", PatternError::PartialWildcard),
            ("*", PatternError::PartialWildcard),
            (
                "mx_1.example.com",
                PatternError::BadLabel("mx_1".to_owned()),
            ),
            ("-mx.example.com", PatternError::BadLabel("-mx".to_owned())),
            ("mx..example.com", PatternError::BadLabel(String::new())),
        ];
        for (text, want) in cases {
            assert_eq!(MxPattern::parse(text), Err(want), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_and_match_never_panic(text in "\\PC{0,80}", host in "[a-z0-9.*-]{0,40}") {
            if let Ok(p) = MxPattern::parse(&text) {
                let _ = p.matches(&host);
            }
            let _ = normalize_host(&text);
        }

        #[test]
        fn wildcard_never_matches_deeper_names(a in "[a-z]{1,8}", b in "[a-z]{1,8}") {
            let p = MxPattern::parse("*.example.com").expect("valid");
            let one = format!("{a}.example.com");
            let two = format!("{b}.{a}.example.com");
            prop_assert!(p.matches(&one));
            prop_assert!(!p.matches(&two));
        }
    }
}
