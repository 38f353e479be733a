//! The sender loop: one message per event and channel however long a condition lasts,
//! several notifiers sharing one store without sending twice, channels that went away,
//! and `run` woken by new alerts and stopped on request.

use std::collections::BTreeSet;
use std::time::Duration;

use tlsrpt_notify::{Notifier, NotifyConfig, SenderOptions};
use tlsrpt_testkit::smtp::SmtpSink;
use tlsrpt_testkit::webhook::WebhookReceiver;

use crate::support::{
    Backend, DASHBOARD, T0, TempStore, at, cert_alert, email, evaluate, notifier, on_both_backends,
    open_cert_alert, t0_plus, webhook,
};

on_both_backends!(async: a_lasting_alert_is_sent_once_per_channel);
on_both_backends!(async multi_thread: two_notifiers_never_send_the_same_notification);

async fn a_lasting_alert_is_sent_once_per_channel(backend: Backend) {
    let t = TempStore::new(backend).await;
    let receiver = WebhookReceiver::start().await;
    let sink = SmtpSink::start().await;
    let n = notifier(
        &t.store,
        vec![webhook("ops", &receiver.url())],
        Some(email(sink.port())),
    );
    assert_eq!(n.channels(), ["webhook:ops", "email"]);
    // Evaluated every hour for a day, with the evidence changing, then gone.
    for hour in 0..24 {
        let now = t0_plus(hour * 3600);
        let days = 5 - hour / 12;
        let sync = evaluate(
            &t.store,
            &["example.com"],
            &[cert_alert("example.com", "mx1.example.com", days)],
            n.channels(),
            now,
        )
        .await;
        assert_eq!(sync.opened.len() + sync.ongoing.len(), 1);
        n.deliver_due(now).await.unwrap();
    }
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(sink.messages().len(), 1);
    let now = t0_plus(24 * 3600);
    evaluate(&t.store, &["example.com"], &[], n.channels(), now).await;
    let summary = n.deliver_due(now).await.unwrap();
    assert_eq!((summary.claimed, summary.delivered), (2, 2));
    let events: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-tlsrpt-event").unwrap().to_owned())
        .collect();
    assert_eq!(events, ["opened", "resolved"]);
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(
        sink.messages()[1].header("X-Tlsrpt-Event").as_deref(),
        Some("resolved")
    );
}

async fn two_notifiers_never_send_the_same_notification(backend: Backend) {
    let t = TempStore::new(backend).await;
    let receiver = WebhookReceiver::start().await;
    let config = || NotifyConfig {
        webhook: vec![webhook("ops", &receiver.url())],
        email: None,
        sender: SenderOptions {
            batch: 7,
            concurrency: 3,
            ..SenderOptions::default()
        },
    };
    let first = Notifier::new(config(), t.store.clone(), None).unwrap();
    let second = Notifier::new(config(), t.store.clone(), None).unwrap();
    let alerts: Vec<_> = (0..20)
        .map(|i| cert_alert("example.com", &format!("mx{i}.example.com"), 5))
        .collect();
    let sync = evaluate(
        &t.store,
        &["example.com"],
        &alerts,
        first.channels(),
        at(T0),
    )
    .await;
    assert_eq!(sync.opened.len(), 20);
    let mut delivered = 0;
    for _ in 0..10 {
        let (a, b) = tokio::join!(first.deliver_due(at(T0)), second.deliver_due(at(T0)));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.claimed <= 7 && b.claimed <= 7,
            "a pass claims at most `batch`"
        );
        delivered += a.delivered + b.delivered;
        if a.claimed + b.claimed == 0 {
            break;
        }
    }
    assert_eq!(delivered, 20);
    let ids: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-tlsrpt-delivery").unwrap().to_owned())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (20, 20));
    assert!(
        receiver
            .requests()
            .iter()
            .all(|r| r.json()["links"].is_null())
    );
}

#[tokio::test]
async fn a_channel_no_longer_configured_is_given_up() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    let n = notifier(&t.store, vec![webhook("ops", &receiver.url())], None);
    let channels = vec!["webhook:ops".to_owned(), "webhook:old".to_owned()];
    let id = open_cert_alert(
        &t.store,
        "example.com",
        "mx1.example.com",
        5,
        channels,
        at(T0),
    )
    .await;
    let summary = n.deliver_due(at(T0)).await.unwrap();
    assert_eq!((summary.delivered, summary.given_up), (1, 1));
    let deliveries = t.store.deliveries(id).await.unwrap();
    let old = deliveries
        .iter()
        .find(|d| d.channel == "webhook:old")
        .unwrap();
    assert_eq!(
        old.last_error.as_deref(),
        Some("the channel webhook:old is not configured any more")
    );
    assert_eq!(old.failed_at, Some(at(T0)));
}

#[tokio::test]
async fn run_wakes_on_new_alerts_and_stops() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    let config = NotifyConfig {
        webhook: vec![webhook("ops", &receiver.url())],
        email: None,
        sender: SenderOptions {
            // Only a wake-up can make it send within the test.
            poll_interval: Duration::from_secs(3600),
            ..SenderOptions::default()
        },
    };
    let n = Notifier::new(config, t.store.clone(), Some(DASHBOARD.to_owned())).unwrap();
    let channels = n.channels();
    let waker = n.waker();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(n.run(stopped));
    // Let the first pass (with nothing due) finish, so only the wake-up can deliver.
    tokio::time::sleep(Duration::from_millis(200)).await;
    evaluate(
        &t.store,
        &["example.com"],
        &[cert_alert("example.com", "mx1.example.com", 5)],
        channels,
        chrono::Utc::now(),
    )
    .await;
    waker.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.requests().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.requests().len(), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("run stops when told")
        .unwrap();
}

#[tokio::test]
async fn bad_configurations_are_refused_clearly() {
    let t = TempStore::new(Backend::Sqlite).await;
    let refuse = |config: NotifyConfig| {
        Notifier::new(config, t.store.clone(), None)
            .unwrap_err()
            .to_string()
    };
    let hooks = |list: Vec<tlsrpt_notify::WebhookConfig>| NotifyConfig {
        webhook: list,
        ..NotifyConfig::default()
    };
    let mut unsigned = webhook("ops", "https://hooks.example/x");
    unsigned.secret = None;
    assert_eq!(
        refuse(hooks(vec![unsigned])),
        "alert delivery configuration: webhook:ops: a secret (or secret_file) is required \
         to sign requests"
    );
    let error = refuse(hooks(vec![webhook(
        "ops",
        "ftp://hooks.example/x?token=t0k",
    )]));
    assert!(
        error.contains("must start with http:// or https://"),
        "{error}"
    );
    assert!(!error.contains("t0k"), "{error}");
    let error = refuse(hooks(vec![
        webhook("ops", "https://a.example/"),
        webhook("ops", "https://b.example/"),
    ]));
    assert!(
        error.contains("two webhooks are named webhook:ops"),
        "{error}"
    );
    let mut nobody = email(25);
    nobody.to.clear();
    nobody.routes.clear();
    let error = refuse(NotifyConfig {
        email: Some(nobody),
        ..NotifyConfig::default()
    });
    assert!(error.contains("email: no recipient"), "{error}");
    let mut missing = webhook("ops", "https://hooks.example/x");
    missing.secret = None;
    missing.secret_file = Some("/nonexistent/secret".into());
    let error = refuse(hooks(vec![missing]));
    assert!(
        error.contains("reading the secret file /nonexistent/secret"),
        "{error}"
    );
    let error = refuse(NotifyConfig {
        webhook: vec![webhook("ops", "https://hooks.example/x")],
        sender: SenderOptions {
            lease: Duration::from_secs(1),
            ..SenderOptions::default()
        },
        ..NotifyConfig::default()
    });
    assert!(error.contains("the lease (1s) must exceed"), "{error}");
}
