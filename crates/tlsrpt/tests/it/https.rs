//! `tlsrpt serve --listen` with built-in TLS: a real HTTPS POST of a report over rustls,
//! trusted through a test CA, is stored before it is acknowledged; SIGTERM stops the server.

use std::process::{Child, Command};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Reply, Sandbox, drain, gzip, simple_report, spawn_until};

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    ca: rcgen::Certificate,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tlsrpt serve` on a free port with a certificate for `localhost` from a test CA.
fn start(sandbox: &Sandbox) -> Server {
    start_with(sandbox, &[])
}

/// [`start`] with more `serve` options.
pub(crate) fn start_with(sandbox: &Sandbox, extra: &[&str]) -> Server {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let cert_file = sandbox.write("tls/cert.pem", cert.pem().as_bytes());
    let key_file = sandbox.write("tls/key.pem", key.serialize_pem().as_bytes());

    let mut command = sandbox.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(cert_file)
        .arg("--tls-key")
        .arg(key_file)
        .args(extra);
    let (child, port) = spawn_listening(command);
    Server { child, port, ca }
}

/// Spawns `serve` and waits for its "listening on" line: the child and its port. The
/// child's stderr is drained from then on, so that it never blocks on a full pipe.
pub(crate) fn spawn_listening(mut command: Command) -> (Child, u16) {
    let (child, line, stderr) = spawn_until(&mut command, "listening on");
    drain(stderr);
    (child, listening_port(&line))
}

/// The port of a "listening on ADDR:PORT" line.
pub(crate) fn listening_port(line: &str) -> u16 {
    line.trim().rsplit(':').next().unwrap().parse().unwrap()
}

/// A TLS connection to `server`, trusting its test CA.
pub(crate) async fn connect(
    server: &Server,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.ca.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// One HTTP/1.1 POST over TLS; returns the status code and the body.
async fn post(server: &Server, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut tls = connect(server).await;
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let reply = Reply::parse(&response);
    (reply.status, reply.body)
}

#[tokio::test]
async fn a_report_posted_over_https_is_stored_before_it_is_acknowledged() {
    let sandbox = Sandbox::new();
    let mut server = start(&sandbox);
    let report = gzip(&simple_report("Stalwart", "https-1", "example.com", 12));

    let (status, body) = post(&server, "application/tlsrpt+gzip", &report).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""stored":1"#), "{body}");
    let stats: serde_json::Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
    assert_eq!(stats["domains"][0]["policy_domain"], "example.com");
    assert_eq!(stats["domains"][0]["successful_sessions"], 12);

    let (status, body) = post(&server, "application/tlsrpt+gzip", &report).await;
    assert_eq!(status, 200, "a duplicate is acknowledged too: {body}");
    assert!(body.contains(r#""duplicates":1"#), "{body}");

    let (status, _) = post(&server, "text/html", &report).await;
    assert_eq!(status, 415);

    // SIGTERM stops the server cleanly.
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.child.wait().unwrap().success());
}
