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
mod tests {
    use super::*;
    use crate::dkim::Algorithm;

    fn key(selector: &str, algorithm: Algorithm) -> KeyInfo {
        KeyInfo {
            domain: "example.org".into(),
            selector: selector.into(),
            algorithm,
            public_key: "A".repeat(400),
            active: true,
            created_at: 0,
        }
    }

    fn find<'a>(records: &'a [Record], name: &str, rtype: &str) -> Vec<&'a Record> {
        records
            .iter()
            .filter(|r| r.name == name && r.data.rtype() == rtype)
            .collect()
    }

    fn value(records: &[Record], name: &str, rtype: &str) -> String {
        let found = find(records, name, rtype);
        assert_eq!(found.len(), 1, "{name} {rtype}: {records:#?}");
        found[0].data.value()
    }

    #[test]
    fn defaults_for_a_fully_enabled_server() {
        let listen = ListenConfig::default();
        let keys = [
            key("s1", Algorithm::RsaSha256),
            key("s1-ed", Algorithm::Ed25519Sha256),
        ];
        let addrs: Vec<IpAddr> = vec![
            "192.0.2.7".parse().unwrap_or_else(|_| unreachable!()),
            "2001:db8::7".parse().unwrap_or_else(|_| unreachable!()),
        ];
        let r = plan(&Plan {
            domain: "example.org",
            hostname: "mail.example.org",
            listen: &listen,
            dkim: &keys,
            spf_all: SpfAll::Fail,
            dmarc: DmarcPolicy::Quarantine,
            addresses: &addrs,
        });
        assert_eq!(value(&r, "example.org", "MX"), "10 mail.example.org.");
        assert_eq!(value(&r, "mail.example.org", "A"), "192.0.2.7");
        assert_eq!(value(&r, "mail.example.org", "AAAA"), "2001:db8::7");
        assert_eq!(
            value(&r, "7.2.0.192.in-addr.arpa", "PTR"),
            "mail.example.org."
        );
        assert_eq!(value(&r, "example.org", "TXT"), "v=spf1 mx -all");
        assert_eq!(
            value(&r, "_dmarc.example.org", "TXT"),
            "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"
        );
        assert_eq!(
            value(&r, "_smtp._tls.example.org", "TXT"),
            "v=TLSRPTv1; rua=mailto:postmaster@example.org"
        );
        let dkim = value(&r, "s1._domainkey.example.org", "TXT");
        assert_eq!(dkim, keys[0].record().value);
        assert!(value(&r, "s1-ed._domainkey.example.org", "TXT").contains("k=ed25519"));
        for (label, port) in [
            ("_submission._tcp", 587),
            ("_submissions._tcp", 465),
            ("_imap._tcp", 143),
            ("_imaps._tcp", 993),
            ("_pop3._tcp", 110),
            ("_pop3s._tcp", 995),
        ] {
            assert_eq!(
                value(&r, &format!("{label}.example.org"), "SRV"),
                format!("0 1 {port} mail.example.org.")
            );
        }
        for label in ["autoconfig", "autodiscover"] {
            assert_eq!(
                value(&r, &format!("{label}.example.org"), "CNAME"),
                "mail.example.org."
            );
        }
        assert!(!r.iter().any(|x| matches!(x.data, Data::Placeholder { .. })));
        assert!(r.iter().all(|x| !x.explanation.contains('\n')));
    }

    #[test]
    fn options_placeholders_and_disabled_services() {
        let listen = ListenConfig {
            submission: vec![
                "203.0.113.5:2587"
                    .parse()
                    .unwrap_or_else(|_| unreachable!()),
            ],
            imap: vec!["127.0.0.1:143".parse().unwrap_or_else(|_| unreachable!())],
            pop3: vec![],
            pop3s: vec![],
            ..ListenConfig::default()
        };
        let r = plan(&Plan {
            domain: "example.org",
            hostname: "mx.example.net",
            listen: &listen,
            dkim: &[],
            spf_all: SpfAll::SoftFail,
            dmarc: DmarcPolicy::Reject,
            addresses: &[],
        });
        assert_eq!(value(&r, "example.org", "TXT"), "v=spf1 mx ~all");
        assert!(value(&r, "_dmarc.example.org", "TXT").contains("p=reject;"));
        assert_eq!(
            value(&r, "_submission._tcp.example.org", "SRV"),
            "0 1 2587 mx.example.net."
        );
        for off in ["_imap._tcp", "_pop3._tcp", "_pop3s._tcp"] {
            assert_eq!(value(&r, &format!("{off}.example.org"), "SRV"), "0 0 0 .");
        }
        let a = find(&r, "mx.example.net", "A");
        assert_eq!(a.len(), 1);
        assert!(a[0].required && a[0].check == Check::HostAddress);
        let aaaa = find(&r, "mx.example.net", "AAAA");
        assert!(!aaaa[0].required);
        let dkim: Vec<_> = r.iter().filter(|x| x.check == Check::Dkim).collect();
        assert_eq!(dkim.len(), 1);
        assert!(
            dkim[0]
                .data
                .value()
                .contains("postel dkim generate example.org")
        );
        let ptr: Vec<_> = r.iter().filter(|x| x.check == Check::ReverseDns).collect();
        assert_eq!(ptr.len(), 1);
        assert!(matches!(ptr[0].data, Data::Placeholder { .. }));
    }

    #[test]
    fn public_port_skips_loopback_and_port_zero() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|_| unreachable!());
        assert_eq!(public_port(&[]), None);
        assert_eq!(public_port(&[a("127.0.0.1:25"), a("[::1]:25")]), None);
        assert_eq!(
            public_port(&[a("127.0.0.1:25"), a("0.0.0.0:2525")]),
            Some(2525)
        );
        assert_eq!(public_port(&[a("192.0.2.1:0")]), None);
    }
}
