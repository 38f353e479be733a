//! Rate limits on the report endpoint: a token bucket per client address for every
//! request, and one per report token for `POST /tlsrpt/{token}`. A refused request gets
//! 429 with `Retry-After` before its body is read, so it is neither stored nor acknowledged.
//!
//! The buckets are kept in memory, at most `max_clients` of each kind: when the table is
//! full, buckets that have refilled (idle clients, indistinguishable from new ones) are
//! dropped first, then the least recently seen.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::client::{Cidr, client_ip};
use crate::error::ApiError;
use crate::tokens::Tokens;

/// A token bucket: up to `burst` requests at once, refilled at `count` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    period: Period,
    burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Second,
    Minute,
    Hour,
    Day,
}

impl Period {
    fn seconds(self) -> f64 {
        match self {
            Self::Second => 1.0,
            Self::Minute => 60.0,
            Self::Hour => 3600.0,
            Self::Day => 86_400.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Second => "s",
            Self::Minute => "min",
            Self::Hour => "h",
            Self::Day => "day",
        }
    }
}

impl Rate {
    /// The refill rate, in requests per second.
    fn per_second(&self) -> f64 {
        f64::from(self.count) / self.period.seconds()
    }
}

impl FromStr for Rate {
    type Err = String;

    /// `COUNT/UNIT[,burst=N]` with UNIT one of s, min, h, day; the burst defaults to COUNT.
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{text:?} is not a rate such as 60/min or 60/min,burst=300 (units: s, min, h, day)"
            )
        };
        let (rate, burst) = match text.trim().split_once(',') {
            Some((rate, burst)) => (rate, Some(burst)),
            None => (text.trim(), None),
        };
        let (count, unit) = rate.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Period::Second,
            "m" | "min" | "minute" => Period::Minute,
            "h" | "hour" => Period::Hour,
            "d" | "day" => Period::Day,
            _ => return Err(bad()),
        };
        let burst = match burst {
            Some(b) => b
                .trim()
                .strip_prefix("burst=")
                .and_then(|n| n.trim().parse::<u32>().ok())
                .ok_or_else(bad)?,
            None => count,
        };
        if count == 0 || burst == 0 {
            return Err(format!("{text:?}: the count and burst must be at least 1"));
        }
        Ok(Self {
            count,
            period,
            burst,
        })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{},burst={}",
            self.count,
            self.period.name(),
            self.burst
        )
    }
}

/// How the endpoint limits its clients.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Every request, per client address (IPv6 clients per /64); `None` for no limit.
    pub per_ip: Option<Rate>,
    /// `POST /tlsrpt/{token}` with a configured token, per token; `None` for no limit.
    pub per_token: Option<Rate>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
    /// Most buckets kept for each kind of key (bounds the memory under a flood).
    pub max_clients: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_ip: Some(Self::DEFAULT_PER_IP.parse().expect("valid default")),
            per_token: Some(Self::DEFAULT_PER_TOKEN.parse().expect("valid default")),
            trusted_proxies: Vec::new(),
            max_clients: 100_000,
        }
    }
}

impl RateLimits {
    /// Reporters send about one report per policy domain a day; one sending host may
    /// report on hundreds of domains at once, hence the burst.
    pub const DEFAULT_PER_IP: &str = "60/min,burst=300";
    /// A token is one policy domain: a few dozen reports a day at most.
    pub const DEFAULT_PER_TOKEN: &str = "60/h,burst=60";
}

/// Why a request was refused, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The limit that was hit.
    pub by: LimitKind,
    /// Whole seconds until one more request is allowed (at least 1).
    pub retry_after: u64,
}

/// Which bucket refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Address,
    Token,
}

/// The buckets of a running endpoint; shared by every connection.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    tokens: Arc<Tokens>,
    by_ip: Mutex<Buckets<IpAddr>>,
    by_token: Mutex<Buckets<String>>,
}

impl RateLimiter {
    /// Limits for an endpoint with `tokens` (only configured tokens get a bucket).
    pub fn new(limits: RateLimits, tokens: Arc<Tokens>) -> Self {
        let cap = limits.max_clients.max(1);
        Self {
            limits,
            tokens,
            by_ip: Mutex::new(Buckets::new(cap)),
            by_token: Mutex::new(Buckets::new(cap)),
        }
    }

    /// The client address of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        client_ip(peer, headers, &self.limits.trusted_proxies)
    }

    /// Takes one request from the buckets of `client` and of `token` (the path segment of
    /// `/tlsrpt/{token}`, if any), at `now`.
    pub fn check(&self, client: IpAddr, token: Option<&str>, now: Instant) -> Result<(), Refusal> {
        if let Some(rate) = &self.limits.per_ip {
            lock(&self.by_ip)
                .take(address_key(client), rate, now)
                .map_err(|retry_after| Refusal {
                    by: LimitKind::Address,
                    retry_after,
                })?;
        }
        if let (Some(rate), Some(token)) = (&self.limits.per_token, token)
            && self.tokens.domain(token).is_some()
        {
            lock(&self.by_token)
                .take(token.to_owned(), rate, now)
                .map_err(|retry_after| Refusal {
                    by: LimitKind::Token,
                    retry_after,
                })?;
        }
        Ok(())
    }

    /// How many client addresses have a bucket now.
    pub fn tracked_clients(&self) -> usize {
        lock(&self.by_ip).map.len()
    }
}

/// Puts the limits in front of `app`: refused requests never reach it.
pub fn with_rate_limits(app: Router, limiter: Arc<RateLimiter>) -> Router {
    app.layer(middleware::from_fn_with_state(limiter, limit))
}

async fn limit(State(limiter): State<Arc<RateLimiter>>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let client = limiter.client(peer, request.headers());
    let token = request
        .uri()
        .path()
        .strip_prefix("/tlsrpt/")
        .filter(|t| !t.is_empty());
    match limiter.check(client, token, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            tracing::info!(%client, by = ?refusal.by, "rate limit: request refused");
            ApiError::RateLimited(refusal).into_response()
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent buckets: keep using them.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// IPv4 addresses as they are; IPv6 clients by /64, the smallest block one is given.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refilled(&self, rate: &Rate, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * rate.per_second()).min(f64::from(rate.burst))
    }
}

#[derive(Debug)]
struct Buckets<K> {
    map: HashMap<K, Bucket>,
    cap: usize,
}

impl<K: Hash + Eq> Buckets<K> {
    fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            cap,
        }
    }

    /// Takes one token from `key`'s bucket, or says in how many seconds one is back.
    fn take(&mut self, key: K, rate: &Rate, now: Instant) -> Result<(), u64> {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.make_room(rate, now);
        }
        let bucket = self.map.entry(key).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            last: now,
        });
        let tokens = bucket.refilled(rate, now);
        bucket.last = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            bucket.tokens = tokens;
            let wait = (1.0 - tokens) / rate.per_second();
            Err((wait.ceil() as u64).max(1))
        }
    }

    /// Drops refilled buckets; if that frees less than an eighth of the table, also the
    /// least recently seen, so that each sweep pays for many inserts.
    fn make_room(&mut self, rate: &Rate, now: Instant) {
        let full = f64::from(rate.burst);
        self.map.retain(|_, b| b.refilled(rate, now) < full);
        let target = self.cap - (self.cap / 8).max(1);
        if self.map.len() <= target {
            return;
        }
        let excess = self.map.len() - target;
        let mut seen: Vec<Instant> = self.map.values().map(|b| b.last).collect();
        let (_, cutoff, _) = seen.select_nth_unstable(excess - 1);
        let cutoff = *cutoff;
        self.map.retain(|_, b| b.last > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn limiter(per_ip: &str, per_token: &str, cap: usize) -> RateLimiter {
        let tokens = Tokens::parse(["example.com=abcdefghijklmnop1234"]).unwrap();
        RateLimiter::new(
            RateLimits {
                per_ip: Some(per_ip.parse().unwrap()),
                per_token: Some(per_token.parse().unwrap()),
                trusted_proxies: Vec::new(),
                max_clients: cap,
            },
            Arc::new(tokens),
        )
    }

    #[test]
    fn rates_parse_and_print() {
        let rate: Rate = "60/min,burst=300".parse().unwrap();
        assert_eq!(rate.to_string(), "60/min,burst=300");
        assert!((rate.per_second() - 1.0).abs() < 1e-9);
        assert_eq!("5/s".parse::<Rate>().unwrap().to_string(), "5/s,burst=5");
        assert_eq!("2/day".parse::<Rate>().unwrap().burst, 2);
        for bad in [
            "",
            "60",
            "60/week",
            "0/s",
            "5/s,burst=0",
            "5/s,bust=3",
            "x/s",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        for default in [RateLimits::DEFAULT_PER_IP, RateLimits::DEFAULT_PER_TOKEN] {
            assert_eq!(default.parse::<Rate>().unwrap().to_string(), default);
        }
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds_with_retry_after() {
        let limiter = limiter("1/s,burst=3", "100/s", 10);
        let start = Instant::now();
        let client = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.check(client, None, start), Ok(()));
        }
        assert_eq!(
            limiter.check(client, None, start),
            Err(Refusal {
                by: LimitKind::Address,
                retry_after: 1
            })
        );
        // Another address has its own bucket.
        assert_eq!(limiter.check(ip("192.0.2.2"), None, start), Ok(()));
        // One second later, one more request.
        let later = start + secs(1);
        assert_eq!(limiter.check(client, None, later), Ok(()));
        assert!(limiter.check(client, None, later).is_err());
    }

    #[test]
    fn tokens_are_limited_across_addresses_and_only_known_ones() {
        let limiter = limiter("100/s", "2/h", 10);
        let now = Instant::now();
        let token = Some("abcdefghijklmnop1234");
        assert_eq!(limiter.check(ip("192.0.2.1"), token, now), Ok(()));
        assert_eq!(limiter.check(ip("192.0.2.2"), token, now), Ok(()));
        let refused = limiter.check(ip("192.0.2.3"), token, now).unwrap_err();
        assert_eq!(refused.by, LimitKind::Token);
        assert_eq!(refused.retry_after, 1800);
        // An unknown token has no bucket (it gets 403 from the endpoint).
        for _ in 0..10 {
            assert_eq!(limiter.check(ip("192.0.2.4"), Some("guess"), now), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let limiter = limiter("1/h", "1/h", 10);
        let now = Instant::now();
        assert_eq!(limiter.check(ip("2001:db8:1:2::1"), None, now), Ok(()));
        assert!(
            limiter
                .check(ip("2001:db8:1:2:ffff::9"), None, now)
                .is_err()
        );
        assert_eq!(limiter.check(ip("2001:db8:1:3::1"), None, now), Ok(()));
        // An IPv4-mapped address is its IPv4 address.
        assert_eq!(limiter.check(ip("192.0.2.9"), None, now), Ok(()));
        assert!(limiter.check(ip("::ffff:192.0.2.9"), None, now).is_err());
    }

    #[test]
    fn a_flood_of_distinct_addresses_stays_bounded() {
        let limiter = limiter("1/h", "1/h", 1000);
        let start = Instant::now();
        let victim = ip("198.51.100.1");
        assert!(limiter.check(victim, None, start).is_ok());
        assert!(limiter.check(victim, None, start).is_err());
        for i in 0..200_000u32 {
            let now = start + Duration::from_micros(u64::from(i));
            let flooder = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            let _ = limiter.check(flooder, None, now);
            assert!(limiter.tracked_clients() <= 1000);
        }
        assert!(limiter.tracked_clients() <= 1000);
        // Idle (refilled) buckets go first: after an hour the table empties itself.
        let hour = start + secs(3601);
        let _ = limiter.check(ip("203.0.113.1"), None, hour);
        let _ = limiter.check(ip("203.0.113.2"), None, hour);
        assert!(limiter.tracked_clients() <= 1000);
    }

    #[test]
    fn idle_buckets_are_evicted_before_busy_ones() {
        let mut buckets = Buckets::new(4);
        let rate: Rate = "1/s,burst=1".parse().unwrap();
        let start = Instant::now();
        for k in 0..4 {
            assert!(buckets.take(k, &rate, start).is_ok());
        }
        // Key 0 is used again at 2 s; keys 1-3 have refilled by 5 s and are dropped first.
        assert!(buckets.take(0, &rate, start + secs(2)).is_ok());
        assert!(
            buckets
                .take(9, &rate, start + secs(2) + Duration::from_millis(500))
                .is_ok()
        );
        assert!(buckets.map.contains_key(&0), "the busy bucket is kept");
        assert!(
            buckets
                .take(0, &rate, start + secs(2) + Duration::from_millis(600))
                .is_err()
        );
    }
}
