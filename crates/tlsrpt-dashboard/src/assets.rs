//! The dashboard's static files (stylesheet, script, OpenAPI document), embedded in the
//! binary from `web/static/` so the dashboard works offline with no CDN.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// (name, content type, bytes) of every embedded file.
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../../web/static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/app.js"),
    ),
    (
        "openapi.json",
        "application/json",
        include_str!("../../../web/static/openapi.json"),
    ),
];

/// The embedded file called `name`, if any.
pub fn file(name: &str) -> Option<(&'static str, &'static str)> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, content_type, body)| (content_type, body))
}

/// `GET /static/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match file(&name) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
