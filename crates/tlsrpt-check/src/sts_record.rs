//! The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1).
//!
//! `v=STSv1` first and case-sensitive, fields separated by `*WSP ";" *WSP`, an optional
//! trailing `;`, a required `id` of 1 to 32 letters and digits, extensions ignored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid `v=STSv1` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRecord {
    /// The policy id.
    pub id: String,
    /// Extension fields, in order, as `(name, value)`.
    pub extensions: Vec<(String, String)>,
}

/// Why a record that starts with `v=STSv1` is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StsRecordError {
    /// The record holds bytes outside US-ASCII.
    NotAscii,
    /// There is no `id` field.
    MissingId,
    /// The `id` field appears more than once.
    DuplicateId,
    /// The `id` value is empty, longer than 32 characters, or not only letters and digits.
    BadId(String),
    /// A field is not `name=value` with a valid name and value.
    BadField(String),
    /// The `v=STSv1` tag is not followed by `;`.
    BadVersion,
    /// Two `;` with nothing between them.
    EmptyField,
}

impl fmt::Display for StsRecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAscii => f.write_str("the record contains characters outside US-ASCII"),
            Self::MissingId => f.write_str("the required id field is missing"),
            Self::DuplicateId => f.write_str("the id field appears more than once"),
            Self::BadId(id) if id.len() > 32 => write!(
                f,
                "the id `{id}` is {} characters long; at most 32 are allowed",
                id.len()
            ),
            Self::BadId(id) => write!(
                f,
                "the id `{id}` must be 1 to 32 letters and digits, with no other characters"
            ),
            Self::BadField(field) => write!(
                f,
                "the field `{field}` is not name=value (an extension name is a letter or digit \
                 followed by up to 31 letters, digits, `_`, `-` or `.`; the value has no spaces, \
                 `=` or `;`)"
            ),
            Self::BadVersion => f.write_str("`v=STSv1` must be followed by `;` and the id field"),
            Self::EmptyField => f.write_str("two `;` follow each other with no field between them"),
        }
    }
}

/// Whether a TXT string is an STS record candidate: it starts with `v=STSv1` followed by
/// the end, whitespace or `;`. Everything else at the name is discarded.
pub(crate) fn is_sts_candidate(txt: &str) -> bool {
    txt.strip_prefix("v=STSv1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([';', ' ', '\t']))
}

/// Parses one candidate record (see [`is_sts_candidate`]).
pub fn parse_sts_record(txt: &str) -> Result<StsRecord, StsRecordError> {
    if !txt.is_ascii() {
        return Err(StsRecordError::NotAscii);
    }
    let rest = txt
        .strip_prefix("v=STSv1")
        .ok_or(StsRecordError::BadVersion)?;
    let fields = split_fields(rest).map_err(|e| match e {
        FieldSplitError::MissingDelimiter => StsRecordError::BadVersion,
        FieldSplitError::EmptyField => StsRecordError::EmptyField,
    })?;
    let mut id = None;
    let mut extensions = Vec::new();
    for field in fields {
        let (name, value) = field
            .split_once('=')
            .ok_or_else(|| StsRecordError::BadField(field.to_owned()))?;
        if name == "id" {
            if id.is_some() {
                return Err(StsRecordError::DuplicateId);
            }
            if value.is_empty()
                || value.len() > 32
                || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(StsRecordError::BadId(value.to_owned()));
            }
            id = Some(value.to_owned());
        } else if valid_ext_name(name) && valid_ext_value(value) {
            extensions.push((name.to_owned(), value.to_owned()));
        } else {
            return Err(StsRecordError::BadField(field.to_owned()));
        }
    }
    let id = id.ok_or(StsRecordError::MissingId)?;
    Ok(StsRecord { id, extensions })
}

/// Splits what follows the version tag into fields at `*WSP ";" *WSP`. One trailing
/// delimiter is allowed; an empty field in the middle is not.
pub(crate) fn split_fields(rest: &str) -> Result<Vec<&str>, FieldSplitError> {
    let mut pieces = rest.split(';');
    let before_first = pieces.next().unwrap_or_default();
    if !before_first.trim_matches([' ', '\t']).is_empty() {
        return Err(FieldSplitError::MissingDelimiter);
    }
    let pieces: Vec<&str> = pieces.map(|p| p.trim_matches([' ', '\t'])).collect();
    let last = pieces.len().saturating_sub(1);
    let mut fields = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        if piece.is_empty() {
            if i != last {
                return Err(FieldSplitError::EmptyField);
            }
        } else {
            fields.push(piece);
        }
    }
    Ok(fields)
}

/// Why a TXT record could not be split into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldSplitError {
    /// The version tag is not followed by `;`.
    MissingDelimiter,
    /// Two `;` with nothing between them.
    EmptyField,
}

/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
pub(crate) fn valid_ext_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.len() <= 32
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `1*(%x21-3A / %x3C / %x3E-7E)`: visible ASCII except `;` and `=`.
pub(crate) fn valid_ext_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record(id: &str, ext: &[(&str, &str)]) -> StsRecord {
        StsRecord {
            id: id.to_owned(),
            extensions: ext
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn valid_records() {
        let cases = [
            (
                "v=STSv1; id=20240101T000000",
                record("20240101T000000", &[]),
            ),
            ("v=STSv1;id=abc", record("abc", &[])),
            ("v=STSv1; id=abc;", record("abc", &[])),
            ("v=STSv1 ;\tid=abc ; ", record("abc", &[])),
            ("v=STSv1; id=abc; foo=bar", record("abc", &[("foo", "bar")])),
            (
                "v=STSv1; ext.x-1=1:2; id=Z9",
                record("Z9", &[("ext.x-1", "1:2")]),
            ),
            (
                "v=STSv1; id=12345678901234567890123456789012",
                record("12345678901234567890123456789012", &[]),
            ),
        ];
        for (txt, want) in cases {
            assert_eq!(parse_sts_record(txt), Ok(want), "{txt:?}");
        }
    }

    #[test]
    fn invalid_records() {
        let cases = [
            ("v=STSv1", StsRecordError::MissingId),
            ("v=STSv1;", StsRecordError::MissingId),
            ("v=STSv1; foo=bar", StsRecordError::MissingId),
            (
                "v=STSv1; id=123456789012345678901234567890123",
                StsRecordError::BadId("123456789012345678901234567890123".to_owned()),
            ),
            ("v=STSv1; id=", StsRecordError::BadId(String::new())),
            (
                "v=STSv1; id=2024-01-01",
                StsRecordError::BadId("2024-01-01".to_owned()),
            ),
            ("v=STSv1; id=a; id=b", StsRecordError::DuplicateId),
            ("v=STSv1 id=abc", StsRecordError::BadVersion),
            (
                "v=STSv1; id=abc; junk",
                StsRecordError::BadField("junk".to_owned()),
            ),
            ("v=STSv1; id=abc;; x=y", StsRecordError::EmptyField),
            (
                "v=STSv1; id=abc foo=bar",
                StsRecordError::BadId("abc foo=bar".to_owned()),
            ),
            ("v=STSv1; id=ab\u{e9}", StsRecordError::NotAscii),
        ];
        for (txt, want) in cases {
            assert_eq!(parse_sts_record(txt), Err(want), "{txt:?}");
        }
    }

    #[test]
    fn candidates() {
        assert!(is_sts_candidate("v=STSv1; id=1"));
        assert!(is_sts_candidate("v=STSv1"));
        assert!(!is_sts_candidate("v=STSv10; id=1"));
        assert!(!is_sts_candidate("V=STSv1; id=1"));
        assert!(!is_sts_candidate("v=stsv1; id=1"));
        assert!(!is_sts_candidate("google-site-verification=abc"));
    }

    proptest! {
        #[test]
        fn never_panics(txt in "\\PC{0,100}") {
            let _ = parse_sts_record(&txt);
            let _ = is_sts_candidate(&txt);
        }

        #[test]
        fn any_valid_id_round_trips(id in "[A-Za-z0-9]{1,32}") {
            let txt = format!("v=STSv1; id={id}");
            prop_assert_eq!(parse_sts_record(&txt).map(|r| r.id), Ok(id));
        }
    }
}
