//! Trusting an upstream MTA's `Authentication-Results` (RFC 8601) for one authserv-id:
//! only the topmost such header counts, as anything below it may come from the sender.

use mail_parser::MessageParser;

use crate::verifier::aligned;

/// The aligned `header.d` of a `dkim=pass` in the topmost `Authentication-Results` header
/// with authserv-id `id`, if there is one.
pub(crate) fn dkim_pass(message: &[u8], id: &str, from_domain: &str) -> Option<String> {
    let parsed = MessageParser::default().parse_headers(message)?;
    let header = parsed
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|value| authserv_id(value).eq_ignore_ascii_case(id))?;
    header.split(';').skip(1).find_map(|result| {
        let result = result.trim();
        let method = result.split_whitespace().next()?;
        if !method.eq_ignore_ascii_case("dkim=pass") {
            return None;
        }
        let domain = result.split_whitespace().find_map(|property| {
            let (key, value) = property.split_once('=')?;
            match key.to_ascii_lowercase().as_str() {
                "header.d" => Some(value.to_ascii_lowercase()),
                "header.i" => value.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()),
                _ => None,
            }
        })?;
        let domain = domain.trim_end_matches(['.', ';', ')']).to_owned();
        aligned(&domain, from_domain).then_some(domain)
    })
}

/// The authserv-id: the first token of the header value, before `;` or a version number.
fn authserv_id(value: &str) -> &str {
    value
        .split(';')
        .next()
        .and_then(|first| first.split_whitespace().next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"Authentication-Results: mx.example.net;\r\n\
\tdkim=pass (2048-bit key) header.d=google.com header.i=@google.com header.b=duBHRVBz\r\n\
Authentication-Results: forged.example; dkim=pass header.d=evil.example\r\n\
From: noreply-smtp-tls-reporting@google.com\r\n\
Subject: Report\r\n\r\nbody";

    #[test]
    fn trusts_only_the_named_authserv_id() {
        assert_eq!(
            dkim_pass(MESSAGE, "mx.example.net", "google.com").as_deref(),
            Some("google.com")
        );
        assert_eq!(dkim_pass(MESSAGE, "other.example", "google.com"), None);
        // A pass for a domain the From address is not aligned with does not count.
        assert_eq!(dkim_pass(MESSAGE, "forged.example", "google.com"), None);
    }

    #[test]
    fn a_failing_result_does_not_count() {
        let message = b"Authentication-Results: mx.example.net; dkim=fail header.d=google.com\r\n\
From: a@google.com\r\n\r\nbody";
        assert_eq!(dkim_pass(message, "mx.example.net", "google.com"), None);
    }
}
