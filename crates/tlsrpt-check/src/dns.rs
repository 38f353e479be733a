//! DNS lookups through hickory-resolver, with the one distinction that matters here:
//! NXDOMAIN and NODATA mean "no record", SERVFAIL, REFUSED and timeouts mean "unknown".

use std::net::IpAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use crate::config::CheckConfig;
use crate::error::CheckError;

/// The outcome of one DNS query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer<T> {
    /// Records of the asked type exist.
    Found(T),
    /// NXDOMAIN (`nxdomain: true`) or NODATA.
    Missing { nxdomain: bool },
    /// The answer is unknown: SERVFAIL, REFUSED, timeout, network error.
    Failed(String),
}

/// The A and AAAA records of one host.
#[derive(Clone, Debug, Default)]
pub(crate) struct Addresses {
    /// IPv4 then IPv6 addresses.
    pub ips: Vec<IpAddr>,
    /// `(record type, reason)` for each lookup that failed temporarily.
    pub failures: Vec<(&'static str, String)>,
    /// Both lookups answered NXDOMAIN.
    pub nxdomain: bool,
}

/// The resolver used for every lookup of one checker.
#[derive(Clone, Debug)]
pub(crate) struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    pub(crate) fn new(config: &CheckConfig) -> Result<Self, CheckError> {
        let mut builder = match config.dns_server {
            Some(server) => {
                let connections = [ProtocolConfig::Udp, ProtocolConfig::Tcp]
                    .into_iter()
                    .map(|protocol| {
                        let mut connection = ConnectionConfig::new(protocol);
                        connection.port = server.port();
                        connection
                    })
                    .collect();
                let name_server = NameServerConfig::new(server.ip(), true, connections);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio()?,
        };
        let options = builder.options_mut();
        options.timeout = config.dns_timeout;
        options.attempts = 1;
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        options.try_tcp_on_error = true;
        Ok(Self {
            resolver: builder.build()?,
        })
    }

    async fn lookup(&self, name: &str, rtype: RecordType) -> Answer<Vec<RData>> {
        let fqdn = match Name::from_ascii(format!("{}.", name.trim_end_matches('.'))) {
            Ok(fqdn) => fqdn,
            Err(e) => return Answer::Failed(format!("`{name}` is not a valid DNS name: {e}")),
        };
        match self.resolver.lookup(fqdn, rtype).await {
            Ok(lookup) => {
                let data: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect();
                if data.is_empty() {
                    Answer::Missing { nxdomain: false }
                } else {
                    Answer::Found(data)
                }
            }
            Err(e) => classify(&e),
        }
    }

    /// TXT records at `name`, each with its strings concatenated with no separator.
    pub(crate) async fn txt(&self, name: &str) -> Answer<Vec<String>> {
        self.lookup(name, RecordType::TXT).await.map(|data| {
            data.into_iter()
                .filter_map(|d| match d {
                    RData::TXT(txt) => {
                        let bytes: Vec<u8> = txt.txt_data.iter().flatten().copied().collect();
                        Some(String::from_utf8_lossy(&bytes).into_owned())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// MX records at `name` as `(preference, exchange)`, exchange without trailing dot.
    pub(crate) async fn mx(&self, name: &str) -> Answer<Vec<(u16, String)>> {
        self.lookup(name, RecordType::MX).await.map(|data| {
            let mut mx: Vec<(u16, String)> = data
                .into_iter()
                .filter_map(|d| match d {
                    RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                    _ => None,
                })
                .collect();
            mx.sort();
            mx
        })
    }

    /// Number of TLSA records at `name`.
    pub(crate) async fn tlsa_count(&self, name: &str) -> Answer<usize> {
        self.lookup(name, RecordType::TLSA).await.map(|d| d.len())
    }

    /// A and AAAA records of `host`, looked up in parallel.
    pub(crate) async fn addresses(&self, host: &str) -> Addresses {
        let (v4, v6) = tokio::join!(
            self.lookup(host, RecordType::A),
            self.lookup(host, RecordType::AAAA)
        );
        let mut out = Addresses::default();
        let mut nx = 0;
        for (label, answer) in [("A", v4), ("AAAA", v6)] {
            match answer {
                Answer::Found(data) => out.ips.extend(data.into_iter().filter_map(|d| match d {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })),
                Answer::Missing { nxdomain } => nx += usize::from(nxdomain),
                Answer::Failed(reason) => out.failures.push((label, reason)),
            }
        }
        out.nxdomain = nx == 2;
        out
    }
}

impl<T> Answer<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        match self {
            Self::Found(t) => Answer::Found(f(t)),
            Self::Missing { nxdomain } => Answer::Missing { nxdomain },
            Self::Failed(reason) => Answer::Failed(reason),
        }
    }
}

fn classify<T>(error: &NetError) -> Answer<T> {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            match *response_code {
                ResponseCode::NXDomain => Answer::Missing { nxdomain: true },
                ResponseCode::NoError => Answer::Missing { nxdomain: false },
                code => Answer::Failed(format!("the server answered {code}")),
            }
        }
        NetError::Dns(DnsError::ResponseCode(code)) => {
            Answer::Failed(format!("the server answered {code}"))
        }
        NetError::Timeout => Answer::Failed("the query timed out".to_owned()),
        other => Answer::Failed(other.to_string()),
    }
}
