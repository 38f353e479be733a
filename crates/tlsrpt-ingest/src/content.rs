//! Content sniffing: what a byte string is, judged from its first bytes, never from a
//! file name or a declared media type (TLSRPT-NOTES §4.12).

/// What a byte string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gzip,
    Zip,
    Json,
    /// An RFC 5322 message, possibly with an mbox `From ` line first.
    Mail,
    /// Base64 text, as a mail part carries a binary attachment.
    Base64,
    Xml,
    Empty,
    Unknown,
}

pub(crate) fn sniff(bytes: &[u8]) -> Kind {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Kind::Gzip;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Kind::Empty;
    };
    let text = &text[start..];
    match text[0] {
        b'{' | b'[' => return Kind::Json,
        b'<' => return Kind::Xml,
        _ => {}
    }
    if text.starts_with(b"From ") || looks_like_header(text) {
        return Kind::Mail;
    }
    if looks_like_base64(text) {
        return Kind::Base64;
    }
    Kind::Unknown
}

/// True when the first line is an RFC 5322 header field: a name of printable ASCII
/// other than `:`, then `:`.
fn looks_like_header(text: &[u8]) -> bool {
    let name_len = text.iter().take(80).position(|&b| b == b':').unwrap_or(0);
    name_len > 0 && text[..name_len].iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn looks_like_base64(text: &[u8]) -> bool {
    let sample = &text[..text.len().min(4096)];
    let significant = sample.iter().filter(|b| !b.is_ascii_whitespace()).count();
    significant >= 16
        && sample.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Kind::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(b"\xEF\xBB\xBF  {\"a\":1}"), Kind::Json);
        assert_eq!(sniff(b"\n[1]"), Kind::Json);
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><feedback/>"), Kind::Xml);
        assert_eq!(sniff(b"Return-Path: <a@b>\r\n"), Kind::Mail);
        assert_eq!(
            sniff(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n"),
            Kind::Mail
        );
        assert_eq!(
            sniff(b"H4sIAAAAAAAAAHVQy2rEMAz8\nleJztJikPTSn3krvPW1ZirCdYIilYCuHbMi\n"),
            Kind::Base64
        );
        assert_eq!(sniff(b"   \n"), Kind::Empty);
        assert_eq!(sniff(b"hello world, no colon"), Kind::Unknown);
        assert_eq!(sniff(b"not a header: because of spaces"), Kind::Unknown);
    }
}
