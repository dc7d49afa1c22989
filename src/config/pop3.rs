//! `[pop3]`: POP3 session policy. The type lives here rather than in
//! `mod.rs` to keep files small; `mod.rs` re-exports it. Reading follows
//! `sections.rs`: every key on its own, a refused value keeps its default.

use serde::Deserialize;
use toml_edit::TableLike;

use super::reader::Reader;
use super::{Config, HumanDuration, validate};

/// `[pop3]`: how POP3 sessions behave.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pop3Config {
    /// Idle time before the session is closed (RFC 1939 §3: at least
    /// 10 minutes).
    pub idle_timeout: HumanDuration,
    /// Refuse a second POP3 session on the same maildrop with
    /// `-ERR [IN-USE]` (RFC 1939 §8 exclusive access).
    pub exclusive: bool,
    /// Allow USER/PASS and AUTH without TLS for clients on loopback.
    pub allow_plaintext_auth_on_loopback: bool,
}

impl Default for Pop3Config {
    fn default() -> Self {
        Pop3Config {
            idle_timeout: HumanDuration::from_secs(600),
            exclusive: true,
            allow_plaintext_auth_on_loopback: false,
        }
    }
}

fn at_least_a_minute(s: &str) -> Result<HumanDuration, String> {
    let d = validate::duration(s)?;
    if d.get().as_secs() < 60 {
        return Err(format!("{s:?} is too short (at least \"1m\")"));
    }
    Ok(d)
}

/// Reads `[pop3]`.
pub(super) fn read(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "idle_timeout",
        "exclusive",
        "allow_plaintext_auth_on_loopback",
    ];
    let s = r.section(root, "pop3", &keys);
    let p = &mut c.pop3;
    if let Some(d) = r.get(&s, "idle_timeout", |r, e| r.parsed(e, at_least_a_minute)) {
        p.idle_timeout = d;
    }
    if let Some(b) = r.get(&s, "exclusive", Reader::boolean) {
        p.exclusive = b;
    }
    if let Some(b) = r.get(&s, "allow_plaintext_auth_on_loopback", Reader::boolean) {
        p.allow_plaintext_auth_on_loopback = b;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn keys_parse_and_bad_values_are_named() {
        let p = Path::new("/etc/postel/p.toml");
        let c =
            crate::config::load::parse(p, "[pop3]\nexclusive = false\nidle_timeout = \"20m\"\n")
                .expect("valid");
        assert!(!c.pop3.exclusive);
        assert_eq!(c.pop3.idle_timeout.get().as_secs(), 1200);
        assert!(!c.pop3.allow_plaintext_auth_on_loopback);
        let e = crate::config::load::parse(p, "[pop3]\nidle_timeout = \"5s\"\nexclusiv = true\n")
            .expect_err("invalid");
        let text = e.to_string();
        assert!(text.contains("p.toml:2: pop3.idle_timeout:"), "{text}");
        assert!(text.contains("p.toml:3: pop3.exclusiv:"), "{text}");
    }
}
