//! Which address a request comes from: the TCP peer, or, when the peer is a trusted reverse
//! proxy (`--trusted-proxy CIDR`), the first untrusted hop of `X-Forwarded-For`. A header
//! from anyone else is ignored, so that a client cannot choose its own address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address block such as `10.0.0.0/8` or `::1/128`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// True when `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(ip)), 32, self.prefix) == u128::from(u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(ip), 128, self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `value` with all but its first `prefix` of `bits` bits cleared.
fn mask(value: u128, bits: u8, prefix: u8) -> u128 {
    let host_bits = u32::from(bits.saturating_sub(prefix));
    value
        .checked_shr(host_bits)
        .unwrap_or(0)
        .checked_shl(host_bits)
        .unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not an address block such as 10.0.0.0/8 or ::1/128");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
            None => bits,
        };
        let masked = match network {
            IpAddr::V4(v4) => {
                IpAddr::V4((mask(u128::from(u32::from(v4)), 32, prefix) as u32).into())
            }
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(mask(u128::from(v6), 128, prefix))),
        };
        if masked != network {
            return Err(format!(
                "{text:?} has host bits set: did you mean {masked}/{prefix}?"
            ));
        }
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The client address of a request from `peer`: `peer` itself, unless it is one of
/// `trusted` proxies; then `X-Forwarded-For` is read from the right (the hop the proxy
/// added last) and the first address that is not a trusted proxy is the client. An
/// unreadable entry stops the walk at the last address known.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let hops: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .collect();
    for hop in hops.into_iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client) {
                    return client;
                }
            }
            None => return client,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(hop).ok()?.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains(ip("10.255.0.1")));
        assert!(block.contains(ip("::ffff:10.1.2.3")));
        assert!(!block.contains(ip("11.0.0.1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::2")));
        assert_eq!(one.to_string(), "192.0.2.7/32");
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "example.com/8",
            "10.0.0.0/x",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted = cidrs(&["127.0.0.1", "10.0.0.0/8"]);
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("10.1.1.1"));
        // From the proxy: the rightmost hop that is not a proxy.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
        // From anyone else, the header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.4"), &headers, &trusted),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(ip("198.51.100.4"), &headers, &[]),
            ip("198.51.100.4")
        );
        // An unreadable hop stops the walk at the last known address.
        let mut garbage = HeaderMap::new();
        garbage.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, unknown"),
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &garbage, &trusted),
            ip("127.0.0.1")
        );
        // Ports and IPv4-mapped forms are understood.
        let mut ported = HeaderMap::new();
        ported.append(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8::1]:443"),
        );
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &ported, &trusted),
            ip("2001:db8::1")
        );
        // Only proxies in the header: the leftmost one.
        let mut proxies = HeaderMap::new();
        proxies.append(
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.2, 10.0.0.3"),
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &proxies, &trusted),
            ip("10.0.0.2")
        );
    }
}
