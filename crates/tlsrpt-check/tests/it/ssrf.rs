//! SSRF guard scenarios (MTASTS-RULES.md §2): without the explicit option, loopback and
//! private targets are refused before any connection; a name is resolved once and only
//! the addresses that passed the guard are connected to (no DNS-rebinding bypass); a
//! redirect is never followed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tlsrpt_check::Severity::Error;
use tlsrpt_check::{Checker, DomainReport};
use tlsrpt_testkit::dns::Queries;
use tlsrpt_testkit::net::local_public_address;
use tokio::net::TcpListener;

use crate::support::{Respond, Scenario, assert_findings, assert_message};

#[tokio::test]
async fn loopback_targets_are_refused_without_the_option() {
    let mut s = Scenario::good("ssrf.test");
    s.config.allow_private_addresses = false;
    let report = s.run_for("ssrf.test").await;
    assert_findings(&report, &[("address-not-public", Error)]);
    let refused: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_message(
        &report,
        "address-not-public",
        &["mta-sts.ssrf.test resolves to 127.30.", "loopback"],
    );
    assert!(refused[1].contains("mx1.ssrf.test"));
    assert!(
        s.policy_host
            .as_ref()
            .unwrap()
            .seen
            .lock()
            .unwrap()
            .is_empty(),
        "no connection was made"
    );
    assert!(report.mx.hosts[0].addresses[0].skipped.is_some());
}

/// A public address (in no special-purpose block), answered first by the rebinding names.
/// The test puts it on the loopback interface, with listeners of its own: the "public"
/// host is simulated on this machine, like the rest of the network.
const PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 88, 99, 1));

/// Another, for the test that runs beside the first (each binds its own listeners).
const PUBLIC_2: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 88, 99, 2));

/// A listener that counts the connections made to it, and closes each at once.
struct Tripwire {
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Tripwire {
    async fn start(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { hits, task }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The addresses the checker knew for the policy host and the first MX host.
fn resolved(report: &DomainReport) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let policy = report.policy.as_ref().unwrap().addresses.clone();
    let mx = report.mx.hosts[0]
        .addresses
        .iter()
        .map(|a| a.address)
        .collect();
    (policy, mx)
}

/// A domain whose policy host and MX host are rebinding names (`Zone::rebinding`).
fn rebinding_scenario(domain: &str) -> (Scenario, Queries, Queries) {
    let mut s = Scenario::empty(domain);
    s.config.allow_private_addresses = false;
    let (policy_ip, mx_ip) = (s.ip(1), s.ip(2));
    s.zone
        .txt(&format!("_mta-sts.{domain}"), "v=STSv1; id=1")
        .mx(domain, 10, &format!("mx1.{domain}"));
    let policy = s
        .zone
        .rebinding(&format!("mta-sts.{domain}"), &[PUBLIC, policy_ip]);
    let mx = s.zone.rebinding(&format!("mx1.{domain}"), &[PUBLIC, mx_ip]);
    (s, policy, mx)
}

#[tokio::test]
async fn a_rebinding_name_is_resolved_once_and_its_private_answer_never_reached() {
    let (mut s, policy_queries, mx_queries) = rebinding_scenario("rebind.test");
    let https = Tripwire::start(SocketAddr::new(s.ip(1), 443)).await;
    let smtp = Tripwire::start(SocketAddr::new(s.ip(2), 25)).await;
    local_public_address(PUBLIC);
    let public_https = Tripwire::start(SocketAddr::new(PUBLIC, 443)).await;
    let public_smtp = Tripwire::start(SocketAddr::new(PUBLIC, 25)).await;
    let network = s.start().await;
    let mut config = s.config.clone();
    config.dns_server = Some(network.dns.addr);

    let report = Checker::new(config.clone())
        .unwrap()
        .check("rebind.test")
        .await;
    // Each name was resolved once, to the public address, and only that was used: the
    // policy fetch and the SMTP probe connect to the address the guard checked.
    assert_eq!((policy_queries.a(), mx_queries.a()), (1, 1));
    assert_eq!(resolved(&report), (vec![PUBLIC], vec![PUBLIC]));
    let connected = report.policy.as_ref().unwrap().connected_to;
    assert!(connected.is_none_or(|a| a.ip() == PUBLIC), "{connected:?}");
    assert_eq!((https.hits(), smtp.hits()), (0, 0), "no private connection");
    assert!(
        public_https.hits() >= 1 && public_smtp.hits() >= 1,
        "the checker connected to the vetted public address: {} {}",
        public_https.hits(),
        public_smtp.hits()
    );

    // The names now answer their private addresses: a new check sees them, refuses them
    // and says why, still without connecting.
    let report = Checker::new(config).unwrap().check("rebind.test").await;
    assert_eq!((policy_queries.a(), mx_queries.a()), (2, 2));
    assert_eq!(resolved(&report), (vec![s.ip(1)], vec![s.ip(2)]));
    let refused: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "address-not-public")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(refused.len(), 2, "\n{}", report.to_text());
    assert!(
        refused[0].contains("mta-sts.rebind.test resolves to 127.30.")
            && refused[0].contains("loopback")
            && refused[0].contains("did not connect"),
        "{refused:?}"
    );
    assert!(refused[1].contains("mx1.rebind.test resolves to 127.30."));
    assert_eq!((https.hits(), smtp.hits()), (0, 0), "no private connection");
}

#[tokio::test]
async fn public_and_private_answers_at_once_reach_only_the_public_one() {
    let mut s = Scenario::empty("both.test");
    s.config.allow_private_addresses = false;
    let (policy_ip, mx_ip) = (s.ip(1), s.ip(2));
    s.zone
        .txt("_mta-sts.both.test", "v=STSv1; id=1")
        .mx("both.test", 10, "mx1.both.test")
        .addr("mta-sts.both.test", PUBLIC_2)
        .addr("mta-sts.both.test", policy_ip)
        .addr("mx1.both.test", PUBLIC_2)
        .addr("mx1.both.test", mx_ip);
    let https = Tripwire::start(SocketAddr::new(policy_ip, 443)).await;
    let smtp = Tripwire::start(SocketAddr::new(mx_ip, 25)).await;
    local_public_address(PUBLIC_2);
    let public_smtp = Tripwire::start(SocketAddr::new(PUBLIC_2, 25)).await;

    let report = s.run_for("both.test").await;
    let (policy, mx) = resolved(&report);
    assert!(policy.contains(&policy_ip) && policy.contains(&PUBLIC_2));
    assert!(mx.contains(&mx_ip) && mx.contains(&PUBLIC_2));
    assert_message(
        &report,
        "address-not-public",
        &[
            &format!("mta-sts.both.test resolves to {policy_ip}, a loopback address"),
            "did not connect",
        ],
    );
    let probes = &report.mx.hosts[0].addresses;
    let private = probes.iter().find(|p| p.address == mx_ip).unwrap();
    assert_eq!(
        private.skipped.as_deref(),
        Some("loopback address, not public")
    );
    assert!(!private.connected);
    assert_eq!((https.hits(), smtp.hits()), (0, 0), "no private connection");
    assert!(public_smtp.hits() >= 1, "the public MX address was probed");
}

#[tokio::test]
async fn a_redirect_to_an_internal_address_is_not_followed() {
    // The policy host is on loopback, so this scenario allows private addresses: even so,
    // the Location is reported, never fetched.
    let mut s = Scenario::good("redirect-ssrf.test");
    let internal = SocketAddr::new(s.ip(9), 443);
    let tripwire = Tripwire::start(internal).await;
    s.respond(Respond::status(
        "302 Found",
        &format!("Location: https://{internal}/.well-known/mta-sts.txt\r\n"),
    ));
    let report = s.run_for("redirect-ssrf.test").await;
    assert_message(&report, "policy-redirect", &["302", &internal.to_string()]);
    assert_eq!(
        s.policy_host.as_ref().unwrap().seen.lock().unwrap().len(),
        1,
        "exactly one request"
    );
    assert_eq!(tripwire.hits(), 0, "the redirect target was not contacted");
}
