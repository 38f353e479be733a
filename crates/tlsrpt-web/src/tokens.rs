//! Per-domain tokens for the report endpoint: `POST /tlsrpt/{token}` carries a secret that
//! names the one policy domain it may report on. Published as `rua=https://host/tlsrpt/TOKEN`.

use std::collections::HashMap;

/// The configured tokens; empty means the endpoint is open (reports are then marked as
/// unauthenticated).
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_token: HashMap<String, String>,
}

/// A token specification that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokensError {
    /// Not `DOMAIN=TOKEN`.
    #[error("{0:?} is not DOMAIN=TOKEN")]
    Malformed(String),
    /// Too short to resist guessing.
    #[error("the token for {0} is shorter than 16 characters")]
    TooShort(String),
    /// Characters that do not fit in a URL path segment.
    #[error("the token for {0} may only use letters, digits, '-' and '_'")]
    BadCharacters(String),
}

impl Tokens {
    /// Reads `DOMAIN=TOKEN` specifications.
    pub fn parse<'a>(specs: impl IntoIterator<Item = &'a str>) -> Result<Self, TokensError> {
        let mut by_token = HashMap::new();
        for spec in specs {
            let (domain, token) = spec
                .split_once('=')
                .ok_or_else(|| TokensError::Malformed(spec.to_owned()))?;
            let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let token = token.trim();
            if domain.is_empty() || token.is_empty() {
                return Err(TokensError::Malformed(spec.to_owned()));
            }
            if token.len() < 16 {
                return Err(TokensError::TooShort(domain));
            }
            if !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(TokensError::BadCharacters(domain));
            }
            by_token.insert(token.to_owned(), domain);
        }
        Ok(Self { by_token })
    }

    /// True when no token is configured.
    pub fn is_open(&self) -> bool {
        self.by_token.is_empty()
    }

    /// The domain `token` may report on.
    pub fn domain(&self, token: &str) -> Option<&str> {
        // Compare every token, so that the time taken says nothing about near misses.
        let mut found = None;
        for (known, domain) in &self.by_token {
            if constant_time_eq(known.as_bytes(), token.as_bytes()) {
                found = Some(domain.as_str());
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up_tokens() {
        let tokens = Tokens::parse(["Example.COM.=abcdefghijklmnop1234"]).unwrap();
        assert_eq!(tokens.domain("abcdefghijklmnop1234"), Some("example.com"));
        assert_eq!(tokens.domain("abcdefghijklmnop1235"), None);
        assert!(!tokens.is_open());
        assert!(Tokens::parse([]).unwrap().is_open());
        assert_eq!(
            Tokens::parse(["example.com"]).unwrap_err(),
            TokensError::Malformed("example.com".into())
        );
        assert_eq!(
            Tokens::parse(["example.com=short"]).unwrap_err(),
            TokensError::TooShort("example.com".into())
        );
        assert_eq!(
            Tokens::parse(["example.com=abcdefghijklmnop/../x"]).unwrap_err(),
            TokensError::BadCharacters("example.com".into())
        );
    }
}
