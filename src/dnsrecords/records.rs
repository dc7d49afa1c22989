//! The records a domain needs, computed from the configuration, the
//! domain's active DKIM keys and (when known) the server's public
//! addresses. Pure: no DNS, no database.

use std::net::{IpAddr, SocketAddr};

use super::{Check, Data, DmarcPolicy, Record, SpfAll, reverse_name};
use crate::config::ListenConfig;
use crate::dkim::KeyInfo;

/// MX preference of the one mail exchanger.
pub const MX_PREFERENCE: u16 = 10;

/// Everything the record list depends on.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The mail domain (lowercase, no final dot).
    pub domain: &'a str,
    /// `server.hostname`: the MX, the HELO name, the name in certificates.
    pub hostname: &'a str,
    /// `[listen]`, for the SRV records' ports.
    pub listen: &'a ListenConfig,
    /// The domain's active DKIM keys.
    pub dkim: &'a [KeyInfo],
    /// SPF's final term.
    pub spf_all: SpfAll,
    /// DMARC's `p=`.
    pub dmarc: DmarcPolicy,
    /// The server's public addresses, when known (A/AAAA and PTR records
    /// are written for them; placeholders otherwise).
    pub addresses: &'a [IpAddr],
    /// The MTA-STS policy id ([`crate::http::mta_sts::policy_id`]), when a
    /// policy is served.
    pub mta_sts_id: Option<&'a str>,
}

/// The client services of RFC 6186 and RFC 8314 §5.1: SRV label, the
/// `[listen]` key, what it is.
fn services(
    listen: &ListenConfig,
) -> [(&'static str, &'static str, &[SocketAddr], &'static str); 6] {
    [
        (
            "_submissions._tcp",
            "submissions",
            &listen.submissions,
            "mail submission over implicit TLS (RFC 8314)",
        ),
        (
            "_submission._tcp",
            "submission",
            &listen.submission,
            "mail submission with STARTTLS (RFC 6186)",
        ),
        (
            "_imaps._tcp",
            "imaps",
            &listen.imaps,
            "IMAP over implicit TLS (RFC 8314)",
        ),
        (
            "_imap._tcp",
            "imap",
            &listen.imap,
            "IMAP with STARTTLS (RFC 6186)",
        ),
        (
            "_pop3s._tcp",
            "pop3s",
            &listen.pop3s,
            "POP3 over implicit TLS (RFC 8314)",
        ),
        (
            "_pop3._tcp",
            "pop3",
            &listen.pop3,
            "POP3 with STLS (RFC 6186)",
        ),
    ]
}

/// The port clients can reach a service on: that of the first listen
/// address that is not loopback (and not port 0); `None` when the service
/// is disabled or listens on loopback only.
pub fn public_port(addrs: &[SocketAddr]) -> Option<u16> {
    addrs
        .iter()
        .find(|a| !a.ip().to_canonical().is_loopback() && a.port() != 0)
        .map(SocketAddr::port)
}

/// Every record `plan.domain` needs, in zone-file order.
pub fn plan(p: &Plan<'_>) -> Vec<Record> {
    let mut out = Vec::new();
    let (domain, host) = (p.domain, p.hostname);
    out.push(Record::required(
        domain,
        Data::Mx {
            preference: MX_PREFERENCE,
            exchange: host.to_string(),
        },
        format!("MX: mail for {domain} is delivered to {host}"),
    ));
    addresses(p, &mut out);
    out.push(
        Record::required(
            domain,
            Data::Txt(format!(
                "v=spf1 mx {}",
                match p.spf_all {
                    SpfAll::Fail => "-all",
                    SpfAll::SoftFail => "~all",
                }
            )),
            format!(
                "SPF: only the MX hosts of {domain} ({host}) send its mail; {}",
                match p.spf_all {
                    SpfAll::Fail => "receivers refuse the rest (-all)",
                    SpfAll::SoftFail => "the rest is suspicious (~all, while testing)",
                }
            ),
        )
        .checked_by(Check::Spf),
    );
    dkim(p, &mut out);
    out.push(
        Record::required(
            format!("_dmarc.{domain}"),
            Data::Txt(format!(
                "v=DMARC1; p={}; rua=mailto:postmaster@{domain}",
                p.dmarc
            )),
            format!(
                "DMARC: mail from {domain} failing SPF and DKIM alignment is {}; \
                 daily aggregate reports go to postmaster@{domain}",
                match p.dmarc {
                    DmarcPolicy::None => "only reported (p=none)",
                    DmarcPolicy::Quarantine => "put in spam folders (p=quarantine)",
                    DmarcPolicy::Reject => "refused (p=reject)",
                }
            ),
        )
        .checked_by(Check::Dmarc),
    );
    out.push(
        Record::optional(
            format!("_smtp._tls.{domain}"),
            Data::Txt(format!("v=TLSRPTv1; rua=mailto:postmaster@{domain}")),
            format!(
                "TLS-RPT (RFC 8460): senders report TLS failures delivering to {domain} \
                 to postmaster@{domain}"
            ),
        )
        .checked_by(Check::TaggedTxt("v=TLSRPTv1")),
    );
    if let Some(id) = p.mta_sts_id {
        out.push(Record::optional(
            format!("_mta-sts.{domain}"),
            Data::Txt(format!("v=STSv1; id={id}")),
            format!(
                "MTA-STS (RFC 8461): senders fetch the policy from \
                 https://mta-sts.{domain}/.well-known/mta-sts.txt; the id changes with the policy"
            ),
        ));
        out.push(Record::optional(
            format!("mta-sts.{domain}"),
            Data::Cname(host.to_string()),
            format!(
                "the HTTPS host of the MTA-STS policy: {host} with listen.https and a \
                 certificate for mta-sts.{domain}"
            ),
        ));
    }
    srv(p, &mut out);
    for (label, client) in [
        ("autoconfig", "Thunderbird and others fetch"),
        ("autodiscover", "Outlook fetches"),
    ] {
        out.push(Record::optional(
            format!("{label}.{domain}"),
            Data::Cname(host.to_string()),
            format!("{client} account settings for {domain} from {host} (HTTP)"),
        ));
    }
    out
}

/// A/AAAA of the host name and the PTR of each address, or placeholders.
fn addresses(p: &Plan<'_>, out: &mut Vec<Record>) {
    let host = p.hostname;
    let mut ptrs = Vec::new();
    for ip in p.addresses {
        let (data, family) = match ip.to_canonical() {
            IpAddr::V4(v4) => (Data::A(v4), "IPv4"),
            IpAddr::V6(v6) => (Data::Aaaa(v6), "IPv6"),
        };
        out.push(Record::required(
            host,
            data,
            format!("{family} address of {host}, the MX: senders and clients connect to it"),
        ));
        ptrs.push(
            Record::required(
                reverse_name(*ip),
                Data::Ptr(host.to_string()),
                format!(
                    "reverse DNS of {ip}: set by the owner of the address (your hosting \
                     provider); must name {host}, which must resolve back to {ip}"
                ),
            )
            .checked_by(Check::ReverseDns),
        );
    }
    let has = |v4: bool| {
        p.addresses
            .iter()
            .any(|ip| ip.to_canonical().is_ipv4() == v4)
    };
    if !has(true) {
        out.push(
            Record::required(
                host,
                Data::Placeholder {
                    rtype: "A",
                    text: format!("<public IPv4 address of {host}>"),
                },
                format!("{host} needs the IPv4 address receivers connect to"),
            )
            .checked_by(Check::HostAddress),
        );
    }
    if !has(false) {
        out.push(
            Record::optional(
                host,
                Data::Placeholder {
                    rtype: "AAAA",
                    text: format!("<public IPv6 address of {host}>"),
                },
                format!("{host}'s IPv6 address, if it has one (then it needs a PTR too)"),
            )
            .checked_by(Check::HostAddress),
        );
    }
    if p.addresses.is_empty() {
        ptrs.push(
            Record::required(
                "<reverse name of each address>",
                Data::Placeholder {
                    rtype: "PTR",
                    text: format!("{}.", host.trim_end_matches('.')),
                },
                format!(
                    "reverse DNS of each address of {host}: ask the owner of the address \
                     (your hosting provider) for a PTR naming {host} (give --address)"
                ),
            )
            .checked_by(Check::ReverseDns),
        );
    }
    out.extend(ptrs);
}

/// One TXT record per active key, from `dkim::KeyInfo::record` (the same
/// record `postel dkim generate` prints).
fn dkim(p: &Plan<'_>, out: &mut Vec<Record>) {
    if p.dkim.is_empty() {
        out.push(
            Record::required(
                format!("<selector>._domainkey.{}", p.domain),
                Data::Placeholder {
                    rtype: "TXT",
                    text: format!(
                        "no active DKIM key: run `postel dkim generate {}`",
                        p.domain
                    ),
                },
                "DKIM: receivers verify Postel's signatures with the published key",
            )
            .checked_by(Check::Dkim),
        );
    }
    for key in p.dkim {
        let record = key.record();
        out.push(
            Record::required(
                record.name.trim_end_matches('.'),
                Data::Txt(record.value),
                format!(
                    "DKIM public key {} ({}): receivers verify Postel's signatures with it",
                    key.selector, key.algorithm
                ),
            )
            .checked_by(Check::Dkim),
        );
    }
}

/// The SRV records of RFC 6186 / RFC 8314: the listener's public port, or
/// `0 0 0 .` ("not offered") for a service that is off or loopback-only.
fn srv(p: &Plan<'_>, out: &mut Vec<Record>) {
    for (label, key, addrs, what) in services(p.listen) {
        let name = format!("{label}.{}", p.domain);
        let record = match public_port(addrs) {
            Some(port) => Record::optional(
                name,
                Data::Srv {
                    priority: 0,
                    weight: 1,
                    port,
                    target: p.hostname.to_string(),
                },
                format!("{what} on {}:{port}, for mail clients' setup", p.hostname),
            ),
            None => {
                let why = if addrs.is_empty() {
                    "disabled"
                } else {
                    "on loopback only"
                };
                Record::optional(
                    name,
                    Data::Srv {
                        priority: 0,
                        weight: 0,
                        port: 0,
                        target: String::new(),
                    },
                    format!("{what}: not offered (listen.{key} is {why})"),
                )
            }
        };
        out.push(record);
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
