//! A real HTTP/1.1 webhook receiver (hyper) on a random loopback port, over plain HTTP or
//! HTTPS with a throwaway CA: records every request (method, path, headers, body) and answers 200, or what it was told to answer
//! next (a status with an optional `Retry-After`, or no answer at all).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::localhost_tls::acceptor;

/// One request as received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lowercase names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An answer the receiver was told to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// This status, and `Retry-After: <seconds>` when given.
    Status(u16, Option<u64>),
    /// Read the request, then never answer (until the client gives up).
    Hang,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<ReceivedRequest>,
    script: VecDeque<Reply>,
}

/// A running receiver; it stops when dropped.
#[derive(Debug)]
pub struct WebhookReceiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// The CA of the HTTPS certificate; `None` for plain HTTP.
    ca_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts a plain HTTP receiver answering 200 to everything (inside a tokio runtime).
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Starts an HTTPS receiver, with a certificate for `localhost` from a fresh CA
    /// ([`ca_pem`](Self::ca_pem)).
    pub async fn start_tls() -> Self {
        let (acceptor, ca) = acceptor();
        let mut receiver = Self::start_with(Some(acceptor)).await;
        receiver.ca_pem = Some(ca);
        receiver
    }

    async fn start_with(tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&shared);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        None => http.serve_connection(TokioIo::new(stream), service).await,
                        Some(tls) => match tls.accept(stream).await {
                            Ok(stream) => {
                                http.serve_connection(TokioIo::new(stream), service).await
                            }
                            Err(_) => return,
                        },
                    };
                });
            }
        });
        Self {
            addr,
            state,
            ca_pem: None,
            task,
        }
    }

    /// `http://127.0.0.1:<port>/hook`, or `https://localhost:<port>/hook`.
    pub fn url(&self) -> String {
        match self.ca_pem {
            None => format!("http://{}/hook", self.addr),
            Some(_) => format!("https://localhost:{}/hook", self.addr.port()),
        }
    }

    /// The PEM of the CA that signed the HTTPS certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Answers the next requests with `reply`, `times` times, before going back to 200.
    pub fn then(&self, reply: Reply, times: usize) -> &Self {
        let mut state = self.state.lock().unwrap();
        state.script.extend(std::iter::repeat_n(reply, times));
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let received = ReceivedRequest {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body,
    };
    let reply = {
        let mut state = state.lock().unwrap();
        state.requests.push(received);
        state.script.pop_front().unwrap_or(Reply::Status(200, None))
    };
    match reply {
        Reply::Hang => std::future::pending().await,
        Reply::Status(code, retry_after) => {
            let mut response = Response::builder().status(StatusCode::from_u16(code).unwrap());
            if let Some(seconds) = retry_after {
                response = response.header("retry-after", seconds.to_string());
            }
            Ok(response.body(Full::new(Bytes::new())).unwrap())
        }
    }
}
