//! How a triplet's parts are written: client network, normalised sender,
//! recipient — Postgrey's choices, so that retries from a pool of
//! addresses or with a fresh VERP/BATV tag still match.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The client network: the /24 of an IPv4 address, the /64 of an IPv6
/// address (IPv4-mapped IPv6 counts as IPv4). Large senders retry from
/// another host of the same farm, which usually shares these.
pub fn network_of(ip: IpAddr) -> IpNet {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            IpNet::V4(Ipv4Net::new(v4, 24).map_or_else(|_| Ipv4Net::from(v4), |n| n.trunc()))
        }
        IpAddr::V6(v6) => {
            IpNet::V6(Ipv6Net::new(v6, 64).map_or_else(|_| Ipv6Net::from(v6), |n| n.trunc()))
        }
    }
}

/// The first element of the triplet: `spf:<domain>` when SPF passed for
/// the sender (any host that domain authorises may retry), else the
/// client network.
pub fn client_key(ip: IpAddr, spf_domain: Option<&str>) -> String {
    match spf_domain {
        Some(d) if !d.is_empty() => format!("spf:{}", d.to_ascii_lowercase()),
        _ => network_of(ip).to_string(),
    }
}

/// The envelope sender as greylisting compares it: lowercased, `<>` for
/// the null sender, a BATV `prvs=TAG=` prefix and a `+extension`
/// removed, and runs of digits in the local part folded to `#` (VERP
/// bounce addresses carry a fresh number on every attempt).
pub fn normalize_sender(sender: &str) -> String {
    let sender = sender.trim().to_lowercase();
    if sender.is_empty() {
        return "<>".to_string();
    }
    let (local, domain) = match sender.rsplit_once('@') {
        Some((l, d)) => (l.to_string(), Some(d.to_string())),
        None => (sender.clone(), None),
    };
    let mut local = local.as_str();
    if let Some(rest) = local
        .strip_prefix("prvs=")
        .or_else(|| local.strip_prefix("btv1="))
        && let Some((_, tail)) = rest.split_once('=')
    {
        local = tail;
    }
    let local = local.split_once('+').map_or(local, |(l, _)| l);
    let mut folded = String::with_capacity(local.len());
    let mut in_digits = false;
    for c in local.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                folded.push('#');
            }
            in_digits = true;
        } else {
            folded.push(c);
            in_digits = false;
        }
    }
    match domain {
        Some(d) => format!("{folded}@{d}"),
        None => folded,
    }
}

/// A recipient as greylisting compares it: trimmed and lowercased.
pub fn normalize_recipient(rcpt: &str) -> String {
    rcpt.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase()
}

/// Whether `domain` is `pattern` or a subdomain of it.
pub fn domain_matches(domain: &str, pattern: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    !pattern.is_empty() && (domain == pattern || domain.ends_with(&format!(".{pattern}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn networks() {
        assert_eq!(network_of(ip("192.0.2.77")).to_string(), "192.0.2.0/24");
        assert_eq!(
            network_of(ip("::ffff:192.0.2.77")).to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            network_of(ip("2001:db8:1:2:3::4")).to_string(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key(ip("192.0.2.1"), Some("Example.COM")),
            "spf:example.com"
        );
        assert_eq!(client_key(ip("192.0.2.1"), None), "192.0.2.0/24");
    }

    #[test]
    fn senders() {
        assert_eq!(normalize_sender(""), "<>");
        assert_eq!(normalize_sender("Alice@Example.com"), "alice@example.com");
        assert_eq!(
            normalize_sender("bounce-12345-678@lists.example"),
            "bounce-#-#@lists.example"
        );
        assert_eq!(
            normalize_sender("prvs=0123abcd=bob@example.com"),
            "bob@example.com"
        );
        assert_eq!(normalize_sender("bob+news@example.com"), "bob@example.com");
    }

    #[test]
    fn domains() {
        assert!(domain_matches("mail.example.com", "example.com"));
        assert!(domain_matches("EXAMPLE.com", "example.com."));
        assert!(!domain_matches("badexample.com", "example.com"));
        assert!(!domain_matches("example.com", ""));
    }
}
