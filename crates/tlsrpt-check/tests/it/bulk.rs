//! Bulk checking: many domains on one closed network, bounded concurrency, progress
//! callback, results in input order.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use tlsrpt_check::{CheckConfig, Checker, Verdict};

use crate::support::{Cert, PolicyHost, Respond, Smtp, SmtpServer, pki};
use tlsrpt_testkit::dns::{DnsServer, Zone};

const DOMAINS: usize = 1000;
const CONCURRENCY: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_domains_in_order_with_progress() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy_ip = IpAddr::V4(Ipv4Addr::new(127, 31, 0, 1));
    let mx_ip = IpAddr::V4(Ipv4Addr::new(127, 31, 0, 2));
    let domains: Vec<String> = (0..DOMAINS).map(|i| format!("d{i}.bulk.test")).collect();
    let mut zone = Zone::default();
    zone.addr("mx.bulk.test", mx_ip);
    for d in &domains {
        zone.txt(&format!("_mta-sts.{d}"), "v=STSv1; id=1")
            .txt(
                &format!("_smtp._tls.{d}"),
                &format!("v=TLSRPTv1; rua=mailto:r@{d}"),
            )
            .mx(d, 10, "mx.bulk.test")
            .addr(&format!("mta-sts.{d}"), policy_ip);
    }
    let dns = DnsServer::start(zone).await;
    let names = domains.iter().map(|d| format!("mta-sts.{d}")).collect();
    let policy = "version: STSv1\nmode: enforce\nmx: mx.bulk.test\nmax_age: 604800\n";
    let _policy_host = PolicyHost::start(
        SocketAddr::new(policy_ip, 443),
        pki().leaf("mta-sts.bulk.test", &Cert::Names(names)),
        Respond::policy(policy),
    )
    .await;
    let _mx = SmtpServer::start(
        SocketAddr::new(mx_ip, 25),
        Smtp::StartTls(pki().leaf("mx.bulk.test", &Cert::Valid)),
    )
    .await;

    let checker = Checker::new(CheckConfig {
        dns_server: Some(dns.addr),
        ca_file: Some(pki().ca_file.clone()),
        allow_private_addresses: true,
        ..CheckConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let mut done = 0;
    let reports = checker
        .check_many(&domains, CONCURRENCY, |_| done += 1)
        .await;
    let elapsed = started.elapsed();
    eprintln!("bulk check of {DOMAINS} domains at concurrency {CONCURRENCY}: {elapsed:.2?}");
    assert_eq!(done, DOMAINS);
    let order: Vec<&str> = reports.iter().map(|r| r.domain.as_str()).collect();
    assert_eq!(
        order,
        domains.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for report in &reports {
        assert_eq!(report.verdict, Verdict::Pass, "{}", report.to_text());
    }
}
