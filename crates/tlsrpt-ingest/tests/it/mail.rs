//! Reports carried by mail (RFC 8460 §5.3) and the attachment types seen in the wild
//! (TLSRPT-NOTES §4.12): each is found by content; DMARC and plain mail are not reports.

use base64::Engine;
use tlsrpt_ingest::files::Source;
use tlsrpt_ingest::{Claim, Found, Limits, MessageMeta, extract};

use crate::{gzip, not_report, read_all, rejected, report_ids, report_json};

/// One MIME part of a test message.
struct Part<'a> {
    content_type: &'a str,
    /// The attachment's file name, if it is an attachment.
    name: Option<&'a str>,
    data: &'a [u8],
}

const BOUNDARY: &str = "----=_Part_2891_1715040000";

/// A message with the given top-level `Content-Type` parameters and parts, binary parts
/// in base64 wrapped at 76 columns, as reporters send them.
fn message(headers: &str, multipart: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let mut m = format!(
        "From: noreply-smtp-tls-reporting@google.com\r\n\
         To: tlsrpt@example.org\r\n\
         Date: Tue, 07 May 2024 06:12:45 -0700\r\n\
         Message-ID: <000000000000a1b2c3@google.com>\r\n\
         MIME-Version: 1.0\r\n\
         {headers}\
         Content-Type: {multipart}; boundary=\"{BOUNDARY}\"\r\n\r\n"
    );
    for part in parts {
        m.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Type: {}",
            part.content_type
        ));
        match part.name {
            Some(name) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(part.data);
                m.push_str(&format!(
                    "; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n"
                ));
                for line in b64.as_bytes().chunks(76) {
                    m.push_str(std::str::from_utf8(line).unwrap());
                    m.push_str("\r\n");
                }
            }
            None => {
                m.push_str("; charset=UTF-8\r\n\r\n");
                m.push_str(std::str::from_utf8(part.data).unwrap());
                m.push_str("\r\n");
            }
        }
    }
    m.push_str(&format!("--{BOUNDARY}--\r\n"));
    m.into_bytes()
}

const TLSRPT_HEADERS: &str = "Subject: Report Domain: example.org Submitter: google.com \
     Report-ID: <2024.05.06T00.00.00Z+example.org@google.com>\r\n\
     TLS-Report-Domain: example.org\r\n\
     TLS-Report-Submitter: google.com\r\n";
const REPORT_TYPE: &str = "multipart/report; report-type=\"tlsrpt\"";
const FILENAME: &str = "google.com!example.org!1714953600!1715039999!001.json";

fn body_text() -> Part<'static> {
    Part {
        content_type: "text/plain",
        name: None,
        data: b"This is an aggregate TLS report from google.com",
    }
}

/// `extract` on a standard tlsrpt message whose report part has this type, name and data.
fn tlsrpt_mail_with(content_type: &str, name: &str, data: &[u8]) -> Vec<Found> {
    let mail = message(
        TLSRPT_HEADERS,
        REPORT_TYPE,
        &[
            body_text(),
            Part {
                content_type,
                name: Some(name),
                data,
            },
        ],
    );
    extract(&mail, Claim::Operator, &Limits::default())
}

fn only_report(found: &[Found]) -> (&Option<String>, &tlsrpt_report::Report, &[u8]) {
    match found {
        [
            Found::Report {
                part, report, json, ..
            },
        ] => (part, report, json),
        other => panic!("expected one report, found {other:?}"),
    }
}

#[test]
fn multipart_report_with_tlsrpt_gzip_attachment() {
    let json = report_json("example.org", "2024-05-06T00:00:00Z_example.org");
    let name = format!("{FILENAME}.gz");
    let compressed = gzip(json.as_bytes());
    let found = tlsrpt_mail_with("application/tlsrpt+gzip", &name, &compressed);
    let (part, report, raw) = only_report(&found);
    assert!(
        matches!(&found[0], Found::Report { gzip: Some(g), .. } if *g == compressed),
        "the original gzip stream is kept"
    );
    assert_eq!(part.as_deref(), Some(name.as_str()));
    assert_eq!(report.report_id, "2024-05-06T00:00:00Z_example.org");
    assert_eq!(report.organization_name, "Google Inc.");
    assert_eq!(report.policies[0].policy.policy_domain, "example.org");
    assert_eq!(
        raw,
        json.as_bytes(),
        "the report keeps the exact JSON bytes"
    );
}

#[test]
fn tlsrpt_json_attachment() {
    let json = report_json("example.org", "json-part");
    let found = tlsrpt_mail_with("application/tlsrpt+json", FILENAME, json.as_bytes());
    assert_eq!(report_ids(&found), ["json-part"]);
}

#[test]
fn bare_application_tlsrpt_attachment() {
    // Stalwart's rpt02: "application/tlsrpt" with no suffix.
    let json = report_json("example.org", "bare");
    let found = tlsrpt_mail_with("application/tlsrpt", FILENAME, json.as_bytes());
    assert_eq!(report_ids(&found), ["bare"]);
}

#[test]
fn tlsrpt_x_gzip_attachment() {
    let json = report_json("example.org", "x-gzip");
    let found = tlsrpt_mail_with(
        "application/tlsrpt+x-gzip",
        &format!("{FILENAME}.gz"),
        &gzip(json.as_bytes()),
    );
    assert_eq!(report_ids(&found), ["x-gzip"]);
}

#[test]
fn octet_stream_named_gz_in_an_unmarked_message_is_found_by_content() {
    let json = report_json("example.org", "octet");
    let mail = message(
        "Subject: TLS report\r\n",
        "multipart/mixed",
        &[
            body_text(),
            Part {
                content_type: "application/octet-stream",
                name: Some("report.json.gz"),
                data: &gzip(json.as_bytes()),
            },
        ],
    );
    assert_eq!(
        report_ids(&extract(&mail, Claim::Operator, &Limits::default())),
        ["octet"]
    );
}

#[test]
fn application_json_attachment() {
    let json = report_json("example.org", "app-json");
    let found = tlsrpt_mail_with("application/json", FILENAME, json.as_bytes());
    assert_eq!(report_ids(&found), ["app-json"]);
}

#[test]
fn inline_application_json_part_without_a_name() {
    // A gateway that rewrote the report part as an inline, unnamed JSON body.
    let json = report_json("example.org", "inline-json");
    let mut mail = message(TLSRPT_HEADERS, REPORT_TYPE, &[body_text()]);
    let end = format!("--{BOUNDARY}--\r\n");
    mail.truncate(mail.len() - end.len());
    mail.extend(
        format!("--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{json}\r\n{end}").bytes(),
    );
    assert_eq!(
        report_ids(&extract(&mail, Claim::Operator, &Limits::default())),
        ["inline-json"]
    );
}

#[test]
fn zip_attachment() {
    let json = report_json("example.org", "zipped");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(FILENAME, zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut w, json.as_bytes()).unwrap();
    let archive = w.finish().unwrap().into_inner();
    let found = tlsrpt_mail_with("application/zip", "report.zip", &archive);
    let (part, report, _) = only_report(&found);
    assert_eq!(report.report_id, "zipped");
    assert_eq!(
        part.as_deref(),
        Some(format!("report.zip/{FILENAME}").as_str())
    );
}

const DMARC_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>10293847561029384756</report_id>
    <date_range><begin>1714953600</begin><end>1715039999</end></date_range>
  </report_metadata>
  <policy_published><domain>example.org</domain><p>reject</p></policy_published>
  <record>
    <row><source_ip>198.51.100.7</source_ip><count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.org</header_from></identifiers>
  </record>
</feedback>
"#;

/// A DMARC aggregate report mail: same subject shape as TLS-RPT (TLSRPT-NOTES §3).
fn dmarc_mail(content_type: &str, name: &str, data: &[u8]) -> Vec<u8> {
    message(
        "Subject: Report domain: example.org Submitter: google.com \
         Report-ID: <10293847561029384756>\r\n",
        "multipart/mixed",
        &[
            body_text(),
            Part {
                content_type,
                name: Some(name),
                data,
            },
        ],
    )
}

#[test]
fn dmarc_aggregate_report_mails_are_not_reports() {
    let name = "google.com!example.org!1714953600!1715039999";
    let zipped = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(
            format!("{name}.xml"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut w, DMARC_XML.as_bytes()).unwrap();
        w.finish().unwrap().into_inner()
    };
    for mail in [
        dmarc_mail("application/zip", &format!("{name}.zip"), &zipped),
        dmarc_mail(
            "application/gzip",
            &format!("{name}.xml.gz"),
            &gzip(DMARC_XML.as_bytes()),
        ),
        dmarc_mail("text/xml", &format!("{name}.xml"), DMARC_XML.as_bytes()),
    ] {
        assert_eq!(
            not_report(&extract(&mail, Claim::Operator, &Limits::default())),
            "a mail message without a TLS report attachment"
        );
    }
}

#[test]
fn plain_mail_is_not_a_report() {
    let mail = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: lunch?\r\n\
        Message-ID: <lunch@example.org>\r\n\r\nNoon at the usual place?\r\n";
    assert_eq!(
        not_report(&extract(mail, Claim::Operator, &Limits::default())),
        "a mail message without attachments"
    );
}

#[test]
fn marked_tlsrpt_mail_without_a_readable_report_is_rejected() {
    let json = report_json("example.org", "r1");
    let gz = gzip(json.as_bytes());
    let found = tlsrpt_mail_with(
        "application/tlsrpt+gzip",
        &format!("{FILENAME}.gz"),
        &gz[..gz.len() - 12],
    );
    match found.as_slice() {
        [Found::Rejected { part, reason }] => {
            assert_eq!(part.as_deref(), Some(format!("{FILENAME}.gz").as_str()));
            assert!(
                reason.starts_with("gzip data is truncated or corrupt"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }

    let empty = message(TLSRPT_HEADERS, REPORT_TYPE, &[body_text()]);
    assert_eq!(
        rejected(&extract(&empty, Claim::Operator, &Limits::default())),
        "the message is marked as a TLS report but has no attachment"
    );

    let dmarc_in_tlsrpt = tlsrpt_mail_with("application/xml", "report.xml", DMARC_XML.as_bytes());
    assert_eq!(
        rejected(&dmarc_in_tlsrpt),
        "the message is marked as a TLS report but no attachment holds one: \
         an XML document (a DMARC aggregate report?)"
    );
}

#[test]
fn tls_report_domain_header_alone_marks_the_message() {
    // No report-type and no tlsrpt media type, but the RFC 8460 header: a bad part is a rejection.
    let mail = message(
        "Subject: x\r\nTLS-Report-Domain: example.org\r\n",
        "multipart/mixed",
        &[Part {
            content_type: "application/octet-stream",
            name: Some("report.json"),
            data: br#"{"report-id":"r1","policies":"none"}"#,
        }],
    );
    assert_eq!(
        rejected(&extract(&mail, Claim::Operator, &Limits::default())),
        "policies must be an array, found a string"
    );
}

#[test]
fn report_attachment_with_multi_member_gzip_and_trailing_garbage() {
    let json = report_json("example.org", "mimecast");
    let (a, b) = json.as_bytes().split_at(100);
    let mut data = gzip(a);
    data.extend(gzip(b));
    data.extend(b"\r\n\r\n");
    let found = tlsrpt_mail_with("application/tlsrpt+gzip", &format!("{FILENAME}.gz"), &data);
    assert_eq!(report_ids(&found), ["mimecast"]);
}

#[test]
fn two_report_attachments_in_one_message_are_both_found() {
    let first = gzip(report_json("example.org", "first").as_bytes());
    let second = gzip(report_json("example.net", "second").as_bytes());
    let mail = message(
        TLSRPT_HEADERS,
        REPORT_TYPE,
        &[
            body_text(),
            Part {
                content_type: "application/tlsrpt+gzip",
                name: Some("a.json.gz"),
                data: &first,
            },
            Part {
                content_type: "application/tlsrpt+gzip",
                name: Some("b.json.gz"),
                data: &second,
            },
        ],
    );
    assert_eq!(
        report_ids(&extract(&mail, Claim::Operator, &Limits::default())),
        ["first", "second"]
    );
}

#[test]
fn message_file_read_from_disk_records_its_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.eml");
    let mail = message(
        TLSRPT_HEADERS,
        REPORT_TYPE,
        &[
            body_text(),
            Part {
                content_type: "application/tlsrpt+gzip",
                name: Some("r.json.gz"),
                data: &gzip(report_json("example.org", "on-disk").as_bytes()),
            },
        ],
    );
    std::fs::write(&path, &mail).unwrap();
    let inputs = read_all(&path, &Limits::default());
    assert_eq!(inputs.len(), 1);
    let input = &inputs[0];
    assert_eq!(input.source, Source::File);
    assert_eq!(input.locator, path.display().to_string());
    assert_eq!(
        input.message_id.as_deref(),
        Some("000000000000a1b2c3@google.com")
    );
    assert_eq!(input.size, mail.len() as u64);
    assert_eq!(input.bytes, mail);
    assert_eq!(report_ids(&input.found), ["on-disk"]);

    let meta = MessageMeta::read(&mail);
    assert_eq!(meta.report_domain.as_deref(), Some("example.org"));
    assert_eq!(
        meta.subject.as_deref(),
        Some(
            "Report Domain: example.org Submitter: google.com Report-ID: <2024.05.06T00.00.00Z+example.org@google.com>"
        )
    );
}

#[test]
fn forwarded_report_inside_a_message_rfc822_part_is_found() {
    // A gateway or a colleague forwarded the report mail as an attachment.
    let inner = message(
        TLSRPT_HEADERS,
        REPORT_TYPE,
        &[
            body_text(),
            Part {
                content_type: "application/tlsrpt+gzip",
                name: Some("r.json.gz"),
                data: &gzip(report_json("example.org", "forwarded").as_bytes()),
            },
        ],
    );
    let mut outer =
        b"From: colleague@example.org\r\nTo: tlsrpt@example.org\r\nSubject: Fwd: TLS report\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n\
         --fwd\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
         --fwd\r\nContent-Type: message/rfc822\r\n\r\n"
            .to_vec();
    outer.extend(&inner);
    outer.extend(b"\r\n--fwd--\r\n");
    assert_eq!(
        report_ids(&extract(&outer, Claim::Operator, &Limits::default())),
        ["forwarded"]
    );
}

#[test]
fn gzipped_report_with_a_byte_order_mark() {
    let mut json = b"\xEF\xBB\xBF".to_vec();
    json.extend(report_json("example.org", "bom").as_bytes());
    let found = tlsrpt_mail_with("application/tlsrpt+gzip", "r.json.gz", &gzip(&json));
    let (_, report, raw) = only_report(&found);
    assert_eq!(report.report_id, "bom");
    assert_eq!(report.quirks, vec![tlsrpt_report::Quirk::ByteOrderMark]);
    assert_eq!(raw, json, "the JSON bytes are kept with their BOM");
}
