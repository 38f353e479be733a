//! Serving a router: plain HTTP (behind a reverse proxy that terminates TLS), or HTTPS
//! with rustls from a PEM certificate chain and key. Both bound the number of connections
//! and the time allowed for headers and handshakes, and stop on the shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// The certificate chain and private key of the built-in TLS, as PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why serving could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The certificate or key file cannot be used.
    #[error("cannot use the TLS certificate {cert} and key {key}: {reason}")]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    /// The listener failed.
    #[error("the HTTP server failed")]
    Io(#[from] std::io::Error),
}

/// How connections are bounded. Every connection speaks HTTP/1.1, or HTTP/2 when TLS
/// negotiates it (ALPN `h2`); no protocol sniffing, so that a silent client is timed out too.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time allowed for the headers of a request, counted from the connection (or the end
    /// of the previous request): a slowloris or idle client is disconnected after it.
    pub header_timeout: Duration,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one ends.
    pub max_connections: usize,
    /// A connection is asked to close (after its current request) once this old, so that
    /// an HTTP/2 client cannot hold a slot for ever.
    pub max_age: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_age: Duration::from_secs(300),
        }
    }
}

/// How long a stopping server waits for the requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish. Each request carries its peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<&TlsFiles>,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let acceptor = match tls {
        Some(files) => Some(TlsAcceptor::from(Arc::new(server_config(files)?))),
        None => None,
    };
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let (stop, stopping) = watch::channel(false);
    let connection = Connection {
        http1: http1_builder(limits),
        http2: http2_builder(),
        acceptor,
        app,
        stopping,
        handshake_timeout: limits.handshake_timeout,
        max_age: limits.max_age,
    };
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = connection.clone();
        tokio::spawn(async move {
            connection.run(tcp, peer).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("stopping with connections still open");
    }
    Ok(())
}

fn http1_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    builder
}

fn http2_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http2_only();
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(16)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}

/// What serving one connection needs; cloned for each.
#[derive(Clone)]
struct Connection {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
    acceptor: Option<TlsAcceptor>,
    app: Router,
    stopping: watch::Receiver<bool>,
    handshake_timeout: Duration,
    max_age: Duration,
}

impl Connection {
    async fn run(self, tcp: TcpStream, peer: SocketAddr) {
        let Some(acceptor) = self.acceptor.clone() else {
            return self.serve(&self.http1, tcp, peer).await;
        };
        // A client that never finishes the handshake must not hold a slot for ever.
        let stream = match tokio::time::timeout(self.handshake_timeout, acceptor.accept(tcp)).await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        let builder = if h2 { &self.http2 } else { &self.http1 };
        self.serve(builder, stream, peer).await;
    }

    async fn serve<I>(&self, builder: &auto::Builder<TokioExecutor>, io: I, peer: SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self
            .app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
        tokio::pin!(conn);
        let result = tokio::select! {
            result = conn.as_mut() => result,
            () = stopped(self.stopping.clone()) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
            () = tokio::time::sleep(self.max_age) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Resolves once the server is stopping.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    let fail = |reason: String| ServeError::Tls {
        cert: files.cert.clone(),
        key: files.key.clone(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no certificate in the certificate file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| fail(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| fail(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| fail(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
