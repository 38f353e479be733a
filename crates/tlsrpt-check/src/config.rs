//! Checker configuration: DNS server, trust anchors, SSRF guard, ports and time limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that changes how [`crate::Checker`] talks to the network.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// DNS server to query instead of the system resolver (`IP:PORT`).
    pub dns_server: Option<SocketAddr>,
    /// Time allowed for one DNS query attempt.
    pub dns_timeout: Duration,
    /// PEM file with extra trust anchors, used for the policy host and the MX hosts in
    /// addition to the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// Connect to loopback, private, link-local and other non-public addresses.
    /// Off by default: the checker resolves user-supplied names (SSRF guard).
    pub allow_private_addresses: bool,
    /// Overall deadline for the policy fetch: DNS, connect, TLS and the whole body.
    pub policy_deadline: Duration,
    /// Time allowed for each TCP connect.
    pub connect_timeout: Duration,
    /// Time allowed for each SMTP reply and for the TLS handshake after STARTTLS.
    pub smtp_timeout: Duration,
    /// Port of the HTTPS policy host.
    pub https_port: u16,
    /// Port of the SMTP servers.
    pub smtp_port: u16,
    /// Name the checker announces in EHLO.
    pub ehlo_name: String,
}

impl Default for CheckConfig {
    fn default() -> Self {
        Self {
            dns_server: None,
            dns_timeout: Duration::from_secs(5),
            ca_file: None,
            allow_private_addresses: false,
            policy_deadline: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            smtp_timeout: Duration::from_secs(30),
            https_port: 443,
            smtp_port: 25,
            ehlo_name: "tlsrpt-check.invalid".to_owned(),
        }
    }
}
