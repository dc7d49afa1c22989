//! Signing outbound messages with every active key of a domain.
//!
//! Keys change from another process (`postel dkim …`) or another node, so
//! every call asks the database which keys are active — one small indexed
//! query returning selectors and public keys. Parsing a private key is the
//! expensive part; parsed keys are cached by (domain, selector) and reused
//! while the stored public key is unchanged. A key that was deleted,
//! deactivated or replaced under the same selector is dropped from the
//! cache on the next call for its domain.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mail_auth::common::crypto::{DkimKey, Sha256, SigningKey};
use mail_auth::common::headers::{HeaderWriter, Writable};
use mail_auth::dkim::{Canonicalization, DkimSigner};

use super::{Algorithm, DkimError, crypto, headers, normalize_domain};
use crate::db::Db;

/// Signs messages; cheap to clone (clones share the key cache).
#[derive(Clone)]
pub struct Signer {
    db: Db,
    cache: Arc<Mutex<KeyCache>>,
}

/// Parsed keys by (domain, selector).
type KeyCache = HashMap<(String, String), Arc<CachedKey>>;

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// A parsed private key and the public key it was loaded for.
struct CachedKey {
    public_key: String,
    key: Arc<DkimKey>,
}

/// An active key, as listed for one signing call.
struct ActiveKey {
    selector: String,
    algorithm: Algorithm,
    key: Arc<DkimKey>,
}

/// A shared parsed key, so that one parse serves every message.
struct SharedKey(Arc<DkimKey>);

impl SigningKey for SharedKey {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        self.0.algorithm()
    }
}

impl Signer {
    /// A signer over the keys stored in `db`.
    pub fn new(db: Db) -> Signer {
        Signer {
            db,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The `DKIM-Signature` header fields for `message` (header and body,
    /// CRLF line ends, as it will be sent), one per active key of `domain`
    /// (RSA first, then Ed25519), each CRLF-terminated and folded: prepend
    /// the string to the message unchanged. Empty when the domain has no
    /// active key.
    ///
    /// Signatures use relaxed/relaxed canonicalization, carry `t=` but no
    /// `l=` or `x=`, and cover the fields of
    /// [`super::signed_header_names`], From oversigned.
    ///
    /// # Errors
    /// [`DkimError::InvalidDomain`], [`DkimError::NoFrom`], a stored key
    /// that cannot be parsed ([`DkimError::BadKey`]), a signing failure or
    /// a database failure. Callers decide whether to send unsigned.
    pub async fn sign(&self, domain: &str, message: &[u8]) -> Result<String, DkimError> {
        let domain = normalize_domain(domain)?;
        let keys = self.active_keys(&domain).await?;
        if keys.is_empty() {
            return Ok(String::new());
        }
        let names = headers::signed_header_names(message).ok_or(DkimError::NoFrom)?;
        let mut out = String::new();
        for k in keys {
            let signature = DkimSigner::from_key(SharedKey(k.key))
                .domain(domain.as_str())
                .selector(k.selector.as_str())
                .headers(names.iter().copied())
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed)
                .sign(message)
                .map_err(|e| DkimError::Sign(format!("{} key {}: {e}", k.algorithm, k.selector)))?;
            out.push_str(&without_fold_before_final_semicolon(&signature.to_header()));
        }
        Ok(out)
    }

    /// Forgets every parsed key (they are re-read on the next call).
    pub fn clear_cache(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, KeyCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The domain's active keys, RSA first, parsed (from cache if fresh).
    async fn active_keys(&self, domain: &str) -> Result<Vec<ActiveKey>, DkimError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT selector, algorithm, public_key FROM dkim_keys \
             WHERE domain = $1 AND active <> 0 ORDER BY created_at DESC, selector",
        )
        .bind(domain)
        .fetch_all(self.db.pool())
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for (selector, algorithm, public_key) in rows {
            let bad = |reason: String| DkimError::BadKey {
                domain: domain.to_string(),
                selector: selector.clone(),
                reason,
            };
            let algorithm: Algorithm = algorithm
                .parse()
                .map_err(|_| bad(format!("unknown algorithm {algorithm:?}")))?;
            let cache_key = (domain.to_string(), selector.clone());
            let cached = self.lock().get(&cache_key).cloned();
            let key = match cached {
                Some(c) if c.public_key == public_key => c.key.clone(),
                _ => {
                    // Deleted since the first query: nothing to sign with.
                    let Some((public_key, key)) = self.load(domain, &selector, algorithm).await?
                    else {
                        continue;
                    };
                    let key = Arc::new(key);
                    let entry = CachedKey {
                        public_key,
                        key: key.clone(),
                    };
                    self.lock().insert(cache_key, Arc::new(entry));
                    key
                }
            };
            keys.push(ActiveKey {
                selector,
                algorithm,
                key,
            });
        }
        self.lock()
            .retain(|(d, s), _| d != domain || keys.iter().any(|k| &k.selector == s));
        keys.sort_by_key(|k| k.algorithm != Algorithm::RsaSha256);
        Ok(keys)
    }

    /// The stored key pair: the public key read in the same row as the
    /// private one, so that the cache never pairs a new private key with
    /// an old public key. `None` when the key is gone.
    async fn load(
        &self,
        domain: &str,
        selector: &str,
        algorithm: Algorithm,
    ) -> Result<Option<(String, DkimKey)>, DkimError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT public_key, private_key FROM dkim_keys WHERE domain = $1 AND selector = $2",
        )
        .bind(domain)
        .bind(selector)
        .fetch_optional(self.db.pool())
        .await?;
        let Some((public_key, pem)) = row else {
            return Ok(None);
        };
        let key = crypto::load(algorithm, &pem).map_err(|reason| DkimError::BadKey {
            domain: domain.to_string(),
            selector: selector.to_string(),
            reason,
        })?;
        Ok(Some((public_key, key)))
    }
}

/// mail-auth may fold the header just before the final `;`, leaving
/// whitespace between the `b=` value and the semicolon. RFC 6376 §3.5
/// lets verifiers delete that whitespace with the value, but some (dkimpy)
/// keep it and then fail the signature; writing the `;` right after the
/// value is equivalent and verifies everywhere.
fn without_fold_before_final_semicolon(header: &str) -> String {
    let body = header.strip_suffix("\r\n").unwrap_or(header);
    let Some(head) = body.strip_suffix(';') else {
        return header.to_string();
    };
    let trimmed = head.trim_end_matches([' ', '\t', '\r', '\n']);
    format!("{trimmed};\r\n")
}

#[cfg(test)]
mod fold_tests {
    use super::without_fold_before_final_semicolon as tidy;

    #[test]
    fn removes_only_the_fold_before_the_final_semicolon() {
        assert_eq!(
            tidy("DKIM-Signature: a=1;\r\n\tb=AA==\r\n\t;\r\n"),
            "DKIM-Signature: a=1;\r\n\tb=AA==;\r\n"
        );
        assert_eq!(
            tidy("DKIM-Signature: a=1; b=AA==;\r\n"),
            "DKIM-Signature: a=1; b=AA==;\r\n"
        );
        assert_eq!(
            tidy("DKIM-Signature: a=1; b=AA==\r\n"),
            "DKIM-Signature: a=1; b=AA==\r\n"
        );
    }
}
