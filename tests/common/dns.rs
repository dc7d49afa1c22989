//! An in-process authoritative DNS server for tests (hickory-server),
//! answering for the whole name space from a list of records.
//!
//! It listens on UDP and TCP of one random loopback port; point
//! `[dns] nameservers` at [`TestDns::addr`] (or take [`TestDns::config`]).
//! A name with no records is NXDOMAIN, a name with records of other types
//! is NODATA, and names marked with [`TestDns::servfail`] answer SERVFAIL.
//! Records can be added while it runs; [`TestDns::stop`] shuts it down
//! (then queries time out, as with a dead resolver).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Edns, Header, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, SRV, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use postel::config::DnsConfig;
use postel::dns::{Resolver, ResolverOptions};

/// One record of a test zone. Names are written without the final dot.
#[derive(Debug, Clone)]
pub enum TestRecord {
    /// TXT; strings over 255 bytes are split into character-strings.
    Txt(String, String),
    /// A.
    A(String, Ipv4Addr),
    /// AAAA.
    Aaaa(String, Ipv6Addr),
    /// MX: name, preference, exchange.
    Mx(String, u16, String),
    /// PTR for an address (the reverse name is computed).
    Ptr(IpAddr, String),
    /// SRV: name, priority, weight, port, target (`""` or `.` for the root).
    Srv(String, u16, u16, u16, String),
    /// CNAME: name, target (served as is; the server does not chase it).
    Cname(String, String),
}

/// Shorthand constructors.
pub fn txt(name: &str, text: &str) -> TestRecord {
    TestRecord::Txt(name.into(), text.into())
}
/// An A record.
pub fn a(name: &str, ip: &str) -> TestRecord {
    TestRecord::A(name.into(), ip.parse().expect("IPv4 address"))
}
/// An AAAA record.
pub fn aaaa(name: &str, ip: &str) -> TestRecord {
    TestRecord::Aaaa(name.into(), ip.parse().expect("IPv6 address"))
}
/// An MX record.
pub fn mx(name: &str, preference: u16, exchange: &str) -> TestRecord {
    TestRecord::Mx(name.into(), preference, exchange.into())
}
/// A PTR record for `ip`.
pub fn ptr(ip: &str, target: &str) -> TestRecord {
    TestRecord::Ptr(ip.parse().expect("IP address"), target.into())
}

/// An SRV record.
pub fn srv(name: &str, priority: u16, weight: u16, port: u16, target: &str) -> TestRecord {
    TestRecord::Srv(name.into(), priority, weight, port, target.into())
}
/// A CNAME record.
pub fn cname(name: &str, target: &str) -> TestRecord {
    TestRecord::Cname(name.into(), target.into())
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn dns_name(name: &str) -> Name {
    if name.trim_end_matches('.').is_empty() {
        return Name::root();
    }
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).expect("valid DNS name")
}

impl TestRecord {
    fn into_record(self) -> (String, Record) {
        let (owner, rdata) = match self {
            TestRecord::Txt(n, text) => {
                let chunks: Vec<String> = text
                    .as_bytes()
                    .chunks(255)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                (n, RData::TXT(TXT::new(chunks)))
            }
            TestRecord::A(n, ip) => (n, RData::A(A(ip))),
            TestRecord::Aaaa(n, ip) => (n, RData::AAAA(AAAA(ip))),
            TestRecord::Mx(n, pref, ex) => (n, RData::MX(MX::new(pref, dns_name(&ex)))),
            TestRecord::Ptr(ip, target) => {
                let owner = Name::from(ip).to_ascii();
                (owner, RData::PTR(PTR(dns_name(&target))))
            }
            TestRecord::Srv(n, priority, weight, port, target) => (
                n,
                RData::SRV(SRV::new(priority, weight, port, dns_name(&target))),
            ),
            TestRecord::Cname(n, target) => (n, RData::CNAME(CNAME(dns_name(&target)))),
        };
        let record = Record::from_rdata(dns_name(&owner), 60, rdata);
        (key(&owner), record)
    }
}

#[derive(Default)]
struct Zone {
    records: HashMap<(String, RecordType), Vec<Record>>,
    names: HashSet<String>,
    servfail: HashSet<String>,
    queries: Vec<(String, RecordType)>,
}

impl Zone {
    fn add(&mut self, record: TestRecord) {
        let (owner, record) = record.into_record();
        let rtype = record.record_type();
        self.names.insert(owner.clone());
        self.records.entry((owner, rtype)).or_default().push(record);
    }
}

struct Handler {
    zone: Arc<Mutex<Zone>>,
}

fn lock(zone: &Mutex<Zone>) -> MutexGuard<'_, Zone> {
    zone.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let (code, answers) = match request.request_info() {
            Ok(info) => {
                let name = key(&info.query.name().to_string());
                let rtype = info.query.query_type();
                let mut zone = lock(&self.zone);
                zone.queries.push((name.clone(), rtype));
                if zone.servfail.contains(&name) {
                    (ResponseCode::ServFail, Vec::new())
                } else if let Some(records) = zone.records.get(&(name.clone(), rtype)) {
                    (ResponseCode::NoError, records.clone())
                } else if zone.names.contains(&name) {
                    (ResponseCode::NoError, Vec::new())
                } else {
                    (ResponseCode::NXDomain, Vec::new())
                }
            }
            Err(_) => (ResponseCode::FormErr, Vec::new()),
        };
        metadata.response_code = code;
        let mut builder = MessageResponseBuilder::from_message_request(request);
        let mut edns = Edns::new();
        if let Some(req_edns) = &request.edns {
            edns.set_max_payload(req_edns.max_payload().max(512));
            builder.edns(&edns);
        }
        let response = builder.build(metadata, answers.iter(), [], [], []);
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(_) => ResponseInfo::from(Header {
                metadata,
                counts: Default::default(),
            }),
        }
    }
}

/// A running test DNS server.
pub struct TestDns {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    server: Option<Server<Handler>>,
}

impl TestDns {
    /// Starts a server on 127.0.0.1:<random port> serving `records`.
    pub async fn start(records: impl IntoIterator<Item = TestRecord>) -> TestDns {
        let zone = Arc::new(Mutex::new(Zone::default()));
        for r in records {
            lock(&zone).add(r);
        }
        let (udp, tcp) = bind_pair().await;
        let addr = udp.local_addr().expect("udp local addr");
        let mut server = Server::new(Handler { zone: zone.clone() });
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 65_535);
        TestDns {
            addr,
            zone,
            server: Some(server),
        }
    }

    /// The server's address (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `[dns]` section pointing at this server.
    pub fn config(&self) -> DnsConfig {
        DnsConfig {
            nameservers: vec![self.addr],
        }
    }

    /// A resolver using only this server, with short timeouts.
    pub fn resolver(&self) -> Resolver {
        Resolver::with_options(&self.config(), test_options()).expect("test resolver")
    }

    /// Adds a record while running.
    pub fn add(&self, record: TestRecord) {
        lock(&self.zone).add(record);
    }

    /// Makes every query for `name` answer SERVFAIL.
    pub fn servfail(&self, name: &str) {
        lock(&self.zone).servfail.insert(key(name));
    }

    /// The queries received so far, as (name, type).
    pub fn queries(&self) -> Vec<(String, RecordType)> {
        lock(&self.zone).queries.clone()
    }

    /// Stops the server; later queries to its port go unanswered.
    pub async fn stop(mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.shutdown_gracefully().await;
        }
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown_token().cancel();
        }
    }
}

/// Resolver tuning for tests: a dead server is detected in about a
/// second instead of the production default.
pub fn test_options() -> ResolverOptions {
    ResolverOptions {
        timeout: Duration::from_millis(500),
        attempts: 1,
        ..ResolverOptions::default()
    }
}

/// A resolver pointing at `addr` whether or not anything answers there.
pub fn resolver_at(addr: SocketAddr) -> Resolver {
    let config = DnsConfig {
        nameservers: vec![addr],
    };
    Resolver::with_options(&config, test_options()).expect("test resolver")
}

/// A UDP socket and a TCP listener on the same free loopback port.
async fn bind_pair() -> (tokio::net::UdpSocket, tokio::net::TcpListener) {
    for _ in 0..50 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind udp");
        let port = udp.local_addr().expect("udp addr").port();
        if let Ok(tcp) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            return (udp, tcp);
        }
    }
    panic!("no free port for UDP and TCP together");
}
