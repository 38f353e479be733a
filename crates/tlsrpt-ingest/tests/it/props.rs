//! Never-panic properties of `extract`: arbitrary bytes under each `Claim`, and arbitrary
//! bytes wrapped in gzip, zip, base64 and MIME messages of every attachment type.

use std::io::Write;

use base64::Engine;
use proptest::prelude::*;
use proptest::sample::select;
use tlsrpt_ingest::{Claim, Found, Limits, extract};

use crate::{gzip, report_json};

const CLAIMS: [Claim; 3] = [Claim::None, Claim::Operator, Claim::Tlsrpt];

/// Small limits, so that random data reaches every limit check.
fn limits() -> Limits {
    Limits {
        max_input_bytes: 64 << 10,
        max_decompressed_bytes: 16 << 10,
        max_depth: 3,
        max_entries: 4,
        report: tlsrpt_report::Limits {
            max_bytes: 16 << 10,
            max_policies: 4,
            max_failure_details: 8,
            max_string_bytes: 1024,
        },
    }
}

/// Checks the documented contract: never empty, and every report's JSON parses again.
fn extract_all_claims(bytes: &[u8]) -> Result<(), TestCaseError> {
    for claim in CLAIMS {
        let found = extract(bytes, claim, &limits());
        prop_assert!(!found.is_empty());
        for f in &found {
            if let Found::Report { report, json, .. } = f {
                let again = tlsrpt_report::parse(json, &limits().report);
                prop_assert_eq!(again.as_ref().map(|r| &r.report_id), Ok(&report.report_id));
            }
        }
    }
    Ok(())
}

fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[&str] = &[
    "application/tlsrpt+gzip",
    "application/tlsrpt+json",
    "application/tlsrpt",
    "application/tlsrpt+x-gzip",
    "application/octet-stream",
    "application/json",
    "application/zip",
    "application/gzip",
    "text/plain",
    "text/html",
    "message/rfc822",
    "multipart/mixed; boundary=\"inner\"",
];

const TOP_TYPES: &[&str] = &[
    "multipart/report; report-type=\"tlsrpt\"",
    "multipart/report; report-type=tlsrpt",
    "multipart/mixed",
    "multipart/alternative",
];

/// A message whose one attachment holds `data` under `content_type`.
fn mime(top: &str, content_type: &str, base64_encoded: bool, data: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: reporter@example.net\r\nSubject: Report Domain: example.org\r\n\
         MIME-Version: 1.0\r\nContent-Type: {top}; boundary=\"outer\"\r\n\r\n\
         --outer\r\nContent-Type: text/plain\r\n\r\nreport attached\r\n\
         --outer\r\nContent-Type: {content_type}\r\n\
         Content-Disposition: attachment; filename=\"r.bin\"\r\n"
    )
    .into_bytes();
    if base64_encoded {
        m.extend(b"Content-Transfer-Encoding: base64\r\n\r\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        for line in b64.as_bytes().chunks(76) {
            m.extend(line);
            m.extend(b"\r\n");
        }
    } else {
        m.extend(b"\r\n");
        m.extend(data);
        m.extend(b"\r\n");
    }
    m.extend(b"--outer--\r\n");
    m
}

/// Arbitrary bytes, sometimes starting like a known format so that its parser is reached.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let prefix = select(vec![
        &b""[..],
        b"\x1f\x8b\x08\x00",
        b"PK\x03\x04",
        b"{\"report-id\":",
        b"From x\n",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n",
        b"\xEF\xBB\xBF{",
        b"<?xml",
    ]);
    (prefix, prop::collection::vec(any::<u8>(), 0..600)).prop_map(|(p, rest)| [p, &rest].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_bytes_never_panic_under_any_claim(bytes in payload()) {
        extract_all_claims(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_in_gzip_never_panic(bytes in payload(), members in 1usize..3, tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut data = gzip(&bytes).repeat(members);
        data.extend(tail);
        extract_all_claims(&data)?;
        extract_all_claims(&gzip(&data))?;
    }

    #[test]
    fn arbitrary_bytes_in_zip_never_panic(bytes in payload(), name in "[a-z./]{1,12}") {
        extract_all_claims(&zip_of(&name, &bytes))?;
        extract_all_claims(&zip_of("r.json.gz", &gzip(&bytes)))?;
    }

    #[test]
    fn damaged_containers_never_panic(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        zipped in any::<bool>(),
    ) {
        let json = report_json("example.org", "damaged");
        let mut data = if zipped { zip_of("r.json", json.as_bytes()) } else { gzip(json.as_bytes()) };
        for (at, byte) in flips {
            let i = at.index(data.len());
            data[i] = byte;
        }
        data.truncate(cut.index(data.len() + 1).max(4));
        extract_all_claims(&data)?;
    }

    #[test]
    fn arbitrary_bytes_in_mime_messages_never_panic(
        bytes in payload(),
        top in select(TOP_TYPES),
        content_type in select(CONTENT_TYPES),
        base64_encoded in any::<bool>(),
        gzipped in any::<bool>(),
    ) {
        let inner = if gzipped { gzip(&bytes) } else { bytes };
        let message = mime(top, content_type, base64_encoded, &inner);
        extract_all_claims(&message)?;
        // The same message as an attachment of another, and as base64 text.
        extract_all_claims(&mime(TOP_TYPES[0], "message/rfc822", false, &message))?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&message);
        extract_all_claims(b64.as_bytes())?;
    }
}
