//! Abuse of the report endpoint, against the real `tlsrpt serve` over TCP: rate limits per
//! address and per token (429 with Retry-After, nothing stored), `X-Forwarded-For` only
//! from a trusted proxy, a 2 GB Content-Length, slowloris headers and bodies (plain and
//! TLS), a normal POST beside 200 slow connections, and the bound on connections.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Child;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::https::{self, spawn_listening};
use crate::support::{Backend, Reply, Sandbox, on_both_backends, simple_report};

on_both_backends!(async: rate_limits_per_address_refuse_with_429_and_store_nothing,);

const TOKEN: &str = "abuse-token-0123456789";

/// `tlsrpt serve` on plain HTTP; killed when dropped.
struct Plain {
    child: Child,
    port: u16,
}

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_plain(sandbox: &Sandbox, extra: &[&str]) -> Plain {
    let mut command = sandbox.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra);
    let (child, port) = spawn_listening(command);
    Plain { child, port }
}

/// A TCP connection to the server's port from the loopback address `from` (any of
/// 127.0.0.0/8 works on Linux), so that each test client has an address of its own.
async fn connect_from(port: u16, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((Ipv4Addr::from(from), 0)))
        .unwrap();
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap()
}

/// An HTTP/1.1 request with `Connection: close`.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/tlsrpt+json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.to_vec()].concat()
}

/// Sends `request` and reads the whole response (the server closes the connection).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &[u8]) -> Reply {
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
        .await
        .expect("a response within 20 s")
        .unwrap();
    Reply::parse(&response)
}

/// POSTs a small report with id `id` to `path` from `from`.
async fn post_report(
    port: u16,
    from: [u8; 4],
    path: &str,
    id: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let body = simple_report("Abuse Test", id, "example.com", 10);
    exchange(
        connect_from(port, from).await,
        &request("POST", path, headers, &body),
    )
    .await
}

async fn health(port: u16, from: [u8; 4], headers: &[(&str, &str)]) -> u16 {
    let reply = exchange(
        connect_from(port, from).await,
        &request("GET", "/healthz", headers, b""),
    )
    .await;
    reply.status
}

/// The report ids stored, sorted.
fn stored_ids(sandbox: &Sandbox) -> Vec<String> {
    let listed = sandbox.run(["reports", "--json"]).json();
    let mut ids: Vec<String> = listed["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn retry_after(reply: &Reply) -> u64 {
    reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After in {reply:?}"))
        .parse()
        .unwrap()
}

async fn rate_limits_per_address_refuse_with_429_and_store_nothing(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let server = start_plain(&sandbox, &["--rate-limit-per-ip", "3/h"]);
    let client = [127, 0, 0, 2];
    for id in ["r0", "r1", "r2"] {
        let reply = post_report(server.port, client, "/tlsrpt", id, &[]).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let refused = post_report(server.port, client, "/tlsrpt", "r3", &[]).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    // 3/h: the next request is allowed 20 minutes after the burst.
    let wait = retry_after(&refused);
    assert!((1190..=1200).contains(&wait), "Retry-After: {wait}");
    assert!(
        refused
            .body
            .contains("too many requests from this address; retry in"),
        "{refused:?}"
    );

    // A client cannot pick its own address: the peer is no trusted proxy.
    let spoofed = post_report(
        server.port,
        client,
        "/tlsrpt",
        "r4",
        &[("X-Forwarded-For", "198.51.100.77")],
    )
    .await;
    assert_eq!(spoofed.status, 429, "{spoofed:?}");

    // Another address has a bucket of its own.
    let other = post_report(server.port, [127, 0, 0, 3], "/tlsrpt", "r5", &[]).await;
    assert_eq!(other.status, 200, "{other:?}");

    // The refused reports were neither stored nor kept as rejections.
    assert_eq!(stored_ids(&sandbox), ["r0", "r1", "r2", "r5"]);
    assert!(sandbox.rejected().is_empty());
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let sandbox = Sandbox::new();
    let server = start_plain(
        &sandbox,
        &[
            "--rate-limit-per-ip",
            "1/h",
            "--trusted-proxy",
            "127.0.0.10",
        ],
    );
    let proxy = [127, 0, 0, 10];
    let xff = |ip: &'static str| [("X-Forwarded-For", ip)];
    assert_eq!(health(server.port, proxy, &xff("203.0.113.1")).await, 200);
    assert_eq!(health(server.port, proxy, &xff("203.0.113.1")).await, 429);
    assert_eq!(health(server.port, proxy, &xff("203.0.113.2")).await, 200);
    // The hop the proxy appended counts, not what the client wrote before it.
    assert_eq!(
        health(server.port, proxy, &xff("203.0.113.2, 203.0.113.3")).await,
        200
    );
    assert_eq!(
        health(server.port, proxy, &xff("203.0.113.1, 203.0.113.3")).await,
        429
    );

    // From an untrusted peer the header is ignored: one bucket, whatever it says.
    let stranger = [127, 0, 0, 11];
    assert_eq!(
        health(server.port, stranger, &xff("203.0.113.4")).await,
        200
    );
    assert_eq!(
        health(server.port, stranger, &xff("203.0.113.5")).await,
        429
    );
}

#[tokio::test]
async fn a_token_is_limited_whatever_the_address() {
    let sandbox = Sandbox::new();
    let token = format!("example.com={TOKEN}");
    let server = start_plain(
        &sandbox,
        &[
            "--report-token",
            &token,
            "--rate-limit-per-token",
            "2/day",
            "--rate-limit-per-ip",
            "off",
        ],
    );
    let path = format!("/tlsrpt/{TOKEN}");
    for (i, from) in [[127, 0, 0, 20], [127, 0, 0, 21]].into_iter().enumerate() {
        let reply = post_report(server.port, from, &path, &format!("t{i}"), &[]).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let refused = post_report(server.port, [127, 0, 0, 22], &path, "t2", &[]).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(
        refused.body.contains("too many reports for this token"),
        "{refused:?}"
    );
    let wait = retry_after(&refused);
    assert!((43_190..=43_200).contains(&wait), "Retry-After: {wait}");
    // A wrong token is refused as such, not counted against the real one.
    let wrong = post_report(
        server.port,
        [127, 0, 0, 22],
        "/tlsrpt/wrong-token-0123456789",
        "t3",
        &[],
    )
    .await;
    assert_eq!(wrong.status, 403, "{wrong:?}");
    assert_eq!(stored_ids(&sandbox), ["t0", "t1"]);
}

#[tokio::test]
async fn a_2gb_content_length_is_refused_before_reading_and_the_connection_closed() {
    let sandbox = Sandbox::new();
    let server = start_plain(&sandbox, &[]);
    let body = simple_report("Huge", "huge-1", "example.com", 1);
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/tlsrpt+json\r\n\
         Content-Length: {}\r\n\r\n",
        2u64 << 30
    );
    let mut stream = connect_from(server.port, [127, 0, 0, 30]).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    // No Connection: close, and 2 GB still to come: the server must answer and hang up.
    let started = Instant::now();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the server closes the connection")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let reply = Reply::parse(&response);
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(stored_ids(&sandbox).is_empty());
    assert!(sandbox.rejected().is_empty());

    let normal = post_report(server.port, [127, 0, 0, 31], "/tlsrpt", "ok-1", &[]).await;
    assert_eq!(normal.status, 200, "{normal:?}");
}

/// Writes `bytes` one per second until the peer hangs up, while reading what it answers;
/// returns the answer and how long the connection lasted.
async fn trickle<S>(stream: S, bytes: Vec<u8>) -> (Vec<u8>, Duration)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let started = Instant::now();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let writing = tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() || writer.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        std::future::pending::<()>().await;
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writing.abort();
    assert!(read.is_ok(), "the connection was still open after 20 s");
    (answer, started.elapsed())
}

/// The connection was cut within `timeout` plus a margin, with a 408 or nothing.
#[track_caller]
fn assert_cut(what: &str, answer: &[u8], lasted: Duration, timeout: u64) {
    assert!(
        lasted < Duration::from_secs(timeout + 3),
        "{what}: the connection lasted {lasted:?}"
    );
    let text = String::from_utf8_lossy(answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{what}: {text:?}"
    );
}

const SLOW_HEAD: &[u8] = b"POST /tlsrpt HTTP/1.1\r\nHost: localhost\r\n\
Content-Type: application/tlsrpt+json\r\nContent-Length: 100\r\n\r\n";

#[tokio::test]
async fn slowloris_headers_and_bodies_are_cut_off_within_the_timeout() {
    let sandbox = Sandbox::new();
    let plain = start_plain(&sandbox, &["--request-timeout", "2"]);
    let tls_sandbox = Sandbox::new();
    let tls = https::start_with(&tls_sandbox, &["--request-timeout", "2"]);

    let connect = || connect_from(plain.port, [127, 0, 0, 40]);
    let (answer, lasted) = trickle(connect().await, SLOW_HEAD.to_vec()).await;
    assert_cut("headers, one byte a second", &answer, lasted, 2);
    let (answer, lasted) = trickle(connect().await, Vec::new()).await;
    assert_cut("a silent connection", &answer, lasted, 2);
    let mut stream = connect().await;
    stream.write_all(SLOW_HEAD).await.unwrap();
    let (answer, lasted) = trickle(stream, vec![b' '; 100]).await;
    assert_cut("a body, one byte a second", &answer, lasted, 2);
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "a slow body gets 408: {answer:?}"
    );

    // The same over the built-in TLS, once the handshake is done.
    let (answer, lasted) = trickle(https::connect(&tls).await, SLOW_HEAD.to_vec()).await;
    assert_cut("TLS: headers, one byte a second", &answer, lasted, 2);
    let (answer, lasted) = trickle(https::connect(&tls).await, Vec::new()).await;
    assert_cut("TLS: a silent connection", &answer, lasted, 2);

    assert!(stored_ids(&sandbox).is_empty());
}

#[tokio::test]
async fn a_normal_post_succeeds_beside_200_slow_connections() {
    let sandbox = Sandbox::new();
    let server = start_plain(&sandbox, &[]);
    let mut slow = Vec::new();
    for i in 0..200u8 {
        let mut stream = connect_from(server.port, [127, 0, 1, i]).await;
        // Half send part of a request head, half nothing at all.
        if i % 2 == 0 {
            stream.write_all(&SLOW_HEAD[..20]).await.unwrap();
        }
        slow.push(stream);
    }
    let started = Instant::now();
    let reply = post_report(server.port, [127, 0, 0, 50], "/tlsrpt", "beside-1", &[]).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stored_ids(&sandbox), ["beside-1"]);

    // The slow connections are still open (the default timeout is 30 s): they did not
    // have to be dropped for the normal POST to get through.
    let mut open = 0;
    for stream in &slow {
        let mut buf = [0u8; 1];
        if matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        {
            open += 1;
        }
    }
    assert_eq!(open, 200);
}

#[tokio::test]
async fn connections_over_the_limit_wait_for_a_free_slot() {
    let sandbox = Sandbox::new();
    let server = start_plain(
        &sandbox,
        &["--max-connections", "2", "--request-timeout", "2"],
    );
    // Two silent clients take both slots until the header timeout frees them.
    let _silent = [
        connect_from(server.port, [127, 0, 0, 60]).await,
        connect_from(server.port, [127, 0, 0, 61]).await,
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let reply = post_report(server.port, [127, 0, 0, 62], "/tlsrpt", "queued-1", &[]).await;
    let waited = started.elapsed();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        waited >= Duration::from_millis(1500),
        "served before a slot was free: {waited:?}"
    );
    assert!(waited < Duration::from_secs(6), "{waited:?}");
    assert_eq!(stored_ids(&sandbox), ["queued-1"]);
}
