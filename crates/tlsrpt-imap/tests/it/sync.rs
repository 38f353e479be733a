//! `sync_once` against Dovecot: move and flag strategies, resume, UIDVALIDITY change,
//! a failing sink, a server restart mid-batch, and servers without MOVE or UIDPLUS.

use std::collections::HashSet;

use tlsrpt_imap::{AfterIngest, Disposition, TlsMode, sync_once};

use crate::sink::{
    RecordingSink, broken_report, classify, dmarc_report, identity, plain_mail, real_reports,
};
use tlsrpt_testkit::dovecot::Dovecot;

fn identities(messages: &[(u32, Vec<String>, Vec<u8>)]) -> HashSet<u64> {
    messages.iter().map(|m| identity(&m.2)).collect()
}

fn all_identities(messages: &[Vec<u8>]) -> HashSet<u64> {
    messages.iter().map(|m| identity(m)).collect()
}

#[tokio::test]
async fn reports_are_moved_and_other_mail_is_left_alone() {
    let dovecot = Dovecot::start();
    let reports = real_reports();
    let others = vec![dmarc_report(), plain_mail(1)];
    let mut mailbox = reports.clone();
    mailbox.insert(3, others[0].clone());
    mailbox.insert(7, broken_report());
    mailbox.push(others[1].clone());
    dovecot.append("INBOX", &mailbox).await;

    let mut account = dovecot.account(TlsMode::Implicit);
    account.batch_size = 4;
    let sink = RecordingSink::default();
    let summary = sync_once(&account, &sink).await.unwrap();

    assert_eq!(summary.fetched, mailbox.len());
    assert_eq!(summary.stored, reports.len());
    assert_eq!(summary.rejected, 1);
    assert_eq!(summary.not_report, 2);
    assert!(summary.deferred.is_none());
    assert_eq!(
        dovecot.folders().await,
        ["INBOX", "TLSRPT", "TLSRPT.Processed", "TLSRPT.Rejected"]
    );
    let inbox = dovecot.messages("INBOX").await;
    assert_eq!(identities(&inbox), all_identities(&others));
    assert!(
        inbox.iter().all(|m| m.1.is_empty()),
        "left unread: {inbox:?}"
    );
    let processed = dovecot.messages("TLSRPT.Processed").await;
    assert_eq!(identities(&processed), all_identities(&reports));
    let rejected = dovecot.messages("TLSRPT.Rejected").await;
    assert_eq!(identities(&rejected), all_identities(&[broken_report()]));

    let state = sink.state(&account.mailbox_id()).unwrap();
    assert_eq!(state.last_uid, u32::try_from(mailbox.len()).unwrap());

    // Resume: nothing new, then exactly the new message.
    let again = sync_once(&account, &sink).await.unwrap();
    assert_eq!(again.fetched, 0);
    dovecot
        .append("INBOX", &[plain_mail(2), reports[0].clone()])
        .await;
    let again = sync_once(&account, &sink).await.unwrap();
    assert_eq!((again.fetched, again.stored, again.not_report), (2, 1, 1));
    assert_eq!(sink.commits().len(), mailbox.len() + 2);
}

#[tokio::test]
async fn flag_strategy_marks_reports_in_place_and_skips_them_later() {
    let dovecot = Dovecot::start();
    let reports = real_reports();
    dovecot
        .append(
            "INBOX",
            &[reports[0].clone(), plain_mail(1), reports[1].clone()],
        )
        .await;

    let mut account = dovecot.account(TlsMode::Implicit);
    account.after_ingest = AfterIngest::Flag {
        keyword: "$TlsrptProcessed".into(),
    };
    let sink = RecordingSink::default();
    let summary = sync_once(&account, &sink).await.unwrap();
    assert_eq!((summary.stored, summary.not_report), (2, 1));

    let inbox = dovecot.messages("INBOX").await;
    assert_eq!(inbox.len(), 3);
    for (_, flags, message) in &inbox {
        if classify(message) == Disposition::Stored {
            assert!(flags.iter().any(|f| f.contains("Seen")), "{flags:?}");
            assert!(
                flags.iter().any(|f| f.contains("$TlsrptProcessed")),
                "{flags:?}"
            );
        } else {
            assert!(flags.is_empty(), "{flags:?}");
        }
    }
    assert_eq!(dovecot.folders().await, ["INBOX"]);

    // Even with the resume point lost, flagged messages are not fetched again.
    let forgetful = RecordingSink::default();
    let summary = sync_once(&account, &forgetful).await.unwrap();
    assert_eq!((summary.fetched, summary.not_report), (1, 1));
}

#[tokio::test]
async fn a_new_uidvalidity_restarts_from_the_beginning() {
    let dovecot = Dovecot::start();
    let reports = real_reports();
    let mut admin = dovecot.admin().await;
    admin.create("Reports").await.unwrap();
    dovecot.append("Reports", &reports[..3]).await;

    let mut account = dovecot.account(TlsMode::Implicit);
    account.mailbox = "Reports".into();
    let sink = RecordingSink::default();
    assert_eq!(sync_once(&account, &sink).await.unwrap().stored, 3);
    let before = sink.state(&account.mailbox_id()).unwrap();
    assert_eq!(before.last_uid, 3);

    // Recreated: UIDs start again at 1 under a new UIDVALIDITY.
    admin.delete("Reports").await.unwrap();
    admin.create("Reports").await.unwrap();
    admin.logout().await.unwrap();
    dovecot.append("Reports", &reports[3..4]).await;

    let summary = sync_once(&account, &sink).await.unwrap();
    assert!(summary.uid_validity_reset);
    assert_eq!(summary.stored, 1);
    let after = sink.state(&account.mailbox_id()).unwrap();
    assert_ne!(after.uid_validity, before.uid_validity);
    assert_eq!(after.last_uid, 1);
}

#[tokio::test]
async fn a_failed_commit_leaves_the_rest_for_the_next_pass() {
    let dovecot = Dovecot::start();
    let reports = real_reports()[..6].to_vec();
    dovecot.append("INBOX", &reports).await;
    let mut account = dovecot.account(TlsMode::Implicit);
    account.batch_size = 4;
    // Each body fetched on its own: the failure must end the whole batch, not one fetch.
    account.fetch_bytes = 1;
    let sink = RecordingSink::default();
    *sink.fail_from.lock().unwrap() = Some(2);

    let summary = sync_once(&account, &sink).await.unwrap();
    assert_eq!(summary.stored, 2);
    assert_eq!(summary.deferred.as_ref().map(|d| d.uid), Some(3));
    let inbox = dovecot.messages("INBOX").await;
    assert_eq!(inbox.iter().map(|m| m.0).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert!(inbox.iter().all(|m| m.1.is_empty()), "untouched: {inbox:?}");
    assert_eq!(sink.state(&account.mailbox_id()).unwrap().last_uid, 2);

    *sink.fail_from.lock().unwrap() = None;
    let summary = sync_once(&account, &sink).await.unwrap();
    assert_eq!(summary.stored, 4);
    assert!(summary.deferred.is_none());
    let uids: Vec<u32> = sink.commits().iter().map(|c| c.0).collect();
    assert_eq!(uids, [1, 2, 3, 4, 5, 6], "each message committed once");
    assert!(dovecot.messages("INBOX").await.is_empty());
    assert_eq!(dovecot.messages("TLSRPT.Processed").await.len(), 6);
}

/// A batch's bodies are fetched in groups of at most `fetch_bytes` (a larger message
/// alone), so that a batch of large messages is never held whole: every message is still
/// committed once, in order, and moved or left as before.
#[tokio::test]
async fn bodies_fetched_in_groups_by_size_are_all_handled_in_order() {
    let dovecot = Dovecot::start();
    let reports = real_reports()[..6].to_vec();
    let mut mailbox = reports.clone();
    mailbox.insert(2, plain_mail(1));
    dovecot.append("INBOX", &mailbox).await;
    let largest = mailbox.iter().map(Vec::len).max().unwrap();
    let mut account = dovecot.account(TlsMode::Implicit);
    account.batch_size = 5;
    account.fetch_bytes = u64::try_from(2 * largest).unwrap();
    let sink = RecordingSink::default();

    let summary = sync_once(&account, &sink).await.unwrap();
    assert_eq!(
        (summary.fetched, summary.stored, summary.not_report),
        (7, 6, 1)
    );
    assert!(summary.deferred.is_none());
    let uids: Vec<u32> = sink.commits().iter().map(|c| c.0).collect();
    assert_eq!(
        uids,
        [1, 2, 3, 4, 5, 6, 7],
        "each message committed once, in order"
    );
    assert_eq!(sink.state(&account.mailbox_id()).unwrap().last_uid, 7);
    let inbox = dovecot.messages("INBOX").await;
    assert_eq!(identities(&inbox), all_identities(&[plain_mail(1)]));
    let processed = dovecot.messages("TLSRPT.Processed").await;
    assert_eq!(identities(&processed), all_identities(&reports));
}

#[tokio::test]
async fn a_server_restart_mid_batch_loses_nothing() {
    let dovecot = Dovecot::start();
    let reports = real_reports()[..6].to_vec();
    dovecot.append("INBOX", &reports).await;
    let mut account = dovecot.account(TlsMode::Implicit);
    account.batch_size = 4;
    let sink = RecordingSink::default();
    let mut stop = dovecot.stopper();
    *sink.hook.lock().unwrap() = Some(Box::new(move |done| {
        if done == 2 {
            stop();
        }
    }));

    let error = sync_once(&account, &sink).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    *sink.hook.lock().unwrap() = None;
    dovecot.restart();

    let summary = sync_once(&account, &sink).await.unwrap();
    assert!(summary.deferred.is_none());
    assert!(dovecot.messages("INBOX").await.is_empty());
    let processed = dovecot.messages("TLSRPT.Processed").await;
    assert_eq!(identities(&processed), all_identities(&reports));
    assert_eq!(processed.len(), reports.len(), "no message moved twice");
    // Committed-but-unmoved messages come back once; the real sink deduplicates them.
    let commits = sink.commits();
    let distinct: HashSet<u64> = commits.iter().map(|c| c.2).collect();
    assert_eq!(distinct, all_identities(&reports));
    assert!(
        commits.len() <= reports.len() + account.batch_size,
        "{commits:?}"
    );
}

#[tokio::test]
async fn servers_without_move_get_copy_and_expunge() {
    for capabilities in ["IMAP4rev1 IDLE UIDPLUS LITERAL+", "IMAP4rev1 LITERAL+"] {
        let dovecot = Dovecot::start_with(&format!("imap_capability = {capabilities}"));
        let reports = real_reports();
        dovecot
            .append(
                "INBOX",
                &[reports[0].clone(), plain_mail(1), reports[1].clone()],
            )
            .await;
        let sink = RecordingSink::default();
        let summary = sync_once(&dovecot.account(TlsMode::Implicit), &sink)
            .await
            .unwrap();
        assert_eq!(summary.stored, 2, "{capabilities}");
        let inbox = dovecot.messages("INBOX").await;
        assert_eq!(
            identities(&inbox),
            all_identities(&[plain_mail(1)]),
            "{capabilities}"
        );
        assert_eq!(dovecot.messages("TLSRPT.Processed").await.len(), 2);
    }
}
