//! An in-process authoritative DNS server (hickory-server) on a random loopback port, UDP
//! and TCP, serving a zone that can also answer SERVFAIL, stay silent, or change its
//! answer from one query to the next (DNS rebinding) for chosen names.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Header, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, TLSA, TXT};
use hickory_server::proto::rr::{Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

/// Record types, for [`Zone::remove`].
pub use hickory_server::proto::rr::RecordType;

/// The records of the closed network, keyed by lowercase name without trailing dot.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    records: Vec<(String, RData)>,
    servfail: HashSet<String>,
    silent: HashSet<String>,
    rebinding: Vec<(String, Vec<IpAddr>, Queries)>,
}

/// How many A and AAAA queries a rebinding name got; shared with the server.
#[derive(Clone, Debug, Default)]
pub struct Queries(Arc<[AtomicUsize; 2]>);

impl Queries {
    /// The number of A queries answered so far.
    pub fn a(&self) -> usize {
        self.0[0].load(Ordering::SeqCst)
    }

    /// The number of AAAA queries answered so far.
    pub fn aaaa(&self) -> usize {
        self.0[1].load(Ordering::SeqCst)
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn name(text: &str) -> Name {
    Name::from_ascii(format!("{}.", text.trim_end_matches('.'))).expect("valid test name")
}

impl Zone {
    /// Adds one TXT record made of several strings.
    pub fn txt_strings(&mut self, owner: &str, strings: &[&str]) -> &mut Self {
        let txt = TXT::new(strings.iter().map(|s| (*s).to_owned()).collect());
        self.records.push((key(owner), RData::TXT(txt)));
        self
    }

    /// Adds one single-string TXT record.
    pub fn txt(&mut self, owner: &str, text: &str) -> &mut Self {
        self.txt_strings(owner, &[text])
    }

    /// Adds a TXT record holding raw bytes (for non-ASCII tests).
    pub fn txt_bytes(&mut self, owner: &str, bytes: &[u8]) -> &mut Self {
        self.records
            .push((key(owner), RData::TXT(TXT::from_bytes(vec![bytes]))));
        self
    }

    pub fn mx(&mut self, owner: &str, preference: u16, exchange: &str) -> &mut Self {
        self.records
            .push((key(owner), RData::MX(MX::new(preference, name(exchange)))));
        self
    }

    pub fn addr(&mut self, owner: &str, ip: IpAddr) -> &mut Self {
        let data = match ip {
            IpAddr::V4(v4) => RData::A(A(v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
        };
        self.records.push((key(owner), data));
        self
    }

    pub fn cname(&mut self, owner: &str, target: &str) -> &mut Self {
        self.records
            .push((key(owner), RData::CNAME(CNAME(name(target)))));
        self
    }

    pub fn tlsa(&mut self, owner: &str) -> &mut Self {
        let tlsa = TLSA::new(
            CertUsage::PkixTa,
            Selector::Spki,
            Matching::Sha256,
            vec![0xab; 32],
        );
        self.records.push((key(owner), RData::TLSA(tlsa)));
        self
    }

    /// Removes every record of `rtype` at `owner`.
    pub fn remove(&mut self, owner: &str, rtype: RecordType) -> &mut Self {
        let owner = key(owner);
        self.records
            .retain(|(n, d)| !(*n == owner && d.record_type() == rtype));
        self
    }

    /// A DNS-rebinding name: the n-th A query for `owner` is answered with the n-th IPv4
    /// address of `answers` (the last one from then on), and AAAA queries likewise with
    /// the IPv6 ones, all with TTL 0 so that no resolver caches them.
    pub fn rebinding(&mut self, owner: &str, answers: &[IpAddr]) -> Queries {
        let queries = Queries::default();
        self.rebinding
            .push((key(owner), answers.to_vec(), queries.clone()));
        queries
    }

    /// The answer of a rebinding name to an address query, counted.
    fn rebind(&self, owner: &str, rtype: RecordType) -> Option<Vec<Record>> {
        let (_, answers, queries) = self.rebinding.iter().find(|(n, _, _)| n == owner)?;
        let want_v4 = match rtype {
            RecordType::A => true,
            RecordType::AAAA => false,
            _ => return Some(Vec::new()),
        };
        let n = queries.0[usize::from(!want_v4)].fetch_add(1, Ordering::SeqCst);
        let family: Vec<IpAddr> = answers
            .iter()
            .filter(|ip| ip.is_ipv4() == want_v4)
            .copied()
            .collect();
        let Some(ip) = family.get(n.min(family.len().saturating_sub(1))) else {
            return Some(Vec::new());
        };
        let data = match ip {
            IpAddr::V4(v4) => RData::A(A(*v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
        };
        Some(vec![Record::from_rdata(name(owner), 0, data)])
    }

    /// Every query for `owner` gets SERVFAIL.
    pub fn servfail(&mut self, owner: &str) -> &mut Self {
        self.servfail.insert(key(owner));
        self
    }

    /// Every query for `owner` goes unanswered (a timeout for the client).
    pub fn silent(&mut self, owner: &str) -> &mut Self {
        self.silent.insert(key(owner));
        self
    }

    fn lookup(&self, owner: &str, rtype: RecordType) -> Result<Vec<Record>, ResponseCode> {
        let matching = |owner: &str, rtype: RecordType| -> Vec<Record> {
            self.records
                .iter()
                .filter(|(n, d)| n == owner && d.record_type() == rtype)
                .map(|(n, d)| Record::from_rdata(name(n), 60, d.clone()))
                .collect()
        };
        let mut answers = matching(owner, rtype);
        let cname = self
            .records
            .iter()
            .find(|(n, d)| n == owner && d.record_type() == RecordType::CNAME);
        if let (true, Some((_, RData::CNAME(target)))) =
            (answers.is_empty() && rtype != RecordType::CNAME, cname)
        {
            answers = matching(owner, RecordType::CNAME);
            answers.extend(matching(&key(&target.0.to_ascii()), rtype));
        }
        if !answers.is_empty() {
            return Ok(answers);
        }
        let suffix = format!(".{owner}");
        let exists = self
            .records
            .iter()
            .any(|(n, _)| n == owner || n.ends_with(&suffix));
        if exists {
            Ok(Vec::new())
        } else {
            Err(ResponseCode::NXDomain)
        }
    }
}

struct ZoneHandler {
    zone: Zone,
}

#[async_trait::async_trait]
impl RequestHandler for ZoneHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let Some(query) = request.queries.queries().first() else {
            metadata.response_code = ResponseCode::FormErr;
            return send(&mut response_handle, request, metadata, &[]).await;
        };
        let owner = key(&query.original().name().to_ascii());
        if self.zone.silent.contains(&owner) {
            return ResponseInfo::from(Header {
                metadata,
                counts: Default::default(),
            });
        }
        if self.zone.servfail.contains(&owner) {
            metadata.response_code = ResponseCode::ServFail;
            return send(&mut response_handle, request, metadata, &[]).await;
        }
        if let Some(answers) = self.zone.rebind(&owner, query.query_type()) {
            return send(&mut response_handle, request, metadata, &answers).await;
        }
        match self.zone.lookup(&owner, query.query_type()) {
            Ok(answers) => send(&mut response_handle, request, metadata, &answers).await,
            Err(code) => {
                metadata.response_code = code;
                send(&mut response_handle, request, metadata, &[]).await
            }
        }
    }
}

async fn send<R: ResponseHandler>(
    handle: &mut R,
    request: &Request,
    metadata: Metadata,
    answers: &[Record],
) -> ResponseInfo {
    let response = MessageResponseBuilder::from_message_request(request).build(
        metadata,
        answers.iter(),
        [],
        [],
        [],
    );
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => ResponseInfo::from(Header {
            metadata,
            counts: Default::default(),
        }),
    }
}

/// A running DNS server; it stops when dropped.
#[allow(missing_debug_implementations)]
pub struct DnsServer {
    pub addr: SocketAddr,
    server: Server<ZoneHandler>,
}

impl DnsServer {
    /// Serves `zone` on 127.0.0.1, UDP and TCP on the same random port.
    pub async fn start(zone: Zone) -> Self {
        loop {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
            let addr = udp.local_addr().expect("UDP address");
            let Ok(tcp) = TcpListener::bind(addr).await else {
                continue;
            };
            let mut server = Server::new(ZoneHandler { zone });
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
            return Self { addr, server };
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.server.shutdown_token().cancel();
    }
}

/// A DNS server on a thread and runtime of its own, for tests whose own thread blocks
/// (waiting for a child process, say); it stops when dropped.
#[derive(Debug)]
pub struct BackgroundDns {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl BackgroundDns {
    /// Serves `zone` from a background thread.
    pub fn start(zone: Zone) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the DNS server");
            runtime.block_on(async move {
                let server = DnsServer::start(zone).await;
                let _ = addr_tx.send(server.addr);
                let _ = stopped.await;
            });
        });
        let addr = addr_rx.recv().expect("the DNS server started");
        Self {
            addr,
            stop: Some(stop),
        }
    }
}

impl Drop for BackgroundDns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
