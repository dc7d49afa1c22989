//! DNS: the process's one stub resolver, and the SPF/DKIM/DMARC/ARC
//! authenticator (`mail-auth`) built on top of it.
//!
//! Owns: turning `[dns] nameservers` into a resolver (each `ip:port`
//! queried over UDP, with TCP for truncated answers, on that port; an
//! empty list reads `/etc/resolv.conf`), timeouts, the answer cache, and
//! the few raw lookups the pipeline and the queue need (A/AAAA, PTR, MX)
//! and those `postel dns check` needs (TXT, SRV, CNAME),
//! each classified as *not found* or *temporary failure* so that callers
//! can never confuse "the record does not exist" with "we could not ask".
//!
//! Must not: decide policy. Which result rejects or delays a message is
//! `crate::pipeline`'s business.
//!
//! Caching: hickory's response cache (positive and negative answers, TTLs
//! as published, capped by [`ResolverOptions::max_ttl`]) is shared by every
//! clone of a [`Resolver`] — the pipeline, the queue and the CLI hold
//! clones of one value. On top of it, mail-auth's record caches
//! ([`cache::AuthCaches`]) keep the *parsed* SPF, DMARC and DKIM key records
//! until the same expiry, so a busy sender's records are not re-parsed
//! for every message; the pipeline passes them to every verification
//! through [`Resolver::auth_params`].
//!
//! The hosts file is never consulted: mail authentication (RFC 7208 §5,
//! RFC 6376 §3.6.2, RFC 7489 §6.6.3) and forward-confirmed reverse DNS are
//! statements about the DNS, and `/etc/hosts` maps `127.0.0.1` to names
//! that are nobody's PTR record.
//!
//! Reverse lookups of loopback addresses go straight to the configured
//! servers (when there are any): hickory would answer them itself with
//! `localhost`, hiding the PTR records a test zone serves for clients
//! connecting from 127.0.0.x.
//!
//! Tests point [`Resolver`] at an in-process authoritative server on a
//! loopback port (`tests/common/dns.rs`) through the same `nameservers`
//! list that operators use.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{TokioResolver, system_conf};
use mail_auth::{MessageAuthenticator, Parameters};

use crate::config::DnsConfig;

pub mod cache;

use cache::{AuthCaches, TtlCache};

/// mail-auth verification parameters carrying this resolver's record
/// caches.
pub type AuthParams<'x, P> = Parameters<
    'x,
    P,
    TtlCache<Box<str>, mail_auth::Txt>,
    TtlCache<Box<str>, mail_auth::RecordSet<mail_auth::MX>>,
    TtlCache<Box<str>, mail_auth::RecordSet<Ipv4Addr>>,
    TtlCache<Box<str>, mail_auth::RecordSet<std::net::Ipv6Addr>>,
    TtlCache<IpAddr, mail_auth::RecordSet<Box<str>>>,
>;

/// The resolver could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DnsSetupError {
    /// `/etc/resolv.conf` is missing or unreadable and no nameservers are
    /// configured.
    #[error("cannot read the system resolver configuration (/etc/resolv.conf): {0}")]
    SystemConf(String),
    /// hickory refused the configuration.
    #[error("cannot build the DNS resolver: {0}")]
    Build(String),
}

/// Why a lookup produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// NXDOMAIN, or the name exists without records of that type (NODATA).
    #[error("no such DNS record")]
    NotFound,
    /// Timeout, SERVFAIL, REFUSED, network error: asking again later may
    /// succeed. Never to be treated as "not found".
    #[error("temporary DNS failure: {0}")]
    Temporary(String),
    /// The name is not a valid domain name.
    #[error("invalid DNS name {0:?}")]
    InvalidName(String),
}

impl From<NetError> for LookupError {
    fn from(err: NetError) -> Self {
        if err.is_no_records_found() {
            LookupError::NotFound
        } else {
            LookupError::Temporary(err.to_string())
        }
    }
}

/// Tuning that `[dns]` does not expose (yet); tests shorten the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolverOptions {
    /// How long one query waits for an answer from one server.
    pub timeout: Duration,
    /// How many times a query is sent before giving up.
    pub attempts: usize,
    /// How many answers the cache holds (hickory's, and each of
    /// mail-auth's parsed-record caches).
    pub cache_size: u64,
    /// Cached answers are dropped after this long whatever their TTL.
    pub max_ttl: Duration,
}

impl Default for ResolverOptions {
    /// 3 s × 2 attempts keeps a dead resolver from holding an SMTP
    /// session (SPF alone may issue 10 lookups) for minutes.
    fn default() -> Self {
        ResolverOptions {
            timeout: Duration::from_secs(3),
            attempts: 2,
            cache_size: 16_384,
            max_ttl: Duration::from_secs(86_400),
        }
    }
}

/// The shared resolver and authenticator; cheap to clone.
#[derive(Clone)]
pub struct Resolver {
    auth: Arc<MessageAuthenticator>,
    caches: Arc<AuthCaches>,
    /// Loopback PTR answers asked directly (hickory's cache does not see
    /// them), kept for their TTL.
    loopback_ptr: Arc<TtlCache<IpAddr, Vec<String>>>,
    /// Configured servers, asked directly for loopback PTR records.
    servers: Arc<[SocketAddr]>,
    options: ResolverOptions,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    /// Builds the resolver for `[dns]` with default tuning.
    ///
    /// # Errors
    /// No nameservers configured and `/etc/resolv.conf` unusable, or
    /// hickory refused the configuration.
    pub fn from_config(config: &DnsConfig) -> Result<Resolver, DnsSetupError> {
        Self::with_options(config, ResolverOptions::default())
    }

    /// Builds the resolver for `[dns]` with explicit tuning.
    ///
    /// # Errors
    /// As [`Resolver::from_config`].
    pub fn with_options(
        config: &DnsConfig,
        options: ResolverOptions,
    ) -> Result<Resolver, DnsSetupError> {
        let (resolver_config, mut opts) = if config.nameservers.is_empty() {
            system_conf::read_system_conf().map_err(|e| DnsSetupError::SystemConf(e.to_string()))?
        } else {
            (
                ResolverConfig::from_name_servers(
                    config.nameservers.iter().map(|a| name_server(*a)).collect(),
                ),
                ResolverOpts::default(),
            )
        };
        opts.timeout = options.timeout;
        opts.attempts = options.attempts.max(1);
        opts.cache_size = options.cache_size;
        opts.positive_max_ttl = Some(options.max_ttl);
        opts.negative_max_ttl = Some(options.max_ttl);
        opts.use_hosts_file = ResolveHosts::Never;
        opts.try_tcp_on_error = true;
        let resolver =
            TokioResolver::builder_with_config(resolver_config, TokioRuntimeProvider::default())
                .with_options(opts)
                .build()
                .map_err(|e| DnsSetupError::Build(e.to_string()))?;
        Ok(Resolver {
            auth: Arc::new(MessageAuthenticator(resolver)),
            caches: Arc::new(AuthCaches::new(
                usize::try_from(options.cache_size).unwrap_or(usize::MAX),
            )),
            loopback_ptr: Arc::new(TtlCache::new(256)),
            servers: config.nameservers.clone().into(),
            options,
        })
    }

    /// The SPF/DKIM/DMARC/ARC verifier, sharing this resolver's cache.
    pub fn authenticator(&self) -> &MessageAuthenticator {
        &self.auth
    }

    /// `params` for one of the authenticator's `verify_*` calls, with
    /// this resolver's parsed-record caches attached.
    pub fn auth_params<P>(&self, params: P) -> AuthParams<'_, P> {
        let c = &*self.caches;
        Parameters::new(params)
            .with_txt_cache(&c.txt)
            .with_mx_cache(&c.mx)
            .with_ipv4_cache(&c.ipv4)
            .with_ipv6_cache(&c.ipv6)
            .with_ptr_cache(&c.ptr)
    }

    /// The parsed-record caches (for tests and diagnostics).
    pub fn auth_caches(&self) -> &AuthCaches {
        &self.caches
    }

    /// IPv4 addresses of `name` (an `A` lookup).
    ///
    /// # Errors
    /// [`LookupError`]: not found, temporary failure, or a bad name.
    pub async fn ipv4(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        let lookup = self.auth.0.lookup(fqdn(name)?, RecordType::A).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect())
    }

    /// All addresses of `name`, `A` then `AAAA`. Not found only when both
    /// are; a temporary failure of either is reported when nothing was
    /// found, so an address is never missed because of a glitch.
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        let name = fqdn(name)?;
        let mut out = Vec::new();
        let mut temporary = None;
        for rtype in [RecordType::A, RecordType::AAAA] {
            match self.auth.0.lookup(name.clone(), rtype).await {
                Ok(lookup) => out.extend(lookup.answers().iter().filter_map(|r| match &r.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })),
                Err(e) => match LookupError::from(e) {
                    LookupError::NotFound => {}
                    other => temporary = Some(other),
                },
            }
        }
        match (out.is_empty(), temporary) {
            (false, _) => Ok(out),
            (true, Some(err)) => Err(err),
            (true, None) => Err(LookupError::NotFound),
        }
    }

    /// PTR names of `ip`, lowercased, without the trailing dot.
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        if ip.to_canonical().is_loopback() && !self.servers.is_empty() {
            return self.direct_ptr(ip.to_canonical()).await;
        }
        let lookup = self.auth.0.reverse_lookup(ip).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(ptr) => Some(display_name(&ptr.0)),
                _ => None,
            })
            .filter(|n| !n.is_empty())
            .collect())
    }

    /// MX hosts of `domain` as `(preference, host)`, lowest preference
    /// first; host names lowercased without the trailing dot.
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, LookupError> {
        let lookup = self.auth.0.lookup(fqdn(domain)?, RecordType::MX).await?;
        let mut out: Vec<(u16, String)> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, display_name(&mx.exchange))),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

impl Resolver {
    /// TXT records of `name`, each record's character-strings joined
    /// (RFC 7208 §3.3, RFC 6376 §3.6.2.2), invalid UTF-8 replaced.
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let lookup = self.auth.0.lookup(fqdn(name)?, RecordType::TXT).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    /// SRV records of `name` as `(priority, weight, port, target)`, the
    /// target lowercased without the trailing dot (`""` for the root,
    /// RFC 2782's "service not available").
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>, LookupError> {
        let lookup = self.auth.0.lookup(fqdn(name)?, RecordType::SRV).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some((
                    srv.priority,
                    srv.weight,
                    srv.port,
                    display_name(&srv.target),
                )),
                _ => None,
            })
            .collect())
    }

    /// The CNAME target(s) of `name`, lowercased without the trailing dot.
    ///
    /// # Errors
    /// [`LookupError`].
    pub async fn cname(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let lookup = self.auth.0.lookup(fqdn(name)?, RecordType::CNAME).await?;
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::CNAME(c) => Some(display_name(&c.0)),
                _ => None,
            })
            .collect())
    }
}

impl Resolver {
    /// PTR of a loopback address, asked of the configured servers
    /// directly: hickory answers `*.127.in-addr.arpa` and `::1` itself
    /// with `localhost` (RFC 6761 §6.3), which would hide the records of
    /// a test zone served to connections from 127.0.0.x.
    async fn direct_ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        if let Some(names) = self.loopback_ptr.get_fresh(&ip) {
            return Ok(names);
        }
        let mut last = LookupError::Temporary("no nameserver answered".into());
        for _ in 0..self.options.attempts.max(1) {
            for server in self.servers.iter() {
                match tokio::time::timeout(self.options.timeout, udp_ptr(*server, ip)).await {
                    Ok(Ok(Ok((names, ttl)))) => {
                        let ttl = ttl.min(self.options.max_ttl);
                        let until = std::time::Instant::now() + ttl;
                        self.loopback_ptr.put(ip, names.clone(), until);
                        return Ok(names);
                    }
                    Ok(Ok(Err(err))) => return Err(err),
                    Ok(Err(err)) => last = LookupError::Temporary(err.to_string()),
                    Err(_) => last = LookupError::Temporary(format!("{server}: timed out")),
                }
            }
        }
        Err(last)
    }
}

/// One PTR query over UDP: the names and the smallest TTL of the answer;
/// the outer `Result` is transport trouble.
async fn udp_ptr(
    server: SocketAddr,
    ip: IpAddr,
) -> std::io::Result<Result<(Vec<String>, Duration), LookupError>> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::from(ip), RecordType::PTR));
    let bytes = query.to_vec().map_err(|e| invalid(e.to_string()))?;
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = tokio::net::UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(&bytes).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = socket.recv(&mut buf).await?;
        let Ok(reply) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if reply.metadata.id != query.metadata.id {
            continue;
        }
        return Ok(match reply.metadata.response_code {
            ResponseCode::NoError => {
                let ptrs: Vec<(String, u32)> = reply
                    .answers
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::PTR(ptr) => Some((display_name(&ptr.0), r.ttl)),
                        _ => None,
                    })
                    .collect();
                let ttl = ptrs.iter().map(|(_, t)| *t).min().unwrap_or(0);
                let names: Vec<String> = ptrs.into_iter().map(|(n, _)| n).collect();
                if names.is_empty() {
                    Err(LookupError::NotFound)
                } else {
                    Ok((names, Duration::from_secs(u64::from(ttl))))
                }
            }
            ResponseCode::NXDomain => Err(LookupError::NotFound),
            code => Err(LookupError::Temporary(format!("{server}: {code}"))),
        });
    }
}

/// One configured server, UDP and TCP on the configured port.
fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
}

/// `name` as an absolute DNS name, so no search domain is ever appended.
fn fqdn(name: &str) -> Result<Name, LookupError> {
    let absolute = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    Name::from_str_relaxed(absolute.as_str()).map_err(|_| LookupError::InvalidName(name.into()))
}

/// A DNS name the way mail headers write it: lowercase, no final dot.
fn display_name(name: &Name) -> String {
    let text = name.to_lowercase().to_ascii();
    text.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_absolute() {
        assert_eq!(fqdn("example.com").map(|n| n.is_fqdn()), Ok(true));
        assert_eq!(
            fqdn("example.com.").map(|n| n.to_ascii()),
            Ok("example.com.".into())
        );
        assert!(matches!(fqdn("a..b"), Err(LookupError::InvalidName(_))));
    }

    #[test]
    fn configured_servers_use_their_port() {
        let ns = name_server("127.0.0.1:5353".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(ns.connections.len(), 2);
        assert!(ns.connections.iter().all(|c| c.port == 5353));
    }

    #[tokio::test]
    async fn explicit_servers_build_without_resolv_conf() {
        let config = DnsConfig {
            nameservers: vec![SocketAddr::from(([127, 0, 0, 1], 5300))],
        };
        assert!(Resolver::from_config(&config).is_ok());
    }
}
