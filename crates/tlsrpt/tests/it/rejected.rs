//! Rejected inputs: listed on stderr as `rejected: PATH[ [PART]]: REASON`, kept in the
//! database, listed by `tlsrpt rejected`, and written back byte for byte by `--raw`.

use std::ffi::OsStr;

use crate::support::{
    Backend, Sandbox, Summary, edit, find_rejection, gzip, on_both_backends, report_mail,
    simple_report, zip,
};

on_both_backends!(
    rejections_are_printed_listed_and_kept_byte_for_byte,
    raw_of_an_unknown_id_is_an_error,
    raw_goes_to_stdout_when_piped,
    nothing_rejected_lists_nothing,
    a_rejection_inside_an_mbox_names_the_message_and_the_attachment,
);

/// A report with a fractional count: the reason must name the key at fault.
fn fractional_report(id: &str) -> Vec<u8> {
    edit(
        &simple_report("Reporter", id, "example.com", 7),
        "\"total-successful-session-count\": 7",
        "\"total-successful-session-count\": 7.5",
    )
}

fn rejections_are_printed_listed_and_kept_byte_for_byte(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let bad_file = sandbox.write("bad.json", &fractional_report("bad-1"));
    let good_entry = simple_report("Reporter", "zip-good", "zip.example", 4);
    let bad_entry = fractional_report("zip-bad");
    let archive = sandbox.write(
        "reports.zip",
        &zip(&[("good.json", &good_entry), ("bad.json", &bad_entry)]),
    );
    let good_file = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 1),
    );

    let (run, summary) = sandbox.ingest_json(&[&bad_file, &archive, &good_file]);
    assert_eq!(summary, Summary::new(2, 0, 2, 0));
    assert_eq!(run.code, 2);

    let list = sandbox.rejected();
    assert_eq!(list.len(), 2, "{list:#?}");
    let file_rejection = find_rejection(&list, &bad_file, None);
    let zip_rejection = find_rejection(&list, &archive, Some("bad.json"));
    for r in [file_rejection, zip_rejection] {
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.contains("total-successful-session-count") && reason.contains("7.5"),
            "the reason names the key and the value: {reason}"
        );
        assert_eq!(r["source"], "file");
        assert_eq!(r["raw_complete"], true);
    }

    // stderr lists each rejection once, in the documented form, with the stored reason.
    let mut lines = run.rejected_lines();
    lines.sort();
    let mut expected = vec![
        format!(
            "rejected: {}: {}",
            bad_file.display(),
            file_rejection["reason"].as_str().unwrap()
        ),
        format!(
            "rejected: {} [bad.json]: {}",
            archive.display(),
            zip_rejection["reason"].as_str().unwrap()
        ),
    ];
    expected.sort();
    assert_eq!(lines, expected, "stderr: {}", run.stderr());

    // The kept bytes are the input's own bytes: the file, and the whole archive.
    for (r, path) in [(file_rejection, &bad_file), (zip_rejection, &archive)] {
        let original = std::fs::read(path).unwrap();
        assert_eq!(r["raw_size"], original.len() as u64);
        let kept = sandbox.raw(r["id"].as_i64().unwrap());
        assert!(kept == original, "kept bytes of {} differ", path.display());
    }

    // The text listing shows the same.
    let text = sandbox.run(["rejected"]);
    assert_eq!(text.code, 0);
    let stdout = text.stdout();
    assert!(stdout.contains(&bad_file.display().to_string()), "{stdout}");
    assert!(
        stdout.contains(&format!("{} [bad.json]", archive.display())),
        "{stdout}"
    );
}

fn raw_of_an_unknown_id_is_an_error(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let out = sandbox.path("out.bin");
    let run = sandbox.run([
        OsStr::new("rejected"),
        OsStr::new("--raw"),
        OsStr::new("424242"),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr());
    assert!(run.stderr().contains("424242"), "{}", run.stderr());
    assert!(!out.exists());
}

fn raw_goes_to_stdout_when_piped(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let bad = sandbox.write("bad.json", &fractional_report("bad-2"));
    let (run, _) = sandbox.ingest_json(&[&bad]);
    assert_eq!(run.code, 2);
    let id = sandbox.rejected()[0]["id"].as_i64().unwrap();
    let raw = sandbox.run(["rejected", "--raw", &id.to_string()]);
    assert_eq!(raw.code, 0, "{}", raw.stderr());
    assert!(raw.stdout == std::fs::read(&bad).unwrap());
}

fn nothing_rejected_lists_nothing(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let good = sandbox.write(
        "good.json",
        &simple_report("Reporter", "g", "example.com", 1),
    );
    let (run, _) = sandbox.ingest_json(&[&good]);
    assert_eq!(run.code, 0);
    assert!(sandbox.rejected().is_empty());
    assert_eq!(sandbox.run(["rejected"]).stdout(), "no rejected inputs\n");
}

fn a_rejection_inside_an_mbox_names_the_message_and_the_attachment(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let good = report_mail(
        &gzip(&simple_report("Reporter", "m-1", "example.com", 1)),
        "good.json.gz",
    );
    let bad = edit(
        &report_mail(&gzip(&fractional_report("m-2")), "bad.json.gz"),
        "<cli-test@reporter.example>",
        "<second@reporter.example>",
    );
    let mut mbox = Vec::new();
    for message in [&good, &bad] {
        mbox.extend_from_slice(b"From tlsrpt@reporter.example Sun Mar  1 12:00:00 2026\n");
        mbox.extend_from_slice(message);
        mbox.extend_from_slice(b"\n");
    }
    let path = sandbox.write("reports.mbox", &mbox);

    let (run, summary) = sandbox.ingest_json(&[&path]);
    assert_eq!(summary, Summary::new(1, 0, 1, 0));
    let list = sandbox.rejected();
    let locator = std::path::PathBuf::from(format!("{}#2", path.display()));
    let r = find_rejection(&list, &locator, Some("bad.json.gz"));
    assert_eq!(r["source"], "mbox");
    assert_eq!(r["message_id"], "second@reporter.example");
    assert_eq!(
        run.rejected_lines(),
        [format!(
            "rejected: {}#2 [bad.json.gz]: {}",
            path.display(),
            r["reason"].as_str().unwrap()
        )]
    );
    // The message is kept, not the whole archive.
    let kept = sandbox.raw(r["id"].as_i64().unwrap());
    assert_eq!(
        String::from_utf8(kept).unwrap().trim_end(),
        String::from_utf8(bad).unwrap().trim_end()
    );
}
