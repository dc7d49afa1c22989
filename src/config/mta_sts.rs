//! `[mta_sts]`: the MTA-STS policy (RFC 8461) that the HTTP listener
//! serves at `/.well-known/mta-sts.txt`. The type lives here rather than
//! in `mod.rs` to keep files small; `mod.rs` re-exports it. Reading
//! follows `sections.rs`: every key on its own, a refused value keeps its
//! default.

use serde::Deserialize;
use toml_edit::TableLike;

use super::reader::{Entry, Reader};
use super::{Config, HumanDuration, validate};

/// RFC 8461 §3.2: the largest `max_age`, about one year.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// What sending MTAs do when TLS to our MX fails (RFC 8461 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MtaStsMode {
    /// Deliver anyway, but report the failure (TLS-RPT).
    #[default]
    Testing,
    /// Do not deliver over a connection that fails validation.
    Enforce,
    /// No policy any more (used to retire one).
    None,
}

impl MtaStsMode {
    /// The word in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            MtaStsMode::Testing => "testing",
            MtaStsMode::Enforce => "enforce",
            MtaStsMode::None => "none",
        }
    }
}

/// `[mta_sts]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MtaStsConfig {
    /// Serve a policy at all (and let `postel dns` publish its record).
    pub enabled: bool,
    /// `testing`, `enforce` or `none`.
    pub mode: MtaStsMode,
    /// How long senders may cache the policy (at most 31557600 s).
    pub max_age: HumanDuration,
    /// MX host patterns (`mail.example.com`, `*.example.com`); empty
    /// means `[server.hostname]`.
    pub mx: Vec<String>,
}

impl Default for MtaStsConfig {
    fn default() -> Self {
        MtaStsConfig {
            enabled: true,
            mode: MtaStsMode::Testing,
            max_age: HumanDuration::from_secs(604_800),
            mx: Vec::new(),
        }
    }
}

fn mode(s: &str) -> Result<MtaStsMode, String> {
    match s {
        "testing" => Ok(MtaStsMode::Testing),
        "enforce" => Ok(MtaStsMode::Enforce),
        "none" => Ok(MtaStsMode::None),
        _ => Err(format!(
            "{s:?} is not one of \"testing\", \"enforce\", \"none\""
        )),
    }
}

/// A host name, or `*.` and a domain (RFC 8461 §4.1), lowercased.
fn mx_pattern(s: &str) -> Result<String, String> {
    let (wild, name) = match s.strip_prefix("*.") {
        Some(rest) => ("*.", rest),
        None => ("", s),
    };
    let name = validate::dns_name(name).map_err(|e| format!("MX pattern {e}"))?;
    Ok(format!("{wild}{}", name.to_ascii_lowercase()))
}

fn checked_age(d: HumanDuration) -> Result<HumanDuration, String> {
    let secs = d.get().as_secs();
    if secs > MAX_AGE_LIMIT {
        return Err(format!(
            "{secs} seconds is longer than RFC 8461 allows (31557600 s, about a year)"
        ));
    }
    Ok(d)
}

/// `max_age` as a duration string (`"1w"`) or whole seconds.
fn max_age(r: &mut Reader<'_>, e: &Entry<'_>) -> Option<HumanDuration> {
    if e.item.as_integer().is_some() {
        let secs = r.integer(e, 0..i128::from(MAX_AGE_LIMIT) + 1)?;
        return u64::try_from(secs).ok().map(HumanDuration::from_secs);
    }
    r.parsed(e, |s| validate::duration(s).and_then(checked_age))
}

/// Reads `[mta_sts]`.
pub(super) fn read(r: &mut Reader<'_>, root: &dyn TableLike, c: &mut Config) {
    let keys = ["enabled", "mode", "max_age", "mx"];
    let s = r.section(root, "mta_sts", &keys);
    let m = &mut c.mta_sts;
    if let Some(b) = r.get(&s, "enabled", Reader::boolean) {
        m.enabled = b;
    }
    if let Some(v) = r.get(&s, "mode", |r, e| r.parsed(e, mode)) {
        m.mode = v;
    }
    if let Some(v) = r.get(&s, "max_age", max_age) {
        m.max_age = v;
    }
    if let Some(list) = r.get(&s, "mx", |r, e| r.parsed_list(e, mx_pattern)) {
        m.mx = list.into_iter().map(|(v, _)| v).collect();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn defaults_and_values() {
        let p = Path::new("/etc/postel/m.toml");
        let c = crate::config::load::parse(p, "").expect("valid");
        assert_eq!(c.mta_sts, MtaStsConfig::default());
        assert_eq!(c.mta_sts.max_age.get().as_secs(), 604_800);
        let text = "[mta_sts]\nmode = \"enforce\"\nmax_age = \"1d\"\nmx = [\"MX1.Example.com\", \"*.example.net\"]\n";
        let c = crate::config::load::parse(p, text).expect("valid");
        assert_eq!(c.mta_sts.mode, MtaStsMode::Enforce);
        assert_eq!(c.mta_sts.max_age.get().as_secs(), 86_400);
        assert_eq!(c.mta_sts.mx, ["mx1.example.com", "*.example.net"]);
        let c = crate::config::load::parse(p, "[mta_sts]\nmax_age = 3600\nenabled = false\n")
            .expect("valid");
        assert_eq!(c.mta_sts.max_age.get().as_secs(), 3600);
        assert!(!c.mta_sts.enabled);
    }

    #[test]
    fn bad_values_are_named() {
        let p = Path::new("/etc/postel/m.toml");
        let text = "[mta_sts]\nmode = \"strict\"\nmax_age = \"2y\"\nmx = [\"ok.example\", \"bad_name\"]\nmax_agee = 1\n";
        let e = crate::config::load::parse(p, text).expect_err("invalid");
        let t = e.to_string();
        assert!(t.contains("m.toml:2: mta_sts.mode:"), "{t}");
        assert!(t.contains("m.toml:3: mta_sts.max_age:"), "{t}");
        assert!(t.contains("m.toml:4: mta_sts.mx:"), "{t}");
        assert!(t.contains("m.toml:5: mta_sts.max_agee:"), "{t}");
        let e =
            crate::config::load::parse(p, "[mta_sts]\nmax_age = 40000000\n").expect_err("too long");
        assert!(e.to_string().contains("m.toml:2: mta_sts.max_age:"), "{e}");
        let e =
            crate::config::load::parse(p, "[mta_sts]\nmax_age = \"400d\"\n").expect_err("too long");
        assert!(e.to_string().contains("longer than RFC 8461"), "{e}");
    }
}
