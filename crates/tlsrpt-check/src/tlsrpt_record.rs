//! The `_smtp._tls.<domain>` TLS-RPT TXT record (RFC 8460 §3).
//!
//! `v=TLSRPTv1` first, one or more `rua=` fields holding comma-separated `mailto:` or
//! `https:` URIs in which `,` `!` and `;` are percent-encoded; extensions are ignored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sts_record::{FieldSplitError, split_fields, valid_ext_name, valid_ext_value};

/// A valid `v=TLSRPTv1` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptRecord {
    /// Every reporting URI, from every `rua` field, in order.
    pub rua: Vec<String>,
    /// Extension fields, in order, as `(name, value)`.
    pub extensions: Vec<(String, String)>,
}

/// Why a record that starts with `v=TLSRPTv1` is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsRptRecordError {
    /// The record holds bytes outside US-ASCII.
    NotAscii,
    /// `v=TLSRPTv1` is not followed by `;`.
    BadVersion,
    /// Two `;` with nothing between them.
    EmptyField,
    /// No `rua` field.
    MissingRua,
    /// A field is not `name=value`.
    BadField(String),
    /// An `rua` list has an empty entry.
    EmptyUri,
    /// An address without the `mailto:` scheme, like DMARC's habit.
    MissingMailto(String),
    /// A scheme other than `mailto:` and `https:`.
    BadScheme(String),
    /// A `!` in a URI: a DMARC-style size limit, or an unencoded character.
    UnencodedBang(String),
    /// A `mailto:` URI without a valid address.
    BadMailto(String),
    /// An `https:` URI without a host.
    BadHttps(String),
}

impl fmt::Display for TlsRptRecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAscii => f.write_str("the record contains characters outside US-ASCII"),
            Self::BadVersion => {
                f.write_str("`v=TLSRPTv1` must be followed by `;` and an rua field")
            }
            Self::EmptyField => f.write_str("two `;` follow each other with no field between them"),
            Self::MissingRua => f.write_str("the required rua field is missing"),
            Self::BadField(field) => write!(f, "the field `{field}` is not name=value"),
            Self::EmptyUri => f.write_str("the rua list has an empty entry"),
            Self::MissingMailto(uri) => write!(
                f,
                "`{uri}` is an address without the mailto: scheme; write `mailto:{uri}`"
            ),
            Self::BadScheme(uri) => write!(
                f,
                "`{uri}` uses a scheme other than mailto: and https:, the only two TLS-RPT allows"
            ),
            Self::UnencodedBang(uri) => write!(
                f,
                "`{uri}` contains `!`: TLS-RPT has no DMARC-style size limit, and `!` must be \
                 written %21"
            ),
            Self::BadMailto(uri) => write!(f, "`{uri}` is not a mailto: URI with a valid address"),
            Self::BadHttps(uri) => write!(f, "`{uri}` is not an https: URI with a host"),
        }
    }
}

/// Whether a TXT string is a TLS-RPT record candidate: it starts with `v=TLSRPTv1`
/// followed by the end, whitespace or `;`.
pub(crate) fn is_tlsrpt_candidate(txt: &str) -> bool {
    txt.strip_prefix("v=TLSRPTv1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([';', ' ', '\t']))
}

/// Parses one candidate record (see [`is_tlsrpt_candidate`]).
pub fn parse_tlsrpt_record(txt: &str) -> Result<TlsRptRecord, TlsRptRecordError> {
    if !txt.is_ascii() {
        return Err(TlsRptRecordError::NotAscii);
    }
    let rest = txt
        .strip_prefix("v=TLSRPTv1")
        .ok_or(TlsRptRecordError::BadVersion)?;
    let fields = split_fields(rest).map_err(|e| match e {
        FieldSplitError::MissingDelimiter => TlsRptRecordError::BadVersion,
        FieldSplitError::EmptyField => TlsRptRecordError::EmptyField,
    })?;
    let mut rua = Vec::new();
    let mut saw_rua = false;
    let mut extensions = Vec::new();
    for field in fields {
        let (name, value) = field
            .split_once('=')
            .ok_or_else(|| TlsRptRecordError::BadField(field.to_owned()))?;
        if name == "rua" {
            saw_rua = true;
            for uri in value.split(',') {
                let uri = uri.trim_matches([' ', '\t']);
                validate_uri(uri)?;
                rua.push(uri.to_owned());
            }
        } else if valid_ext_name(name) && valid_ext_value(value) {
            extensions.push((name.to_owned(), value.to_owned()));
        } else {
            return Err(TlsRptRecordError::BadField(field.to_owned()));
        }
    }
    if !saw_rua {
        return Err(TlsRptRecordError::MissingRua);
    }
    Ok(TlsRptRecord { rua, extensions })
}

fn validate_uri(uri: &str) -> Result<(), TlsRptRecordError> {
    if uri.is_empty() {
        return Err(TlsRptRecordError::EmptyUri);
    }
    if uri.contains('!') {
        return Err(TlsRptRecordError::UnencodedBang(uri.to_owned()));
    }
    let (scheme, rest) = match uri.split_once(':') {
        Some((scheme, rest)) if !scheme.contains('@') => (scheme.to_ascii_lowercase(), rest),
        _ if uri.contains('@') => return Err(TlsRptRecordError::MissingMailto(uri.to_owned())),
        _ => return Err(TlsRptRecordError::BadScheme(uri.to_owned())),
    };
    let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    match scheme.as_str() {
        "mailto" => {
            let address = rest.split('?').next().unwrap_or_default();
            let valid = address.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && visible(local) && valid_domain(domain)
            });
            if valid {
                Ok(())
            } else {
                Err(TlsRptRecordError::BadMailto(uri.to_owned()))
            }
        }
        "https" => {
            let host = rest
                .strip_prefix("//")
                .map(|r| r.split(['/', '?', '#']).next().unwrap_or_default())
                .map(|authority| authority.rsplit('@').next().unwrap_or_default())
                .map(|hostport| hostport.split(':').next().unwrap_or_default());
            match host {
                Some(host) if valid_domain(host) && visible(rest) => Ok(()),
                _ => Err(TlsRptRecordError::BadHttps(uri.to_owned())),
            }
        }
        _ => Err(TlsRptRecordError::BadScheme(uri.to_owned())),
    }
}

fn valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rua(uris: &[&str]) -> TlsRptRecord {
        TlsRptRecord {
            rua: uris.iter().map(|u| (*u).to_owned()).collect(),
            extensions: Vec::new(),
        }
    }

    #[test]
    fn valid_records() {
        let cases = [
            (
                "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
                rua(&["mailto:tlsrpt@example.com"]),
            ),
            (
                "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.net/tls",
                rua(&["mailto:a@example.com", "https://r.example.net/tls"]),
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.com;",
                rua(&["mailto:a@example.com", "mailto:b@example.com"]),
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
                rua(&["mailto:a@example.com", "mailto:b@example.com"]),
            ),
            (
                "v=TLSRPTv1; rua=mailto:a%2Cb@example.com",
                rua(&["mailto:a%2Cb@example.com"]),
            ),
        ];
        for (txt, want) in cases {
            assert_eq!(parse_tlsrpt_record(txt), Ok(want), "{txt:?}");
        }
        let with_ext = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; x-foo=1")
            .expect("extension is ignored");
        assert_eq!(
            with_ext.extensions,
            vec![("x-foo".to_owned(), "1".to_owned())]
        );
    }

    #[test]
    fn invalid_records() {
        use TlsRptRecordError as E;
        let cases = [
            ("v=TLSRPTv1", E::MissingRua),
            ("v=TLSRPTv1; x=1", E::MissingRua),
            (
                "v=TLSRPTv1; rua=postmaster@example.com",
                E::MissingMailto("postmaster@example.com".to_owned()),
            ),
            (
                "v=TLSRPTv1; rua=mailto:r@example.com!10m",
                E::UnencodedBang("mailto:r@example.com!10m".to_owned()),
            ),
            (
                "v=TLSRPTv1; rua=http://r.example.com/",
                E::BadScheme("http://r.example.com/".to_owned()),
            ),
            (
                "v=TLSRPTv1; rua=mailto:",
                E::BadMailto("mailto:".to_owned()),
            ),
            (
                "v=TLSRPTv1; rua=https:/x",
                E::BadHttps("https:/x".to_owned()),
            ),
            ("v=TLSRPTv1; rua=mailto:a@example.com,", E::EmptyUri),
            ("v=TLSRPTv1 rua=mailto:a@example.com", E::BadVersion),
            ("v=TLSRPTv1;; rua=mailto:a@example.com", E::EmptyField),
            ("v=TLSRPTv1; rua", E::BadField("rua".to_owned())),
        ];
        for (txt, want) in cases {
            assert_eq!(parse_tlsrpt_record(txt), Err(want), "{txt:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(txt in "\\PC{0,120}") {
            let _ = parse_tlsrpt_record(&txt);
            let _ = is_tlsrpt_candidate(&txt);
        }
    }
}
