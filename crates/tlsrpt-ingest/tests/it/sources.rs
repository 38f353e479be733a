//! Local sources: mbox archives split into one input per message (`path#N`, mboxrd `>From `
//! unquoted), Maildir folders (cur/ and new/ read, tmp/ and index files skipped), and
//! directory walks in a stable order.

use std::fs;
use std::path::Path;

use tlsrpt_ingest::files::{self, Entry, Source};
use tlsrpt_ingest::{Found, Limits};

use crate::{gzip, read_all, report_ids, report_json};

/// A TLS-RPT mail (LF line ends, as stored in mbox and Maildir) carrying `report_id`.
fn tlsrpt_mail(message_id: &str, report_id: &str) -> String {
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(gzip(report_json("example.org", report_id).as_bytes()))
    };
    let wrapped: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: noreply-smtp-tls-reporting@google.com\n\
         Subject: Report Domain: example.org Submitter: google.com Report-ID: <{report_id}>\n\
         Message-ID: <{message_id}>\n\
         TLS-Report-Domain: example.org\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b\"\n\
         \n\
         --b\n\
         Content-Type: text/plain\n\
         \n\
         This is an aggregate TLS report from google.com\n\
         --b\n\
         Content-Type: application/tlsrpt+gzip\n\
         Content-Disposition: attachment; filename=\"r.json.gz\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\n\
         --b--\n",
        wrapped.join("\n")
    )
}

/// A plain mail whose body quotes a line starting with "From " the mboxrd way.
const PLAIN_QUOTED: &str = "From: alice@example.org\n\
    To: postmaster@example.org\n\
    Subject: about the reports\n\
    Message-ID: <plain@example.org>\n\
    \n\
    Hello,\n\
    \n\
    >From now on the TLS reports go to tlsrpt@example.org.\n\
    >>From here too.\n\
    \n";

fn mbox() -> String {
    format!(
        "From noreply-smtp-tls-reporting@google.com Tue May  7 06:12:45 2024\n{}\n\
         From alice@example.org Tue May  7 07:00:00 2024\n{PLAIN_QUOTED}\n\
         From MAILER-DAEMON Wed May  8 06:12:45 2024\n{}",
        tlsrpt_mail("m1@google.com", "first"),
        tlsrpt_mail("m3@google.com", "third"),
    )
}

#[test]
fn mbox_yields_one_input_per_message_with_its_locator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tlsrpt.mbox");
    fs::write(&path, mbox()).unwrap();
    let inputs = read_all(&path, &Limits::default());
    let p = path.display();
    assert_eq!(
        inputs
            .iter()
            .map(|i| (i.source, i.locator.clone(), i.message_id.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                Source::Mbox,
                format!("{p}#1"),
                Some("m1@google.com".to_owned())
            ),
            (
                Source::Mbox,
                format!("{p}#2"),
                Some("plain@example.org".to_owned())
            ),
            (
                Source::Mbox,
                format!("{p}#3"),
                Some("m3@google.com".to_owned())
            ),
        ]
    );
    assert_eq!(report_ids(&inputs[0].found), ["first"]);
    assert_eq!(
        inputs[1].found,
        vec![Found::NotReport {
            reason: "a mail message without attachments".into()
        }]
    );
    assert_eq!(report_ids(&inputs[2].found), ["third"]);
}

#[test]
fn mbox_messages_lose_their_separator_and_from_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive");
    fs::write(&path, mbox()).unwrap();
    let inputs = read_all(&path, &Limits::default());
    // The separator line is not part of the message; the blank line before the next one is.
    assert_eq!(
        inputs[1].bytes,
        format!("{PLAIN_QUOTED}\n")
            .replace(">From now", "From now")
            .replace(">>From here", ">From here")
            .into_bytes()
    );
    assert_eq!(inputs[1].size, inputs[1].bytes.len() as u64);
    assert_eq!(
        inputs[0].bytes,
        format!("{}\n", tlsrpt_mail("m1@google.com", "first")).into_bytes()
    );
}

#[test]
fn mbox_message_over_the_input_limit_is_rejected_alone() {
    let big_id = "x".repeat(3000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.mbox");
    let small = tlsrpt_mail("small@google.com", "small");
    let big = tlsrpt_mail("big@google.com", &big_id);
    fs::write(
        &path,
        format!("From a Tue May  7 06:12:45 2024\n{big}\nFrom b Tue May  7 06:12:45 2024\n{small}"),
    )
    .unwrap();
    let limits = Limits {
        max_input_bytes: big.len() - 1,
        ..Limits::default()
    };
    assert!(small.len() < limits.max_input_bytes);
    let inputs = read_all(&path, &limits);
    assert_eq!(inputs.len(), 2);
    match inputs[0].found.as_slice() {
        [Found::Rejected { reason, .. }] => {
            assert!(reason.contains("over the limit"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report_ids(&inputs[1].found), ["small"]);
}

/// Lays out a Maildir at `root` with messages in cur/, new/ and tmp/, index files of
/// Dovecot and Courier, and a Maildir++ subfolder.
fn maildir(root: &Path) {
    for sub in [
        "cur",
        "new",
        "tmp",
        ".Reports/cur",
        ".Reports/new",
        ".Reports/tmp",
    ] {
        fs::create_dir_all(root.join(sub)).unwrap();
    }
    let put = |name: &str, content: &str| fs::write(root.join(name), content).unwrap();
    put(
        "cur/1715040000.M1P100.mx1:2,S",
        &tlsrpt_mail("c1@google.com", "in-cur"),
    );
    put("new/1715040100.M2P100.mx1", PLAIN_QUOTED);
    // A delivery agent that kept the mbox separator line: still one message.
    put(
        "new/1715040200.M3P100.mx1",
        &format!(
            "From noreply Tue May  7 06:12:45 2024\n{}",
            tlsrpt_mail("n2@google.com", "in-new")
        ),
    );
    put(
        "tmp/1715040300.M4P100.mx1",
        &tlsrpt_mail("t@google.com", "unfinished"),
    );
    put(
        ".Reports/cur/1715040400.M5P100.mx1:2,",
        &tlsrpt_mail("r@google.com", "subfolder"),
    );
    put(".Reports/maildirfolder", "");
    for index in [
        "dovecot-uidlist",
        "dovecot-uidvalidity",
        "dovecot.index",
        "dovecot.index.cache",
        "dovecot.index.log",
        "dovecot-keywords",
        "courierimapuiddb",
        "subscriptions",
    ] {
        put(index, "3 V1715040000 N5\n");
    }
}

#[test]
fn maildir_reads_cur_and_new_and_skips_tmp_and_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Maildir");
    maildir(&root);
    let (entries, errors) = files::plan(std::slice::from_ref(&root));
    assert_eq!(errors, vec![]);
    assert_eq!(
        entries,
        [
            ".Reports/cur/1715040400.M5P100.mx1:2,",
            "cur/1715040000.M1P100.mx1:2,S",
            "new/1715040100.M2P100.mx1",
            "new/1715040200.M3P100.mx1",
        ]
        .iter()
        .map(|name| Entry {
            path: root.join(name),
            in_maildir: true,
        })
        .collect::<Vec<_>>()
    );
    let inputs = read_all(&root, &Limits::default());
    assert!(inputs.iter().all(|i| i.source == Source::Maildir));
    assert_eq!(
        inputs
            .iter()
            .map(|i| (i.locator.clone(), report_ids(&i.found)))
            .collect::<Vec<_>>(),
        vec![
            (
                entries[0].path.display().to_string(),
                vec!["subfolder".to_owned()]
            ),
            (
                entries[1].path.display().to_string(),
                vec!["in-cur".to_owned()]
            ),
            (entries[2].path.display().to_string(), vec![]),
            (
                entries[3].path.display().to_string(),
                vec!["in-new".to_owned()]
            ),
        ]
    );
    assert_eq!(inputs[3].message_id.as_deref(), Some("n2@google.com"));
}

#[test]
fn directory_walk_is_sorted_recursive_and_skips_hidden_files_and_symlinked_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    fs::create_dir_all(root.join("2024/05")).unwrap();
    fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    fs::write(root.join("b.json"), report_json("example.org", "b")).unwrap();
    fs::write(
        root.join("a.json.gz"),
        gzip(report_json("example.org", "a").as_bytes()),
    )
    .unwrap();
    fs::write(root.join("2024/05/c.json"), report_json("example.org", "c")).unwrap();
    fs::write(root.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    fs::write(
        dir.path().join("elsewhere/d.json"),
        report_json("example.org", "d"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("link")).unwrap();

    let (entries, errors) = files::plan(std::slice::from_ref(&root));
    assert_eq!(errors, vec![]);
    assert_eq!(
        entries,
        ["2024/05/c.json", "a.json.gz", "b.json"]
            .iter()
            .map(|name| Entry {
                path: root.join(name),
                in_maildir: false,
            })
            .collect::<Vec<_>>()
    );
    let ids: Vec<Vec<String>> = read_all(&root, &Limits::default())
        .iter()
        .map(|i| report_ids(&i.found))
        .collect();
    assert_eq!(ids, [["c"], ["a"], ["b"]]);
}
