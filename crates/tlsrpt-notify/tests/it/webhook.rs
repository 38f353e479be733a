//! The webhook channel against a real HTTP receiver: signed payloads, retries with
//! backoff and `Retry-After`, giving up on a permanent error, timeouts, and no secret or
//! URL token in recorded errors.

use tlsrpt_notify::{SCHEMA, verify_signature};
use tlsrpt_testkit::webhook::{Reply, WebhookReceiver};

use crate::support::{
    Backend, SECRET, T0, TempStore, at, cert_alert, evaluate, notifier, on_both_backends,
    open_cert_alert, t0_plus, webhook,
};

on_both_backends!(
    async: an_opened_alert_is_posted_signed,
    server_errors_are_retried_with_backoff,
);

async fn an_opened_alert_is_posted_signed(backend: Backend) {
    let t = TempStore::new(backend).await;
    let receiver = WebhookReceiver::start().await;
    let n = notifier(&t.store, vec![webhook("ops", &receiver.url())], None);
    assert_eq!(n.channels(), ["webhook:ops"]);
    let sync = evaluate(
        &t.store,
        &["example.com"],
        &[cert_alert("example.com", "mx1.example.com", 5)],
        n.channels(),
        at(T0),
    )
    .await;
    let id = sync.opened[0];

    let summary = n.deliver_due(at(T0)).await.unwrap();
    assert_eq!((summary.claimed, summary.delivered), (1, 1));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/hook")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-tlsrpt-event"), Some("opened"));
    let timestamp: i64 = request
        .header("x-tlsrpt-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(timestamp, at(T0).timestamp());
    let signature = request.header("x-tlsrpt-signature").unwrap();
    assert!(verify_signature(
        SECRET.as_bytes(),
        timestamp,
        &request.body,
        signature
    ));
    assert!(!verify_signature(
        b"wrong secret",
        timestamp,
        &request.body,
        signature
    ));
    assert!(
        !verify_signature(SECRET.as_bytes(), timestamp + 1, &request.body, signature),
        "the timestamp is signed too"
    );

    let body = request.json();
    assert_eq!(body["schema"], SCHEMA);
    assert_eq!(body["event"], "opened");
    assert_eq!(
        body["delivery_id"].to_string(),
        request.header("x-tlsrpt-delivery").unwrap()
    );
    assert_eq!(body["sent_at"], "2026-05-01T10:00:00Z");
    assert_eq!(body["alert"]["id"], id);
    assert_eq!(body["alert"]["domain"], "example.com");
    assert_eq!(body["alert"]["rule"], "cert-expiring");
    assert_eq!(body["alert"]["evidence"]["days_left"], 5);
    assert_eq!(
        body["links"]["alert"],
        format!("https://tlsrpt.example.net/alerts/{id}")
    );
    assert_eq!(
        body["links"]["domain"],
        "https://tlsrpt.example.net/domains/example.com"
    );

    let deliveries = t.store.deliveries(id).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].delivered_at, Some(at(T0)));
    assert_eq!(deliveries[0].attempts, 1);
    let again = n.deliver_due(t0_plus(3600)).await.unwrap();
    assert_eq!(again.claimed, 0, "delivered once only");
}

async fn server_errors_are_retried_with_backoff(backend: Backend) {
    let t = TempStore::new(backend).await;
    let receiver = WebhookReceiver::start().await;
    receiver.then(Reply::Status(500, None), 2);
    let n = notifier(&t.store, vec![webhook("ops", &receiver.url())], None);
    let id = open_cert_alert(
        &t.store,
        "example.com",
        "mx1.example.com",
        5,
        n.channels(),
        at(T0),
    )
    .await;

    // Backoff: 30 s after the first failure, 2 min after the second.
    let passes = [(0, 1, 0), (29, 0, 0), (30, 1, 0), (149, 0, 0), (150, 1, 1)];
    for (second, claimed, delivered) in passes {
        let summary = n.deliver_due(t0_plus(second)).await.unwrap();
        assert_eq!(
            (summary.claimed, summary.delivered),
            (claimed, delivered),
            "at T0 + {second} s"
        );
    }
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    let ids: Vec<&str> = requests
        .iter()
        .map(|r| r.header("x-tlsrpt-delivery").unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one idempotency key: {ids:?}"
    );
    let stamps: Vec<&str> = requests
        .iter()
        .map(|r| r.header("x-tlsrpt-timestamp").unwrap())
        .collect();
    let expected: Vec<String> = [0, 30, 150]
        .iter()
        .map(|s| t0_plus(*s).timestamp().to_string())
        .collect();
    assert_eq!(stamps, expected);
    let delivery = &t.store.deliveries(id).await.unwrap()[0];
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.delivered_at, Some(t0_plus(150)));
    assert_eq!(delivery.last_error, None);
}

async fn open_one(n: &tlsrpt_notify::Notifier, t: &TempStore) -> i64 {
    open_cert_alert(
        &t.store,
        "example.com",
        "mx1.example.com",
        5,
        n.channels(),
        at(T0),
    )
    .await
}

#[tokio::test]
async fn a_gone_endpoint_is_given_up_at_once() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    receiver.then(Reply::Status(410, None), 1);
    let n = notifier(&t.store, vec![webhook("ops", &receiver.url())], None);
    let id = open_one(&n, &t).await;
    let summary = n.deliver_due(at(T0)).await.unwrap();
    assert_eq!((summary.claimed, summary.given_up), (1, 1));
    let delivery = &t.store.deliveries(id).await.unwrap()[0];
    assert_eq!(delivery.failed_at, Some(at(T0)));
    assert_eq!(delivery.last_error.as_deref(), Some("HTTP status 410 Gone"));
    assert_eq!(n.deliver_due(t0_plus(86_400)).await.unwrap().claimed, 0);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    receiver.then(Reply::Status(429, Some(600)), 1);
    let n = notifier(&t.store, vec![webhook("ops", &receiver.url())], None);
    let id = open_one(&n, &t).await;
    assert_eq!(n.deliver_due(at(T0)).await.unwrap().retrying, 1);
    let delivery = &t.store.deliveries(id).await.unwrap()[0];
    assert_eq!(delivery.next_attempt_at, t0_plus(600));
    assert!(delivery.last_error.as_deref().unwrap().contains("429"));
    assert_eq!(n.deliver_due(t0_plus(599)).await.unwrap().claimed, 0);
    assert_eq!(n.deliver_due(t0_plus(600)).await.unwrap().delivered, 1);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_and_is_retried() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    receiver.then(Reply::Hang, 1);
    let mut config = webhook("ops", &receiver.url());
    config.timeout_seconds = 1;
    let n = notifier(&t.store, vec![config], None);
    let id = open_one(&n, &t).await;
    assert_eq!(n.deliver_due(at(T0)).await.unwrap().retrying, 1);
    let delivery = &t.store.deliveries(id).await.unwrap()[0];
    assert_eq!(delivery.last_error.as_deref(), Some("no answer within 1s"));
    assert_eq!(delivery.next_attempt_at, t0_plus(30));
    assert_eq!(n.deliver_due(t0_plus(30)).await.unwrap().delivered, 1);
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn errors_show_neither_the_url_nor_the_secret() {
    let t = TempStore::new(Backend::Sqlite).await;
    // A port with nothing listening: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook?token=url-token-42");
    let config = webhook("ops", &url);
    let n = notifier(&t.store, vec![config.clone()], None);
    let id = open_one(&n, &t).await;
    assert_eq!(n.deliver_due(at(T0)).await.unwrap().retrying, 1);
    let error = t.store.deliveries(id).await.unwrap()[0]
        .last_error
        .clone()
        .unwrap();
    assert!(error.starts_with("connecting: "), "{error}");
    for shown in [&error, &format!("{n:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains("url-token-42"), "{shown}");
    }
    assert!(!format!("{config:?}").contains(SECRET));
}

#[tokio::test]
async fn https_trusts_the_configured_ca_only() {
    let t = TempStore::new(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, receiver.ca_pem().unwrap()).unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let mut trusting = webhook("trusting", &receiver.url());
    trusting.ca_file = Some(ca);
    trusting.secret = None;
    trusting.secret_file = Some(secret);
    let n = notifier(
        &t.store,
        vec![trusting, webhook("default-roots", &receiver.url())],
        None,
    );
    let id = open_one(&n, &t).await;
    let summary = n.deliver_due(at(T0)).await.unwrap();
    assert_eq!((summary.delivered, summary.retrying), (1, 1));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let timestamp: i64 = request
        .header("x-tlsrpt-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    let signature = request.header("x-tlsrpt-signature").unwrap();
    assert!(verify_signature(
        SECRET.as_bytes(),
        timestamp,
        &request.body,
        signature
    ));
    let deliveries = t.store.deliveries(id).await.unwrap();
    let untrusted = deliveries
        .iter()
        .find(|d| d.channel == "webhook:default-roots")
        .unwrap();
    let error = untrusted.last_error.as_deref().unwrap();
    assert!(error.starts_with("TLS handshake: "), "{error}");
}
