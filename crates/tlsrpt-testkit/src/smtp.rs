//! A real SMTP sink on a random loopback port: speaks enough ESMTP for a client (EHLO/HELO,
//! optional STARTTLS with a throwaway CA, optional AUTH PLAIN, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT) and records each message with its envelope.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::localhost_tls::acceptor;

/// How the sink behaves.
#[derive(Debug, Clone, Default)]
pub struct SmtpSinkOptions {
    /// Offer STARTTLS, with a certificate for `localhost` and `127.0.0.1` from a fresh CA
    /// ([`SmtpSink::ca_pem`]).
    pub starttls: bool,
    /// Require AUTH PLAIN with this user and password before MAIL.
    pub auth: Option<(String, String)>,
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The MAIL FROM address, without angle brackets.
    pub mail_from: String,
    /// The RCPT TO addresses, in order.
    pub rcpt_to: Vec<String>,
    /// The message, dot-unstuffed, with CRLF line ends and without the final `.` line.
    pub data: Vec<u8>,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    /// Whether the session was upgraded with STARTTLS.
    pub tls: bool,
}

impl ReceivedMail {
    /// The decoded header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(&self.data)?;
        let value = message.header(name)?;
        Some(match value {
            mail_parser::HeaderValue::Text(text) => text.to_string(),
            mail_parser::HeaderValue::TextList(list) => list.join(", "),
            other => format!("{other:?}"),
        })
    }

    /// The decoded plain-text body (of a multipart message, its first text part).
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    /// The decoded HTML body, if the message has one.
    pub fn html(&self) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(&self.data)?;
        message.html_part(0)?;
        message.body_html(0).map(|t| t.into_owned())
    }
}

/// A running sink; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    messages: Arc<Mutex<Vec<ReceivedMail>>>,
    ca_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

struct Settings {
    tls: Option<TlsAcceptor>,
    auth: Option<(String, String)>,
}

impl SmtpSink {
    /// A sink without TLS or AUTH (inside a tokio runtime).
    pub async fn start() -> Self {
        Self::start_with(SmtpSinkOptions::default()).await
    }

    pub async fn start_with(options: SmtpSinkOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tls, ca_pem) = if options.starttls {
            let (acceptor, ca) = acceptor();
            (Some(acceptor), Some(ca))
        } else {
            (None, None)
        };
        let settings = Arc::new(Settings {
            tls,
            auth: options.auth,
        });
        let messages = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&messages);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let settings = Arc::clone(&settings);
                let messages = Arc::clone(&shared);
                tokio::spawn(async move {
                    let _ = session(stream, &settings, &messages).await;
                });
            }
        });
        Self {
            addr,
            messages,
            ca_pem,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The PEM of the CA that signed the STARTTLS certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The envelope being built.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn session(
    stream: TcpStream,
    settings: &Settings,
    messages: &Mutex<Vec<ReceivedMail>>,
) -> std::io::Result<()> {
    let mut conn: BufReader<Box<dyn Io>> = BufReader::new(Box::new(stream));
    let mut tls = false;
    let mut user: Option<String> = None;
    let mut envelope = Envelope::default();
    reply(&mut conn, "220 sink.test ESMTP test sink").await?;
    loop {
        let Some(line) = read_line(&mut conn).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or_default();
        match verb {
            "EHLO" => {
                let mut lines = vec!["250-sink.test", "250-8BITMIME", "250-PIPELINING"];
                if settings.tls.is_some() && !tls {
                    lines.push("250-STARTTLS");
                }
                if settings.auth.is_some() {
                    lines.push("250-AUTH PLAIN");
                }
                lines.push("250 SMTPUTF8");
                reply(&mut conn, &lines.join("\r\n")).await?;
            }
            "HELO" => reply(&mut conn, "250 sink.test").await?,
            "STARTTLS" => match &settings.tls {
                Some(acceptor) if !tls => {
                    reply(&mut conn, "220 go ahead").await?;
                    let plain = conn.into_inner();
                    let secured = acceptor.accept(plain).await?;
                    conn = BufReader::new(Box::new(secured));
                    tls = true;
                    user = None;
                    envelope = Envelope::default();
                }
                _ => reply(&mut conn, "502 not offered").await?,
            },
            "AUTH" => {
                let Some(expected) = &settings.auth else {
                    reply(&mut conn, "502 not offered").await?;
                    continue;
                };
                let mut words = line.split_whitespace().skip(1);
                if !words
                    .next()
                    .is_some_and(|m| m.eq_ignore_ascii_case("PLAIN"))
                {
                    reply(&mut conn, "504 only PLAIN").await?;
                    continue;
                }
                let initial = match words.next() {
                    Some(initial) => initial.to_owned(),
                    None => {
                        reply(&mut conn, "334 ").await?;
                        read_line(&mut conn).await?.unwrap_or_default()
                    }
                };
                match plain_credentials(&initial) {
                    Some((u, p)) if (u.as_str(), p.as_str()) == (&expected.0, &expected.1) => {
                        user = Some(u);
                        reply(&mut conn, "235 2.7.0 authenticated").await?;
                    }
                    _ => reply(&mut conn, "535 5.7.8 bad credentials").await?,
                }
            }
            "MAIL" => {
                if settings.auth.is_some() && user.is_none() {
                    reply(&mut conn, "530 5.7.0 authentication required").await?;
                } else {
                    envelope = Envelope {
                        from: Some(address(&line)),
                        to: Vec::new(),
                    };
                    reply(&mut conn, "250 2.1.0 ok").await?;
                }
            }
            "RCPT" => {
                if envelope.from.is_none() {
                    reply(&mut conn, "503 5.5.1 MAIL first").await?;
                } else {
                    envelope.to.push(address(&line));
                    reply(&mut conn, "250 2.1.5 ok").await?;
                }
            }
            "DATA" => {
                if envelope.to.is_empty() {
                    reply(&mut conn, "503 5.5.1 RCPT first").await?;
                    continue;
                }
                reply(&mut conn, "354 end with <CRLF>.<CRLF>").await?;
                let mut data = Vec::new();
                loop {
                    let Some(line) = read_line(&mut conn).await? else {
                        return Ok(());
                    };
                    if line == "." {
                        break;
                    }
                    let line = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(line.as_bytes());
                    data.extend_from_slice(b"\r\n");
                }
                let envelope = std::mem::take(&mut envelope);
                messages.lock().unwrap().push(ReceivedMail {
                    mail_from: envelope.from.unwrap_or_default(),
                    rcpt_to: envelope.to,
                    data,
                    auth_user: user.clone(),
                    tls,
                });
                reply(&mut conn, "250 2.0.0 queued").await?;
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut conn, "250 2.0.0 ok").await?;
            }
            "NOOP" => reply(&mut conn, "250 2.0.0 ok").await?,
            "QUIT" => {
                reply(&mut conn, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(&mut conn, "502 5.5.2 unknown command").await?,
        }
    }
}

/// One line without its line end; `None` at the end of the stream.
async fn read_line(conn: &mut BufReader<Box<dyn Io>>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if conn.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

async fn reply(conn: &mut BufReader<Box<dyn Io>>, text: &str) -> std::io::Result<()> {
    let stream = conn.get_mut();
    stream.write_all(text.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

/// The address in `MAIL FROM:<a@b> …` or `RCPT TO:<a@b>`.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}

/// (user, password) of an AUTH PLAIN response: base64 of `authzid \0 user \0 password`.
fn plain_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let mut parts = decoded.split(|b| *b == 0).skip(1);
    let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let password = String::from_utf8(parts.next()?.to_vec()).ok()?;
    Some((user, password))
}
