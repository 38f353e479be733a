//! The STARTTLS probe of one MX address (RFC 8461 §4.2, RFC 3207).
//!
//! Connect to port 25, read the greeting, EHLO, look for STARTTLS, upgrade with SNI set to
//! the MX name, record the TLS version and certificate, then QUIT. No mail is sent.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio_rustls::TlsConnector;

use crate::checker::Context;
use crate::fetch;
use crate::report::AddressProbe;
use crate::tls;

/// Longest reply line accepted.
const MAX_LINE: u64 = 4096;
/// Most lines in one multi-line reply.
const MAX_LINES: usize = 100;

/// Where the probe of one address stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No TCP connection.
    Unreachable,
    /// Connected, but the greeting or EHLO failed.
    Smtp,
    /// EHLO did not list STARTTLS.
    NoStartTls,
    /// STARTTLS was refused or the handshake failed.
    Tls,
}

/// Probes `ip` for the MX host `host`. The address must already be vetted.
pub(crate) async fn probe(
    ctx: &Context,
    host: &str,
    ip: IpAddr,
) -> (AddressProbe, Option<Failure>) {
    let mut probe = AddressProbe::new(ip);
    let failure = run(ctx, host, ip, &mut probe).await.err();
    (probe, failure)
}

async fn run(
    ctx: &Context,
    host: &str,
    ip: IpAddr,
    probe: &mut AddressProbe,
) -> Result<(), Failure> {
    let addr = SocketAddr::new(ip, ctx.config.smtp_port);
    let wait = ctx.config.smtp_timeout;
    let stream = fetch::connect(addr, ctx.config.connect_timeout)
        .await
        .map_err(|e| {
            fail(
                probe,
                Failure::Unreachable,
                format!("could not connect to {addr}: {e}"),
            )
        })?;
    probe.connected = true;
    let mut reader = BufReader::new(stream);

    let greeting = read_reply(&mut reader, wait).await.map_err(|e| {
        fail(
            probe,
            Failure::Smtp,
            format!("no SMTP greeting from {addr}: {e}"),
        )
    })?;
    probe.banner = Some(greeting.text());
    if greeting.code != 220 {
        return Err(fail(
            probe,
            Failure::Smtp,
            format!(
                "{addr} greeted with `{}` instead of 220",
                greeting.first_line()
            ),
        ));
    }

    let ehlo = command(&mut reader, &format!("EHLO {}", ctx.config.ehlo_name), wait)
        .await
        .map_err(|e| fail(probe, Failure::Smtp, format!("EHLO to {addr} failed: {e}")))?;
    if ehlo.code != 250 {
        return Err(fail(
            probe,
            Failure::Smtp,
            format!("{addr} answered EHLO with `{}`", ehlo.first_line()),
        ));
    }
    let offered = ehlo.lines.iter().skip(1).any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
    });
    probe.starttls_offered = Some(offered);
    if !offered {
        let _ = command(&mut reader, "QUIT", wait).await;
        return Err(fail(
            probe,
            Failure::NoStartTls,
            format!("{addr} does not list STARTTLS in its EHLO reply"),
        ));
    }

    let reply = command(&mut reader, "STARTTLS", wait).await.map_err(|e| {
        fail(
            probe,
            Failure::Tls,
            format!("STARTTLS to {addr} failed: {e}"),
        )
    })?;
    if reply.code != 220 {
        return Err(fail(
            probe,
            Failure::Tls,
            format!(
                "{addr} offered STARTTLS but answered it with `{}`",
                reply.first_line()
            ),
        ));
    }

    let (config, verifier) = ctx
        .trust
        .client_config(host, false)
        .map_err(|e| fail(probe, Failure::Tls, e.to_string()))?;
    let server_name = ServerName::try_from(host.to_owned()).map_err(|_| {
        fail(
            probe,
            Failure::Tls,
            format!("{host} is not a valid TLS server name"),
        )
    })?;
    let handshake = TlsConnector::from(config).connect(server_name, reader.into_inner());
    let tls = match tokio::time::timeout(wait, handshake).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            let detail = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .map(tls::describe_error)
                .unwrap_or_else(|| e.to_string());
            return Err(fail(
                probe,
                Failure::Tls,
                format!("the TLS handshake with {addr} failed: {detail}"),
            ));
        }
        Err(_) => {
            return Err(fail(
                probe,
                Failure::Tls,
                format!(
                    "the TLS handshake with {addr} did not finish within {} s",
                    wait.as_secs_f64()
                ),
            ));
        }
    };
    probe.tls = Some(tls::session(tls.get_ref().1, &verifier));
    let mut reader = BufReader::new(tls);
    let _ = command(&mut reader, "QUIT", wait).await;
    let _ = reader.get_mut().shutdown().await;
    Ok(())
}

fn fail(probe: &mut AddressProbe, failure: Failure, message: String) -> Failure {
    probe.error = Some(message);
    failure
}

/// A complete SMTP reply.
#[derive(Clone, Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn first_line(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.first().map(String::as_str).unwrap_or_default()
        )
    }

    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

async fn command<S>(reader: &mut BufReader<S>, line: &str, wait: Duration) -> Result<Reply, String>
where
    S: AsyncWrite + tokio::io::AsyncRead + Unpin,
{
    let send = async {
        reader
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        reader.get_mut().flush().await
    };
    match tokio::time::timeout(wait, send).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("the write timed out".to_owned()),
    }
    read_reply(reader, wait).await
}

/// Reads a possibly multi-line reply (`250-…` continued, `250 …` last).
async fn read_reply<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    wait: Duration,
) -> Result<Reply, String> {
    let read = async {
        let mut code = None;
        let mut lines = Vec::new();
        loop {
            let mut raw = Vec::new();
            (&mut *reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut raw)
                .await
                .map_err(|e| e.to_string())?;
            if raw.is_empty() {
                return Err("the server closed the connection".to_owned());
            }
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\r', '\n']);
            let this_code = text
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .ok_or_else(|| format!("`{text}` is not an SMTP reply"))?;
            if code.is_some_and(|c| c != this_code) {
                return Err(format!("reply codes change within one reply at `{text}`"));
            }
            code = Some(this_code);
            lines.push(text.get(4..).unwrap_or_default().to_owned());
            let last = text.as_bytes().get(3) != Some(&b'-');
            if last {
                return Ok(Reply {
                    code: this_code,
                    lines,
                });
            }
            if lines.len() >= MAX_LINES {
                return Err("the reply has too many lines".to_owned());
            }
        }
    };
    match tokio::time::timeout(wait, read).await {
        Ok(result) => result,
        Err(_) => Err(format!("no reply within {} s", wait.as_secs_f64())),
    }
}
