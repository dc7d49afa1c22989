//! DNS blocklist stage (RFC 5782), at connect time.
//!
//! For each zone in `[auth] dnsbl` the client address is looked up as an
//! `A` record: `d.c.b.a.<zone>` for IPv4 `a.b.c.d` (§2.1), the 32
//! reversed nibbles for IPv6 (§2.4). An answer in `127.0.0.0/8` means
//! listed (§2.3) — except `127.255.255.0/24`, which Spamhaus and others
//! use for "your query was refused" and which says nothing about the
//! client. A listed client gets `554 5.7.1 Service unavailable; client
//! [ip] blocked using <zone>`.
//!
//! Lookup failures do not refuse mail: a blocklist is an opinion, and an
//! outage of a third party must not stop all inbound mail. They are
//! logged.

use std::net::{IpAddr, Ipv4Addr};

use crate::dns::{LookupError, Resolver};

use super::verdict::{EnhancedStatus, Reply, Verdict};

/// The query name for `ip` in `zone` (RFC 5782 §2.1, §2.4).
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    let zone = zone.trim_matches('.');
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}")
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(64 + zone.len());
            for byte in v6.octets().iter().rev() {
                out.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            out.push_str(zone);
            out
        }
    }
}

/// Whether an answer means "listed".
pub fn is_listing(answer: Ipv4Addr) -> bool {
    let [a, b, c, _] = answer.octets();
    a == 127 && !(b == 255 && c == 255)
}

/// The first zone listing `ip`, in configuration order.
pub async fn listed_in(resolver: &Resolver, ip: IpAddr, zones: &[String]) -> Option<String> {
    for zone in zones {
        let name = query_name(ip, zone);
        match resolver.ipv4(&name).await {
            Ok(answers) if answers.iter().copied().any(is_listing) => {
                return Some(zone.trim_matches('.').to_string());
            }
            Ok(answers) if !answers.is_empty() => {
                tracing::warn!(%zone, ?answers, "DNSBL answered with a non-listing code; ignored");
            }
            Ok(_) | Err(LookupError::NotFound) => {}
            Err(err) => tracing::warn!(%zone, %err, "DNSBL lookup failed; client not checked"),
        }
    }
    None
}

/// The stage verdict.
pub async fn check(resolver: &Resolver, ip: IpAddr, zones: &[String]) -> Verdict {
    match listed_in(resolver, ip, zones).await {
        Some(zone) => Verdict::Reject(Reply::new(
            554,
            EnhancedStatus(5, 7, 1),
            format!(
                "Service unavailable; client [{}] blocked using {zone}",
                ip.to_canonical()
            ),
        )),
        None => Verdict::Accept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let v4: IpAddr = IpAddr::from([192, 0, 2, 99]);
        assert_eq!(query_name(v4, "zen.example."), "99.2.0.192.zen.example");
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(v4);
        assert_eq!(
            query_name(v6, "bl.example"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"
        );
    }

    #[test]
    fn listing_codes() {
        assert!(is_listing(Ipv4Addr::new(127, 0, 0, 2)));
        assert!(is_listing(Ipv4Addr::new(127, 0, 0, 10)));
        assert!(!is_listing(Ipv4Addr::new(127, 255, 255, 254)));
        assert!(!is_listing(Ipv4Addr::new(10, 0, 0, 2)));
    }
}
