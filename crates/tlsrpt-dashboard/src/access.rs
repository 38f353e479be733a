//! Who may use the dashboard: nobody needs to log in on loopback; anywhere else, HTTP basic
//! credentials or a bearer token, compared in constant time.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

/// How the dashboard authenticates its users.
#[derive(Clone, Debug, Default)]
pub enum Access {
    /// No login: only safe on a loopback address, or behind a proxy that authenticates.
    #[default]
    Open,
    /// HTTP basic authentication (browsers ask for it) with one user name and password.
    Basic { user: String, password: String },
    /// `Authorization: Bearer TOKEN`, or basic authentication with any user and the token
    /// as the password (so a browser can log in too).
    Token(String),
}

/// Why the dashboard refuses to start with the given address and access.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to serve the dashboard on {0} without authentication: give \
     --dashboard-password (with --dashboard-user) or --dashboard-token, bind to a loopback \
     address, or pass --insecure-no-auth if a proxy in front authenticates users"
)]
pub struct InsecureBind(pub SocketAddr);

impl Access {
    /// Checks that serving on `addr` is safe: without authentication only loopback
    /// addresses are allowed, unless the operator explicitly opted out.
    pub fn check_bind(&self, addr: SocketAddr, insecure_no_auth: bool) -> Result<(), InsecureBind> {
        match self {
            Self::Open if !addr.ip().is_loopback() && !insecure_no_auth => Err(InsecureBind(addr)),
            _ => Ok(()),
        }
    }

    /// Whether the request's `Authorization` header satisfies this access policy.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        match self {
            Self::Open => true,
            Self::Basic { user, password } => given
                .and_then(basic_credentials)
                .is_some_and(|(u, p)| same(&u, user) & same(&p, password)),
            Self::Token(token) => given.is_some_and(|value| {
                if let Some(bearer) = value.strip_prefix("Bearer ") {
                    same(bearer.trim(), token)
                } else {
                    basic_credentials(value).is_some_and(|(_, p)| same(&p, token))
                }
            }),
        }
    }
}

/// Who is acting, for the record (e.g. who acknowledged an alert): the basic
/// authentication user name, "token" for a bearer token, or "dashboard" without a login.
/// Only meaningful behind [`require`], which has checked the credentials.
pub fn user_name(headers: &HeaderMap) -> String {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match given {
        Some(value) if value.starts_with("Bearer ") => "token".to_owned(),
        Some(value) => basic_credentials(value)
            .map(|(user, _)| user)
            .filter(|user| !user.is_empty())
            .map_or_else(
                || "dashboard".to_owned(),
                |user| user.chars().take(64).collect(),
            ),
        None => "dashboard".to_owned(),
    }
}

/// Constant-time equality of two secrets (the length may leak, the content does not).
fn same(given: &str, expected: &str) -> bool {
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The user and password of a `Basic` authorization value.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Middleware: answers 401 with a login challenge unless the request is allowed.
pub async fn require(State(access): State<Access>, request: Request, next: Next) -> Response {
    if access.allows(request.headers()) {
        return next.run(request).await;
    }
    let mut response = (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"tlsrpt\", charset=\"UTF-8\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn basic(user: &str, password: &str) -> String {
        let pair = format!("{user}:{password}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    #[test]
    fn open_access_is_refused_off_loopback() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6_local: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(Access::Open.check_bind(public, false).is_err());
        assert!(Access::Open.check_bind(public, true).is_ok());
        assert!(Access::Open.check_bind(local, false).is_ok());
        assert!(Access::Open.check_bind(v6_local, false).is_ok());
        assert!(Access::Token("t".into()).check_bind(public, false).is_ok());
    }

    #[test]
    fn basic_access_needs_both_user_and_password() {
        let access = Access::Basic {
            user: "admin".into(),
            password: "s3cret".into(),
        };
        assert!(access.allows(&with_auth(&basic("admin", "s3cret"))));
        assert!(!access.allows(&with_auth(&basic("admin", "wrong"))));
        assert!(!access.allows(&with_auth(&basic("root", "s3cret"))));
        assert!(!access.allows(&with_auth("Basic !!!not-base64")));
        assert!(!access.allows(&HeaderMap::new()));
    }

    #[test]
    fn token_access_takes_bearer_or_basic_password() {
        let access = Access::Token("tok-123".into());
        assert!(access.allows(&with_auth("Bearer tok-123")));
        assert!(access.allows(&with_auth(&basic("anyone", "tok-123"))));
        assert!(!access.allows(&with_auth("Bearer tok-1234")));
        assert!(!access.allows(&with_auth("Bearer ")));
        assert!(!access.allows(&HeaderMap::new()));
    }
}
