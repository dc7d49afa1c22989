//! Where mail for a domain goes: the smarthost, or the domain's MX hosts
//! (RFC 5321 §5.1): lowest preference first, equal preferences shuffled,
//! each host's IPv4 then IPv6 addresses; no MX record → the domain's own
//! addresses (the implicit MX); a null MX (`0 .`, RFC 7505) → the domain
//! accepts no mail, a permanent failure (5.1.10).
//!
//! DNS failures are never mistaken for "does not exist": a temporary
//! failure defers the recipients (4.4.3) instead of bouncing them.

use std::net::{IpAddr, SocketAddr};

use rand::seq::SliceRandom;

use super::store::{Outcome, OutcomeKind};
use crate::config::RelayConfig;
use crate::dns::{LookupError, Resolver};

/// At most this many addresses are tried for one domain in one attempt.
const MAX_ADDRESSES: usize = 10;

/// One address to try, with the host name it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The MX host (or smarthost) name.
    pub host: String,
    /// Address and port.
    pub addr: SocketAddr,
}

/// A routing failure that applies to every recipient of the domain.
fn failure(kind: OutcomeKind, status: &str, message: String) -> Outcome {
    Outcome {
        kind,
        status: status.to_string(),
        diagnostic: String::new(),
        message,
        remote: String::new(),
    }
}

fn dns_failure(what: &str, e: &LookupError) -> Outcome {
    match e {
        LookupError::Temporary(_) => failure(
            OutcomeKind::Deferred,
            "4.4.3",
            format!("DNS lookup of {what} failed temporarily: {e}"),
        ),
        LookupError::NotFound | LookupError::InvalidName(_) => failure(
            OutcomeKind::Failed,
            "5.1.2",
            format!("no mail server for {what}: {e}"),
        ),
    }
}

/// Addresses of `host`; `localhost` and IP literals without DNS.
async fn addresses(resolver: &Resolver, host: &str) -> Result<Vec<IpAddr>, LookupError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(vec![IpAddr::from([127, 0, 0, 1])]);
    }
    resolver.ips(host).await
}

/// The targets for `domain`, in the order to try them.
///
/// # Errors
/// An [`Outcome`] for every recipient when there is nothing to try.
pub(crate) async fn resolve(
    resolver: &Resolver,
    relay: &RelayConfig,
    hostname: &str,
    domain: &str,
) -> Result<Vec<Target>, Outcome> {
    if let Some((host, port)) = &relay.host {
        let ips = addresses(resolver, host)
            .await
            .map_err(|e| dns_failure(&format!("relay host {host}"), &e))
            .map_err(|mut o| {
                // A broken smarthost name is our problem, never the sender's.
                o.kind = OutcomeKind::Deferred;
                o.status = "4.4.3".into();
                o
            })?;
        return Ok(targets(host, &ips, *port));
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip = literal.strip_prefix("IPv6:").unwrap_or(literal);
        return match ip.parse::<IpAddr>() {
            Ok(ip) => Ok(targets(domain, &[ip], relay.mx_port)),
            Err(_) => Err(failure(
                OutcomeKind::Failed,
                "5.1.2",
                format!("unusable address literal {domain}"),
            )),
        };
    }
    let hosts = match resolver.mx(domain).await {
        Ok(mx) => exchanges(domain, mx, hostname)?,
        Err(LookupError::NotFound) => {
            let ips = addresses(resolver, domain)
                .await
                .map_err(|e| dns_failure(domain, &e))?;
            return Ok(targets(domain, &ips, relay.mx_port));
        }
        Err(e) => return Err(dns_failure(domain, &e)),
    };
    let mut out = Vec::new();
    let mut last_error = None;
    for host in hosts {
        match addresses(resolver, &host).await {
            Ok(ips) => out.extend(targets(&host, &ips, relay.mx_port)),
            Err(e) => last_error = Some(format!("MX host {host}: {e}")),
        }
        if out.len() >= MAX_ADDRESSES {
            break;
        }
    }
    out.truncate(MAX_ADDRESSES);
    if out.is_empty() {
        let why = last_error.unwrap_or_else(|| "no usable MX host".into());
        return Err(failure(
            OutcomeKind::Deferred,
            "4.4.4",
            format!("no address for any MX host of {domain} ({why})"),
        ));
    }
    Ok(out)
}

/// MX host names in the order to try: by preference, equal ones
/// shuffled (RFC 5321 §5.1), after the null-MX and loop checks.
fn exchanges(domain: &str, mx: Vec<(u16, String)>, hostname: &str) -> Result<Vec<String>, Outcome> {
    let null = |(_, host): &(u16, String)| host.is_empty() || host == ".";
    if !mx.is_empty() && mx.iter().all(null) {
        return Err(failure(
            OutcomeKind::Failed,
            "5.1.10",
            format!("{domain} does not accept mail (null MX, RFC 7505)"),
        ));
    }
    let mut mx: Vec<(u16, String)> = mx.into_iter().filter(|m| !null(m)).collect();
    if mx.iter().any(|(_, h)| h.eq_ignore_ascii_case(hostname)) {
        return Err(failure(
            OutcomeKind::Failed,
            "5.4.6",
            format!("mail for {domain} loops back to myself ({hostname} is its MX)"),
        ));
    }
    mx.sort_by_key(|(pref, _)| *pref);
    let mut rng = rand::thread_rng();
    let mut out = Vec::with_capacity(mx.len());
    for group in mx.chunk_by(|a, b| a.0 == b.0) {
        let mut names: Vec<String> = group.iter().map(|(_, h)| h.clone()).collect();
        names.shuffle(&mut rng);
        out.extend(names);
    }
    Ok(out)
}

/// IPv4 first (more often reachable), then IPv6.
fn targets(host: &str, ips: &[IpAddr], port: u16) -> Vec<Target> {
    let mut sorted = ips.to_vec();
    sorted.sort_by_key(IpAddr::is_ipv6);
    sorted
        .into_iter()
        .map(|ip| Target {
            host: host.to_string(),
            addr: SocketAddr::new(ip, port),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(mx: &[(u16, &str)]) -> Result<Vec<String>, Outcome> {
        let mx = mx.iter().map(|(p, h)| (*p, h.to_string())).collect();
        exchanges("example.org", mx, "mail.test")
    }

    #[test]
    fn preference_order_with_shuffled_ties() {
        let mut seen_first = std::collections::HashSet::new();
        for _ in 0..64 {
            let got = names(&[(20, "c"), (10, "a"), (10, "b"), (30, "d")]).expect("hosts");
            assert_eq!(got.len(), 4);
            assert_eq!(&got[2..], ["c", "d"]);
            seen_first.insert(got[0].clone());
        }
        assert_eq!(seen_first.len(), 2, "equal preferences are shuffled");
    }

    #[test]
    fn null_mx_and_loops() {
        let null = names(&[(0, "")]).expect_err("null MX");
        assert_eq!(
            (null.kind, null.status.as_str()),
            (OutcomeKind::Failed, "5.1.10")
        );
        assert_eq!(names(&[(0, ""), (10, "mx")]), Ok(vec!["mx".to_string()]));
        let looped = names(&[(10, "MAIL.test")]).expect_err("loop");
        assert_eq!(looped.status, "5.4.6");
    }

    #[test]
    fn ipv4_first() {
        let ips: Vec<IpAddr> = vec!["::1".parse().expect("v6"), "127.0.0.2".parse().expect("v4")];
        let t = targets("mx", &ips, 2525);
        assert_eq!(t[0].addr, "127.0.0.2:2525".parse().expect("addr"));
        assert_eq!(t[1].addr, "[::1]:2525".parse().expect("addr"));
    }
}
