//! Opening an authenticated IMAP session: TCP, implicit TLS or STARTTLS (rustls with ring),
//! the greeting, and LOGIN, each failure turned into an [`Error`] that names the server.

use std::collections::HashSet;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_imap::imap_proto::{Response, Status};
use async_imap::types::Capabilities;
use async_imap::{Client, Session};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{AccountConfig, Password, TlsMode};
use crate::error::Error;

/// The byte stream under the IMAP session: plain TCP or TLS over TCP.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An authenticated session with what we learnt about the server.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) session: Session<Transport>,
    pub(crate) capabilities: Extensions,
    /// The server's hierarchy delimiter, once asked (`Some(None)` for a flat namespace).
    pub(crate) delimiter: Option<Option<String>>,
    /// Folders (server names) known to exist.
    pub(crate) folders: HashSet<String>,
}

/// The extensions this client uses, as the server advertised them after login.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extensions {
    pub(crate) idle: bool,
    pub(crate) moves: bool,
    pub(crate) uidplus: bool,
}

impl From<&Capabilities> for Extensions {
    fn from(capabilities: &Capabilities) -> Self {
        Self {
            idle: capabilities.has_str("IDLE"),
            moves: capabilities.has_str("MOVE"),
            uidplus: capabilities.has_str("UIDPLUS"),
        }
    }
}

/// Runs `fut` with the account's timeout, naming `operation` when it runs out.
pub(crate) async fn within<T>(
    config: &AccountConfig,
    operation: &'static str,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(config.timeout, fut)
        .await
        .map_err(|_| Error::Timeout {
            host: config.host.clone(),
            operation,
            seconds: config.timeout.as_secs(),
        })?
}

/// Maps an async-imap error of `operation` to ours.
pub(crate) fn imap_error(
    config: &AccountConfig,
    operation: &'static str,
) -> impl FnOnce(async_imap::error::Error) -> Error + use<> {
    let host = config.host.clone();
    move |source| Error::Imap {
        host,
        operation,
        source,
    }
}

/// Connects, protects the connection as configured, and logs in.
pub(crate) async fn connect(config: &AccountConfig) -> Result<Connection, Error> {
    if config.tls == TlsMode::Plain && !config.allow_plain {
        return Err(Error::PlainNotAllowed {
            host: config.host.clone(),
        });
    }
    let password = read_password(&config.password)?;
    let tls = match config.tls {
        TlsMode::Plain => None,
        TlsMode::Implicit | TlsMode::StartTls => Some(tls_connector(config)?),
    };
    within(config, "the connection", async {
        let tcp = TcpStream::connect((config.host.as_str(), config.port))
            .await
            .map_err(|source| Error::Connect {
                host: config.host.clone(),
                port: config.port,
                source,
            })?;
        let client = match (config.tls, tls) {
            (TlsMode::Implicit, Some(tls)) => {
                let stream = handshake(config, &tls, tcp).await?;
                let mut client = Client::new(stream);
                read_greeting(config, &mut client).await?;
                client
            }
            (TlsMode::StartTls, Some(tls)) => {
                let mut client = Client::new(Transport::Plain(tcp));
                read_greeting(config, &mut client).await?;
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|_| Error::NoStartTls {
                        host: config.host.clone(),
                    })?;
                let Transport::Plain(tcp) = client.into_inner() else {
                    unreachable!("the STARTTLS client was built over plain TCP")
                };
                Client::new(handshake(config, &tls, tcp).await?)
            }
            _ => {
                let mut client = Client::new(Transport::Plain(tcp));
                read_greeting(config, &mut client).await?;
                client
            }
        };
        let mut session = client
            .login(&config.user, &password)
            .await
            .map_err(|(error, _)| login_error(config, error))?;
        let capabilities = session
            .capabilities()
            .await
            .map_err(imap_error(config, "CAPABILITY"))?;
        Ok(Connection {
            session,
            capabilities: Extensions::from(&capabilities),
            delimiter: None,
            folders: HashSet::new(),
        })
    })
    .await
}

fn read_password(password: &Password) -> Result<String, Error> {
    match password {
        Password::Inline(p) => Ok(p.clone()),
        Password::File(path) => std::fs::read_to_string(path)
            .map(|p| p.trim_end_matches(['\r', '\n']).to_owned())
            .map_err(|source| Error::PasswordFile {
                path: path.clone(),
                source,
            }),
    }
}

fn tls_connector(config: &AccountConfig) -> Result<TlsConnector, Error> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.extra_ca_file {
        let ca_error = |reason: String| Error::CaFile {
            path: path.clone(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no certificate in the file".to_owned()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    // The provider is named here rather than taken from the process default, so that a
    // second provider elsewhere in the dependency graph cannot make this panic.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls {
            host: config.host.clone(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(tls)))
}

async fn handshake(
    config: &AccountConfig,
    tls: &TlsConnector,
    tcp: TcpStream,
) -> Result<Transport, Error> {
    let tls_error = |reason: String| Error::Tls {
        host: config.host.clone(),
        reason,
    };
    let name = ServerName::try_from(config.host.clone())
        .map_err(|e| tls_error(format!("invalid server name: {e}")))?;
    let stream = tls
        .connect(name, tcp)
        .await
        .map_err(|e| tls_error(e.to_string()))?;
    Ok(Transport::Tls(Box::new(stream)))
}

async fn read_greeting(
    config: &AccountConfig,
    client: &mut Client<Transport>,
) -> Result<(), Error> {
    let protocol = |problem: String| Error::Protocol {
        host: config.host.clone(),
        problem,
    };
    let greeting = client
        .read_response()
        .await
        .map_err(|e| imap_error(config, "greeting")(e.into()))?
        .ok_or_else(|| protocol("closed the connection before its greeting".to_owned()))?;
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            outcome,
            ..
        } => Err(protocol(format!(
            "refused the connection: {}",
            outcome.information.as_deref().unwrap_or("no reason given")
        ))),
        other => Err(protocol(format!("unexpected greeting {other:?}"))),
    }
}

fn login_error(config: &AccountConfig, error: async_imap::error::Error) -> Error {
    match error {
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
            Error::AuthFailed {
                user: config.user.clone(),
                host: config.host.clone(),
                reason: server_text(&text)
                    .unwrap_or("the server refused the credentials")
                    .to_owned(),
            }
        }
        other => imap_error(config, "LOGIN")(other),
    }
}

/// The server's human-readable text inside async-imap's `code: …, info: Some("…")` message.
fn server_text(message: &str) -> Option<&str> {
    let start = message.find("info: Some(\"")? + "info: Some(\"".len();
    let rest = &message[start..];
    let text = &rest[..rest.rfind("\")")?];
    // Drop a leading response code such as "[AUTHENTICATIONFAILED] ".
    Some(
        match text.strip_prefix('[').and_then(|t| t.split_once("] ")) {
            Some((_, human)) => human,
            None => text,
        },
    )
}
