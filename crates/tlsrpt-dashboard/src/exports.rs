//! Readiness exports from the dashboard: `/export/readiness.{md,json,csv,html}` for one
//! domain (`?domain=`) or every domain (`?all=1`), as downloads.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_readiness::export::Format;

use crate::error::Failure;
use crate::{Dashboard, advisor};

/// Which domains to export.
#[derive(Debug, Deserialize)]
pub struct Scope {
    pub domain: Option<String>,
    #[serde(default)]
    pub all: Option<String>,
}

/// `GET /export/readiness.{ext}`.
pub async fn download(
    State(dashboard): State<Dashboard>,
    Path(file): Path<String>,
    Query(scope): Query<Scope>,
) -> Result<Response, Failure> {
    let format: Format = file
        .strip_prefix("readiness.")
        .and_then(|ext| ext.parse().ok())
        .ok_or_else(|| {
            Failure::NotFound("exports are readiness.md, .json, .csv or .html".into())
        })?;
    let now = Utc::now();
    let store = dashboard.store();
    let thresholds = &dashboard.inner.thresholds;
    let (assessments, name) = match (&scope.domain, &scope.all) {
        (Some(domain), _) => (
            vec![advisor::assess(store, domain, now, thresholds, dashboard.inner.trust).await?],
            safe_file_name(domain),
        ),
        (None, Some(_)) => (
            advisor::assess_all(store, now, thresholds, dashboard.inner.trust).await?,
            "all-domains".to_owned(),
        ),
        (None, None) => return Err(Failure::BadRequest("give ?domain=NAME or ?all=1".into())),
    };
    let body = format.render(&assessments);
    let content_type = match format {
        Format::Markdown => "text/markdown; charset=utf-8",
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Html => "text/html; charset=utf-8",
    };
    // The printable HTML opens in the browser; the others download.
    let disposition = if format == Format::Html {
        "inline".to_owned()
    } else {
        format!(
            "attachment; filename=\"readiness-{name}.{}\"",
            format.extension()
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CONTENT_SECURITY_POLICY,
                crate::headers::EXPORT_CONTENT_SECURITY_POLICY.to_owned(),
            ),
        ],
        body,
    )
        .into_response())
}

/// Letters, digits, dots and dashes only, for a download's file name.
fn safe_file_name(domain: &str) -> String {
    domain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}
