//! SPF record syntax (RFC 7208 §4.5, §5, §6, §12): terms, qualifiers,
//! domain-specs and dual CIDR lengths, before anything is looked up.

use std::net::IpAddr;

use ipnet::IpNet;

use super::spf_walk::SpfResult;

/// What a term says before DNS is asked.
pub(super) enum Parsed {
    Mech(SpfResult, Unresolved),
    Redirect(String),
    Ignored,
}

/// A mechanism whose DNS part is still to be fetched.
pub(super) enum Unresolved {
    All,
    Include(String),
    A(String, u8, u8),
    Mx(String, u8, u8),
    Ip(IpNet),
    Exists(String),
    Ptr,
    Macro(String),
}

/// Whether a TXT value is an SPF record (§4.5: `v=spf1` then a space or
/// the end, case-insensitive).
pub fn is_spf(text: &str) -> bool {
    let t = text.trim_start();
    t.get(..6).is_some_and(|v| v.eq_ignore_ascii_case("v=spf1"))
        && t[6..].chars().next().is_none_or(|c| c == ' ')
}

pub(super) fn parse(text: &str, domain: &str) -> Result<Vec<Parsed>, String> {
    let mut out = Vec::new();
    for term in text.split_ascii_whitespace().skip(1) {
        out.push(parse_term(term, domain)?);
    }
    Ok(out)
}

pub(super) fn parse_term(term: &str, domain: &str) -> Result<Parsed, String> {
    let lower = term.to_ascii_lowercase();
    if let Some((name, value)) = lower.split_once('=')
        && !name.contains(':')
        && !name.contains('/')
    {
        return Ok(match name {
            "redirect" if value.contains('%') => Parsed::Ignored,
            "redirect" => Parsed::Redirect(value.to_string()),
            _ => Parsed::Ignored,
        });
    }
    let (qualifier, rest) = match lower.chars().next() {
        Some('+') => (SpfResult::Pass, &lower[1..]),
        Some('-') => (SpfResult::Fail, &lower[1..]),
        Some('~') => (SpfResult::SoftFail, &lower[1..]),
        Some('?') => (SpfResult::Neutral, &lower[1..]),
        _ => (SpfResult::Pass, lower.as_str()),
    };
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, args) = rest.split_at(end);
    let bad = || format!("invalid term {term:?}");
    let target = |spec: &str| -> Result<Unresolved, String> {
        if spec.is_empty() {
            Err(bad())
        } else if spec.contains('%') {
            Ok(Unresolved::Macro(term.to_string()))
        } else {
            Ok(Unresolved::Include(spec.trim_end_matches('.').to_string()))
        }
    };
    let u = match name {
        "all" if args.is_empty() => Unresolved::All,
        "include" => target(args.strip_prefix(':').ok_or_else(bad)?)?,
        "exists" => match target(args.strip_prefix(':').ok_or_else(bad)?)? {
            Unresolved::Include(d) => Unresolved::Exists(d),
            other => other,
        },
        "ptr" => Unresolved::Ptr,
        "ip4" | "ip6" => {
            let v = args.strip_prefix(':').ok_or_else(bad)?;
            let net = v
                .parse::<IpNet>()
                .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| bad())?;
            if net.addr().is_ipv4() != (name == "ip4") {
                return Err(bad());
            }
            Unresolved::Ip(net)
        }
        "a" | "mx" => {
            let (spec, cidr4, cidr6) = dual_cidr(args).ok_or_else(bad)?;
            let spec = match spec.strip_prefix(':') {
                Some("") => return Err(bad()),
                Some(s) => s.trim_end_matches('.'),
                None if spec.is_empty() => domain,
                None => return Err(bad()),
            };
            if spec.contains('%') {
                Unresolved::Macro(term.to_string())
            } else if name == "a" {
                Unresolved::A(spec.to_string(), cidr4, cidr6)
            } else {
                Unresolved::Mx(spec.to_string(), cidr4, cidr6)
            }
        }
        _ => return Err(format!("unknown mechanism {term:?}")),
    };
    Ok(Parsed::Mech(qualifier, u))
}

/// Splits `[:domain][/n][//m]` into the domain part and prefix lengths.
pub(super) fn dual_cidr(args: &str) -> Option<(&str, u8, u8)> {
    let (rest, cidr6) = match args.rsplit_once("//") {
        Some((r, m)) => (r, m.parse::<u8>().ok().filter(|m| *m <= 128)?),
        None => (args, 128),
    };
    let (rest, cidr4) = match rest.rsplit_once('/') {
        Some((r, n)) => (r, n.parse::<u8>().ok().filter(|n| *n <= 32)?),
        None => (rest, 32),
    };
    Some((rest, cidr4, cidr6))
}
