//! Any plain table (a title, column names, rows of text) in the same four formats as the
//! readiness exports, with the same protections: Markdown escaped, CSV cells neutralised,
//! HTML escaped. The dashboard's other pages (rejected inputs, sources) export with it.

use super::Format;
use super::csv::cell;
use super::html::esc;
use super::markdown::text;

/// Renders `rows` under `columns` as `format`. JSON is an array of objects keyed by the
/// column names.
pub fn table(format: Format, title: &str, columns: &[&str], rows: &[Vec<String>]) -> String {
    match format {
        Format::Markdown => {
            let mut out = format!("# {}\n\n", text(title));
            out.push_str(&format!(
                "| {} |\n",
                columns
                    .iter()
                    .map(|c| text(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
            out.push_str(&format!("|{}\n", "---|".repeat(columns.len())));
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| text(c)).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            out
        }
        Format::Csv => {
            let mut out = String::new();
            for line in std::iter::once(columns.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>())
                .chain(rows.iter().cloned())
            {
                out.push_str(&line.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            out
        }
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| ((*c).to_owned(), serde_json::Value::from(v.as_str())))
                        .collect()
                })
                .collect();
            serde_json::Value::from(objects).to_string()
        }
        Format::Html => {
            let mut out = format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
                 <style>body{{font:14px sans-serif;margin:2em}}table{{border-collapse:collapse}}\
                 th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}</style></head>\
                 <body><h1>{0}</h1><table><thead><tr>",
                esc(title)
            );
            for c in columns {
                out.push_str(&format!("<th>{}</th>", esc(c)));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for c in row {
                    out.push_str(&format!("<td>{}</td>", esc(c)));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table></body></html>\n");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile() -> Vec<Vec<String>> {
        vec![vec![
            "=HYPERLINK(\"x\")".into(),
            "<script>alert(1)</script> | *x*".into(),
        ]]
    }

    #[test]
    fn every_format_keeps_hostile_text_inert() {
        let columns = ["reason", "where"];
        let csv = table(Format::Csv, "Rejected", &columns, &hostile());
        assert!(csv.starts_with("reason,where\r\n"));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        let html = table(Format::Html, "Rejected", &columns, &hostile());
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        let md = table(Format::Markdown, "Rejected", &columns, &hostile());
        assert!(md.contains("\\<script\\>") && md.contains("\\|"), "{md}");
        let json: serde_json::Value =
            serde_json::from_str(&table(Format::Json, "Rejected", &columns, &hostile())).unwrap();
        assert_eq!(json[0]["reason"], "=HYPERLINK(\"x\")");
    }
}
