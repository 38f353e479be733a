//! Exports of one domain's assessment or many (READINESS.md "Exports"): Markdown for a
//! ticket or an email, JSON for automation, CSV for a portfolio spreadsheet, and a
//! printable standalone HTML page.
//!
//! Report text is attacker-controlled (organisation names, failure reason codes, policy
//! strings): Markdown escapes it, CSV neutralises formula cells, HTML escapes every string.

use std::fmt;
use std::str::FromStr;

use crate::assessment::Assessment;

mod csv;
mod html;
mod markdown;
mod table;

pub use csv::{CSV_COLUMNS, to_csv};
pub use html::to_html;
pub use markdown::to_markdown;
pub use table::table;

/// A JSON array of the assessments, pretty-printed; the shape of each element is the
/// stable interface described on [`Assessment`]. For one domain's bare object (the
/// `tlsrpt readiness DOMAIN --json` interface), serialize the [`Assessment`] itself.
pub fn to_json(assessments: &[Assessment]) -> String {
    // Every key is a string and every value a plain number, string or list: serializing
    // cannot fail.
    serde_json::to_string_pretty(assessments).expect("assessments serialize to JSON")
}

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown (`md`).
    Markdown,
    /// JSON (`json`).
    Json,
    /// CSV (`csv`).
    Csv,
    /// HTML (`html`).
    Html,
}

impl Format {
    /// Renders the assessments.
    pub fn render(self, assessments: &[Assessment]) -> String {
        match self {
            Self::Markdown => to_markdown(assessments),
            Self::Json => to_json(assessments),
            Self::Csv => to_csv(assessments),
            Self::Html => to_html(assessments),
        }
    }

    /// The file extension, which is also the name [`FromStr`] accepts.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// The media type to serve the export with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// The name is not one of `md`, `json`, `csv`, `html`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown export format `{}`: use md, json, csv or html",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            "html" => Ok(Self::Html),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}
