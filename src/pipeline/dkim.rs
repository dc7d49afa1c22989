//! DKIM stage (RFC 6376) and ARC recording (RFC 8617), at end of DATA.
//!
//! Every `DKIM-Signature` is verified (rsa-sha256 and ed25519-sha256,
//! RFC 8463) by `mail-auth`; each gets its own `dkim=` entry with
//! `header.d`, `header.s` and `header.b` (the first 8 characters of the
//! signature, RFC 6008, so that several signatures of one domain can be
//! told apart). A body-hash mismatch is `fail` (§6.1.3: the message was
//! altered), not `neutral`.
//!
//! DKIM alone never refuses a message: an unsigned or badly signed
//! message is judged by DMARC. A `temperror` (the key could not be
//! fetched) refuses the message for now only when it could change the
//! DMARC outcome — see `super::dmarc`.
//!
//! ARC chains are verified and recorded (`arc=`), never acted upon: we
//! keep no list of trusted sealers, and without one ARC cannot override
//! DMARC (RFC 8617 §7.2).

use base64::Engine;
use mail_auth::dkim::DkimError;
use mail_auth::{ArcOutput, DkimOutput, DkimResult, Error};

use super::headers::auth_results::pvalue;

/// RFC 8601 §2.7.1 result of one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimWord {
    /// Verified.
    Pass,
    /// Did not verify: altered message, wrong key.
    Fail,
    /// Could not be processed (syntax, expired, unsupported).
    Neutral,
    /// Permanent error (no key, revoked key).
    PermError,
    /// The key could not be fetched now.
    TempError,
}

impl DkimWord {
    /// The keyword written in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimWord::Pass => "pass",
            DkimWord::Fail => "fail",
            DkimWord::Neutral => "neutral",
            DkimWord::PermError => "permerror",
            DkimWord::TempError => "temperror",
        }
    }
}

/// One verified (or not) signature, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimSignature {
    /// The outcome.
    pub result: DkimWord,
    /// `d=`, lowercased; empty when the signature could not be parsed.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// First 8 base64 characters of `b=`.
    pub b_prefix: String,
}

/// Maps `mail-auth`'s result to the RFC 8601 keyword.
pub fn word(result: &DkimResult) -> Option<DkimWord> {
    match result {
        DkimResult::Pass => Some(DkimWord::Pass),
        DkimResult::Fail(_) => Some(DkimWord::Fail),
        DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => Some(DkimWord::Fail),
        DkimResult::Neutral(_) => Some(DkimWord::Neutral),
        DkimResult::PermError(_) => Some(DkimWord::PermError),
        DkimResult::TempError(_) => Some(DkimWord::TempError),
        DkimResult::None => None,
    }
}

/// Owned summaries of the verifier's outputs.
pub fn summarize(outputs: &[DkimOutput<'_>]) -> Vec<DkimSignature> {
    outputs
        .iter()
        .filter_map(|o| {
            let result = word(o.result())?;
            let (domain, selector, b_prefix) = match o.signature() {
                Some(sig) => {
                    let b = base64::engine::general_purpose::STANDARD.encode(&sig.b);
                    (
                        sig.d.to_ascii_lowercase(),
                        sig.s.clone(),
                        b.chars().take(8).collect(),
                    )
                }
                None => Default::default(),
            };
            Some(DkimSignature {
                result,
                domain,
                selector,
                b_prefix,
            })
        })
        .collect()
}

/// The `dkim=` entries; `dkim=none` for an unsigned message.
pub fn auth_results(signatures: &[DkimSignature]) -> Vec<String> {
    if signatures.is_empty() {
        return vec!["dkim=none".to_string()];
    }
    signatures
        .iter()
        .map(|s| {
            let mut out = format!("dkim={}", s.result.as_str());
            if !s.domain.is_empty() {
                out.push_str(&format!(" header.d={}", pvalue(&s.domain)));
            }
            if !s.selector.is_empty() {
                out.push_str(&format!(" header.s={}", pvalue(&s.selector)));
            }
            if !s.b_prefix.is_empty() {
                out.push_str(&format!(" header.b={}", pvalue(&s.b_prefix)));
            }
            out
        })
        .collect()
}

/// Relaxed identifier alignment without a public-suffix list (RFC 7489
/// §3.1.1 approximated): equal, or one a subdomain of the other, and the
/// shorter has at least two labels (no alignment on a bare TLD).
pub fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if short.is_empty() || !short.contains('.') {
        return false;
    }
    long == short || long.ends_with(&format!(".{short}"))
}

/// Signing domains whose signature passed and aligns with `from_domain`.
pub fn aligned_pass_domains(signatures: &[DkimSignature], from_domain: &str) -> Vec<String> {
    let mut out: Vec<String> = signatures
        .iter()
        .filter(|s| s.result == DkimWord::Pass && aligned(&s.domain, from_domain))
        .map(|s| s.domain.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The `arc=` entry (RFC 8617 §10.1), with the client address as
/// `smtp.remote-ip` when a chain was present.
pub fn arc_result(arc: &ArcOutput<'_>, ip: std::net::IpAddr) -> String {
    match word(arc.result()) {
        None => "arc=none".to_string(),
        Some(w) => {
            let w = match w {
                DkimWord::Neutral => DkimWord::Fail,
                other => other,
            };
            format!("arc={} smtp.remote-ip={}", w.as_str(), ip.to_canonical())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment() {
        assert!(aligned("example.com", "example.com"));
        assert!(aligned("mail.example.com", "example.com"));
        assert!(aligned("EXAMPLE.com", "news.example.com"));
        assert!(!aligned("example.com", "example.net"));
        assert!(!aligned("com", "example.com"));
        assert!(!aligned("ample.com", "example.com"));
    }

    #[test]
    fn entries() {
        let sigs = [DkimSignature {
            result: DkimWord::Fail,
            domain: "example.com".into(),
            selector: "s1".into(),
            b_prefix: "AbCd+/12".into(),
        }];
        assert_eq!(
            auth_results(&sigs),
            vec!["dkim=fail header.d=example.com header.s=s1 header.b=AbCd+/12".to_string()]
        );
        assert_eq!(auth_results(&[]), vec!["dkim=none".to_string()]);
    }
}
