//! `[imap]`: limits and timeouts of IMAP sessions. The type lives here
//! rather than in `mod.rs` to keep files small; `mod.rs` re-exports it.
//! Reading follows `sections.rs`: every key on its own, a refused value
//! keeps its default.

use serde::Deserialize;
use toml_edit::TableLike;

use super::reader::{Entry, Reader};
use super::{Config, HumanDuration, validate};

/// `[imap]`: what one IMAP client may ask of the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    /// Idle time before autologout (RFC 3501 §5.4: at least 30 minutes;
    /// IDLE sessions are kept as long, then told `* BYE`).
    pub idle_timeout: HumanDuration,
    /// Longest command line outside literals, in octets (RFC 7162 §4
    /// asks for at least 8192).
    pub max_line_length: usize,
    /// Largest message APPEND accepts, in octets (advertised as
    /// `APPENDLIMIT`, RFC 7889).
    pub max_append_size: u64,
    /// Largest total of literals in any other command, in octets.
    pub max_literal_size: u64,
    /// Allow LOGIN and AUTHENTICATE without TLS for clients on loopback
    /// (a webmail on the same host).
    pub allow_plaintext_auth_on_loopback: bool,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            idle_timeout: HumanDuration::from_secs(30 * 60),
            max_line_length: 65_536,
            max_append_size: 52_428_800,
            max_literal_size: 65_536,
            allow_plaintext_auth_on_loopback: false,
        }
    }
}

/// Largest accepted `imap.max_append_size`: 2 GiB (IMAP numbers are 32-bit).
const MAX_APPEND_LIMIT: i128 = 2 * 1024 * 1024 * 1024 - 1;

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

/// Reads `[imap]`.
pub(super) fn read(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = [
        "idle_timeout",
        "max_line_length",
        "max_append_size",
        "max_literal_size",
        "allow_plaintext_auth_on_loopback",
    ];
    let s = r.section(root, "imap", &keys);
    let i = &mut c.imap;
    if let Some(d) = r.get(&s, "idle_timeout", |r, e| r.parsed(e, positive_duration)) {
        i.idle_timeout = d;
    }
    if let Some(n) = r.get(&s, "max_line_length", |r, e| int(r, e, 1024, 16 << 20)) {
        i.max_line_length = n;
    }
    let append = r.get(&s, "max_append_size", |r, e| int(r, e, 1, MAX_APPEND_LIMIT));
    if let Some(n) = append {
        i.max_append_size = n;
    }
    let literal = r.get(&s, "max_literal_size", |r, e| int(r, e, 1024, 64 << 20));
    if let Some(n) = literal {
        i.max_literal_size = n;
    }
    let plain = r.get(&s, "allow_plaintext_auth_on_loopback", Reader::boolean);
    if let Some(b) = plain {
        i.allow_plaintext_auth_on_loopback = b;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::load::parse;

    #[test]
    fn defaults_and_values() {
        let c = parse(Path::new("t.toml"), "").expect("empty config");
        assert_eq!(c.imap, super::ImapConfig::default());
        assert_eq!(c.imap.idle_timeout.get(), Duration::from_secs(1800));
        let text = "[imap]\nidle_timeout = \"45m\"\nmax_line_length = 8192\n\
                    max_append_size = 1000000\nmax_literal_size = 4096\n\
                    allow_plaintext_auth_on_loopback = true\n";
        let c = parse(Path::new("t.toml"), text).expect("valid");
        assert_eq!(c.imap.idle_timeout.get(), Duration::from_secs(2700));
        assert_eq!(c.imap.max_line_length, 8192);
        assert_eq!(c.imap.max_append_size, 1_000_000);
        assert_eq!(c.imap.max_literal_size, 4096);
        assert!(c.imap.allow_plaintext_auth_on_loopback);
    }

    #[test]
    fn out_of_range_values_are_reported_with_line_and_key() {
        let text = "[imap]\nidle_timeout = \"0s\"\nmax_line_length = 100\n\
                    max_append_size = 3000000000\nmax_literal_size = -1\nidle = 3\n";
        let e = parse(Path::new("t.toml"), text).expect_err("invalid");
        let spots: Vec<(usize, &str)> = e
            .problems
            .iter()
            .map(|p| (p.line, p.key.as_str()))
            .collect();
        assert_eq!(
            spots,
            [
                (2, "imap.idle_timeout"),
                (3, "imap.max_line_length"),
                (4, "imap.max_append_size"),
                (5, "imap.max_literal_size"),
                (6, "imap.idle"),
            ]
        );
    }
}
