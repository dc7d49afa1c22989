//! Checks of single values: host names, addresses, networks, URLs.
//!
//! Each function takes the string as written and returns the typed value
//! or a one-line message that quotes the bad value and says what would be
//! accepted; the caller adds file, line and key.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use super::HumanDuration;

/// Largest accepted `smtp.max_message_size`: 2 GiB.
pub(super) const MAX_MESSAGE_SIZE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// A DNS host or domain name: labels of letters, digits and hyphens
/// separated by dots, no label starting or ending with a hyphen, labels of
/// at most 63 and names of at most 253 characters. Returned as written.
pub(super) fn dns_name(s: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("{s:?} is not a valid DNS name: {why}"));
    if s.is_empty() {
        return bad("empty");
    }
    if s.len() > 253 {
        return bad("longer than 253 characters");
    }
    for label in s.split('.') {
        if label.is_empty() {
            return bad("empty label (leading, trailing or double dot)");
        }
        if label.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad("only letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with a hyphen");
        }
    }
    Ok(s.to_string())
}

/// A listener address, `IP:PORT`, IPv6 in brackets.
pub(super) fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| {
        format!("invalid address {s:?}: expected IP:PORT, e.g. \"0.0.0.0:25\" or \"[::]:25\"")
    })
}

/// A resolver address: `IP:PORT`, or a bare IP meaning port 53.
pub(super) fn nameserver(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    match bare.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => Err(format!(
            "invalid nameserver {s:?}: expected IP or IP:PORT, e.g. \"9.9.9.9\" or \"[2620:fe::fe]:53\""
        )),
    }
}

/// A network in CIDR notation; a bare IP is a single host (/32 or /128).
pub(super) fn ip_net(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Ok(net);
    }
    match t.parse::<IpAddr>() {
        Ok(ip) => Ok(IpNet::from(ip)),
        Err(_) => Err(format!(
            "invalid network {s:?}: expected CIDR such as \"192.0.2.0/24\" or \"2001:db8::/32\", or a single IP"
        )),
    }
}

/// A database URL: `sqlite:PATH`, `sqlite://PATH`, `postgres://…` or
/// `postgresql://…`.
pub(super) fn database_url(s: &str) -> Result<String, String> {
    let rest = |prefix: &str| s.strip_prefix(prefix).filter(|r| !r.trim().is_empty());
    let ok = if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        rest("postgres://")
            .or_else(|| rest("postgresql://"))
            .is_some()
    } else {
        rest("sqlite:").is_some_and(|r| r != "//")
    };
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unsupported database URL {s:?}: expected \"sqlite://PATH\" or \"postgres://USER:PASSWORD@HOST/DB\""
        ))
    }
}

/// A humane duration (`"5m"`, `"35d"`, `"1h30m"`).
pub(super) fn duration(s: &str) -> Result<HumanDuration, String> {
    s.parse()
        .map_err(|e: super::duration::DurationError| e.to_string())
}

/// `server.user`, `server.group`: a system user or group name as
/// `useradd` accepts it (letters, digits, `_`, `-`, `.`, not starting
/// with `-`), or a numeric id.
pub(super) fn system_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a user or group name (1 to 32 of a-z, 0-9, _, -, .)"
        ))
    }
}

/// `directory.postmaster`: empty, or `local@domain`.
pub(super) fn address_or_empty(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let bad = |why: &str| Err(format!("{s:?} is not an address (local@domain): {why}"));
    let Some((local, domain)) = s.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the local part must be 1 to 64 characters");
    }
    let forbidden = |c: char| c.is_whitespace() || c.is_control() || "@<>()[],;:\\\"".contains(c);
    if local.chars().any(forbidden) {
        return bad("the local part holds spaces or special characters");
    }
    if let Err(e) = dns_name(domain) {
        return bad(&e);
    }
    Ok(s.to_string())
}

/// `directory.plus_separator`: empty or one character that can appear
/// in a local part (not `@`, not a space or control character).
pub(super) fn plus_separator(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(String::new()),
        (Some(c), None) if c == '@' || c.is_whitespace() || c.is_control() => Err(format!(
            "{s:?} cannot separate sub-addresses: use a character such as \"+\" or \"-\""
        )),
        (Some(_), None) => Ok(s.to_string()),
        (Some(_), Some(_)) => Err(format!(
            "{s:?} is more than one character: use one, such as \"+\", or \"\" to disable"
        )),
    }
}

/// Level names a bare word in a log filter may be.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// `log.level`: a `tracing_subscriber::EnvFilter` directive string. A bare
/// word must be a level: `inof` would otherwise silently mean "trace for a
/// module named inof".
pub(super) fn log_filter(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("empty: use a level such as \"info\" or \"postel=debug,sqlx=warn\"".into());
    }
    for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !directive.contains(['=', '[', ':']);
        if bare && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            let within = if directive == s.trim() {
                String::new()
            } else {
                format!(" (in {s:?})")
            };
            return Err(format!(
                "{directive:?}{within} is not a level ({}); for a module write \"{directive}=debug\"",
                LEVELS.join(", ")
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("invalid log filter {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for good in [
            "localhost",
            "mail.example.org",
            "a-b.c0",
            "x",
            "MX1.Example.ORG",
        ] {
            assert!(dns_name(good).is_ok(), "{good}");
        }
        assert_eq!(dns_name("MX.Example.org").as_deref(), Ok("MX.Example.org"));
        let long_label = "a".repeat(64);
        let long_name = ["a"; 127].join(".") + ".ab";
        for bad in [
            "",
            "-a.org",
            "a-.org",
            "a..org",
            ".a",
            "a.",
            "a_b.org",
            "a b",
            "é.org",
            &long_label,
            &long_name,
        ] {
            assert!(dns_name(bad).is_err(), "{bad}");
        }
        assert!(
            dns_name(&["a"; 127].join(".")).is_ok(),
            "253 characters is fine"
        );
    }

    #[test]
    fn addresses_and_networks() {
        assert_eq!(socket_addr("[::]:25"), Ok("[::]:25".parse().expect("addr")));
        for bad in [
            "0.0.0.0",
            ":25",
            "localhost:25",
            "::1:25",
            "1.2.3.4:70000",
            "",
        ] {
            assert!(socket_addr(bad).is_err(), "{bad}");
        }
        assert_eq!(
            nameserver("9.9.9.9"),
            Ok("9.9.9.9:53".parse().expect("addr"))
        );
        assert_eq!(
            nameserver("2620:fe::fe"),
            Ok("[2620:fe::fe]:53".parse().expect("addr"))
        );
        assert_eq!(nameserver("[::1]"), Ok("[::1]:53".parse().expect("addr")));
        assert_eq!(
            nameserver("1.1.1.1:5353"),
            Ok("1.1.1.1:5353".parse().expect("addr"))
        );
        assert!(nameserver("dns.google").is_err());
        assert_eq!(ip_net("10.1.2.3"), Ok("10.1.2.3/32".parse().expect("net")));
        assert_eq!(ip_net("::1"), Ok("::1/128".parse().expect("net")));
        assert_eq!(ip_net("10.0.0.0/8"), Ok("10.0.0.0/8".parse().expect("net")));
        for bad in ["10.0.0.0/33", "10.0.0/8", "example.org", "", "::/129"] {
            assert!(ip_net(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn database_urls() {
        for good in [
            "sqlite:///var/lib/postel/postel.db",
            "sqlite://./data/postel.db",
            "sqlite:postel.db",
            "postgres://u:p@db/postel",
            "postgresql://db/postel",
        ] {
            assert!(database_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "sqlite:",
            "sqlite://",
            "postgres://",
            "mysql://db/x",
            "/var/x.db",
        ] {
            assert!(database_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postmaster_and_separator() {
        assert_eq!(address_or_empty(""), Ok(String::new()));
        assert!(address_or_empty("admin@example.org").is_ok());
        for bad in [
            "admin",
            "@example.org",
            "a b@example.org",
            "admin@",
            "admin@-x.org",
        ] {
            assert!(address_or_empty(bad).is_err(), "{bad}");
        }
        assert_eq!(plus_separator(""), Ok(String::new()));
        assert_eq!(plus_separator("-"), Ok("-".to_string()));
        for bad in ["++", "@", " ", "ab"] {
            assert!(plus_separator(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn log_filters() {
        for good in [
            "info",
            "WARN",
            "postel=debug,sqlx=warn",
            "info,postel::smtp=trace",
        ] {
            assert!(log_filter(good).is_ok(), "{good}");
        }
        for bad in ["", "  ", "inof", "postel=lod", "info,postel=verbose"] {
            assert!(log_filter(bad).is_err(), "{bad}");
        }
    }
}
