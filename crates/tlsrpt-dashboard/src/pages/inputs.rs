//! The inputs pages: what was rejected (and why), and what each ingest source delivered.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::Utc;

use crate::error::Failure;
use crate::{Dashboard, text};

#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub id: i64,
    pub received: String,
    pub source: String,
    pub locator: String,
    pub part: Option<String>,
    pub reason: String,
    pub size: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "rejected.html")]
pub struct RejectedPage {
    rows: Vec<RejectedRow>,
}

/// `GET /rejected`: the inputs that were not stored as reports, and why.
pub async fn rejected(State(dashboard): State<Dashboard>) -> Result<RejectedPage, Failure> {
    let rows = dashboard
        .store()
        .unaccepted_inputs(500)
        .await?
        .into_iter()
        .map(|i| RejectedRow {
            id: i.id,
            received: text::unix(Some(i.received_at)),
            source: i.source,
            locator: i.locator,
            part: i.part,
            reason: format!("{}: {}", i.outcome, i.reason.unwrap_or_default()),
            size: i.raw_size.map_or_else(|| "—".into(), |s| s.to_string()),
        })
        .collect();
    Ok(RejectedPage { rows })
}

#[derive(Debug, Clone)]
pub struct SourceView {
    pub source: String,
    pub stored: i64,
    pub duplicate: i64,
    pub rejected: i64,
    pub not_report: i64,
    pub last: String,
}

#[derive(Debug, Clone)]
pub struct MailboxView {
    pub mailbox: String,
    pub last_sync: String,
    pub state: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sources.html")]
pub struct SourcesPage {
    sources: Vec<SourceView>,
    mailboxes: Vec<MailboxView>,
}

/// `GET /sources`: what each ingest source delivered, and each mailbox's sync health.
pub async fn sources(State(dashboard): State<Dashboard>) -> Result<SourcesPage, Failure> {
    let store = dashboard.store();
    let now = Utc::now();
    let sources = store
        .source_summary()
        .await?
        .into_iter()
        .map(|s| SourceView {
            last: text::unix(s.last_received_at),
            source: s.source,
            stored: s.stored,
            duplicate: s.duplicate,
            rejected: s.rejected,
            not_report: s.not_report,
        })
        .collect();
    let mailboxes = store
        .mailboxes()
        .await?
        .into_iter()
        .map(|m| {
            let synced =
                chrono::DateTime::from_timestamp(m.updated_at, 0).filter(|_| m.updated_at > 0);
            MailboxView {
                last_sync: synced.map_or_else(
                    || "never".into(),
                    |t| format!("{} ({})", text::time(t), text::age(t, now)),
                ),
                state: match (&m.last_error, m.last_error_at) {
                    (Some(e), at) => format!("error {}: {e}", text::unix(at)),
                    (None, _) => {
                        format!("ok, UID {} of UIDVALIDITY {}", m.last_uid, m.uid_validity)
                    }
                },
                mailbox: m.mailbox,
            }
        })
        .collect();
    Ok(SourcesPage { sources, mailboxes })
}
