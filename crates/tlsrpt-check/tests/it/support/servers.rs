//! The HTTPS policy host and the STARTTLS SMTP servers of the closed network, written with
//! tokio and tokio-rustls, listening on the real ports 443 and 25 of a loopback address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::Acceptor;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

use super::pki::Leaf;

fn server_config(leaf: Leaf) -> Arc<ServerConfig> {
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(leaf.chain, leaf.key)
            .expect("server certificate");
    Arc::new(config)
}

async fn bind(addr: SocketAddr) -> TcpListener {
    TcpListener::bind(addr).await.unwrap_or_else(|e| {
        panic!("bind {addr}: {e} (the tests run as root to use ports 25 and 443)")
    })
}

/// What the policy host answers.
#[derive(Clone, Debug)]
pub enum Respond {
    /// These exact bytes, then close.
    Raw(Vec<u8>),
    /// These bytes, then one byte every interval, forever.
    Drip(Vec<u8>, Duration),
    /// These bytes, then an endless body.
    Endless(Vec<u8>),
}

impl Respond {
    /// 200, text/plain, Content-Length.
    pub fn policy(body: &str) -> Self {
        Self::with_type(body, "text/plain; charset=utf-8")
    }

    /// 200 with the given Content-Type.
    pub fn with_type(body: &str, content_type: &str) -> Self {
        Self::Raw(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    /// A status line and headers, no body.
    pub fn status(status_line: &str, headers: &str) -> Self {
        Self::Raw(
            format!(
                "HTTP/1.1 {status_line}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes(),
        )
    }

    /// 200, text/plain, chunked in pieces of `size` bytes.
    pub fn chunked(body: &str, size: usize) -> Self {
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for piece in body.as_bytes().chunks(size) {
            out.extend(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend(piece);
            out.extend(b"\r\n");
        }
        out.extend(b"0\r\n\r\n");
        Self::Raw(out)
    }
}

/// The SNI name and request line of each connection to the policy host.
pub type RequestLog = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A running HTTPS policy host. It records the SNI and request line of every connection.
pub struct PolicyHost {
    pub seen: RequestLog,
    task: JoinHandle<()>,
}

impl PolicyHost {
    pub async fn start(addr: SocketAddr, leaf: Leaf, respond: Respond) -> Self {
        let listener = bind(addr).await;
        let config = server_config(leaf);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let config = config.clone();
                let respond = respond.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve_https(stream, config, respond, log).await;
                });
            }
        });
        Self { seen, task }
    }

    /// The SNI names received, one per connection.
    pub fn sni(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .expect("log")
            .iter()
            .map(|(sni, _)| sni.clone())
            .collect()
    }
}

impl Drop for PolicyHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_https(
    stream: TcpStream,
    config: Arc<ServerConfig>,
    respond: Respond,
    log: RequestLog,
) -> std::io::Result<()> {
    let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
    let sni = start.client_hello().server_name().map(str::to_owned);
    let tls = start.into_stream(config).await?;
    let mut reader = BufReader::new(tls);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    log.lock()
        .expect("log")
        .push((sni, request_line.trim_end().to_owned()));
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
            break;
        }
    }
    let stream = reader.get_mut();
    match respond {
        Respond::Raw(bytes) => stream.write_all(&bytes).await?,
        Respond::Drip(head, every) => {
            stream.write_all(&head).await?;
            loop {
                tokio::time::sleep(every).await;
                stream.write_all(b"x").await?;
                stream.flush().await?;
            }
        }
        Respond::Endless(head) => {
            stream.write_all(&head).await?;
            let block = vec![b'x'; 8192];
            loop {
                stream.write_all(&block).await?;
            }
        }
    }
    stream.flush().await?;
    stream.shutdown().await
}

/// How an SMTP test server behaves.
pub enum Smtp {
    /// Offers STARTTLS and completes it with this certificate.
    StartTls(Leaf),
    /// Answers EHLO without STARTTLS.
    NoStartTls,
    /// Accepts the connection and never says anything.
    Silent,
    /// Greets with 554.
    Reject,
    /// Offers STARTTLS, then answers it with 454.
    StartTlsRefused,
}

/// A running SMTP server.
pub struct SmtpServer {
    task: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start(addr: SocketAddr, behaviour: Smtp) -> Self {
        let listener = bind(addr).await;
        let behaviour = Arc::new(behaviour);
        let config = match &*behaviour {
            Smtp::StartTls(leaf) => Some(server_config(Leaf {
                chain: leaf.chain.clone(),
                key: leaf.key.clone_key(),
            })),
            _ => None,
        };
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let behaviour = behaviour.clone();
                let config = config.clone();
                tokio::spawn(async move {
                    let _ = serve_smtp(stream, &behaviour, config).await;
                });
            }
        });
        Self { task }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_smtp(
    stream: TcpStream,
    behaviour: &Smtp,
    config: Option<Arc<ServerConfig>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    match behaviour {
        Smtp::Silent => {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink).await;
            return Ok(());
        }
        Smtp::Reject => {
            reader.get_mut().write_all(b"554 5.7.1 go away\r\n").await?;
            return Ok(());
        }
        _ => {}
    }
    reader
        .get_mut()
        .write_all(b"220 mx.test ESMTP ready\r\n")
        .await?;
    let offers_tls = !matches!(behaviour, Smtp::NoStartTls);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        if verb.starts_with("EHLO") {
            let tls = if offers_tls { "250-STARTTLS\r\n" } else { "" };
            let reply = format!("250-mx.test hello\r\n250-PIPELINING\r\n{tls}250 8BITMIME\r\n");
            reader.get_mut().write_all(reply.as_bytes()).await?;
        } else if verb == "STARTTLS" && offers_tls {
            let Some(config) = config else {
                reader
                    .get_mut()
                    .write_all(b"454 4.7.0 TLS not available\r\n")
                    .await?;
                continue;
            };
            reader
                .get_mut()
                .write_all(b"220 2.0.0 go ahead\r\n")
                .await?;
            let tls = TlsAcceptor::from(config)
                .accept(reader.into_inner())
                .await?;
            return after_tls(BufReader::new(tls)).await;
        } else if verb == "QUIT" {
            reader.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            reader.get_mut().write_all(b"502 5.5.2 unknown\r\n").await?;
        }
    }
}

async fn after_tls<S: tokio::io::AsyncRead + AsyncWrite + Unpin>(
    mut reader: BufReader<S>,
) -> std::io::Result<()> {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if line.trim_end().eq_ignore_ascii_case("QUIT") {
            reader.get_mut().write_all(b"221 bye\r\n").await?;
            reader.get_mut().flush().await?;
            return Ok(());
        }
        reader.get_mut().write_all(b"250 ok\r\n").await?;
    }
}
