//! The schema: which sections and keys exist, their TOML types, and which
//! value check each key goes through.
//!
//! Every section is read on its own and every key on its own, so one bad
//! value is reported and the rest of the file is still read. A key that is
//! absent or refused keeps its default from `mod.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;

use toml_edit::TableLike;

use super::reader::{Entry, Reader};
use super::validate::{self, MAX_MESSAGE_SIZE_LIMIT};
use super::{Config, FailAction, ListenConfig, ReverseDns, SenderPolicy};

/// The top-level tables.
const SECTIONS: [&str; 18] = [
    "server",
    "database",
    "tls",
    "listen",
    "dns",
    "smtp",
    "greylist",
    "directory",
    "auth",
    "submission",
    "log",
    "queue",
    "relay",
    "imap",
    "pop3",
    "mta_sts",
    "security",
    "limits",
];

/// The `[listen]` keys, one per protocol listener.
pub(super) const LISTENERS: [&str; 9] = [
    "smtp",
    "submission",
    "submissions",
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "http",
    "https",
];

/// One address a listener will bind, for the duplicate check.
#[derive(Debug, Clone)]
pub(super) struct Bound {
    /// The socket address.
    pub(super) addr: SocketAddr,
    /// Dotted key, e.g. `listen.imap`.
    pub(super) key: String,
    /// Line of the address, 0 when it is a default.
    pub(super) line: usize,
}

/// Reads every section of `root` into `c`; returns the listener
/// addresses with their lines.
pub(super) fn read_all(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) -> Vec<Bound> {
    r.unknown_keys(root, "", &SECTIONS, "section");
    read_server(r, root, c);
    read_database_tls_dns(r, root, c);
    let bound = read_listen(r, root, &mut c.listen);
    read_smtp(r, root, c);
    read_greylist(r, root, c);
    read_directory_log(r, root, c);
    read_auth(r, root, c);
    read_submission(r, root, c);
    super::outbound::read(r, root, c);
    super::imap::read(r, root, c);
    super::pop3::read(r, root, c);
    super::mta_sts::read(r, root, c);
    super::security::read(r, root, c);
    bound
}

/// A path that must not be empty.
fn path(s: &str) -> Result<PathBuf, String> {
    if s.trim().is_empty() {
        Err("empty path".to_string())
    } else {
        Ok(PathBuf::from(s))
    }
}

/// Stores `value` into `slot` when it is `Some`.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn read_server(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = ["hostname", "data_dir", "user", "group", "shutdown_timeout"];
    let s = r.section(root, "server", &keys);
    let hostname = r.get(&s, "hostname", |r, e| r.parsed(e, validate::dns_name));
    set(&mut c.server.hostname, hostname);
    set(
        &mut c.server.data_dir,
        r.get(&s, "data_dir", |r, e| r.parsed(e, path)),
    );
    for (key, slot) in [("user", &mut c.server.user), ("group", &mut c.server.group)] {
        let name = r.get(&s, key, |r, e| r.parsed(e, validate::system_name));
        *slot = name.or(slot.take());
    }
    let drain = r.get(&s, "shutdown_timeout", |r, e| {
        r.parsed(e, validate::duration)
    });
    set(&mut c.server.shutdown_timeout, drain);
}

fn read_database_tls_dns(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let s = r.section(root, "database", &["url"]);
    let url = r.get(&s, "url", |r, e| r.parsed(e, validate::database_url));
    c.database.url = url.or(c.database.url.take());

    let s = r.section(root, "tls", &["cert", "key"]);
    let cert = r.get(&s, "cert", |r, e| r.parsed(e, path));
    c.tls.cert = cert.or(c.tls.cert.take());
    let key = r.get(&s, "key", |r, e| r.parsed(e, path));
    c.tls.key = key.or(c.tls.key.take());

    let s = r.section(root, "dns", &["nameservers"]);
    let servers = r.get(&s, "nameservers", |r, e| {
        r.parsed_list(e, validate::nameserver)
    });
    set(&mut c.dns.nameservers, servers.map(without_lines));
}

fn without_lines<T>(list: Vec<(T, usize)>) -> Vec<T> {
    list.into_iter().map(|(v, _)| v).collect()
}

fn read_listen(r: &mut Reader<'_>, root: &dyn TableLike, l: &mut ListenConfig) -> Vec<Bound> {
    let s = r.section(root, "listen", &LISTENERS);
    let fields: [&mut Vec<SocketAddr>; 9] = [
        &mut l.smtp,
        &mut l.submission,
        &mut l.submissions,
        &mut l.imap,
        &mut l.imaps,
        &mut l.pop3,
        &mut l.pop3s,
        &mut l.http,
        &mut l.https,
    ];
    let mut bound = Vec::new();
    for (name, field) in LISTENERS.into_iter().zip(fields) {
        let key = format!("listen.{name}");
        let written = r.entry(&s, name).is_some();
        let read = r.get(&s, name, |r, e| r.parsed_list(e, validate::socket_addr));
        let with_lines = match read {
            Some(list) => list,
            // A refused list is already reported; checking its default
            // for clashes would only add confusing problems.
            None if written => continue,
            None => field.iter().map(|a| (*a, 0)).collect(),
        };
        *field = with_lines.iter().map(|(a, _)| *a).collect();
        bound.extend(with_lines.into_iter().map(|(addr, line)| Bound {
            addr,
            key: key.clone(),
            line,
        }));
    }
    bound
}

/// An integer entry converted to `T`, within `lo..=hi`.
fn int<T: TryFrom<i128>>(r: &mut Reader<'_>, e: &Entry<'_>, lo: i128, hi: i128) -> Option<T> {
    r.integer(e, lo..hi + 1).and_then(|n| T::try_from(n).ok())
}

fn read_smtp(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "max_message_size",
        "max_recipients",
        "relay_networks",
        "command_timeout",
        "data_timeout",
        "soft_error_limit",
        "hard_error_limit",
        "error_delay",
    ];
    let s = r.section(root, "smtp", &keys);
    let limit = i128::from(MAX_MESSAGE_SIZE_LIMIT);
    let size = r.get(&s, "max_message_size", |r, e| int(r, e, 1, limit));
    set(&mut c.smtp.max_message_size, size);
    let max = i128::from(u32::MAX);
    let rcpts = r.get(&s, "max_recipients", |r, e| int(r, e, 1, max));
    set(&mut c.smtp.max_recipients, rcpts);
    let nets = r.get(&s, "relay_networks", |r, e| {
        r.parsed_list(e, validate::ip_net)
    });
    set(&mut c.smtp.relay_networks, nets.map(without_lines));
    let sm = &mut c.smtp;
    for (key, slot) in [
        ("command_timeout", &mut sm.command_timeout),
        ("data_timeout", &mut sm.data_timeout),
        ("error_delay", &mut sm.error_delay),
    ] {
        set(slot, r.get(&s, key, |r, e| r.parsed(e, validate::duration)));
    }
    let max = i128::from(u32::MAX);
    set(
        &mut sm.soft_error_limit,
        r.get(&s, "soft_error_limit", |r, e| int(r, e, 1, max)),
    );
    set(
        &mut sm.hard_error_limit,
        r.get(&s, "hard_error_limit", |r, e| int(r, e, 1, max)),
    );
}

fn read_greylist(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "enabled",
        "delay",
        "max_age",
        "auto_allow_after",
        "allow_networks",
        "allow_domains",
    ];
    let s = r.section(root, "greylist", &keys);
    let g = &mut c.greylist;
    set(&mut g.enabled, r.get(&s, "enabled", Reader::boolean));
    set(
        &mut g.delay,
        r.get(&s, "delay", |r, e| r.parsed(e, validate::duration)),
    );
    let max_age = r.get(&s, "max_age", |r, e| r.parsed(e, validate::duration));
    set(&mut g.max_age, max_age);
    let max = i128::from(u32::MAX);
    let after = r.get(&s, "auto_allow_after", |r, e| int(r, e, 0, max));
    set(&mut g.auto_allow_after, after);
    let nets = r.get(&s, "allow_networks", |r, e| {
        r.parsed_list(e, validate::ip_net)
    });
    set(&mut g.allow_networks, nets.map(without_lines));
    let domains = r.get(&s, "allow_domains", |r, e| {
        r.parsed_list(e, |d| validate::dns_name(d).map(|d| d.to_ascii_lowercase()))
    });
    set(&mut g.allow_domains, domains.map(without_lines));
}

fn read_directory_log(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = ["case_sensitive_local_part", "plus_separator", "postmaster"];
    let s = r.section(root, "directory", &keys);
    let d = &mut c.directory;
    let case = r.get(&s, "case_sensitive_local_part", Reader::boolean);
    set(&mut d.case_sensitive_local_part, case);
    let sep = r.get(&s, "plus_separator", |r, e| {
        r.parsed(e, validate::plus_separator)
    });
    set(&mut d.plus_separator, sep);
    let pm = r.get(&s, "postmaster", |r, e| {
        r.parsed(e, validate::address_or_empty)
    });
    set(&mut d.postmaster, pm);

    let s = r.section(root, "log", &["level"]);
    set(
        &mut c.log.level,
        r.get(&s, "level", |r, e| r.parsed(e, validate::log_filter)),
    );
}

fn fail_action(s: &str) -> Result<FailAction, String> {
    match s {
        "reject" => Ok(FailAction::Reject),
        "junk" => Ok(FailAction::Junk),
        "mark" => Ok(FailAction::Mark),
        _ => Err(format!(
            "{s:?} is not one of \"reject\", \"junk\", \"mark\""
        )),
    }
}

fn reverse_dns(s: &str) -> Result<ReverseDns, String> {
    match s {
        "off" => Ok(ReverseDns::Off),
        "check" => Ok(ReverseDns::Check),
        "require" => Ok(ReverseDns::Require),
        _ => Err(format!(
            "{s:?} is not one of \"off\", \"check\", \"require\""
        )),
    }
}

fn read_auth(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "spf_fail",
        "dmarc_reject",
        "dmarc_quarantine",
        "dnsbl",
        "reverse_dns",
    ];
    let s = r.section(root, "auth", &keys);
    let a = &mut c.auth;
    for (key, slot) in [
        ("spf_fail", &mut a.spf_fail),
        ("dmarc_reject", &mut a.dmarc_reject),
        ("dmarc_quarantine", &mut a.dmarc_quarantine),
    ] {
        set(slot, r.get(&s, key, |r, e| r.parsed(e, fail_action)));
    }
    let zones = r.get(&s, "dnsbl", |r, e| {
        r.parsed_list(e, |d| validate::dns_name(d).map(|d| d.to_ascii_lowercase()))
    });
    set(&mut a.dnsbl, zones.map(without_lines));
    set(
        &mut a.reverse_dns,
        r.get(&s, "reverse_dns", |r, e| r.parsed(e, reverse_dns)),
    );
}

fn sender_policy(s: &str) -> Result<SenderPolicy, String> {
    SenderPolicy::parse(s)
}

fn read_submission(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "sender_policy",
        "check_header_from",
        "hide_client_ip",
        "allow_plaintext_auth_on_loopback",
    ];
    let s = r.section(root, "submission", &keys);
    let sub = &mut c.submission;
    let policy = r.get(&s, "sender_policy", |r, e| r.parsed(e, sender_policy));
    set(&mut sub.sender_policy, policy);
    for (key, slot) in [
        ("check_header_from", &mut sub.check_header_from),
        ("hide_client_ip", &mut sub.hide_client_ip),
        (
            "allow_plaintext_auth_on_loopback",
            &mut sub.allow_plaintext_auth_on_loopback,
        ),
    ] {
        set(slot, r.get(&s, key, Reader::boolean));
    }
}
