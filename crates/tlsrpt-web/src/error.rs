//! The one error type of the HTTP edge: each variant has its status code, and the client
//! gets a JSON `{"error": …}` that never carries an internal error string.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::rate_limit::{LimitKind, Refusal};

/// Why a request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not a TLS report; the reason is safe to show.
    #[error("{0}")]
    NotAReport(String),
    /// The media type is not one RFC 8460 §3 defines.
    #[error("unsupported media type {0:?}: use application/tlsrpt+gzip or application/tlsrpt+json")]
    UnsupportedMediaType(String),
    /// Tokens are configured and the request has none, or a wrong one.
    #[error("a valid report token is required in the URL: /tlsrpt/TOKEN")]
    Unauthorized,
    /// The token is valid for another domain than the report's.
    #[error("this token may only report on {allowed}, not on {found}")]
    WrongDomain { allowed: String, found: String },
    /// The database cannot take the report now; the sender should retry.
    #[error("the report could not be stored right now; retry later")]
    Unavailable,
    /// A rate limit refused the request before its body was read.
    #[error("{}; retry in {} s", match .0.by {
        LimitKind::Address => "too many requests from this address",
        LimitKind::Token => "too many reports for this token",
    }, .0.retry_after)]
    RateLimited(Refusal),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotAReport(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized | Self::WrongDomain { .. } => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        let retry_after = match &self {
            Self::Unavailable => Some(60),
            Self::RateLimited(refusal) => Some(refusal.retry_after),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
