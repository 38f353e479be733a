//! Simulated public addresses: a test that needs a globally routable address (one the
//! checker's SSRF guard lets through) gets it on the loopback interface, so the connection
//! stays on this machine instead of leaving for the internet it must not depend on.

use std::net::IpAddr;
use std::process::Command;

/// Puts `ip` on the loopback interface (idempotent), so listeners can bind it and
/// connections to it stay local. Needs root (CAP_NET_ADMIN) and iproute2's `ip`, as the
/// test command runs with; fails the test with the reason otherwise.
pub fn local_public_address(ip: IpAddr) {
    let prefix = if ip.is_ipv4() { 32 } else { 128 };
    let output = Command::new("ip")
        .args(["addr", "replace", &format!("{ip}/{prefix}"), "dev", "lo"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` (install iproute2): {e}"));
    assert!(
        output.status.success(),
        "cannot put {ip} on the loopback interface (these tests need root, as in CI): {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}
