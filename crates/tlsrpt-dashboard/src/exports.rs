//! Downloads from the dashboard: `/export/readiness.{md,json,csv,html}` for one domain
//! (`?domain=`) or every domain (`?all=1`), and the rejected inputs and the sources pages
//! as `/export/rejected.{…}` and `/export/sources.{…}`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use tlsrpt_readiness::export::{Format, table};

use crate::error::Failure;
use crate::{Dashboard, advisor, text};

/// Which domains to export.
#[derive(Debug, Deserialize)]
pub struct Scope {
    pub domain: Option<String>,
    #[serde(default)]
    pub all: Option<String>,
}

/// `GET /export/{readiness,rejected,sources}.{md,json,csv,html}`.
pub async fn download(
    State(dashboard): State<Dashboard>,
    Path(file): Path<String>,
    Query(scope): Query<Scope>,
) -> Result<Response, Failure> {
    let (what, format) = file
        .split_once('.')
        .and_then(|(what, ext)| Some((what, ext.parse::<Format>().ok()?)))
        .ok_or_else(|| Failure::NotFound(NO_SUCH_EXPORT.into()))?;
    let (body, name) = match what {
        "readiness" => readiness(&dashboard, &scope, format).await?,
        "rejected" => (
            inputs_table(&dashboard, format).await?,
            "rejected".to_owned(),
        ),
        "sources" => (
            sources_table(&dashboard, format).await?,
            "sources".to_owned(),
        ),
        _ => return Err(Failure::NotFound(NO_SUCH_EXPORT.into())),
    };
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
        format!("attachment; filename=\"{name}.{}\"", format.extension())
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

const NO_SUCH_EXPORT: &str =
    "exports are readiness, rejected or sources, as .md, .json, .csv or .html";

/// The readiness of the domain asked for, or of all; and the download's file name.
async fn readiness(
    dashboard: &Dashboard,
    scope: &Scope,
    format: Format,
) -> Result<(String, String), Failure> {
    let now = Utc::now();
    let store = dashboard.store();
    let thresholds = &dashboard.inner.thresholds;
    let (assessments, name) = match (&scope.domain, &scope.all) {
        (Some(domain), _) => (
            vec![advisor::assess(store, domain, now, thresholds, dashboard.inner.trust).await?],
            format!("readiness-{}", safe_file_name(domain)),
        ),
        (None, Some(_)) => (
            advisor::assess_all(store, now, thresholds, dashboard.inner.trust).await?,
            "readiness-all-domains".to_owned(),
        ),
        (None, None) => return Err(Failure::BadRequest("give ?domain=NAME or ?all=1".into())),
    };
    Ok((format.render(&assessments), name))
}

/// The rejected inputs page as a table.
async fn inputs_table(dashboard: &Dashboard, format: Format) -> Result<String, Failure> {
    let rows: Vec<Vec<String>> = dashboard
        .store()
        .unaccepted_inputs(10_000)
        .await?
        .into_iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                text::unix(Some(i.received_at)),
                i.source,
                i.locator,
                i.part.unwrap_or_default(),
                i.outcome,
                i.reason.unwrap_or_default(),
                i.raw_size.map(|s| s.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    Ok(table(
        format,
        "Rejected inputs",
        &[
            "id", "received", "source", "locator", "part", "outcome", "reason", "size",
        ],
        &rows,
    ))
}

/// The sources page as a table: inputs per source, then one row per mailbox.
async fn sources_table(dashboard: &Dashboard, format: Format) -> Result<String, Failure> {
    let store = dashboard.store();
    let mut rows: Vec<Vec<String>> = store
        .source_summary()
        .await?
        .into_iter()
        .map(|s| {
            vec![
                s.source,
                s.stored.to_string(),
                s.duplicate.to_string(),
                s.rejected.to_string(),
                s.not_report.to_string(),
                text::unix(s.last_received_at),
                String::new(),
            ]
        })
        .collect();
    rows.extend(store.mailboxes().await?.into_iter().map(|m| {
        vec![
            format!("imap {}", m.mailbox),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            text::unix(Some(m.updated_at).filter(|t| *t > 0)),
            m.last_error.unwrap_or_default(),
        ]
    }));
    Ok(table(
        format,
        "Ingest sources",
        &[
            "source",
            "stored",
            "duplicates",
            "rejected",
            "not reports",
            "last",
            "last error",
        ],
        &rows,
    ))
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
