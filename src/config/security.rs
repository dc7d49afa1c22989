//! `[security]` (failed logins and bans) and `[limits]` (connections and
//! sending rates). The types live here rather than in `mod.rs` to keep
//! files small; `mod.rs` re-exports them. Reading follows `sections.rs`:
//! every key on its own, a refused value keeps its default. What the
//! values do is in `crate::security` and `docs/security.md`.

use ipnet::IpNet;
use serde::Deserialize;
use toml_edit::TableLike;

use super::reader::{Entry, Reader};
use super::{Config, HumanDuration, validate};

/// `[security]`: failed-login tracking shared by SMTP AUTH, IMAP and
/// POP3, and temporary bans of client addresses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Failed logins from one address within `auth_fail_window` after
    /// which the address is banned; 0 never bans (delays still apply).
    pub auth_fail_limit: u32,
    /// How far back failures count.
    pub auth_fail_window: HumanDuration,
    /// The delay before answering the third failed login in the window;
    /// it doubles with every further failure up to `auth_fail_delay_max`.
    pub auth_fail_delay: HumanDuration,
    /// The longest delay before answering a failed login.
    pub auth_fail_delay_max: HumanDuration,
    /// How long a ban lasts.
    pub ban_time: HumanDuration,
    /// Client networks never banned (failures are still delayed).
    pub ban_exceptions: Vec<IpNet>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            auth_fail_limit: 10,
            auth_fail_window: HumanDuration::from_secs(15 * 60),
            auth_fail_delay: HumanDuration::from_secs(1),
            auth_fail_delay_max: HumanDuration::from_secs(15),
            ban_time: HumanDuration::from_secs(3600),
            ban_exceptions: Vec::new(),
        }
    }
}

/// `[limits]`: how many connections and how much mail one client may
/// have. Exempt networks (`exceptions`) skip the per-address limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most concurrent connections per listener (`listen.*` key).
    pub max_connections: usize,
    /// Most concurrent connections from one client address per listener.
    pub max_connections_per_ip: usize,
    /// Messages (accepted MAIL commands) per hour from one client
    /// address, or from one authenticated user; 0: no limit.
    pub messages_per_hour: u32,
    /// Accepted recipients per hour from one client address, or from one
    /// authenticated user; 0: no limit.
    pub recipients_per_hour: u32,
    /// Client networks exempt from the per-address limits; absent:
    /// `smtp.relay_networks`.
    pub exceptions: Option<Vec<IpNet>>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 20_000,
            max_connections_per_ip: 100,
            messages_per_hour: 500,
            recipients_per_hour: 2_000,
            exceptions: None,
        }
    }
}

impl Config {
    /// The networks exempt from per-address limits: `limits.exceptions`,
    /// or `smtp.relay_networks` when that key is absent.
    pub fn limit_exceptions(&self) -> &[IpNet] {
        match &self.limits.exceptions {
            Some(list) => list,
            None => &self.smtp.relay_networks,
        }
    }
}

/// An integer entry within `lo..=hi`.
fn int<T: TryFrom<i128>>(r: &mut Reader<'_>, e: &Entry<'_>, lo: i128, hi: i128) -> Option<T> {
    r.integer(e, lo..hi + 1).and_then(|n| T::try_from(n).ok())
}

fn positive_duration(s: &str) -> Result<HumanDuration, String> {
    let d = validate::duration(s)?;
    if d.get().is_zero() {
        return Err(format!("{s:?} must be longer than zero"));
    }
    Ok(d)
}

fn networks(r: &mut Reader<'_>, e: &Entry<'_>) -> Option<Vec<IpNet>> {
    r.parsed_list(e, validate::ip_net)
        .map(|l| l.into_iter().map(|(n, _)| n).collect())
}

/// Reads `[security]` and `[limits]`.
pub(super) fn read(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "auth_fail_limit",
        "auth_fail_window",
        "auth_fail_delay",
        "auth_fail_delay_max",
        "ban_time",
        "ban_exceptions",
    ];
    let s = r.section(root, "security", &keys);
    let sec = &mut c.security;
    let max = i128::from(u32::MAX);
    if let Some(n) = r.get(&s, "auth_fail_limit", |r, e| int(r, e, 0, max)) {
        sec.auth_fail_limit = n;
    }
    for (key, slot) in [
        ("auth_fail_window", &mut sec.auth_fail_window),
        ("ban_time", &mut sec.ban_time),
    ] {
        if let Some(d) = r.get(&s, key, |r, e| r.parsed(e, positive_duration)) {
            *slot = d;
        }
    }
    for (key, slot) in [
        ("auth_fail_delay", &mut sec.auth_fail_delay),
        ("auth_fail_delay_max", &mut sec.auth_fail_delay_max),
    ] {
        if let Some(d) = r.get(&s, key, |r, e| r.parsed(e, validate::duration)) {
            *slot = d;
        }
    }
    if let Some(list) = r.get(&s, "ban_exceptions", networks) {
        sec.ban_exceptions = list;
    }

    let keys = [
        "max_connections",
        "max_connections_per_ip",
        "messages_per_hour",
        "recipients_per_hour",
        "exceptions",
    ];
    let s = r.section(root, "limits", &keys);
    let l = &mut c.limits;
    let conns = i128::from(u32::MAX);
    if let Some(n) = r.get(&s, "max_connections", |r, e| int(r, e, 1, conns)) {
        l.max_connections = n;
    }
    if let Some(n) = r.get(&s, "max_connections_per_ip", |r, e| int(r, e, 1, conns)) {
        l.max_connections_per_ip = n;
    }
    for (key, slot) in [
        ("messages_per_hour", &mut l.messages_per_hour),
        ("recipients_per_hour", &mut l.recipients_per_hour),
    ] {
        if let Some(n) = r.get(&s, key, |r, e| int(r, e, 0, max)) {
            *slot = n;
        }
    }
    if let Some(list) = r.get(&s, "exceptions", networks) {
        l.exceptions = Some(list);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    #[test]
    fn defaults_and_exceptions_follow_relay_networks() {
        let p = Path::new("/etc/postel/p.toml");
        let c = crate::config::load::parse(p, "").expect("valid");
        assert_eq!(c.security.auth_fail_limit, 10);
        assert_eq!(c.security.ban_time.get(), Duration::from_secs(3600));
        assert!(c.security.ban_exceptions.is_empty());
        assert_eq!(c.limits.max_connections, 20_000);
        assert_eq!(c.limits.max_connections_per_ip, 100);
        assert_eq!(c.limit_exceptions(), c.smtp.relay_networks.as_slice());
        let c = crate::config::load::parse(
            p,
            "[smtp]\nrelay_networks = [\"10.0.0.0/8\"]\n[limits]\nmax_connections = 5\n",
        )
        .expect("valid");
        assert_eq!(c.limit_exceptions()[0].to_string(), "10.0.0.0/8");
        assert_eq!(c.limits.max_connections, 5);
    }

    #[test]
    fn keys_parse_and_bad_values_are_named() {
        let p = Path::new("/etc/postel/p.toml");
        let text = "[security]\nauth_fail_limit = 3\nban_time = \"2s\"\n\
                    ban_exceptions = [\"192.0.2.0/24\"]\nauth_fail_delay = \"0s\"\n\
                    [limits]\nexceptions = []\nmessages_per_hour = 0\n";
        let c = crate::config::load::parse(p, text).expect("valid");
        assert_eq!(c.security.auth_fail_limit, 3);
        assert_eq!(c.security.ban_time.get(), Duration::from_secs(2));
        assert_eq!(c.security.auth_fail_delay.get(), Duration::ZERO);
        assert_eq!(c.security.ban_exceptions.len(), 1);
        assert!(c.limit_exceptions().is_empty());
        assert_eq!(c.limits.messages_per_hour, 0);
        let bad = "[security]\nban_time = \"0s\"\nban_exceptions = [\"nope\"]\n\
                   [limits]\nmax_connections = 0\nper_ip = 3\n";
        let text = crate::config::load::parse(p, bad)
            .expect_err("invalid")
            .to_string();
        for want in [
            "p.toml:2: security.ban_time:",
            "p.toml:3: security.ban_exceptions",
            "p.toml:5: limits.max_connections:",
            "p.toml:6: limits.per_ip:",
        ] {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
}
