//! `run` against Dovecot: IDLE wake-ups, reconnection after a restart, interval polling
//! of several mailboxes, and a prompt shutdown.

use std::time::Duration;

use tlsrpt_imap::{Disposition, PollSettings, TlsMode, run};
use tokio::sync::oneshot;

use crate::sink::{RecordingSink, real_reports};
use tlsrpt_testkit::dovecot::Dovecot;

fn quick() -> PollSettings {
    PollSettings {
        interval: Duration::from_millis(100),
        idle_timeout: Duration::from_secs(5),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
    }
}

/// Waits (up to 20 s) until `done` holds, checking every 20 ms.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_picks_up_new_mail_and_survives_a_restart() {
    let dovecot = Dovecot::start();
    let reports = real_reports();
    let accounts = [dovecot.account(TlsMode::Implicit)];
    let sink = RecordingSink::default();
    let settings = quick();
    let (stop, stopped) = oneshot::channel::<()>();

    let watcher = run(&accounts, &settings, &sink, async {
        let _ = stopped.await;
    });
    let script = async {
        dovecot.append("INBOX", &reports[..1]).await;
        until("the first report", || sink.count(Disposition::Stored) == 1).await;
        // Arrives while the watcher IDLEs.
        dovecot.append("INBOX", &reports[1..2]).await;
        until("the report sent during IDLE", || {
            sink.count(Disposition::Stored) == 2
        })
        .await;

        dovecot.restart();
        dovecot.append("INBOX", &reports[2..3]).await;
        until("the report sent after the restart", || {
            sink.count(Disposition::Stored) == 3
        })
        .await;
        stop.send(()).unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(watcher, script)
    })
    .await
    .expect("run returns after shutdown");
    assert_eq!(dovecot.messages("TLSRPT.Processed").await.len(), 3);
}

#[tokio::test]
async fn without_idle_several_mailboxes_are_polled_and_a_down_server_is_waited_for() {
    let dovecot = Dovecot::start_with("imap_capability = IMAP4rev1 UIDPLUS MOVE LITERAL+");
    let reports = real_reports();
    let mut admin = dovecot.admin().await;
    admin.create("Second").await.unwrap();
    admin.logout().await.unwrap();
    let inbox = dovecot.account(TlsMode::Implicit);
    let mut second = dovecot.account(TlsMode::StartTls);
    second.mailbox = "Second".into();
    let accounts = [inbox, second];
    let sink = RecordingSink::default();
    let settings = quick();
    let (stop, stopped) = oneshot::channel::<()>();

    dovecot.stop();
    let watcher = run(&accounts, &settings, &sink, async {
        let _ = stopped.await;
    });
    let script = async {
        // Let the watchers fail to connect a few times, then bring the server up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        dovecot.restart();
        dovecot.append("INBOX", &reports[..2]).await;
        dovecot.append("Second", &reports[2..3]).await;
        until("all three reports", || sink.count(Disposition::Stored) == 3).await;
        stop.send(()).unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(watcher, script)
    })
    .await
    .expect("run returns after shutdown");
    assert_eq!(sink.states.lock().unwrap().len(), 2);
}
