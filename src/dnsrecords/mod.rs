//! The DNS records a mail domain served by Postel needs, and checking
//! that they are published: the library behind `postel dns DOMAIN` and
//! `postel dns check DOMAIN`.
//!
//! Owns: the list of records ([`records::plan`]: MX, A/AAAA and PTR advice
//! for `server.hostname`, SPF, DKIM, DMARC, the SRV records of RFC 6186 and
//! RFC 8314 §5.1, autoconfig/autodiscover CNAMEs, TLS-RPT), rendering it as
//! a zone file or JSON, and checking each record against what the
//! configured resolvers answer ([`check::check`]), with an SPF evaluator
//! that counts DNS lookups ([`spf_walk`]) and a DMARC record parser
//! ([`dmarc`]).
//!
//! Must not: change anything (it only reads the configuration, the
//! database's DKIM keys and the DNS), or decide how inbound mail is judged
//! (that is `pipeline`).
//!
//! Files: `records.rs` (the list), `render.rs` (zone file, JSON, the
//! check report), `check.rs` and `check_txt.rs` (the checks),
//! `spf_walk.rs` (fetching an SPF tree), `spf_parse.rs` (SPF syntax),
//! `spf_eval.rs` (lookup counting and evaluation), `dmarc.rs`.
//!
//! The list is data: every record is one [`Record`] value (name, type,
//! value, a one-line explanation, whether it is required, and how to check
//! it), so a new record is one more entry in [`records::plan`].

pub mod check;
mod check_txt;
pub mod dmarc;
pub mod records;
pub mod render;
mod spf_eval;
mod spf_parse;
pub mod spf_walk;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use check::{CheckInput, Finding, Status};
pub use records::{Plan, plan};

/// The data of one record, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `MX preference exchange`.
    Mx {
        /// Preference (lower is tried first).
        preference: u16,
        /// The mail exchanger's host name, without the final dot.
        exchange: String,
    },
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A reverse record's target host name, without the final dot.
    Ptr(String),
    /// A TXT value (split into 255-byte strings when written).
    Txt(String),
    /// `SRV priority weight port target`; target `""` is the root (`.`,
    /// "no such service", RFC 2782 / RFC 6186 §4).
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host name, without the final dot; empty for `.`.
        target: String,
    },
    /// A CNAME's target, without the final dot.
    Cname(String),
    /// A record whose value only the operator knows (the server's public
    /// addresses): printed commented out, with this text as the value.
    Placeholder {
        /// The record type it stands for (`A`, `AAAA`, `PTR`).
        rtype: &'static str,
        /// What to write in place of the value.
        text: String,
    },
}

impl Data {
    /// The record type's mnemonic.
    pub fn rtype(&self) -> &'static str {
        match self {
            Data::Mx { .. } => "MX",
            Data::A(_) => "A",
            Data::Aaaa(_) => "AAAA",
            Data::Ptr(_) => "PTR",
            Data::Txt(_) => "TXT",
            Data::Srv { .. } => "SRV",
            Data::Cname(_) => "CNAME",
            Data::Placeholder { rtype, .. } => rtype,
        }
    }

    /// The value in zone-file presentation form (names absolute), except
    /// TXT, which is the plain unquoted text.
    pub fn value(&self) -> String {
        match self {
            Data::Mx {
                preference,
                exchange,
            } => format!("{preference} {}", absolute(exchange)),
            Data::A(ip) => ip.to_string(),
            Data::Aaaa(ip) => ip.to_string(),
            Data::Ptr(name) | Data::Cname(name) => absolute(name),
            Data::Txt(text) => text.clone(),
            Data::Srv {
                priority,
                weight,
                port,
                target,
            } => format!("{priority} {weight} {port} {}", absolute(target)),
            Data::Placeholder { text, .. } => text.clone(),
        }
    }
}

/// How `postel dns check` verifies a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The value must be among those published under the name (for SRV:
    /// the same port and target; priority and weight are the operator's).
    Exact,
    /// The host name must have at least one address of this family
    /// (stands for a [`Data::Placeholder`] A/AAAA record).
    HostAddress,
    /// Forward-confirmed reverse DNS: the address's PTR names the host,
    /// and the host's A/AAAA records contain the address.
    ReverseDns,
    /// One SPF record that authorises the server's addresses within 10
    /// DNS lookups.
    Spf,
    /// One DMARC record that parses; another policy than the suggested
    /// one is a warning.
    Dmarc,
    /// A DKIM key record whose `p=` is the public half of the private
    /// key in the database.
    Dkim,
    /// A TXT record starting with this tag (`v=TLSRPTv1`) with a `rua=`.
    TaggedTxt(&'static str),
}

/// One record the domain needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name, without the final dot.
    pub name: String,
    /// Type and value.
    pub data: Data,
    /// One line saying why the record is there (a zone-file comment).
    pub explanation: String,
    /// Mail is lost or marked as spam without it; optional records help
    /// clients and reporting.
    pub required: bool,
    /// How to verify it.
    pub check: Check,
}

impl Record {
    /// A required record checked with [`Check::Exact`].
    pub fn required(name: impl Into<String>, data: Data, explanation: impl Into<String>) -> Self {
        Record {
            name: name.into(),
            data,
            explanation: explanation.into(),
            required: true,
            check: Check::Exact,
        }
    }

    /// An optional record checked with [`Check::Exact`].
    pub fn optional(name: impl Into<String>, data: Data, explanation: impl Into<String>) -> Self {
        Record {
            required: false,
            ..Record::required(name, data, explanation)
        }
    }

    /// The same record, verified another way.
    pub fn checked_by(self, check: Check) -> Self {
        Record { check, ..self }
    }
}

/// DMARC's `p=` (RFC 7489 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DmarcPolicy {
    /// Monitor only.
    None,
    /// Failing mail goes to the spam folder.
    #[default]
    Quarantine,
    /// Failing mail is refused.
    Reject,
}

impl DmarcPolicy {
    /// The tag value.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }
}

impl fmt::Display for DmarcPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What SPF says about addresses it does not list (the `all` term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpfAll {
    /// `-all`: everything else fails.
    #[default]
    Fail,
    /// `~all`: everything else soft-fails (while testing a setup).
    SoftFail,
}

/// `name` with a final dot (`.` for the root, written as `""`).
pub fn absolute(name: &str) -> String {
    let n = name.trim_end_matches('.');
    if n.is_empty() {
        ".".to_string()
    } else {
        format!("{n}.")
    }
}

/// The reverse-lookup name of an address (`7.2.0.192.in-addr.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                out.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            out.push_str("ip6.arpa");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(reverse_name(v4), "7.2.0.192.in-addr.arpa");
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or_else(|_| unreachable!());
        let r = reverse_name(v6);
        assert!(r.starts_with("1.0.0.0.0.0.0.0."), "{r}");
        assert!(r.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"), "{r}");
        assert_eq!(r.split('.').count(), 34);
    }

    #[test]
    fn values_are_presentation_form() {
        let mx = Data::Mx {
            preference: 10,
            exchange: "mail.example.org".into(),
        };
        assert_eq!(mx.value(), "10 mail.example.org.");
        let off = Data::Srv {
            priority: 0,
            weight: 0,
            port: 0,
            target: String::new(),
        };
        assert_eq!(off.value(), "0 0 0 .");
        assert_eq!(off.rtype(), "SRV");
    }
}
