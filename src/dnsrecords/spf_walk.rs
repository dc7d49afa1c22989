//! An SPF record and everything it refers to, fetched once as a tree, then
//! judged without DNS: how many DNS lookups evaluating it may take (RFC
//! 7208 §4.6.4 allows 10, and 2 "void" lookups), and what it says about a
//! given address (§4.6, §5).
//!
//! The count is the worst case: every `include`, `a`, `mx`, `ptr` and
//! `exists` term and the `redirect` (when there is no `all`) are counted,
//! recursively, whether or not an evaluation would reach them — a record
//! that only stays under the limit for some senders breaks for others.
//!
//! Not evaluated (they count, but never match): `ptr` (deprecated, §5.5)
//! and terms whose domain uses macros (`%{i}`…), which depend on the
//! message.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use ipnet::IpNet;

pub use super::spf_eval::{evaluate, lookups, void_lookups};
pub use super::spf_parse::is_spf;
use super::spf_parse::{Parsed, Unresolved, parse};
use crate::dns::{LookupError, Resolver};

/// The lookup limit of RFC 7208 §4.6.4.
pub const MAX_LOOKUPS: usize = 10;
/// The void lookup limit of RFC 7208 §4.6.4.
pub const MAX_VOID_LOOKUPS: usize = 2;
/// The walk stops fetching after this many lookups (a record this far
/// over the limit is broken whatever the rest says).
const FETCH_BUDGET: usize = 40;
/// Nested `include`/`redirect` deeper than this are not followed.
const MAX_DEPTH: usize = 12;

/// The DNS questions SPF asks.
pub trait SpfDns {
    /// TXT values of `name`, each record's strings joined.
    fn txt(&self, name: &str) -> impl Future<Output = Result<Vec<String>, LookupError>>;
    /// A and AAAA addresses of `name`.
    fn ips(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, LookupError>>;
    /// MX host names of `name`.
    fn mx(&self, name: &str) -> impl Future<Output = Result<Vec<String>, LookupError>>;
}

impl SpfDns for Resolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        Resolver::txt(self, name).await
    }
    async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        Resolver::ips(self, name).await
    }
    async fn mx(&self, name: &str) -> Result<Vec<String>, LookupError> {
        Ok(Resolver::mx(self, name)
            .await?
            .into_iter()
            .map(|(_, host)| host)
            .collect())
    }
}

/// One domain's SPF policy and what it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfTree {
    /// The domain whose TXT records were read.
    pub domain: String,
    /// What was found there.
    pub node: Node,
}

/// What a domain publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// One SPF record.
    Record(SpfRecord),
    /// No `v=spf1` record.
    NoRecord,
    /// Several `v=spf1` records (a permanent error, §4.5).
    Multiple(Vec<String>),
    /// A record that does not parse.
    Syntax {
        /// The record.
        text: String,
        /// What is wrong.
        error: String,
    },
    /// The lookup failed; try again later.
    TempError(String),
    /// Not fetched: too deep, or far over the lookup limit.
    NotFetched,
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRecord {
    /// The record's text.
    pub text: String,
    /// Mechanisms, in order.
    pub terms: Vec<Term>,
    /// `redirect=`, followed only when there is no `all`.
    pub redirect: Option<Box<SpfTree>>,
}

/// A mechanism with its qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// What a match means.
    pub qualifier: SpfResult,
    /// The mechanism.
    pub mech: Mech,
}

/// The addresses a DNS mechanism found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The addresses.
    Addrs(Vec<IpAddr>),
    /// Nothing: NXDOMAIN or no records (a void lookup).
    Void,
    /// The lookup failed.
    TempError(String),
    /// Not fetched (over the budget).
    NotFetched,
}

/// An SPF mechanism, with what DNS said for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mech {
    /// `all`.
    All,
    /// `include:domain`.
    Include(Box<SpfTree>),
    /// `a[:domain][/n][//m]`.
    A {
        /// IPv4 prefix length.
        cidr4: u8,
        /// IPv6 prefix length.
        cidr6: u8,
        /// The domain's addresses.
        addrs: Resolved,
    },
    /// `mx[:domain][/n][//m]`: the addresses of every MX host.
    Mx {
        /// IPv4 prefix length.
        cidr4: u8,
        /// IPv6 prefix length.
        cidr6: u8,
        /// The MX hosts' addresses (void when there is no MX).
        addrs: Resolved,
    },
    /// `ip4:` / `ip6:`.
    Ip(IpNet),
    /// `exists:domain`.
    Exists(Resolved),
    /// `ptr` (counted, never matches).
    Ptr,
    /// A DNS mechanism whose domain uses macros (counted, never matches).
    Macro(String),
}

/// An SPF result (RFC 7208 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpfResult {
    /// Authorised.
    Pass,
    /// Not authorised.
    Fail,
    /// Probably not authorised.
    SoftFail,
    /// No statement.
    Neutral,
    /// No SPF record.
    None,
    /// The record is broken.
    PermError(String),
    /// DNS failed.
    TempError(String),
}

impl std::fmt::Display for SpfResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpfResult::Pass => f.write_str("pass"),
            SpfResult::Fail => f.write_str("fail"),
            SpfResult::SoftFail => f.write_str("softfail"),
            SpfResult::Neutral => f.write_str("neutral"),
            SpfResult::None => f.write_str("none"),
            SpfResult::PermError(e) => write!(f, "permerror ({e})"),
            SpfResult::TempError(e) => write!(f, "temperror ({e})"),
        }
    }
}

/// Fetches the SPF tree of `domain`.
pub async fn walk<D: SpfDns>(dns: &D, domain: &str) -> SpfTree {
    let mut fetched = 0;
    walk_at(dns, domain.to_ascii_lowercase(), 0, &mut fetched).await
}

fn walk_at<'a, D: SpfDns>(
    dns: &'a D,
    domain: String,
    depth: usize,
    fetched: &'a mut usize,
) -> Pin<Box<dyn Future<Output = SpfTree> + 'a>> {
    Box::pin(async move {
        let node = if depth > MAX_DEPTH || *fetched > FETCH_BUDGET {
            Node::NotFetched
        } else {
            fetch_node(dns, &domain, depth, fetched).await
        };
        SpfTree { domain, node }
    })
}

async fn fetch_node<D: SpfDns>(dns: &D, domain: &str, depth: usize, fetched: &mut usize) -> Node {
    let texts = match dns.txt(domain).await {
        Ok(t) => t,
        Err(LookupError::NotFound) => return Node::NoRecord,
        Err(e) => return Node::TempError(e.to_string()),
    };
    let mut spf: Vec<String> = texts.into_iter().filter(|t| is_spf(t)).collect();
    let text = match spf.len() {
        0 => return Node::NoRecord,
        1 => spf.remove(0),
        _ => return Node::Multiple(spf),
    };
    let parsed = match parse(&text, domain) {
        Ok(p) => p,
        Err(error) => return Node::Syntax { text, error },
    };
    let has_all = parsed
        .iter()
        .any(|p| matches!(p, Parsed::Mech(_, Unresolved::All)));
    let mut terms = Vec::new();
    let mut redirect = None;
    for p in parsed {
        match p {
            Parsed::Mech(qualifier, u) => {
                let mech = resolve(dns, u, depth, fetched).await;
                terms.push(Term { qualifier, mech });
            }
            Parsed::Redirect(target) if !has_all && redirect.is_none() => {
                *fetched += 1;
                redirect = Some(Box::new(walk_at(dns, target, depth + 1, fetched).await));
            }
            Parsed::Redirect(_) | Parsed::Ignored => {}
        }
    }
    Node::Record(SpfRecord {
        text,
        terms,
        redirect,
    })
}

async fn resolve<D: SpfDns>(dns: &D, u: Unresolved, depth: usize, fetched: &mut usize) -> Mech {
    let over = |n: &usize| *n > FETCH_BUDGET;
    match u {
        Unresolved::All => Mech::All,
        Unresolved::Ip(net) => Mech::Ip(net),
        Unresolved::Ptr => Mech::Ptr,
        Unresolved::Macro(spec) => Mech::Macro(spec),
        Unresolved::Include(target) => {
            *fetched += 1;
            Mech::Include(Box::new(walk_at(dns, target, depth + 1, fetched).await))
        }
        Unresolved::A(name, cidr4, cidr6) => {
            *fetched += 1;
            let addrs = if over(fetched) {
                Resolved::NotFetched
            } else {
                resolved(dns.ips(&name).await)
            };
            Mech::A {
                cidr4,
                cidr6,
                addrs,
            }
        }
        Unresolved::Exists(name) => {
            *fetched += 1;
            Mech::Exists(if over(fetched) {
                Resolved::NotFetched
            } else {
                resolved(dns.ips(&name).await)
            })
        }
        Unresolved::Mx(name, cidr4, cidr6) => {
            *fetched += 1;
            let addrs = if over(fetched) {
                Resolved::NotFetched
            } else {
                mx_addrs(dns, &name).await
            };
            Mech::Mx {
                cidr4,
                cidr6,
                addrs,
            }
        }
    }
}

/// The addresses of a domain's MX hosts (at most 10, §4.6.4).
async fn mx_addrs<D: SpfDns>(dns: &D, name: &str) -> Resolved {
    let hosts = match dns.mx(name).await {
        Ok(h) if !h.is_empty() => h,
        Ok(_) | Err(LookupError::NotFound) => return Resolved::Void,
        Err(e) => return Resolved::TempError(e.to_string()),
    };
    let mut all = Vec::new();
    for host in hosts.iter().take(10) {
        match dns.ips(host).await {
            Ok(ips) => all.extend(ips),
            Err(LookupError::NotFound) => {}
            Err(e) => return Resolved::TempError(e.to_string()),
        }
    }
    Resolved::Addrs(all)
}

fn resolved(r: Result<Vec<IpAddr>, LookupError>) -> Resolved {
    match r {
        Ok(v) if !v.is_empty() => Resolved::Addrs(v),
        Ok(_) | Err(LookupError::NotFound) => Resolved::Void,
        Err(e) => Resolved::TempError(e.to_string()),
    }
}

#[cfg(test)]
#[path = "spf_walk_tests.rs"]
mod tests;
