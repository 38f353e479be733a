//! The webhook channel: one signed JSON POST per notification, over HTTP/1.1 with hyper,
//! and rustls (ring) for `https`, trusting the public roots and an optional extra CA.
//!
//! The URL is never put in logs or errors: it may carry a token.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tlsrpt_store::PendingDelivery;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::NotifyError;
use crate::config::{RetryConfig, WebhookConfig, read_secret};
use crate::payload::{Links, Payload, signature};
use crate::retry::Attempt;

/// A configured webhook, ready to send.
pub(crate) struct Webhook {
    pub channel: String,
    target: Target,
    secret: Vec<u8>,
    timeout: Duration,
    pub retry: RetryConfig,
}

/// Where requests go.
struct Target {
    uri: Uri,
    host: String,
    port: u16,
    /// `None` for plain `http`.
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("channel", &self.channel)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    pub(crate) fn new(config: &WebhookConfig) -> Result<Self, NotifyError> {
        let channel = config.channel();
        let bad = |why: String| NotifyError::Config(format!("{channel}: {why}"));
        if config.name.is_empty() || config.name.contains(char::is_whitespace) {
            return Err(bad("the name must be non-empty, without spaces".to_owned()));
        }
        let secret = read_secret(
            &channel,
            config.secret.as_ref(),
            config.secret_file.as_deref(),
        )?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("a secret (or secret_file) is required to sign requests".to_owned()))?;
        // The URL itself stays out of the message: it may hold a token.
        let uri: Uri = config
            .url
            .parse()
            .map_err(|_| bad("the url is not a valid URL".to_owned()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("the url must start with http:// or https://".to_owned())),
        };
        let host = uri
            .host()
            .ok_or_else(|| bad("the url has no host".to_owned()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = https
            .then(|| connector(config.ca_file.as_deref()).map_err(bad))
            .transpose()?;
        Ok(Self {
            channel,
            target: Target {
                uri,
                host,
                port,
                tls,
            },
            secret: secret.into_bytes(),
            timeout: config.timeout(),
            retry: config.retry.clone(),
        })
    }

    /// The longest one request may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `delivery` and says what came of it.
    pub(crate) async fn send(
        &self,
        delivery: &PendingDelivery,
        links: Option<Links>,
        now: DateTime<Utc>,
    ) -> Attempt {
        let payload = Payload::new(delivery, links, now);
        let body = match serde_json::to_vec(&payload) {
            Ok(body) => body,
            Err(e) => return Attempt::GiveUp(format!("encoding the payload: {e}")),
        };
        let timestamp = now.timestamp();
        let request = match self.request(delivery, timestamp, body) {
            Ok(request) => request,
            Err(e) => return Attempt::GiveUp(format!("building the request: {e}")),
        };
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Err(_) => Attempt::retry(format!("no answer within {:?}", self.timeout)),
            Ok(Err(error)) => Attempt::retry(error),
            Ok(Ok((status, retry_after))) => judge(status, retry_after),
        }
    }

    fn request(
        &self,
        delivery: &PendingDelivery,
        timestamp: i64,
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
        let uri = &self.target.uri;
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Request::post(path)
            .header(header::HOST, authority)
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("tlsrpt/", env!("CARGO_PKG_VERSION")),
            )
            .header("X-Tlsrpt-Event", delivery.event.as_str())
            .header("X-Tlsrpt-Delivery", delivery.id.to_string())
            .header("X-Tlsrpt-Timestamp", timestamp.to_string())
            .header(
                "X-Tlsrpt-Signature",
                signature(&self.secret, timestamp, &body),
            )
            .body(Full::new(Bytes::from(body)))
    }

    /// Connects, sends the request, and returns the status and `Retry-After`.
    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Option<Duration>), String> {
        let target = &self.target;
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        match &target.tls {
            None => round_trip(TokioIo::new(tcp), request).await,
            Some(connector) => {
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| format!("server name: {e}"))?;
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                round_trip(TokioIo::new(tls), request).await
            }
        }
    }
}

/// One request on a fresh connection, driving the connection while waiting.
async fn round_trip<I>(
    io: I,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Option<Duration>), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let mut connection = std::pin::pin!(connection);
    let response = tokio::select! {
        response = sender.send_request(request) => response.map_err(|e| format!("HTTP: {e}"))?,
        closed = &mut connection => {
            return Err(match closed {
                Ok(()) => "the connection closed before an answer".to_owned(),
                Err(e) => format!("HTTP: {e}"),
            });
        }
    };
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    Ok((response.status(), retry_after))
}

/// 2xx delivered; 408, 429 and 5xx retried; anything else given up.
fn judge(status: StatusCode, retry_after: Option<Duration>) -> Attempt {
    let error = format!("HTTP status {status}");
    if status.is_success() {
        Attempt::Delivered
    } else if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        Attempt::Retry {
            error,
            after: retry_after,
        }
    } else {
        Attempt::GiveUp(error)
    }
}

/// `Retry-After`: a number of seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A TLS connector trusting the public roots and the certificates of `ca_file`.
fn connector(ca_file: Option<&std::path::Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("reading the CA file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("no certificate in the CA file {}", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("a certificate of {}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_judged() {
        assert_eq!(judge(StatusCode::NO_CONTENT, None), Attempt::Delivered);
        assert!(matches!(
            judge(StatusCode::BAD_GATEWAY, None),
            Attempt::Retry { .. }
        ));
        assert!(matches!(
            judge(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(9))),
            Attempt::Retry { after: Some(d), .. } if d.as_secs() == 9
        ));
        assert!(matches!(
            judge(StatusCode::REQUEST_TIMEOUT, None),
            Attempt::Retry { .. }
        ));
        assert_eq!(
            judge(StatusCode::GONE, None),
            Attempt::GiveUp("HTTP status 410 Gone".to_owned())
        );
        assert!(matches!(
            judge(StatusCode::MOVED_PERMANENTLY, None),
            Attempt::GiveUp(_)
        ));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        let soon = SystemTime::now() + Duration::from_secs(600);
        let parsed = parse_retry_after(&httpdate::fmt_http_date(soon)).unwrap();
        assert!((598..=600).contains(&parsed.as_secs()), "{parsed:?}");
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("later"), None);
    }
}
