//! SSRF guard (MTASTS-RULES.md §2): which resolved addresses the checker may connect to.
//!
//! The checker resolves user-supplied names, so without an explicit opt-in it refuses every
//! address that is not globally routable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` is not a public unicast address, or `None` when it is one.
pub(crate) fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => Some("unspecified (0.0.0.0/8)"),
        (127, _, _) => Some("loopback"),
        (10, _, _) => Some("private (10.0.0.0/8)"),
        (172, 16..=31, _) => Some("private (172.16.0.0/12)"),
        (192, 168, _) => Some("private (192.168.0.0/16)"),
        (169, 254, _) => Some("link-local"),
        (100, 64..=127, _) => Some("shared address space (CGNAT, 100.64.0.0/10)"),
        (192, 0, 0) => Some("IETF protocol assignment (192.0.0.0/24)"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some("documentation"),
        (198, 18..=19, _) => Some("benchmarking (198.18.0.0/15)"),
        (224..=239, _, _) => Some("multicast"),
        (240..=255, _, _) => Some("reserved (240.0.0.0/4)"),
        _ => None,
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4).map(|_| "IPv4-mapped non-public address");
    }
    let s = ip.segments();
    let o = ip.octets();
    // Forms that carry an IPv4 address and reach it through a translator or tunnel: they
    // are as public as the address they carry.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
        return v4_reason(v4).map(|_| "NAT64 (64:ff9b::/96) form of a non-public IPv4 address");
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new(o[2], o[3], o[4], o[5]);
        return v4_reason(v4).map(|_| "6to4 (2002::/16) form of a non-public IPv4 address");
    }
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if s[0] & 0xfe00 == 0xfc00 {
        Some("unique-local (fc00::/7)")
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if s[0] & 0xffc0 == 0xfec0 {
        Some("site-local (deprecated)")
    } else if s[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("documentation (2001:db8::/32)")
    } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
        Some("discard-only (100::/64)")
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        Some("local-use NAT64 (64:ff9b:1::/48)")
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        // Teredo (2001::/32, an obfuscated IPv4 address), benchmarking, ORCHID, …
        Some("IETF protocol assignment (2001::/23, Teredo included)")
    } else if s[0] & 0xe000 != 0x2000 {
        Some("not in global unicast space (2000::/3)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let cases = [
            ("127.0.0.2", Some("loopback")),
            ("10.1.2.3", Some("private (10.0.0.0/8)")),
            ("172.31.0.1", Some("private (172.16.0.0/12)")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private (192.168.0.0/16)")),
            ("169.254.169.254", Some("link-local")),
            (
                "100.64.0.1",
                Some("shared address space (CGNAT, 100.64.0.0/10)"),
            ),
            ("100.128.0.1", None),
            ("192.0.2.10", Some("documentation")),
            ("0.0.0.0", Some("unspecified (0.0.0.0/8)")),
            ("224.0.0.1", Some("multicast")),
            ("8.8.8.8", None),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd00::1", Some("unique-local (fc00::/7)")),
            ("fe80::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("2001:db8::1", Some("documentation (2001:db8::/32)")),
            ("::ffff:10.0.0.1", Some("IPv4-mapped non-public address")),
            ("::ffff:8.8.8.8", None),
            (
                "::ffff:169.254.169.254",
                Some("IPv4-mapped non-public address"),
            ),
            ("2a00:1450:4001::1", None),
            // IPv4-compatible (deprecated) and SIIT-translated forms sit outside 2000::/3.
            (
                "::127.0.0.1",
                Some("not in global unicast space (2000::/3)"),
            ),
            (
                "::ffff:0:127.0.0.1",
                Some("not in global unicast space (2000::/3)"),
            ),
            // NAT64 and 6to4 forms are judged by the IPv4 address they carry.
            (
                "64:ff9b::127.0.0.1",
                Some("NAT64 (64:ff9b::/96) form of a non-public IPv4 address"),
            ),
            (
                "64:ff9b::10.0.0.1",
                Some("NAT64 (64:ff9b::/96) form of a non-public IPv4 address"),
            ),
            (
                "64:ff9b::a9fe:a9fe",
                Some("NAT64 (64:ff9b::/96) form of a non-public IPv4 address"),
            ),
            ("64:ff9b::8.8.8.8", None),
            (
                "64:ff9b:1::10.0.0.1",
                Some("local-use NAT64 (64:ff9b:1::/48)"),
            ),
            (
                "2002:7f00:1::",
                Some("6to4 (2002::/16) form of a non-public IPv4 address"),
            ),
            (
                "2002:c0a8:101::1",
                Some("6to4 (2002::/16) form of a non-public IPv4 address"),
            ),
            (
                "2002:a9fe:a9fe::",
                Some("6to4 (2002::/16) form of a non-public IPv4 address"),
            ),
            ("2002:808:808::1", None),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some("IETF protocol assignment (2001::/23, Teredo included)"),
            ),
            (
                "2001:2::1",
                Some("IETF protocol assignment (2001::/23, Teredo included)"),
            ),
            ("2001:4860:4860::8888", None),
        ];
        for (ip, want) in cases {
            let ip: IpAddr = ip.parse().expect("test address parses");
            assert_eq!(non_public_reason(ip), want, "{ip}");
        }
    }
}
