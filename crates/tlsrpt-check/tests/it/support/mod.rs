//! The closed "internet" the scenarios run in: a DNS server, a policy host and SMTP servers,
//! each scenario on its own loopback addresses 127.30.N.x so that scenarios run in
//! parallel on the real ports 443 and 25.

pub mod pki;
pub mod servers;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tlsrpt_check::{CheckConfig, Checker, DomainReport, Severity};

pub use self::pki::{Cert, pki};
pub use self::servers::{PolicyHost, Respond, Smtp, SmtpServer};
use tlsrpt_testkit::dns;
pub use tlsrpt_testkit::dns::Zone;

static NEXT_NET: AtomicU8 = AtomicU8::new(1);

/// A good policy for `domain` with one MX host `mx1.<domain>`.
pub fn enforce_policy(domain: &str) -> String {
    format!("version: STSv1\nmode: enforce\nmx: mx1.{domain}\nmax_age: 604800\n")
}

/// One scenario: a domain, its zone, its servers and the checker settings.
pub struct Scenario {
    pub domain: String,
    pub zone: Zone,
    net: u8,
    policy: Option<(Cert, Respond)>,
    mx: Vec<(SocketAddr, String, Smtp)>,
    pub config: CheckConfig,
    pub policy_host: Option<PolicyHost>,
}

impl Scenario {
    /// An empty scenario: no records at all.
    pub fn empty(domain: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let net = NEXT_NET.fetch_add(1, Ordering::SeqCst);
        assert!(net < 250, "too many scenarios for the 127.30.N.0/24 plan");
        Self {
            domain: domain.to_owned(),
            zone: Zone::default(),
            net,
            policy: None,
            mx: Vec::new(),
            config: CheckConfig {
                dns_timeout: Duration::from_millis(700),
                ca_file: Some(pki().ca_file.clone()),
                allow_private_addresses: true,
                policy_deadline: Duration::from_secs(3),
                connect_timeout: Duration::from_secs(1),
                smtp_timeout: Duration::from_secs(2),
                ..CheckConfig::default()
            },
            policy_host: None,
        }
    }

    /// A domain that passes every check: STS record, enforce policy, one MX with a valid
    /// certificate, TLS-RPT record.
    pub fn good(domain: &str) -> Self {
        let mut s = Self::empty(domain);
        let d = domain.to_owned();
        s.zone
            .txt(&format!("_mta-sts.{d}"), "v=STSv1; id=20250101T000000")
            .txt(
                &format!("_smtp._tls.{d}"),
                &format!("v=TLSRPTv1; rua=mailto:tlsrpt@{d}"),
            );
        s.serve_policy(Cert::Valid, Respond::policy(&enforce_policy(&d)));
        s.add_mx(
            10,
            &format!("mx1.{d}"),
            2,
            Smtp::StartTls(pki().leaf(&format!("mx1.{d}"), &Cert::Valid)),
        );
        s
    }

    /// The address 127.30.N.`host` of this scenario.
    pub fn ip(&self, host: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, 30, self.net, host))
    }

    /// Serves the policy at 127.30.N.1:443 for mta-sts.<domain>.
    pub fn serve_policy(&mut self, cert: Cert, respond: Respond) {
        let host = format!("mta-sts.{}", self.domain);
        self.zone.remove(&host, tlsrpt_testkit::dns::RecordType::A);
        let ip = self.ip(1);
        self.zone.addr(&host, ip);
        self.policy = Some((cert, respond));
    }

    /// Replaces the policy answer.
    pub fn respond(&mut self, respond: Respond) {
        if let Some((_, r)) = &mut self.policy {
            *r = respond;
        }
    }

    /// Replaces the policy certificate.
    pub fn policy_cert(&mut self, cert: Cert) {
        if let Some((c, _)) = &mut self.policy {
            *c = cert;
        }
    }

    /// Publishes `MX preference host`, `host A 127.30.N.last` and runs an SMTP server there.
    pub fn add_mx(&mut self, preference: u16, host: &str, last: u8, smtp: Smtp) {
        let domain = self.domain.clone();
        self.zone.mx(&domain, preference, host);
        let ip = self.ip(last);
        self.zone.addr(host, ip);
        self.mx
            .push((SocketAddr::new(ip, 25), host.to_owned(), smtp));
    }

    /// Runs an SMTP server at `addr` for `host` without touching DNS.
    pub fn smtp_at(&mut self, addr: SocketAddr, host: &str, smtp: Smtp) {
        self.mx.push((addr, host.to_owned(), smtp));
    }

    /// Replaces the SMTP behaviour of the server for `host`.
    pub fn smtp(&mut self, host: &str, smtp: Smtp) {
        for (_, h, s) in &mut self.mx {
            if h == host {
                *s = smtp;
                return;
            }
        }
        panic!("no SMTP server for {host}");
    }

    /// Starts the network and checks the domain.
    pub async fn run(mut self) -> DomainReport {
        let domain = self.domain.clone();
        self.run_for(&domain).await
    }

    /// Starts the network and checks `input` (which may differ from the domain, e.g. IDN).
    pub async fn run_for(&mut self, input: &str) -> DomainReport {
        let network = self.start().await;
        let mut config = self.config.clone();
        config.dns_server = Some(network.dns.addr);
        let checker = Checker::new(config).expect("checker");
        checker.check(input).await
    }

    /// Starts the DNS server, the policy host and the SMTP servers; they stop when the
    /// returned network is dropped.
    pub async fn start(&mut self) -> Network {
        let dns = dns::DnsServer::start(self.zone.clone()).await;
        if let Some((cert, respond)) = self.policy.take() {
            let host = format!("mta-sts.{}", self.domain);
            let leaf = pki().leaf(&host, &cert);
            let addr = SocketAddr::new(self.ip(1), 443);
            self.policy_host = Some(PolicyHost::start(addr, leaf, respond).await);
        }
        let mut smtp = Vec::new();
        for (addr, _, behaviour) in self.mx.drain(..) {
            smtp.push(SmtpServer::start(addr, behaviour).await);
        }
        Network { dns, _smtp: smtp }
    }
}

/// The running servers of a scenario (the policy host stays with the scenario).
pub struct Network {
    pub dns: dns::DnsServer,
    _smtp: Vec<SmtpServer>,
}

/// Asserts the exact set of `(code, severity)` of the report.
#[track_caller]
pub fn assert_findings(report: &DomainReport, expected: &[(&str, Severity)]) {
    let got: BTreeSet<(String, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str().to_owned(), f.severity))
        .collect();
    let want: BTreeSet<(String, Severity)> = expected
        .iter()
        .map(|(c, s)| ((*c).to_owned(), *s))
        .collect();
    assert_eq!(got, want, "\n{}", report.to_text());
}

/// The message of the first finding with `code`, which must exist.
#[track_caller]
pub fn message<'a>(report: &'a DomainReport, code: &str) -> &'a str {
    report
        .findings
        .iter()
        .find(|f| f.code.as_str() == code)
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no finding {code}\n{}", report.to_text()))
}

/// Asserts that the message of `code` contains every fragment.
#[track_caller]
pub fn assert_message(report: &DomainReport, code: &str, fragments: &[&str]) {
    let text = message(report, code);
    for fragment in fragments {
        assert!(
            text.contains(fragment),
            "{code} message {text:?} lacks {fragment:?}"
        );
    }
}
