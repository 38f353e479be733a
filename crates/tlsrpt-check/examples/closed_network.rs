//! A closed test network on loopback for running `tlsrpt check` by hand and for
//! `bench/check-bulk.sh`: the checker's scenario servers (DNS, HTTPS policy hosts, STARTTLS
//! SMTP servers with certificates from a test CA) serving three sample domains and N bulk
//! domains, until Ctrl-C. Needs root for ports 443 and 25.
//!
//! ```text
//! cargo run --example closed_network -- OUT_DIR [BULK_DOMAINS]
//! ```
//!
//! Writes `OUT_DIR/ca.pem`, `OUT_DIR/domains.txt` (the bulk domains) and `OUT_DIR/env`
//! (the `TLSRPT_DNS_SERVER`, `TLSRPT_CA_FILE` and `TLSRPT_ALLOW_PRIVATE_ADDRESSES` to use),
//! then prints `ready` on stdout.
//!
//! The sample domains: `clean.example.test` (enforce-ready), `drift.example.test` (an MX
//! host the policy does not list) and `certs.example.test` (one MX certificate expiring in
//! 5 days, another self-signed).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use support::{Cert, PolicyHost, Respond, Smtp, SmtpServer, pki};
use tlsrpt_testkit::dns::{DnsServer, Zone};

/// An MX host of a sample domain: its first label, its certificate, its preference.
type MxHost = (&'static str, Cert, u16);

fn ip(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 32, a, b))
}

/// Publishes the records of a domain whose policy host is at `policy_ip`.
fn records(zone: &mut Zone, domain: &str, policy_ip: IpAddr) {
    zone.txt(&format!("_mta-sts.{domain}"), "v=STSv1; id=20261122T000000")
        .txt(
            &format!("_smtp._tls.{domain}"),
            &format!("v=TLSRPTv1; rua=mailto:tlsrpt@{domain}"),
        )
        .addr(&format!("mta-sts.{domain}"), policy_ip);
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("usage: closed_network OUT_DIR [N]"));
    let bulk: usize = args.next().map_or(1000, |n| n.parse().expect("a number"));
    std::fs::create_dir_all(&out).unwrap();
    let mut zone = Zone::default();
    let mut policy_hosts = Vec::new();
    let mut smtp = Vec::new();

    // The three sample domains, one /24 each.
    let samples: [(&str, u8, &str, Vec<MxHost>); 3] = [
        (
            "clean.example.test",
            1,
            "mx: mx1.clean.example.test\n",
            vec![("mx1", Cert::Valid, 10)],
        ),
        (
            "drift.example.test",
            2,
            "mx: mx1.drift.example.test\n",
            vec![("mx1", Cert::Valid, 10), ("mx2", Cert::Valid, 20)],
        ),
        (
            "certs.example.test",
            3,
            "mx: mx1.certs.example.test\nmx: mx2.certs.example.test\n",
            vec![
                ("mx1", Cert::Expiring(5), 10),
                ("mx2", Cert::SelfSigned, 20),
            ],
        ),
    ];
    for (domain, net, mx_lines, hosts) in samples {
        records(&mut zone, domain, ip(net, 1));
        let policy = format!("version: STSv1\nmode: enforce\n{mx_lines}max_age: 604800\n");
        policy_hosts.push(
            PolicyHost::start(
                SocketAddr::new(ip(net, 1), 443),
                pki().leaf(&format!("mta-sts.{domain}"), &Cert::Valid),
                Respond::policy(&policy),
            )
            .await,
        );
        for (i, (label, cert, preference)) in hosts.into_iter().enumerate() {
            let host = format!("{label}.{domain}");
            let addr = ip(net, 2 + u8::try_from(i).unwrap());
            zone.mx(domain, preference, &host).addr(&host, addr);
            smtp.push(
                SmtpServer::start(
                    SocketAddr::new(addr, 25),
                    Smtp::StartTls(pki().leaf(&host, &cert)),
                )
                .await,
            );
        }
    }

    // The bulk domains share one policy host and one MX host, as in the bulk scenario.
    let domains: Vec<String> = (0..bulk).map(|i| format!("d{i}.bulk.test")).collect();
    zone.addr("mx.bulk.test", ip(0, 2));
    for d in &domains {
        records(&mut zone, d, ip(0, 1));
        zone.mx(d, 10, "mx.bulk.test");
    }
    let names = domains.iter().map(|d| format!("mta-sts.{d}")).collect();
    policy_hosts.push(
        PolicyHost::start(
            SocketAddr::new(ip(0, 1), 443),
            pki().leaf("mta-sts.bulk.test", &Cert::Names(names)),
            Respond::policy("version: STSv1\nmode: enforce\nmx: mx.bulk.test\nmax_age: 604800\n"),
        )
        .await,
    );
    smtp.push(
        SmtpServer::start(
            SocketAddr::new(ip(0, 2), 25),
            Smtp::StartTls(pki().leaf("mx.bulk.test", &Cert::Valid)),
        )
        .await,
    );

    let dns = DnsServer::start(zone).await;
    let ca = out.join("ca.pem");
    std::fs::copy(&pki().ca_file, &ca).unwrap();
    std::fs::write(out.join("domains.txt"), domains.join("\n") + "\n").unwrap();
    std::fs::write(
        out.join("env"),
        format!(
            "TLSRPT_DNS_SERVER={}\nTLSRPT_CA_FILE={}\nTLSRPT_ALLOW_PRIVATE_ADDRESSES=true\n",
            dns.addr,
            ca.display()
        ),
    )
    .unwrap();
    println!("ready");
    tokio::signal::ctrl_c().await.unwrap();
    drop((dns, policy_hosts, smtp));
}
