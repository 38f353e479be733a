//! Who may use the dashboard, and what a cross-site form can do: logins compared in
//! constant time, and the re-check button protected by a CSRF token.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use tlsrpt_dashboard::Access;

use crate::support::{Backend, Demo};

#[tokio::test]
async fn a_token_protects_every_page_and_the_api() {
    let demo = Demo::with_access(Backend::Sqlite, Access::Token("s3cret-token".into())).await;
    for path in [
        "/",
        "/domains/ready.example",
        "/api/v1/domains",
        "/export/readiness.json?all=1",
    ] {
        let (status, headers, _) = demo
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
        let (status, _, _) = demo
            .send(
                Request::get(path)
                    .header(header::AUTHORIZATION, "Bearer s3cret-token")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path} with the token");
    }
    let browser = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("me:s3cret-token")
    );
    let (status, _, _) = demo
        .send(
            Request::get("/")
                .header(header::AUTHORIZATION, browser)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a browser logs in with the token as password"
    );
    let (status, _, _) = demo
        .send(
            Request::get("/")
                .header(header::AUTHORIZATION, "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_recheck_button_needs_the_page_token_and_the_same_origin() {
    let demo = Demo::new(Backend::Sqlite).await;
    let page = demo.get("/domains/ready.example").await;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let post = |body: String, origin: &'static str| {
        Request::post("/domains/ready.example/check")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::ORIGIN, origin)
            .body(Body::from(body))
            .unwrap()
    };
    let (status, _, body) = demo
        .send(post("csrf=forged".into(), "http://127.0.0.1:8080"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = demo
        .send(post(format!("csrf={token}"), "https://evil.example"))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "another site's form is refused"
    );
    // With the token and from the page itself, the request goes through; this dashboard
    // has no checker, so it says checks are disabled rather than pretending.
    let (status, _, body) = demo
        .send(post(format!("csrf={token}"), "http://127.0.0.1:8080"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("live checks are disabled"));
}
