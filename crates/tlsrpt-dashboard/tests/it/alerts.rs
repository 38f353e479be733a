//! The alerts pages and API: open alerts listed with their evidence and notifications,
//! acknowledge / snooze / wake through the CSRF-protected forms and the JSON API, and the
//! domain page's open alerts.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::json;
use tlsrpt_store::{AlertScope, NewAlert, SyncOptions};

use crate::support::{Backend, Demo, on_both_backends};

on_both_backends!(
    async: open_alerts_are_listed_with_their_evidence,
    buttons_acknowledge_snooze_and_wake,
    the_api_lists_and_acts_on_alerts,
);

/// Raises one warning on stale-mx.example (two notification channels) and one critical
/// on failing.example, then resolves nothing; returns their ids.
async fn raise(demo: &Demo) -> (i64, i64) {
    let firing = [
        NewAlert {
            domain: "stale-mx.example".into(),
            rule: "mx-drift".into(),
            subject: String::new(),
            severity: "warning".into(),
            title: "mx3.stale-mx.example is not in the policy <b>".into(),
            evidence: json!({ "mx_not_in_policy": ["mx3.stale-mx.example"], "policy_mx": "mx1.stale-mx.example" }),
        },
        NewAlert {
            domain: "failing.example".into(),
            rule: "cert-expiring".into(),
            subject: "mx1.failing.example".into(),
            severity: "critical".into(),
            title: "mx1.failing.example's certificate expires in 2 days".into(),
            evidence: json!({ "host": "mx1.failing.example", "days_left": 2 }),
        },
    ];
    let sync = demo
        .store
        .sync_alerts(
            &AlertScope {
                domains: vec!["stale-mx.example".into(), "failing.example".into()],
                rules: vec!["mx-drift".into(), "cert-expiring".into()],
            },
            &firing,
            &SyncOptions {
                channels: vec!["webhook:ops".into(), "email".into()],
                quiet_reopen: Duration::hours(6),
                now: Utc::now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(sync.opened.len(), 2);
    // Sorted by condition: failing.example first.
    (sync.opened[1], sync.opened[0])
}

/// The CSRF token embedded in a page's forms.
fn csrf(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

fn form(path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

async fn open_alerts_are_listed_with_their_evidence(backend: Backend) {
    let demo = Demo::new(backend).await;
    let empty = demo.get("/alerts").await;
    assert!(empty.contains("Nothing needs attention."));
    let (drift, cert) = raise(&demo).await;
    let list = demo.get("/alerts").await;
    assert!(list.contains(&format!("data-alert=\"{drift}\" data-rule=\"mx-drift\"")));
    assert!(list.contains(&format!(
        "data-alert=\"{cert}\" data-rule=\"cert-expiring\""
    )));
    // Titles are escaped like every other string.
    assert!(list.contains("not in the policy &#60;b&#62;"), "{list}");
    assert!(!list.contains("policy <b>"));
    let one = demo.get(&format!("/alerts/{drift}")).await;
    assert!(
        one.contains("<th>mx not in policy</th><td>[&#34;mx3.stale-mx.example&#34;]</td>"),
        "{one}"
    );
    assert!(one.contains("<td>opened</td><td>webhook:ops</td><td>queued</td>"));
    assert!(one.contains("<td>opened</td><td>email</td><td>queued</td>"));
    // The domain page shows its open alerts; another domain's are not there.
    let domain = demo.get("/domains/stale-mx.example").await;
    assert!(domain.contains(&format!("<li data-alert=\"{drift}\">")));
    assert!(!domain.contains(&format!("<li data-alert=\"{cert}\">")));
    let only = demo.get("/alerts?domain=failing.example").await;
    assert!(only.contains(&format!("data-alert=\"{cert}\"")));
    assert!(!only.contains(&format!("data-alert=\"{drift}\"")));
    let (status, _, _) = demo
        .send(Request::get("/alerts/999999").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn buttons_acknowledge_snooze_and_wake(backend: Backend) {
    let demo = Demo::new(backend).await;
    let (drift, _) = raise(&demo).await;
    let page = demo.get(&format!("/alerts/{drift}")).await;
    let token = csrf(&page);
    let path = format!("/alerts/{drift}");

    let (status, _, _) = demo
        .send(form(&path, "csrf=forged&action=ack".into()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged form is refused");
    assert_eq!(
        demo.store.alert(drift).await.unwrap().unwrap().acked_at,
        None
    );

    let (status, headers, _) = demo
        .send(form(&path, format!("csrf={token}&action=ack")))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/alerts/{drift}?done=ack")
    );
    let acked = demo.store.alert(drift).await.unwrap().unwrap();
    assert_eq!(acked.acked_by.as_deref(), Some("dashboard"));
    let page = demo.get(&format!("/alerts/{drift}?done=ack")).await;
    assert!(page.contains("Acknowledged."));
    assert!(page.contains("acknowledged by dashboard"));
    assert!(
        !page.contains("class=\"ack\""),
        "no second acknowledge button"
    );

    demo.send(form(&path, format!("csrf={token}&action=snooze&hours=24")))
        .await;
    let snoozed = demo.store.alert(drift).await.unwrap().unwrap();
    let until = snoozed.snoozed_until.unwrap();
    assert!(
        (until - Utc::now() - Duration::hours(24))
            .num_seconds()
            .abs()
            < 60
    );
    assert!(demo.get("/alerts").await.contains("snoozed until"));

    let (status, _, _) = demo
        .send(form(
            &path,
            format!("csrf={token}&action=snooze&hours=100000"),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "snoozes are bounded");

    demo.send(form(&path, format!("csrf={token}&action=wake")))
        .await;
    assert_eq!(
        demo.store
            .alert(drift)
            .await
            .unwrap()
            .unwrap()
            .snoozed_until,
        None
    );
}

async fn the_api_lists_and_acts_on_alerts(backend: Backend) {
    let demo = Demo::new(backend).await;
    let (drift, cert) = raise(&demo).await;
    let list = demo.json("/api/v1/alerts").await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&drift) && ids.contains(&cert));
    let one = demo.json(&format!("/api/v1/alerts/{cert}")).await;
    assert_eq!(one["alert"]["evidence"]["days_left"], 2);
    assert_eq!(one["deliveries"].as_array().unwrap().len(), 2);

    let act = |body: &'static str, content_type: &'static str| {
        Request::post(format!("/api/v1/alerts/{cert}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let (status, _, _) = demo
        .send(act(
            r#"{"action":"ack"}"#,
            "application/x-www-form-urlencoded",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "JSON only");
    let (status, _, body) = demo
        .send(act(r#"{"action":"explode"}"#, "application/json"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("ack, snooze or wake"), "{body}");
    let (status, _, body) = demo
        .send(act(r#"{"action":"snooze","hours":2}"#, "application/json"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(answer["alert"]["snoozed_until"].is_string());

    // Resolved alerts are listed only on request.
    demo.store
        .sync_alerts(
            &AlertScope {
                domains: vec!["failing.example".into()],
                rules: vec!["cert-expiring".into()],
            },
            &[],
            &SyncOptions {
                channels: vec![],
                quiet_reopen: Duration::hours(6),
                now: Utc::now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        demo.json("/api/v1/alerts").await.as_array().unwrap().len(),
        1
    );
    let all = demo.json("/api/v1/alerts?state=all").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(
        all[1]["resolved_at"].is_string(),
        "resolved ones last: {all}"
    );
}
