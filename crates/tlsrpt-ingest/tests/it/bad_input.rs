//! Broken and hostile inputs through `extract` and `files::read`: each ends in a
//! `Found::Rejected` with a clear reason, never a panic, and within bounded memory.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use flate2::{Compress, Compression, Crc, FlushCompress};
use tlsrpt_ingest::files::{self, Entry};
use tlsrpt_ingest::{Claim, Found, Limits, extract};

use crate::{gzip, read_entry, rejected, report_ids, report_json};

/// A single-member gzip stream of `mib` MiB of zeros. Compressing a GiB in a debug build
/// takes minutes, so one MiB is deflated once, ending in a full flush (byte-aligned, no
/// reference to earlier data), and that block is repeated: a valid deflate stream.
fn zero_bomb(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut block = Vec::with_capacity(64 << 10);
    let mut deflate = Compress::new(Compression::best(), false);
    deflate
        .compress_vec(&zeros, &mut block, FlushCompress::Full)
        .unwrap();
    assert_eq!(
        deflate.total_in(),
        zeros.len() as u64,
        "the block holds the whole MiB"
    );
    let mut last = Vec::with_capacity(64);
    Compress::new(Compression::best(), false)
        .compress_vec(&[], &mut last, FlushCompress::Finish)
        .unwrap();
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&last);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

/// A zip archive of `(name, data)` files, deflated.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn entry(path: PathBuf) -> Entry {
    Entry {
        path,
        in_maildir: false,
    }
}

#[test]
fn truncated_gzip_is_rejected() {
    let data = gzip(report_json("example.org", "r1").as_bytes());
    let cut = &data[..data.len() / 2];
    let found = extract(cut, Claim::Operator, &Limits::default());
    let reason = rejected(&found);
    assert!(
        reason.starts_with("gzip data is truncated or corrupt"),
        "{reason}"
    );

    // The same bytes as a file on disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("google.com!example.org!1714953600!1715039999.json.gz");
    std::fs::write(&path, cut).unwrap();
    let inputs = read_entry(&entry(path), &Limits::default());
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].bytes, cut, "the rejected input keeps its bytes");
    assert!(rejected(&inputs[0].found).starts_with("gzip data is truncated or corrupt"));
}

#[test]
fn zero_bomb_is_a_valid_gzip_stream() {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&zero_bomb(3)[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out.len(), 3 << 20);
    assert!(out.iter().all(|&b| b == 0));
}

#[test]
fn gzip_bomb_of_one_gibibyte_is_rejected_at_the_cap() {
    let bomb = zero_bomb(1024);
    assert!(bomb.len() < 8 << 20, "the bomb is {} bytes", bomb.len());
    let started = Instant::now();
    let found = extract(&bomb, Claim::Operator, &Limits::default());
    assert_eq!(
        rejected(&found),
        "decompressed size exceeds the limit of 20971520 bytes (raise --max-decompressed-size if this report is genuine)"
    );
    // Stopping at the 20 MiB cap takes seconds in a debug build; inflating the whole GiB
    // would take minutes.
    assert!(
        started.elapsed().as_secs() < 120,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn gzip_bomb_made_of_many_members_is_rejected() {
    // 64 members of 1 MiB each: every member is small, their sum is over the cap.
    let member = zero_bomb(1);
    let bomb = member.repeat(64);
    let limits = Limits {
        max_decompressed_bytes: 16 << 20,
        ..Limits::default()
    };
    assert!(
        rejected(&extract(&bomb, Claim::Operator, &limits))
            .starts_with("decompressed size exceeds the limit of 16777216 bytes")
    );
}

#[test]
fn zip_bomb_is_rejected() {
    let zeros = vec![0u8; 4 << 20];
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    // One entry over the cap.
    let one = zip(&[("report.json", &zeros)]);
    assert!(one.len() < 64 << 10);
    assert!(
        rejected(&extract(&one, Claim::Operator, &limits))
            .starts_with("decompressed size exceeds the limit of 1048576 bytes")
    );
    // Many entries each under the cap, over it together.
    let quarter = vec![0u8; 300 << 10];
    let many = zip(&[
        ("a.json", &quarter),
        ("b.json", &quarter),
        ("c.json", &quarter),
        ("d.json", &quarter),
    ]);
    assert!(
        rejected(&extract(&many, Claim::Operator, &limits))
            .starts_with("decompressed size exceeds the limit of 1048576 bytes")
    );
}

#[test]
fn zip_with_too_many_entries_is_rejected() {
    let names: Vec<String> = (0..6).map(|i| format!("r{i}.json")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"{}"[..])).collect();
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    assert_eq!(
        rejected(&extract(&zip(&files), Claim::Operator, &limits)),
        "zip archive has 6 entries, over the limit of 5"
    );
}

#[test]
fn truncated_zip_is_rejected() {
    let data = zip(&[("report.json", report_json("example.org", "r1").as_bytes())]);
    let reason = rejected(&extract(
        &data[..data.len() - 30],
        Claim::Operator,
        &Limits::default(),
    ))
    .to_owned();
    assert!(
        reason.starts_with("zip archive is truncated or corrupt"),
        "{reason}"
    );
}

#[test]
fn containers_nested_too_deep_are_rejected() {
    let mut data = report_json("example.org", "deep").into_bytes();
    for _ in 0..8 {
        data = gzip(&data);
    }
    assert_eq!(
        rejected(&extract(&data, Claim::Operator, &Limits::default())),
        "containers nest deeper than 6 levels"
    );
    // Six levels are allowed.
    let mut data = report_json("example.org", "six").into_bytes();
    for _ in 0..6 {
        data = gzip(&data);
    }
    assert_eq!(
        report_ids(&extract(&data, Claim::Operator, &Limits::default())),
        ["six"]
    );
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = report_json("example.org", "r1").into_bytes();
    let at = bytes.windows(6).position(|w| w == b"Google").unwrap();
    bytes[at + 1] = 0xC0;
    let found = extract(&bytes, Claim::Operator, &Limits::default());
    let reason = rejected(&found);
    assert!(
        reason
            == format!(
                "not valid JSON: the text is not UTF-8 (invalid byte sequence at byte {})",
                at + 1
            ),
        "{reason}"
    );
    // Also when gzipped, as it would arrive by mail.
    let found = extract(&gzip(&bytes), Claim::Tlsrpt, &Limits::default());
    assert!(rejected(&found).contains("the text is not UTF-8"));
}

#[test]
fn json_nested_ten_thousand_deep_is_rejected() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        rejected(&extract(
            deep.as_bytes(),
            Claim::Operator,
            &Limits::default()
        )),
        "not valid JSON: recursion limit exceeded at line 1 column 128"
    );
    let object = format!(
        r#"{{"report-id":"r","policies":[],"x":{}{}}}"#,
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let found = extract(
        &gzip(object.as_bytes()),
        Claim::Operator,
        &Limits::default(),
    );
    assert!(rejected(&found).starts_with("not valid JSON: recursion limit exceeded"));
}

#[test]
fn input_over_max_input_bytes_is_rejected_and_keeps_its_head() {
    let limits = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let mut big = report_json("example.org", "big").into_bytes();
    big.resize(5000, b' ');
    assert_eq!(
        rejected(&extract(&big, Claim::Operator, &limits)),
        "input is 5000 bytes, over the limit of 1000 bytes (--max-input-size)"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, &big).unwrap();
    let inputs = read_entry(&entry(path), &limits);
    assert_eq!(inputs.len(), 1);
    assert_eq!(
        rejected(&inputs[0].found),
        "input is 5000 bytes, over the limit of 1000 bytes (raise --max-input-size if it is genuine)"
    );
    assert_eq!(inputs[0].size, 5000);
    assert_eq!(
        inputs[0].bytes, big,
        "under KEEP_OF_OVERSIZED, all bytes are kept"
    );
}

#[test]
fn oversized_input_keeps_only_its_first_mebibyte() {
    let limits = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let huge = vec![b'{'; files::KEEP_OF_OVERSIZED + 4096];
    std::fs::write(&path, &huge).unwrap();
    let inputs = read_entry(&entry(path), &limits);
    assert_eq!(inputs[0].size, huge.len() as u64);
    assert_eq!(inputs[0].bytes.len(), files::KEEP_OF_OVERSIZED);
    assert!(rejected(&inputs[0].found).contains("over the limit of 1000 bytes"));
}

#[test]
fn negative_and_non_integer_counts_are_rejected() {
    let negative = report_json("example.org", "neg").replace(
        "\"total-failure-session-count\":0",
        "\"total-failure-session-count\":-3",
    );
    assert_eq!(
        rejected(&extract(
            negative.as_bytes(),
            Claim::Operator,
            &Limits::default()
        )),
        "policies[0].summary.total-failure-session-count must be a non-negative integer, found -3"
    );
    let fraction = report_json("example.org", "frac").replace(
        "\"total-successful-session-count\":12",
        "\"total-successful-session-count\":1.5",
    );
    assert_eq!(
        rejected(&extract(
            &gzip(fraction.as_bytes()),
            Claim::Tlsrpt,
            &Limits::default()
        )),
        "policies[0].summary.total-successful-session-count must be a non-negative integer, found 1.5"
    );
}

#[test]
fn report_over_the_report_json_limit_is_rejected() {
    let json = report_json("example.org", "r1");
    let limits = Limits {
        report: tlsrpt_report::Limits {
            max_bytes: 100,
            ..tlsrpt_report::Limits::default()
        },
        ..Limits::default()
    };
    assert_eq!(
        rejected(&extract(json.as_bytes(), Claim::Operator, &limits)),
        format!(
            "report JSON is {} bytes, over the limit of 100 bytes",
            json.len()
        )
    );
}

#[test]
fn dangling_symlink_is_reported_by_plan_and_rejected_by_read() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("gone.json");
    std::os::unix::fs::symlink(dir.path().join("deleted.json"), &link).unwrap();

    let (entries, errors) = files::plan(std::slice::from_ref(&link));
    assert_eq!(entries, vec![]);
    assert_eq!(
        errors,
        vec![(
            link.clone(),
            "No such file or directory (os error 2)".to_owned()
        )]
    );
    // Found while walking the folder, too.
    let (entries, errors) = files::plan(&[dir.path().to_owned()]);
    assert_eq!(entries, vec![]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, link);

    let inputs = read_entry(&entry(link.clone()), &Limits::default());
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].locator, link.display().to_string());
    assert_eq!(
        rejected(&inputs[0].found),
        "cannot open the file: No such file or directory (os error 2)"
    );
}

#[test]
fn symlink_loop_is_reported_by_plan_and_rejected_by_read() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();

    let (entries, errors) = files::plan(&[dir.path().to_owned()]);
    assert_eq!(entries, vec![]);
    assert_eq!(
        errors,
        vec![
            (
                a.clone(),
                "Too many levels of symbolic links (os error 40)".to_owned()
            ),
            (
                b,
                "Too many levels of symbolic links (os error 40)".to_owned()
            ),
        ]
    );
    let inputs = read_entry(&entry(a), &Limits::default());
    assert_eq!(
        rejected(&inputs[0].found),
        "cannot open the file: Too many levels of symbolic links (os error 40)"
    );
}

#[test]
fn directory_read_as_a_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = read_entry(&entry(dir.path().to_owned()), &Limits::default());
    assert_eq!(inputs.len(), 1);
    assert_eq!(
        rejected(&inputs[0].found),
        "cannot read the file: Is a directory (os error 21)"
    );
}

#[test]
fn binary_content_claimed_as_a_report_is_rejected_and_otherwise_not_a_report() {
    let binary = b"\x00\x01\x02PNG\r\n\x1a\n not a report";
    assert_eq!(
        rejected(&extract(binary, Claim::Tlsrpt, &Limits::default())),
        "content is neither JSON, gzip, zip nor mail"
    );
    assert_eq!(
        extract(binary, Claim::Operator, &Limits::default()),
        vec![Found::NotReport {
            reason: "content is neither JSON, gzip, zip nor mail".into()
        }]
    );
}

#[test]
fn json_that_is_not_a_report_is_rejected_only_when_claimed() {
    let other = br#"{"feedback":{"report_metadata":{"org_name":"google.com"}}}"#;
    assert_eq!(
        extract(other, Claim::Operator, &Limits::default()),
        vec![Found::NotReport {
            reason: "a JSON document that is not a TLS report".into()
        }]
    );
    assert_eq!(
        rejected(&extract(other, Claim::Tlsrpt, &Limits::default())),
        "not a TLS report: report-id is missing"
    );
    // A file that looks like a report but lacks report-id is a rejection, not "other JSON".
    let no_id = report_json("example.org", "x").replace(r#""report-id":"x","#, "");
    assert_eq!(
        rejected(&extract(
            no_id.as_bytes(),
            Claim::Operator,
            &Limits::default()
        )),
        "not a TLS report: report-id is missing"
    );
}

#[test]
fn multi_member_gzip_yields_the_concatenated_report() {
    let json = report_json("example.org", "multi");
    let (head, tail) = json.as_bytes().split_at(json.len() / 2);
    let mut data = gzip(head);
    data.extend(gzip(tail));
    assert_eq!(
        report_ids(&extract(&data, Claim::Operator, &Limits::default())),
        ["multi"]
    );
}

#[test]
fn gzip_with_trailing_garbage_is_read() {
    // Mimecast appends bytes after the gzip data (TLSRPT-NOTES §4.13).
    let mut data = gzip(report_json("example.org", "trailing").as_bytes());
    data.extend(b"\r\n\r\n--==boundary-residue==--\r\n\0\0\0");
    assert_eq!(
        report_ids(&extract(&data, Claim::Tlsrpt, &Limits::default())),
        ["trailing"]
    );
}
