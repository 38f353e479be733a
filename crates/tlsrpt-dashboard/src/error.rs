//! How the dashboard answers when something fails: a plain page or JSON with the reason,
//! never a panic and never a stack trace.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tlsrpt_store::StoreError;

/// A failed request, with the status it answers.
#[derive(Debug)]
pub enum Failure {
    NotFound(String),
    BadRequest(String),
    Forbidden(String),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Failure {
    fn parts(&self) -> (StatusCode, String) {
        match self {
            Self::NotFound(what) => (StatusCode::NOT_FOUND, what.clone()),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, why.clone()),
            Self::Forbidden(why) => (StatusCode::FORBIDDEN, why.clone()),
            Self::Store(e) => {
                tracing::error!("dashboard: {e}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; see the server log".into(),
                )
            }
        }
    }

    /// The same failure as a JSON body `{"error": …}`.
    pub fn json(self) -> Response {
        let (status, message) = self.parts();
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = self.parts();
        (status, format!("{message}\n")).into_response()
    }
}
