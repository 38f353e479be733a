//! Protection of the state-changing buttons (re-check now) against cross-site requests: a
//! per-process secret token in every form, checked in constant time, and the browser's
//! `Sec-Fetch-Site`/`Origin` headers when it sends them.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use ring::rand::{SecureRandom as _, SystemRandom};
use subtle::ConstantTimeEq as _;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The token of this process, put in forms and checked on submission.
#[derive(Clone)]
pub struct Csrf {
    token: String,
}

impl std::fmt::Debug for Csrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Csrf(…)")
    }
}

impl Csrf {
    /// A fresh random token (256 bits).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .unwrap_or_else(|_| unreachable!("the system random generator failed"));
        Self {
            token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// The token to embed in forms.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether a submitted form is genuine: the token matches, and the browser does not
    /// say the request came from another site.
    pub fn verify(&self, headers: &HeaderMap, submitted: &str) -> bool {
        let token_ok: bool = submitted.as_bytes().ct_eq(self.token.as_bytes()).into();
        token_ok && same_origin(headers)
    }
}

/// False when the browser reports a cross-site request (`Sec-Fetch-Site: cross-site`), or
/// an `Origin` whose host differs from the `Host` header.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return false;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_token_must_match() {
        let csrf = Csrf::generate();
        let token = csrf.token().to_owned();
        assert!(csrf.verify(&HeaderMap::new(), &token));
        assert!(!csrf.verify(&HeaderMap::new(), ""));
        assert!(!csrf.verify(&HeaderMap::new(), &token[1..]));
        assert!(!csrf.verify(&HeaderMap::new(), Csrf::generate().token()));
    }

    #[test]
    fn cross_site_requests_are_refused_even_with_the_token() {
        let csrf = Csrf::generate();
        let token = csrf.token().to_owned();
        let same = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(csrf.verify(&same, &token));
        let other = headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(!csrf.verify(&other, &token));
        let fetch = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(!csrf.verify(&fetch, &token));
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]);
        assert!(!csrf.verify(&null, &token));
    }
}
