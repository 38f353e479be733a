//! The JSON API and the exports: stable keys, and the same verdicts as the pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{Backend, Demo, on_both_backends};

on_both_backends!(
    async: the_readiness_json_has_its_stable_keys,
    exports_come_in_four_formats_with_the_same_verdicts,
);

async fn the_readiness_json_has_its_stable_keys(backend: Backend) {
    let demo = Demo::new(backend).await;
    let readiness = demo.json("/api/v1/domains/ready.example/readiness").await;
    for key in [
        "domain",
        "verdict",
        "window",
        "criteria",
        "projection",
        "plan",
    ] {
        assert!(readiness.get(key).is_some(), "missing {key}: {readiness}");
    }
    assert_eq!(readiness["verdict"], "ready");
    for key in [
        "total_sessions",
        "would_refuse_sessions",
        "unprotected_sessions",
    ] {
        assert!(readiness["projection"][key].is_u64(), "projection.{key}");
    }
    let criterion = &readiness["criteria"][0];
    for key in ["id", "status", "summary", "evidence"] {
        assert!(criterion.get(key).is_some(), "criteria[].{key}");
    }
    let domains = demo.json("/api/v1/domains").await;
    let list = domains.as_array().unwrap();
    assert_eq!(list.len(), 6, "{domains}");
    let failing = list
        .iter()
        .find(|d| d["domain"] == "failing.example")
        .unwrap();
    assert_eq!(failing["verdict"], "blocked");
    assert_eq!(failing["mode"], "testing");
    let checks = demo.json("/api/v1/domains/stale-mx.example/checks").await;
    assert_eq!(checks.as_array().unwrap().len(), 2, "two demo checks");
    let openapi = demo.json("/api/v1/openapi.json").await;
    assert!(openapi["paths"]["/api/v1/domains/{domain}/readiness"].is_object());
    // A check request that is not JSON is refused (a cross-site form cannot send JSON).
    let (status, _, _) = demo
        .send(
            Request::post("/api/v1/domains/ready.example/checks")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn exports_come_in_four_formats_with_the_same_verdicts(backend: Backend) {
    let demo = Demo::new(backend).await;
    let markdown = demo.get("/export/readiness.md?domain=ready.example").await;
    assert!(markdown.contains("ready.example"));
    assert!(markdown.to_lowercase().contains("ready"));
    let all: serde_json::Value =
        serde_json::from_str(&demo.get("/export/readiness.json?all=1").await).unwrap();
    let verdicts: Vec<(&str, &str)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["domain"].as_str().unwrap(),
                a["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        verdicts.contains(&("stale-mx.example", "blocked")),
        "{verdicts:?}"
    );
    assert!(verdicts.contains(&("new.example", "insufficient-data")));
    let csv = demo.get("/export/readiness.csv?all=1").await;
    assert!(csv.lines().count() > 6, "{csv}");
    let (status, headers, html) = demo
        .send(
            Request::get("/export/readiness.html?domain=failing.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("failing.example") && html.contains("<html"));
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let (status, _, _) = demo
        .send(
            Request::get("/export/readiness.exe?all=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
