//! DKIM signing of outbound mail (RFC 6376; Ed25519 per RFC 8463) and the
//! key management behind `postel dkim`.
//!
//! Owns: the `dkim_keys` rows ([`Keys`]: generate, list, rotate, delete),
//! key material (private keys as PKCS#8 PEM, the base64 `p=` public key),
//! the DNS TXT record to publish ([`DnsRecord`]), and signing
//! ([`Signer::sign`], which returns the `DKIM-Signature` fields to prepend
//! to a message, one per active key of the domain).
//!
//! Must not: verify inbound signatures (that is `pipeline::dkim`), query
//! DNS, or decide *whether* a message gets signed or with which domain —
//! the submission session and the outbound queue choose; this module only
//! signs with what the database holds.
//!
//! Private keys live in the database (`dkim_keys.private_key`), so the
//! database file (or server) is as secret as the keys: `data_dir` is 0700
//! and the SQLite file must stay readable by the daemon's user only.

mod crypto;
mod headers;
mod keys;
mod record;
mod rows;
mod signer;

use std::fmt;
use std::str::FromStr;

pub use headers::{OVERSIGNED, SIGNED_IF_PRESENT, signed_header_names};
pub use keys::{KeyInfo, KeySpec, Keys, Rotation};
pub use record::{DnsRecord, MAX_STRING};
pub use signer::Signer;

use crate::db::DbError;
use crate::directory::DirectoryError;

/// Errors of DKIM key management and signing.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// Not a syntactically valid (ASCII) domain name.
    #[error("invalid domain {0:?} (DKIM needs the ASCII/xn-- form)")]
    InvalidDomain(String),
    /// The domain is not one of ours.
    #[error("domain {0} is not a local domain (add it with `postel domain add {0}`)")]
    NotLocal(String),
    /// Not a valid selector (dot-separated DNS labels).
    #[error("invalid selector {0:?}: use letters, digits, inner hyphens and dots")]
    InvalidSelector(String),
    /// The selector is taken for this domain.
    #[error("DKIM selector {selector} already exists for {domain}")]
    SelectorExists {
        /// The domain.
        domain: String,
        /// The selector.
        selector: String,
    },
    /// No key with this selector.
    #[error("no DKIM key with selector {selector} for {domain}")]
    NoSuchKey {
        /// The domain.
        domain: String,
        /// The selector.
        selector: String,
    },
    /// The domain has no key that signs.
    #[error("{0} has no active DKIM key (create one with `postel dkim generate {0}`)")]
    NoActiveKey(String),
    /// An algorithm name we do not know.
    #[error("unknown DKIM algorithm {0:?}: expected rsa or ed25519")]
    UnknownAlgorithm(String),
    /// `rotate --selector` named a key of the other algorithm.
    #[error("selector {selector} holds an {actual} key, not {requested}")]
    AlgorithmMismatch {
        /// The selector.
        selector: String,
        /// The key's algorithm.
        actual: Algorithm,
        /// The algorithm asked for.
        requested: Algorithm,
    },
    /// Key generation failed.
    #[error("DKIM key generation failed: {0}")]
    Generate(String),
    /// A stored key cannot be used.
    #[error("unusable DKIM key {selector} of {domain}: {reason}")]
    BadKey {
        /// The domain.
        domain: String,
        /// The selector.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The message has no From field; DKIM must sign it (RFC 6376 §5.4).
    #[error("the message has no From header field")]
    NoFrom,
    /// The signing library refused.
    #[error("DKIM signing failed: {0}")]
    Sign(String),
    /// The directory failed (local-domain check).
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DkimError {
    fn from(e: sqlx::Error) -> Self {
        DkimError::Db(DbError::Sql(e))
    }
}

/// A DKIM signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `rsa-sha256` with a 2048-bit key (what every verifier understands).
    #[default]
    RsaSha256,
    /// `ed25519-sha256` (RFC 8463): short keys, not yet verified everywhere.
    Ed25519Sha256,
}

impl Algorithm {
    /// The `a=` tag value, also stored in `dkim_keys.algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type, as in the record's `k=` tag.
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa",
            Algorithm::Ed25519Sha256 => "ed25519",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = DkimError;

    /// Accepts `rsa`, `rsa-sha256`, `ed25519` and `ed25519-sha256`.
    fn from_str(s: &str) -> Result<Algorithm, DkimError> {
        match s.to_ascii_lowercase().as_str() {
            "rsa" | "rsa-sha256" => Ok(Algorithm::RsaSha256),
            "ed25519" | "ed25519-sha256" => Ok(Algorithm::Ed25519Sha256),
            _ => Err(DkimError::UnknownAlgorithm(s.to_string())),
        }
    }
}

/// The canonical form of a signing domain: lowercase ASCII, no final dot.
///
/// # Errors
/// [`DkimError::InvalidDomain`] for anything but dot-separated LDH labels.
pub fn normalize_domain(domain: &str) -> Result<String, DkimError> {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    if d.len() > 253 || !d.split('.').all(is_label) {
        return Err(DkimError::InvalidDomain(domain.to_string()));
    }
    Ok(d)
}

/// The canonical form of a selector: lowercase dot-separated LDH labels.
///
/// # Errors
/// [`DkimError::InvalidSelector`] otherwise.
pub fn normalize_selector(selector: &str) -> Result<String, DkimError> {
    let s = selector.to_ascii_lowercase();
    if s.len() > 200 || !s.split('.').all(is_label) {
        return Err(DkimError::InvalidSelector(selector.to_string()));
    }
    Ok(s)
}

/// A DNS label of letters, digits and inner hyphens (RFC 1035 §2.3.1).
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for a in [Algorithm::RsaSha256, Algorithm::Ed25519Sha256] {
            assert_eq!(a.as_str().parse::<Algorithm>().ok(), Some(a));
            assert_eq!(a.key_type().parse::<Algorithm>().ok(), Some(a));
        }
        assert!("dsa".parse::<Algorithm>().is_err());
    }

    #[test]
    fn domains_and_selectors() {
        assert_eq!(
            normalize_domain("Example.ORG.").ok().as_deref(),
            Some("example.org")
        );
        assert!(normalize_domain("exa mple.org").is_err());
        assert!(normalize_domain("bücher.example").is_err());
        assert!(normalize_domain("-a.example").is_err());
        assert!(normalize_domain("").is_err());
        assert_eq!(
            normalize_selector("Postel-2025.a").ok().as_deref(),
            Some("postel-2025.a")
        );
        for bad in ["", "a..b", "sel_1", "-x", "x-", "a b", "s\"q"] {
            assert!(normalize_selector(bad).is_err(), "{bad}");
        }
    }
}
