//! Hostile inputs (issue #8) that `bad_input` does not cover: bombs of bombs, MIME nested
//! a thousand deep, ten thousand attachments and NUL bytes in headers. Each ends in a
//! bounded rejection with its reason, never a panic.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tlsrpt_ingest::{Claim, Found, Limits, MessageMeta, extract};

use crate::{gzip, report_ids, report_json};

/// A deflated zip archive of `(name, data)` files.
fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `n` copies of `data` named `prefix0`, `prefix1`, …
fn copies(prefix: &str, n: usize, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| (format!("{prefix}{i}"), data.to_vec()))
        .collect()
}

fn fast_gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Limits with an 8 MiB decompression budget.
fn eight_mib() -> Limits {
    Limits {
        max_decompressed_bytes: 8 << 20,
        ..Limits::default()
    }
}

/// The rejection reasons in `found`.
fn rejections(found: &[Found]) -> Vec<&str> {
    found
        .iter()
        .filter_map(|f| match f {
            Found::Rejected { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

const OVER_EIGHT_MIB: &str = "decompressed size exceeds the limit of 8388608 bytes \
                              (raise --max-decompressed-size if this report is genuine)";

#[test]
fn zip_of_gzip_bombs_each_under_the_cap_is_rejected_by_the_budget_of_the_input() {
    // 64 entries of 1 MiB each: every one is under the cap, together 8 times over it.
    let bomb = fast_gzip(&vec![0u8; 1 << 20]);
    let archive = zip(&copies("r", 64, &bomb).into_iter().collect::<Vec<_>>());
    assert!(archive.len() < 256 << 10, "{} bytes", archive.len());
    let found = extract(&archive, Claim::Operator, &eight_mib());
    assert_eq!(rejections(&found), [OVER_EIGHT_MIB]);
    assert!(found.len() <= 9, "{} results", found.len());
}

#[test]
fn nested_zip_bomb_is_rejected_by_the_budget_of_the_input() {
    // 42.zip in miniature: 8 zips of 8 gzip bombs of 1 MiB, 64 MiB in all.
    let bomb = fast_gzip(&vec![0u8; 1 << 20]);
    let inner = zip(&copies("b", 8, &bomb));
    let outer = zip(&copies("z", 8, &inner));
    let found = extract(&outer, Claim::Operator, &eight_mib());
    assert_eq!(rejections(&found), [OVER_EIGHT_MIB]);
}

#[test]
fn nested_high_ratio_gzip_is_rejected() {
    // gzip of gzip of gzip: 32 MiB of zeros in a few hundred bytes.
    let mut data = vec![0u8; 32 << 20];
    for _ in 0..3 {
        data = gzip(&data);
    }
    assert!(data.len() < 4096, "{} bytes", data.len());
    assert_eq!(
        rejections(&extract(&data, Claim::Operator, &eight_mib())),
        [OVER_EIGHT_MIB]
    );
}

/// A mail marked as a TLS report, with `body` after its header.
fn marked_mail(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "From: reporter@example.net\r\nTo: tlsrpt@example.org\r\nSubject: Report\r\n\
         TLS-Report-Domain: example.org\r\nMIME-Version: 1.0\r\n\
         Content-Type: {content_type}\r\n\r\n{body}"
    )
    .into_bytes()
}

/// A base64 `application/tlsrpt+gzip` attachment holding a valid report.
fn report_part(report_id: &str) -> String {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .encode(gzip(report_json("example.org", report_id).as_bytes()));
    format!(
        "Content-Type: application/tlsrpt+gzip; name=\"r.json.gz\"\r\n\
         Content-Disposition: attachment; filename=\"r.json.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{data}\r\n"
    )
}

#[test]
fn messages_nested_a_thousand_deep_are_rejected() {
    let mut body = format!(
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n{}--b--\r\n",
        report_part("deep")
    );
    for _ in 0..1000 {
        body = format!("Content-Type: message/rfc822\r\n\r\nSubject: fwd\r\n{body}");
    }
    let found = extract(
        &marked_mail(
            "multipart/mixed; boundary=\"top\"",
            &format!("--top\r\n{body}--top--\r\n"),
        ),
        Claim::Tlsrpt,
        &Limits::default(),
    );
    assert_eq!(report_ids(&found), Vec::<String>::new());
    assert_eq!(rejections(&found), ["containers nest deeper than 6 levels"]);
}

#[test]
fn multiparts_nested_a_thousand_deep_are_rejected() {
    let mut body = report_part("deep");
    for i in 0..1000 {
        body = format!(
            "Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n{body}--n{i}--\r\n"
        );
    }
    let found = extract(
        &marked_mail(
            "multipart/mixed; boundary=\"top\"",
            &format!("--top\r\n{body}--top--\r\n"),
        ),
        Claim::Tlsrpt,
        &Limits::default(),
    );
    assert_eq!(report_ids(&found), Vec::<String>::new());
    assert_eq!(rejections(&found), ["MIME parts nest deeper than 6 levels"]);
}

#[test]
fn ten_thousand_attachments_are_rejected() {
    let mut body = String::new();
    for i in 0..10_000 {
        body.push_str(&format!(
            "--b\r\nContent-Type: text/plain; name=\"a{i}.txt\"\r\n\
             Content-Disposition: attachment; filename=\"a{i}.txt\"\r\n\r\nx\r\n"
        ));
    }
    body.push_str("--b--\r\n");
    let found = extract(
        &marked_mail("multipart/mixed; boundary=\"b\"", &body),
        Claim::Tlsrpt,
        &Limits::default(),
    );
    assert_eq!(
        rejections(&found),
        ["the message has 10000 attachments, over the limit of 1000"]
    );
}

#[test]
fn nul_bytes_in_headers_are_dropped_from_the_recorded_header_facts() {
    let mut mail = marked_mail(
        "multipart/report; report-type=tlsrpt; boundary=\"b\"",
        &format!("--b\r\n{}--b--\r\n", report_part("nul")),
    );
    // NUL bytes inside the Subject, Message-ID and TLS-Report-Domain values.
    let header = b"Subject: Re\0port\r\nMessage-ID: <a\0b@example.net>\r\n\
                   TLS-Report-Domain: exa\0mple.org\r\n";
    mail.splice(0..0, header.iter().copied());
    let meta = MessageMeta::read(&mail);
    for text in [&meta.subject, &meta.message_id, &meta.report_domain] {
        let text = text.as_deref().unwrap_or_default();
        assert!(!text.contains('\0'), "{text:?}");
    }
    assert_eq!(meta.subject.as_deref(), Some("Report"));
    // The report itself is still found.
    assert_eq!(
        report_ids(&extract(&mail, Claim::Tlsrpt, &Limits::default())),
        ["nul"]
    );
}
