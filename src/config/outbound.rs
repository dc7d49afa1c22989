//! `[queue]` and `[relay]`: how outbound mail is retried and where it
//! goes. The types live here rather than in `mod.rs` to keep files small;
//! `mod.rs` re-exports them. Reading follows `sections.rs`: every key on
//! its own, a refused value keeps its default; cross-key checks at the end.

use std::fmt;

use serde::{Deserialize, Deserializer};
use toml_edit::TableLike;

use super::reader::{Entry, Reader};
use super::{Config, HumanDuration, validate};

/// `[queue]`: retries, expiry and concurrency of outbound delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Waits between attempts; the last one repeats until `max_age`.
    pub retry: Vec<HumanDuration>,
    /// Age after which an undelivered recipient is bounced.
    pub max_age: HumanDuration,
    /// Age after which the sender gets one delay notice; 0 = never.
    pub warn_after: HumanDuration,
    /// Most outbound SMTP connections at once, all domains together.
    pub max_connections: usize,
    /// Most outbound SMTP connections at once to one recipient domain.
    pub max_connections_per_domain: usize,
    /// Most recipients in one SMTP transaction (RFC 5321 §4.5.3.1.8
    /// guarantees 100); more go in further transactions.
    pub max_recipients_per_transaction: usize,
    /// How long to wait for a TCP connection to an MX.
    pub connect_timeout: HumanDuration,
    /// How long to wait for the greeting and for each reply to a command
    /// (RFC 5321 §4.5.3.2: 5 minutes).
    pub command_timeout: HumanDuration,
    /// How long to wait for the reply after the message data
    /// (RFC 5321 §4.5.3.2.6: 10 minutes).
    pub data_timeout: HumanDuration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        let m = |n: u64| HumanDuration::from_secs(n * 60);
        QueueConfig {
            retry: vec![m(1), m(5), m(15), m(30), m(60), m(120), m(240)],
            max_age: HumanDuration::from_secs(5 * 86_400),
            warn_after: m(240),
            max_connections: 20,
            max_connections_per_domain: 4,
            max_recipients_per_transaction: 100,
            connect_timeout: HumanDuration::from_secs(30),
            command_timeout: m(5),
            data_timeout: m(10),
        }
    }
}

/// How the smarthost connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// Plain connection, then STARTTLS, which must be offered (587).
    #[default]
    Starttls,
    /// TLS from the first byte (465).
    Implicit,
    /// No TLS at all (a relay on the same host or a trusted network).
    None,
}

/// A password from the config file; `Debug` prints `[REDACTED]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    /// The password, for the SASL exchange only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Password)
    }
}

/// `[relay]`: send everything through one upstream server (smarthost),
/// or deliver directly to each domain's MX when `host` is unset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// `host:port` of the smarthost; `None`: direct delivery.
    pub host: Option<(String, u16)>,
    /// AUTH PLAIN user name; `None`: no AUTH.
    pub username: Option<String>,
    /// AUTH PLAIN password.
    pub password: Option<Password>,
    /// How the smarthost connection is protected.
    pub tls: RelayTls,
    /// Verify the smarthost's certificate against the system roots.
    pub tls_verify: bool,
    /// Extra PEM file of trusted roots for the smarthost (besides the
    /// system ones).
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// The port of remote MX hosts; 25 except in tests.
    pub mx_port: u16,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            host: None,
            username: None,
            password: None,
            tls: RelayTls::Starttls,
            tls_verify: true,
            tls_ca_file: None,
            mx_port: 25,
        }
    }
}

/// `host`, `host:port` or `[v6]:port`; the port defaults to 25.
fn host_port(s: &str) -> Result<(String, u16), String> {
    let bad = |why: &str| Err(format!("{s:?} is not HOST:PORT: {why}"));
    let t = s.trim();
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return bad("missing ]");
        };
        (ip, after.strip_prefix(':'))
    } else {
        match t.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (t, None),
        }
    };
    let port = match port {
        None => 25,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return bad("the port must be 1 to 65535"),
        },
    };
    if host.parse::<std::net::IpAddr>().is_err() {
        validate::dns_name(host)?;
    }
    Ok((host.to_string(), port))
}

fn relay_tls(s: &str) -> Result<RelayTls, String> {
    match s {
        "starttls" => Ok(RelayTls::Starttls),
        "implicit" => Ok(RelayTls::Implicit),
        "none" => Ok(RelayTls::None),
        _ => Err(format!(
            "{s:?} is not one of \"starttls\", \"implicit\", \"none\""
        )),
    }
}

fn positive_duration(s: &str) -> Result<HumanDuration, String> {
    let d = validate::duration(s)?;
    if d.get().is_zero() {
        return Err(format!("{s:?} must be longer than zero"));
    }
    Ok(d)
}

/// An integer entry within `lo..=hi`.
fn int<T: TryFrom<i128>>(r: &mut Reader<'_>, e: &Entry<'_>, lo: i128, hi: i128) -> Option<T> {
    r.integer(e, lo..hi + 1).and_then(|n| T::try_from(n).ok())
}

/// Reads `[queue]` and `[relay]`, then checks them together.
pub(super) fn read(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    read_queue(r, root, c);
    read_relay(r, root, c);
    check(r, c);
}

fn read_queue(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "retry",
        "max_age",
        "warn_after",
        "max_connections",
        "max_connections_per_domain",
        "max_recipients_per_transaction",
        "connect_timeout",
        "command_timeout",
        "data_timeout",
    ];
    let s = r.section(root, "queue", &keys);
    let q = &mut c.queue;
    let retry = r.get(&s, "retry", |r, e| r.parsed_list(e, positive_duration));
    match retry {
        Some(list) if list.is_empty() => {
            let line = r.line_of_key("queue.retry").unwrap_or(0);
            r.report(
                line,
                "queue.retry",
                "needs at least one wait, e.g. [\"5m\"]",
            );
        }
        Some(list) => q.retry = list.into_iter().map(|(d, _)| d).collect(),
        None => {}
    }
    for (key, slot, zero_ok) in [
        ("max_age", &mut q.max_age, false),
        ("warn_after", &mut q.warn_after, true),
        ("connect_timeout", &mut q.connect_timeout, false),
        ("command_timeout", &mut q.command_timeout, false),
        ("data_timeout", &mut q.data_timeout, false),
    ] {
        let parse: fn(&str) -> Result<HumanDuration, String> = if zero_ok {
            validate::duration
        } else {
            positive_duration
        };
        if let Some(v) = r.get(&s, key, |r, e| r.parsed(e, parse)) {
            *slot = v;
        }
    }
    for (key, slot, hi) in [
        ("max_connections", &mut q.max_connections, 10_000),
        (
            "max_connections_per_domain",
            &mut q.max_connections_per_domain,
            1_000,
        ),
        (
            "max_recipients_per_transaction",
            &mut q.max_recipients_per_transaction,
            10_000,
        ),
    ] {
        if let Some(v) = r.get(&s, key, |r, e| int(r, e, 1, hi)) {
            *slot = v;
        }
    }
}

fn read_relay(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "host",
        "username",
        "password",
        "tls",
        "tls_verify",
        "tls_ca_file",
        "mx_port",
    ];
    let s = r.section(root, "relay", &keys);
    let rl = &mut c.relay;
    if let Some(h) = r.get(&s, "host", |r, e| r.parsed(e, host_port)) {
        rl.host = Some(h);
    }
    let non_empty = |v: &str| {
        if v.is_empty() {
            Err("empty: leave the key out instead".to_string())
        } else {
            Ok(v.to_string())
        }
    };
    if let Some(u) = r.get(&s, "username", |r, e| r.parsed(e, non_empty)) {
        rl.username = Some(u);
    }
    if let Some(p) = r.get(&s, "password", |r, e| r.parsed(e, non_empty)) {
        rl.password = Some(Password(p));
    }
    if let Some(t) = r.get(&s, "tls", |r, e| r.parsed(e, relay_tls)) {
        rl.tls = t;
    }
    if let Some(v) = r.get(&s, "tls_verify", Reader::boolean) {
        rl.tls_verify = v;
    }
    let path = |v: &str| non_empty(v).map(std::path::PathBuf::from);
    if let Some(p) = r.get(&s, "tls_ca_file", |r, e| r.parsed(e, path)) {
        rl.tls_ca_file = Some(p);
    }
    if let Some(p) = r.get(&s, "mx_port", |r, e| int(r, e, 1, 65_535)) {
        rl.mx_port = p;
    }
}

/// Keys that only make sense together.
fn check(r: &mut Reader<'_>, c: &Config) {
    let rl = &c.relay;
    let at = |r: &Reader<'_>, key: &str| r.line_of_key(key).unwrap_or(0);
    match (&rl.username, &rl.password) {
        (Some(_), None) => {
            let line = at(r, "relay.username");
            r.report(
                line,
                "relay.password",
                "missing while relay.username is set",
            );
        }
        (None, Some(_)) => {
            let line = at(r, "relay.password");
            r.report(
                line,
                "relay.username",
                "missing while relay.password is set",
            );
        }
        _ => {}
    }
    if rl.username.is_some() && rl.tls == RelayTls::None {
        let line = at(r, "relay.tls");
        r.report(
            line,
            "relay.tls",
            "\"none\" would send the relay password in clear text: use \"starttls\" or \"implicit\"",
        );
    }
    if rl.host.is_none() {
        for key in ["username", "password", "tls", "tls_verify", "tls_ca_file"] {
            let dotted = format!("relay.{key}");
            if let Some(line) = r.line_of_key(&dotted) {
                r.report(line, &dotted, "has no effect without relay.host");
            }
        }
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
