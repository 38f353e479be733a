//! The sources page's queries: inputs per source and outcome, mailbox sync state with its
//! last error, and the inputs that did not become reports.

use tlsrpt_store::{Candidate, NewInput, SourceSummary};

use crate::support::{Backend, TempStore, input, on_both_backends, rejected, report_json};

on_both_backends!(
    async: inputs_are_counted_per_source_and_outcome,
    a_mailbox_error_is_kept_until_the_next_successful_sync,
);

async fn inputs_are_counted_per_source_and_outcome(backend: Backend) {
    let db = TempStore::new(backend).await;
    let first = report_json("Reporter", "r-1", "example.com", 10);
    let mut imap = input(&report_json("Reporter", "r-2", "example.com", 5), "INBOX/7");
    imap.source = "imap";
    imap.received_at = 1_772_500_000;
    let not_report = NewInput {
        source: "imap",
        locator: "INBOX/8".into(),
        part: None,
        message_id: None,
        received_at: 1_772_400_100,
        candidate: Candidate::NotReport {
            reason: "no report attachment".into(),
        },
    };
    db.store
        .write_batch(&[
            input(&first, "a.json"),
            input(&first, "again.json"),
            rejected(b"{", "bad.json", "not JSON", 1_772_300_000),
            imap,
            not_report,
        ])
        .await
        .unwrap();

    let summary = db.store.source_summary().await.unwrap();
    assert_eq!(
        summary,
        [
            SourceSummary {
                source: "file".into(),
                stored: 1,
                duplicate: 1,
                rejected: 1,
                not_report: 0,
                last_received_at: Some(1_772_400_000),
            },
            SourceSummary {
                source: "imap".into(),
                stored: 1,
                duplicate: 0,
                rejected: 0,
                not_report: 1,
                last_received_at: Some(1_772_500_000),
            },
        ]
    );

    let unaccepted = db.store.unaccepted_inputs(10).await.unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = unaccepted
        .iter()
        .map(|i| (i.outcome.as_str(), i.locator.as_str(), i.reason.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("not-report", "INBOX/8", Some("no report attachment")),
            ("rejected", "bad.json", Some("not JSON")),
        ]
    );
}

async fn a_mailbox_error_is_kept_until_the_next_successful_sync(backend: Backend) {
    let db = TempStore::new(backend).await;
    db.store
        .record_mailbox_error("imap://a@mail.example/INBOX", "login refused")
        .await
        .unwrap();
    let boxes = db.store.mailboxes().await.unwrap();
    assert_eq!(boxes.len(), 1);
    assert_eq!(boxes[0].last_error.as_deref(), Some("login refused"));
    assert!(boxes[0].last_error_at.is_some());
    assert_eq!(boxes[0].last_uid, 0);

    db.store
        .save_mailbox_state("imap://a@mail.example/INBOX", 17, 42)
        .await
        .unwrap();
    let boxes = db.store.mailboxes().await.unwrap();
    assert_eq!(boxes[0].last_error, None);
    assert_eq!((boxes[0].uid_validity, boxes[0].last_uid), (17, 42));
    // A resume point is never lost by a later error.
    db.store
        .record_mailbox_error("imap://a@mail.example/INBOX", "timeout")
        .await
        .unwrap();
    let boxes = db.store.mailboxes().await.unwrap();
    assert_eq!((boxes[0].uid_validity, boxes[0].last_uid), (17, 42));
    assert_eq!(boxes[0].last_error.as_deref(), Some("timeout"));
}
