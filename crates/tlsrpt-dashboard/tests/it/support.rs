//! A dashboard over a fresh store (SQLite file or the test binary's PostgreSQL) loaded
//! with the demo data, and helpers to send it requests.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tlsrpt_dashboard::{Access, Dashboard, Trust, demo};
use tlsrpt_readiness::Thresholds;
use tlsrpt_store::Store;
use tower::ServiceExt as _;

pub use tlsrpt_testkit::Backend;
pub(crate) use tlsrpt_testkit::on_both_backends;

/// A store with the demo data, and the dashboard's router over it.
pub struct Demo {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub app: Router,
}

impl Demo {
    pub async fn new(backend: Backend) -> Self {
        Self::with_access(backend, Access::Open).await
    }

    pub async fn with_access(backend: Backend, access: Access) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&backend.fresh_database_url(dir.path()))
            .await
            .unwrap();
        demo::load(&store, chrono::Utc::now()).await.unwrap();
        let dashboard = Dashboard::new(store.clone(), None, Thresholds::default(), Trust::Trusted);
        let app = tlsrpt_dashboard::router(dashboard, access);
        Self {
            _dir: dir,
            store,
            app,
        }
    }

    /// Sends `request` and returns the status, the headers and the body as text.
    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// `GET path`, expecting 200; returns the body.
    pub async fn get(&self, path: &str) -> String {
        let (status, _, body) = self
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `GET path` as JSON, expecting 200.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.get(path).await).unwrap()
    }
}
