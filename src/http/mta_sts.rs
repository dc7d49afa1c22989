//! The MTA-STS policy (RFC 8461) at `/.well-known/mta-sts.txt`, from
//! `[mta_sts]`. Senders fetch it from `https://mta-sts.<domain>/` after
//! seeing the `_mta-sts.<domain>` TXT record `v=STSv1; id=<policy_id>`;
//! the id must change whenever the policy does, so it is derived from
//! the policy text.

use hyper::{Response, StatusCode};
use sha2::{Digest, Sha256};

use super::{Body, Site};
use crate::config::Config;

/// The policy file (RFC 8461 §3.2), CRLF line endings; `None` when
/// `mta_sts.enabled` is false. The MX patterns are `mta_sts.mx`, or the
/// server's host name when that list is empty.
pub fn policy_text(config: &Config) -> Option<String> {
    let m = &config.mta_sts;
    if !m.enabled {
        return None;
    }
    let mut text = format!("version: STSv1\r\nmode: {}\r\n", m.mode.as_str());
    let default_mx = [config.server.hostname.to_ascii_lowercase()];
    let mx = if m.mx.is_empty() {
        &default_mx[..]
    } else {
        &m.mx[..]
    };
    for pattern in mx {
        text.push_str(&format!("mx: {pattern}\r\n"));
    }
    text.push_str(&format!("max_age: {}\r\n", m.max_age.get().as_secs()));
    Some(text)
}

/// The policy's `id` for the TXT record: 20 hex digits of the SHA-256 of
/// the policy text (RFC 8461 §3.1 allows 1–32 letters and digits), so it
/// changes exactly when the policy does (with the policy disabled, the
/// hash of the empty text).
pub fn policy_id(config: &Config) -> String {
    let text = policy_text(config).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers a GET: the policy as `text/plain`, or 404 when disabled.
pub fn get(site: &Site) -> Response<Body> {
    match policy_text(&site.services().config) {
        Some(text) => super::text(StatusCode::OK, text),
        None => super::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MtaStsMode;

    #[test]
    fn policy_follows_the_config() {
        let mut c = Config::default();
        c.server.hostname = "Mail.Example.com".into();
        let text = policy_text(&c).expect("enabled by default");
        assert_eq!(
            text,
            "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"
        );
        let id = policy_id(&c);
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(id, policy_id(&c));

        c.mta_sts.mode = MtaStsMode::Enforce;
        c.mta_sts.mx = vec!["mx1.example.com".into(), "*.example.net".into()];
        let text = policy_text(&c).expect("enabled");
        assert!(text.contains("mode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\n"));
        assert_ne!(policy_id(&c), id);

        c.mta_sts.enabled = false;
        assert_eq!(policy_text(&c), None);
    }
}
