//! Fetching `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3).
//!
//! TLS 1.2+ with SNI and DNS-ID verification, a vetted address only (SSRF guard), one
//! GET with no redirect followed, 200 only, 64 KiB at most, all under one deadline.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::checker::Context;
use crate::finding::{Code, Finding, Severity};
use crate::http::{self, HttpError};
use crate::report::PolicyFetchReport;
use crate::tls;

/// Largest policy accepted (RFC 8461 §3.3).
pub(crate) const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Fetches the policy of `domain`. Returns the body when the server answered 200 with a
/// body within the limit; every problem is pushed to `findings`.
pub(crate) async fn fetch_policy(
    ctx: &Context,
    domain: &str,
    report: &mut PolicyFetchReport,
    findings: &mut Vec<Finding>,
) -> Option<Vec<u8>> {
    let host = format!("mta-sts.{domain}");
    report.url = format!("https://{host}/.well-known/mta-sts.txt");
    let deadline = ctx.config.policy_deadline;
    let outcome = tokio::time::timeout(deadline, fetch(ctx, &host, report, findings)).await;
    let problem = match outcome {
        Ok(Ok(body)) => return Some(body),
        Ok(Err(problem)) => problem,
        Err(_) => Problem::Fetch(format!(
            "{} did not deliver a complete policy within {}",
            report.url,
            seconds(deadline)
        )),
    };
    if let Some(finding) = problem.into_finding(&report.url, &host) {
        report.error = Some(finding.message.clone());
        findings.push(finding);
    }
    None
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Why the fetch stopped.
enum Problem {
    /// Findings were already pushed (SSRF guard).
    Reported,
    Dns(String),
    Fetch(String),
    Tls(String),
    TooLarge(String),
    Redirect(u16, Option<String>),
    Status(u16),
}

impl Problem {
    fn into_finding(self, url: &str, host: &str) -> Option<Finding> {
        let finding = match self {
            Self::Reported => return None,
            Self::Dns(reason) => Finding::new(
                Code::DnsTemporaryFailure,
                Severity::Error,
                format!(
                    "The address lookup of the policy host {host} failed temporarily: {reason}."
                ),
                "Nothing can be concluded about the policy until DNS answers. Check that the \
                 authoritative servers for the domain answer A and AAAA queries, then run the \
                 check again.",
            ),
            Self::Fetch(reason) => Finding::new(
                Code::PolicyFetchFailed,
                Severity::Error,
                format!("The policy could not be fetched: {reason}."),
                format!(
                    "Senders that find the _mta-sts record fetch {url}. Make sure {host} \
                     resolves to a web server that answers HTTPS on port 443 and serves the \
                     policy at that path."
                ),
            ),
            Self::Tls(reason) => Finding::new(
                Code::PolicyTlsInvalid,
                Severity::Error,
                format!("The TLS connection to the policy host failed: {reason}."),
                format!(
                    "Senders must validate {host} like any HTTPS site: install a certificate \
                     from a public CA whose subjectAltName lists {host} (or *.{}), with its \
                     intermediate certificates, and renew it before it expires.",
                    host.strip_prefix("mta-sts.").unwrap_or(host)
                ),
            ),
            Self::TooLarge(reason) => Finding::new(
                Code::PolicyTooLarge,
                Severity::Error,
                format!("The policy at {url} is too large: {reason}."),
                "Senders stop reading after 64 KiB. A policy needs only a few lines: version, \
                 mode, max_age and one mx line per MX host or wildcard.",
            ),
            Self::Redirect(status, location) => Finding::new(
                Code::PolicyRedirect,
                Severity::Error,
                match location {
                    Some(location) => format!(
                        "{url} answered HTTP {status} with Location: {location}; senders do \
                         not follow redirects, so they find no policy."
                    ),
                    None => format!(
                        "{url} answered HTTP {status} (a redirect, without Location); senders \
                         do not follow redirects, so they find no policy."
                    ),
                },
                format!(
                    "Serve the policy directly at {url} with status 200. Exempt \
                     /.well-known/mta-sts.txt from any HTTP-to-HTTPS, www or path redirect on \
                     {host}."
                ),
            ),
            Self::Status(status) => Finding::new(
                Code::PolicyHttpStatus,
                Severity::Error,
                format!("{url} answered HTTP {status}; only 200 counts as a policy."),
                format!("Serve the policy file at {url} with status 200 OK."),
            ),
        };
        Some(finding)
    }
}

async fn fetch(
    ctx: &Context,
    host: &str,
    report: &mut PolicyFetchReport,
    findings: &mut Vec<Finding>,
) -> Result<Vec<u8>, Problem> {
    let addresses = ctx.dns.addresses(host).await;
    report.addresses = addresses.ips.clone();
    if addresses.ips.is_empty() {
        if let Some((rtype, reason)) = addresses.failures.first() {
            return Err(Problem::Dns(format!("{rtype}: {reason}")));
        }
        let why = if addresses.nxdomain {
            "does not exist (NXDOMAIN)"
        } else {
            "has no A or AAAA record"
        };
        return Err(Problem::Fetch(format!("{host} {why}")));
    }
    let mut usable = Vec::new();
    for ip in &addresses.ips {
        match ctx.refuse(*ip) {
            Some(reason) => findings.push(Finding::new(
                Code::AddressNotPublic,
                Severity::Error,
                format!(
                    "The policy host {host} resolves to {ip}, a {reason} address; the checker \
                     did not connect to it."
                ),
                format!(
                    "Publish only public addresses for {host}: senders on the internet cannot \
                     reach {ip}. (When checking a lab network on purpose, run with \
                     --allow-private-addresses.)"
                ),
            )),
            None => usable.push(*ip),
        }
    }
    if usable.is_empty() {
        return Err(Problem::Reported);
    }

    let (stream, addr) = connect_any(&usable, ctx.config.https_port, ctx.config.connect_timeout)
        .await
        .map_err(|failures| {
            let list: Vec<String> = failures.iter().map(|(a, e)| format!("{a} ({e})")).collect();
            Problem::Fetch(format!("no connection to {host}: {}", list.join(", ")))
        })?;
    report.connected_to = Some(addr);

    let (config, verifier) = ctx
        .trust
        .client_config(host, true)
        .map_err(|e| Problem::Tls(e.to_string()))?;
    let server_name = ServerName::try_from(host.to_owned())
        .map_err(|_| Problem::Fetch(format!("{host} is not a valid TLS server name")))?;
    let tls = match TlsConnector::from(config)
        .connect(server_name, stream)
        .await
    {
        Ok(tls) => tls,
        Err(e) => {
            let certificate = verifier.certificate();
            let reason = certificate
                .as_ref()
                .and_then(|c| tls::certificate_problem(c, host))
                .unwrap_or_else(|| handshake_error(&e, addr));
            return Err(Problem::Tls(reason));
        }
    };
    report.tls = Some(tls::session(tls.get_ref().1, &verifier));

    let mut stream = BufReader::new(tls);
    let request = format!(
        "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tlsrpt-check/{}\r\n\
         Accept: text/plain\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let io_problem = |e: io::Error| Problem::Fetch(format!("error talking to {addr}: {e}"));
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .map_err(io_problem)?;
    stream.get_mut().flush().await.map_err(io_problem)?;

    let head = http::read_head(&mut stream).await.map_err(http_problem)?;
    report.http_status = Some(head.status);
    report.content_type = head.header("content-type").map(str::to_owned);
    report.location = head.header("location").map(str::to_owned);
    match head.status {
        200 => {}
        300..=399 => return Err(Problem::Redirect(head.status, report.location.clone())),
        other => return Err(Problem::Status(other)),
    }
    let framing = head.framing().map_err(http_problem)?;
    let body = http::read_body(&mut stream, framing, MAX_POLICY_BYTES)
        .await
        .map_err(http_problem)?;
    report.body = Some(String::from_utf8_lossy(&body).into_owned());
    content_type_finding(report, &report.url.clone(), findings);
    Ok(body)
}

fn http_problem(e: HttpError) -> Problem {
    match e {
        HttpError::TooLarge { .. } | HttpError::DeclaredTooLarge { .. } => {
            Problem::TooLarge(e.to_string())
        }
        other => Problem::Fetch(other.to_string()),
    }
}

fn content_type_finding(report: &PolicyFetchReport, url: &str, findings: &mut Vec<Finding>) {
    let media_type = report.content_type.as_deref().map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    if media_type.as_deref() == Some("text/plain") {
        return;
    }
    let served = match &report.content_type {
        Some(ct) => format!("with Content-Type: {ct}"),
        None => "without a Content-Type header".to_owned(),
    };
    findings.push(Finding::new(
        Code::PolicyContentType,
        Severity::Warning,
        format!("{url} is served {served}; RFC 8461 specifies text/plain."),
        "Most senders accept it anyway, but a strict one may not. Configure the web server \
         to send Content-Type: text/plain for /.well-known/mta-sts.txt.",
    ));
}

fn handshake_error(e: &io::Error, addr: SocketAddr) -> String {
    let detail = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(tls::describe_error)
        .unwrap_or_else(|| e.to_string());
    format!("the TLS handshake with {addr} failed: {detail}")
}

/// Connects to the first address that accepts, each within `timeout`.
pub(crate) async fn connect_any(
    ips: &[IpAddr],
    port: u16,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), Vec<(SocketAddr, String)>> {
    let mut failures = Vec::new();
    for ip in ips {
        let addr = SocketAddr::new(*ip, port);
        match connect(addr, timeout).await {
            Ok(stream) => return Ok((stream, addr)),
            Err(e) => failures.push((addr, e)),
        }
    }
    Err(failures)
}

/// One TCP connect within `timeout`, with the error in plain words.
pub(crate) async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            Err("connection refused".to_owned())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}", seconds(timeout))),
    }
}
