//! The email channel against a real SMTP sink: recipients with per-domain routes, subject,
//! body with evidence and links, threading of the resolution, AUTH and STARTTLS, and
//! retries then giving up when the server cannot be reached.

use tlsrpt_notify::SmtpTls;
use tlsrpt_testkit::smtp::{SmtpSink, SmtpSinkOptions};

use crate::support::{
    Backend, T0, TempStore, at, cert_alert, email, evaluate, notifier, on_both_backends,
    open_cert_alert, quick_retry, t0_plus,
};

on_both_backends!(async: alerts_are_mailed_to_recipients_and_routes);

async fn alerts_are_mailed_to_recipients_and_routes(backend: Backend) {
    let t = TempStore::new(backend).await;
    let sink = SmtpSink::start().await;
    let n = notifier(&t.store, vec![], Some(email(sink.port())));
    assert_eq!(n.channels(), ["email"]);
    let client = open_cert_alert(
        &t.store,
        "client.example",
        "mx1.client.example",
        5,
        n.channels(),
        at(T0),
    )
    .await;
    let other = open_cert_alert(
        &t.store,
        "other.example",
        "mx.other.example",
        9,
        n.channels(),
        at(T0),
    )
    .await;
    let summary = n.deliver_due(at(T0)).await.unwrap();
    assert_eq!((summary.claimed, summary.delivered), (2, 2));

    let mut messages = sink.messages();
    messages.sort_by_key(|m| m.rcpt_to.len());
    assert_eq!(messages.len(), 2, "one message per notification");
    let (plain, routed) = (&messages[0], &messages[1]);
    assert_eq!(plain.mail_from, "tlsrpt@monitor.example.net");
    assert_eq!(plain.rcpt_to, ["ops@example.net"]);
    assert_eq!(
        routed.rcpt_to,
        ["ops@example.net", "postmaster@client.example"]
    );
    assert_eq!(
        routed.header("Subject").unwrap(),
        "[tlsrpt] warning: mx1.client.example's certificate expires in 5 days (client.example)"
    );
    assert_eq!(
        routed.header("Message-ID").unwrap(),
        format!("tlsrpt-alert-{client}-opened@monitor.example.net")
    );
    assert_eq!(routed.header("X-Tlsrpt-Event").unwrap(), "opened");
    let text = routed.text();
    for line in [
        "mx1.client.example's certificate expires in 5 days",
        "Domain:    client.example",
        "Rule:      cert-expiring (mx1.client.example)",
        "Severity:  warning",
        "  days_left: 5",
        "  host: mx1.client.example",
        "  not_after: 2026-05-06T00:00:00Z",
        &format!("Alert:  https://tlsrpt.example.net/alerts/{client}"),
        "Domain: https://tlsrpt.example.net/domains/client.example",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    assert!(plain.text().contains(&format!("/alerts/{other}")));
    let html = routed.html().expect("an HTML alternative");
    assert!(
        html.contains("<h2>mx1.client.example&#39;s certificate expires in 5 days</h2>"),
        "{html}"
    );
    assert!(html.contains("<li>days_left: 5</li>"), "{html}");
    assert!(
        html.contains(&format!(
            "<a href=\"https://tlsrpt.example.net/alerts/{client}\">"
        )),
        "{html}"
    );

    // The resolution: one more message, in the same thread.
    let resolved = evaluate(
        &t.store,
        &["client.example"],
        &[],
        n.channels(),
        t0_plus(60),
    )
    .await;
    assert_eq!(resolved.resolved, [client]);
    assert_eq!(n.deliver_due(t0_plus(60)).await.unwrap().delivered, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 3);
    let last = &messages[2];
    assert_eq!(
        last.header("Subject").unwrap(),
        "[tlsrpt] resolved: mx1.client.example's certificate expires in 5 days (client.example)"
    );
    assert_eq!(
        last.header("In-Reply-To").unwrap(),
        format!("tlsrpt-alert-{client}-opened@monitor.example.net")
    );
    assert!(last.text().contains("Resolved:  2026-05-01 10:01 UTC"));
}

#[tokio::test]
async fn mail_goes_over_starttls_with_auth() {
    let t = TempStore::new(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SmtpSinkOptions {
        starttls: true,
        auth: Some(("alerts".to_owned(), "smtp-pass-7".to_owned())),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sink.ca_pem().unwrap()).unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "smtp-pass-7\n").unwrap();
    let mut config = email(sink.port());
    config.host = "localhost".to_owned();
    config.tls = SmtpTls::Starttls;
    config.ca_file = Some(ca);
    config.username = Some("alerts".to_owned());
    config.password_file = Some(password);
    let n = notifier(&t.store, vec![], Some(config));
    evaluate(
        &t.store,
        &["example.com"],
        &[cert_alert("example.com", "mx1.example.com", 5)],
        n.channels(),
        at(T0),
    )
    .await;
    assert_eq!(n.deliver_due(at(T0)).await.unwrap().delivered, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].tls);
    assert_eq!(messages[0].auth_user.as_deref(), Some("alerts"));
}

#[tokio::test]
async fn a_wrong_password_is_given_up() {
    let t = TempStore::new(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SmtpSinkOptions {
        starttls: false,
        auth: Some(("alerts".to_owned(), "right".to_owned())),
    })
    .await;
    let mut config = email(sink.port());
    config.username = Some("alerts".to_owned());
    config.password = Some(tlsrpt_notify::Secret("wrong-pass-9".to_owned()));
    let n = notifier(&t.store, vec![], Some(config));
    let id = open_cert_alert(
        &t.store,
        "example.com",
        "mx1.example.com",
        5,
        n.channels(),
        at(T0),
    )
    .await;
    assert_eq!(n.deliver_due(at(T0)).await.unwrap().given_up, 1);
    let error = t.store.deliveries(id).await.unwrap()[0]
        .last_error
        .clone()
        .unwrap();
    assert!(error.contains("535"), "{error}");
    assert!(!error.contains("wrong-pass-9"), "{error}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_given_up() {
    let t = TempStore::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = email(port);
    config.retry = quick_retry(3);
    let n = notifier(&t.store, vec![], Some(config));
    let id = open_cert_alert(
        &t.store,
        "example.com",
        "mx1.example.com",
        5,
        n.channels(),
        at(T0),
    )
    .await;
    let mut outcomes = Vec::new();
    for second in [0, 30, 149, 150, 10_000] {
        let s = n.deliver_due(t0_plus(second)).await.unwrap();
        outcomes.push((second, s.claimed, s.retrying, s.given_up));
    }
    assert_eq!(
        outcomes,
        [
            (0, 1, 1, 0),
            (30, 1, 1, 0),
            (149, 0, 0, 0),
            (150, 1, 0, 1),
            (10_000, 0, 0, 0)
        ]
    );
    let delivery = &t.store.deliveries(id).await.unwrap()[0];
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.failed_at, Some(t0_plus(150)));
    let error = delivery.last_error.as_deref().unwrap();
    assert!(error.starts_with("SMTP: "), "{error}");
    assert!(error.ends_with("(gave up after 3 attempts)"), "{error}");
}
