//! `POST /tlsrpt[/{token}]`: 200 only once stored, duplicates 200 too, 400 with a JSON
//! reason for what is not a report, 413 over the size limit, 415 for other media types,
//! 403 without a valid token, 503 when the database cannot take the report.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tlsrpt_store::{StatsFilter, Store};
use tlsrpt_web::{IngestState, Tokens};
use tower::ServiceExt;

const TOKEN: &str = "k3y-for-example-com_0001";

struct Endpoint {
    _dir: tempfile::TempDir,
    store: Store,
    app: Router,
}

impl Endpoint {
    async fn new(tokens: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap();
        let state = IngestState {
            store: store.clone(),
            tokens: Arc::new(Tokens::parse(tokens.iter().copied()).unwrap()),
            limits: tlsrpt_ingest::Limits::default(),
        };
        let app = tlsrpt_web::router(state, 64 * 1024, Duration::from_secs(5));
        Self {
            _dir: dir,
            store,
            app,
        }
    }

    async fn post(&self, uri: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }

    async fn successful_sessions(&self) -> i64 {
        self.store
            .stats(&StatsFilter::default())
            .await
            .unwrap()
            .iter()
            .map(|d| d.successful_sessions)
            .sum()
    }
}

fn report(id: &str, domain: &str, sessions: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "organization-name": "Stalwart",
        "date-range": {"start-datetime": "2026-03-01T00:00:00Z", "end-datetime": "2026-03-01T23:59:59Z"},
        "contact-info": null,
        "report-id": id,
        "policies": [{
            "policy": {"policy-type": "sts", "policy-domain": domain, "mx-host": ["mx.example.com"]},
            "summary": {"total-successful-session-count": sessions, "total-failure-session-count": 0},
            "failure-details": []
        }]
    }))
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_report_is_stored_then_acknowledged_and_a_repeat_is_a_duplicate() {
    let endpoint = Endpoint::new(&[]).await;
    let body = gzip(&report("r-1", "example.com", 7));
    let (status, answer) = endpoint
        .post("/tlsrpt", "application/tlsrpt+gzip", body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"stored": 1, "duplicates": 0}));
    assert_eq!(endpoint.successful_sessions().await, 7);

    let (status, answer) = endpoint
        .post("/tlsrpt", "application/tlsrpt+gzip", body)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"stored": 0, "duplicates": 1}));
    assert_eq!(endpoint.successful_sessions().await, 7);
}

#[tokio::test]
async fn a_json_report_with_a_charset_parameter_is_accepted() {
    let endpoint = Endpoint::new(&[]).await;
    let (status, answer) = endpoint
        .post(
            "/tlsrpt",
            "application/tlsrpt+json; charset=utf-8",
            report("r-2", "example.com", 3),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(endpoint.successful_sessions().await, 3);
}

#[tokio::test]
async fn a_body_that_is_not_a_report_gets_400_with_the_reason_and_is_kept() {
    let endpoint = Endpoint::new(&[]).await;
    let (status, answer) = endpoint
        .post(
            "/tlsrpt",
            "application/tlsrpt+json",
            br#"{"policies":[]}"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer,
        json!({"error": "not a TLS report: report-id is missing"})
    );
    let rejected = endpoint.store.rejected_inputs(10).await.unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].source, "https");
    assert_eq!(
        endpoint.store.input_bytes(rejected[0].id).await.unwrap(),
        Some(br#"{"policies":[]}"#.to_vec())
    );
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let endpoint = Endpoint::new(&[]).await;
    let (status, _) = endpoint
        .post("/tlsrpt", "application/tlsrpt+gzip", vec![0x1f; 65 * 1024])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_before_the_body_is_read() {
    let endpoint = Endpoint::new(&[]).await;
    let request = Request::post("/tlsrpt")
        .header(header::CONTENT_TYPE, "application/tlsrpt+gzip")
        .header(header::CONTENT_LENGTH, "2147483648")
        .body(Body::from(vec![0u8; 10]))
        .unwrap();
    let response = endpoint.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn another_media_type_gets_415() {
    let endpoint = Endpoint::new(&[]).await;
    let (status, answer) = endpoint
        .post("/tlsrpt", "text/plain", report("r-3", "example.com", 1))
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(answer["error"].as_str().unwrap().contains("text/plain"));
    assert_eq!(endpoint.successful_sessions().await, 0);
}

#[tokio::test]
async fn with_tokens_only_a_valid_token_for_the_reports_domain_is_accepted() {
    let endpoint = Endpoint::new(&[&format!("example.com={TOKEN}")]).await;
    let body = report("r-4", "example.com", 5);
    let (status, _) = endpoint
        .post("/tlsrpt", "application/tlsrpt+json", body.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    let (status, _) = endpoint
        .post(
            "/tlsrpt/wrong-token-000000000000",
            "application/tlsrpt+json",
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "wrong token");
    let (status, answer) = endpoint
        .post(
            &format!("/tlsrpt/{TOKEN}"),
            "application/tlsrpt+json",
            report("r-5", "other.example", 5),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another domain");
    assert_eq!(
        answer,
        json!({"error": "this token may only report on example.com, not on other.example"})
    );
    assert_eq!(endpoint.successful_sessions().await, 0);

    let (status, _) = endpoint
        .post(&format!("/tlsrpt/{TOKEN}"), "application/tlsrpt+json", body)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(endpoint.successful_sessions().await, 5);
}

#[tokio::test]
async fn an_unavailable_database_gets_503_with_retry_after() {
    let endpoint = Endpoint::new(&[]).await;
    endpoint.store.close().await;
    let request = Request::post("/tlsrpt")
        .header(header::CONTENT_TYPE, "application/tlsrpt+json")
        .body(Body::from(report("r-6", "example.com", 1)))
        .unwrap();
    let response = endpoint.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "60");
}

#[tokio::test]
async fn health_follows_the_database() {
    let endpoint = Endpoint::new(&[]).await;
    let get = || Request::get("/healthz").body(Body::empty()).unwrap();
    let response = endpoint.app.clone().oneshot(get()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    endpoint.store.close().await;
    let response = endpoint.app.clone().oneshot(get()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// Posts that arrive together are committed together: 40 at once, 20 of them the same
/// report, are each answered 200 once stored with what became of their own report, and
/// the shared report is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_posts_are_each_answered_and_a_repeat_among_them_is_stored_once() {
    let endpoint = Arc::new(Endpoint::new(&[]).await);
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..40 {
        let endpoint = endpoint.clone();
        let shared = i % 2 == 0;
        let id = if shared {
            "shared".to_owned()
        } else {
            format!("own-{i}")
        };
        posts.spawn(async move {
            let json = report(&id, "example.com", 1);
            let answer = endpoint
                .post("/tlsrpt", "application/tlsrpt+json", json)
                .await;
            (shared, answer)
        });
    }
    let mut shared_stored = 0;
    while let Some(answer) = posts.join_next().await {
        let (shared, (status, body)) = answer.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        let counts = (body["stored"].as_u64(), body["duplicates"].as_u64());
        if shared {
            assert!(
                counts == (Some(1), Some(0)) || counts == (Some(0), Some(1)),
                "{body}"
            );
            shared_stored += counts.0.unwrap();
        } else {
            assert_eq!(counts, (Some(1), Some(0)), "its own report: {body}");
        }
    }
    assert_eq!(shared_stored, 1);
    assert_eq!(endpoint.successful_sessions().await, 21);
}
