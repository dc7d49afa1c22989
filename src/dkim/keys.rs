//! The `dkim_keys` table: creating, listing, rotating and deleting keys.
//! A domain may have several active keys (one RSA and one Ed25519 gives
//! dual signing); an inactive key stays stored, with its record, until it
//! is deleted.

use super::crypto::KeyPair;
use super::rows::{COLUMNS, free_selector, generate_blocking, insert, key_info, retire_others};
use super::{Algorithm, DkimError, DnsRecord, normalize_domain, normalize_selector};
use crate::directory::Directory;

/// One stored key, without its private half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The public key, base64, as published in `p=`.
    pub public_key: String,
    /// Whether [`super::Signer`] signs with it.
    pub active: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

impl KeyInfo {
    /// The TXT record that publishes this key.
    pub fn record(&self) -> DnsRecord {
        DnsRecord::new(
            &self.domain,
            &self.selector,
            self.algorithm,
            &self.public_key,
        )
    }
}

/// What [`Keys::generate`] creates.
#[derive(Debug, Clone, Default)]
pub struct KeySpec {
    /// The algorithm (RSA-2048 by default).
    pub algorithm: Algorithm,
    /// The selector; by default `postel-YYYYMMDD` (UTC), `-ed` appended for
    /// Ed25519, and `-2`, `-3`… when that is taken.
    pub selector: Option<String>,
    /// Store the key without signing with it yet (publish first, then
    /// `rotate --selector`).
    pub inactive: bool,
}

/// The outcome of [`Keys::rotate`].
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The key that now signs.
    pub key: KeyInfo,
    /// Selectors of the keys of the same algorithm that stopped signing.
    pub retired: Vec<String>,
}

/// DKIM key management over the directory's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Keys {
    directory: Directory,
}

impl Keys {
    /// Key management for the domains of `directory`.
    pub fn new(directory: Directory) -> Keys {
        Keys { directory }
    }

    /// Creates a key for a local domain and stores it.
    ///
    /// # Errors
    /// Invalid or non-local domain, invalid or taken selector, key
    /// generation or database failure.
    pub async fn generate(&self, domain: &str, spec: &KeySpec) -> Result<KeyInfo, DkimError> {
        let domain = self.local_domain(domain).await?;
        let selector = spec
            .selector
            .as_deref()
            .map(normalize_selector)
            .transpose()?;
        if let Some(s) = &selector {
            self.refuse_taken(&domain, s).await?;
        }
        let pair = generate_blocking(spec.algorithm).await?;
        let mut w = self.directory.db().begin_write().await?;
        let selector = match selector {
            Some(s) => s,
            None => free_selector(&mut w.tx, &domain, spec.algorithm).await?,
        };
        let key = insert(
            &mut w.tx,
            &domain,
            &selector,
            spec.algorithm,
            &pair,
            !spec.inactive,
        )
        .await?;
        w.commit().await?;
        Ok(key)
    }

    /// Makes one key of an algorithm the one that signs: the key named by
    /// `selector` if it exists (activating it), otherwise a new key (with
    /// that selector, or a default one). Every other key of the domain with
    /// the same algorithm becomes inactive; keys of the other algorithm are
    /// untouched. `algorithm` defaults to the existing key's, else RSA.
    ///
    /// # Errors
    /// As for [`Keys::generate`]; [`DkimError::AlgorithmMismatch`] when
    /// `selector` names a key of the other algorithm.
    pub async fn rotate(
        &self,
        domain: &str,
        algorithm: Option<Algorithm>,
        selector: Option<&str>,
    ) -> Result<Rotation, DkimError> {
        let domain = self.local_domain(domain).await?;
        let selector = selector.map(normalize_selector).transpose()?;
        let existing = match &selector {
            Some(s) => self.find(&domain, s).await?,
            None => None,
        };
        if let (Some(key), Some(requested)) = (&existing, algorithm)
            && key.algorithm != requested
        {
            return Err(DkimError::AlgorithmMismatch {
                selector: key.selector.clone(),
                actual: key.algorithm,
                requested,
            });
        }
        let algorithm = existing
            .as_ref()
            .map_or(algorithm.unwrap_or_default(), |k| k.algorithm);
        // Generate before taking the write lock: RSA takes a while.
        let plan = match existing {
            Some(key) => Plan::Activate(key),
            None => Plan::Create(generate_blocking(algorithm).await?, selector),
        };
        let db = self.directory.db();
        let mut w = db.begin_write().await?;
        let key = match plan {
            Plan::Activate(key) => {
                let r = sqlx::query(
                    "UPDATE dkim_keys SET active = 1 WHERE domain = $1 AND selector = $2",
                )
                .bind(&key.domain)
                .bind(&key.selector)
                .execute(&mut *w.tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(DkimError::NoSuchKey {
                        domain: key.domain,
                        selector: key.selector,
                    });
                }
                KeyInfo {
                    active: true,
                    ..key
                }
            }
            Plan::Create(pair, selector) => {
                let s = match selector {
                    Some(s) => s,
                    None => free_selector(&mut w.tx, &domain, algorithm).await?,
                };
                insert(&mut w.tx, &domain, &s, algorithm, &pair, true).await?
            }
        };
        let retired = retire_others(&mut w.tx, db.for_update(), &key).await?;
        w.commit().await?;
        Ok(Rotation { key, retired })
    }

    /// Keys of one domain, or of all, by domain then creation time.
    ///
    /// # Errors
    /// Invalid domain; database failure.
    pub async fn list(&self, domain: Option<&str>) -> Result<Vec<KeyInfo>, DkimError> {
        let pool = self.directory.db().pool();
        let order = "ORDER BY domain, created_at, selector";
        let rows = match domain {
            Some(d) => {
                let sql = format!("SELECT {COLUMNS} FROM dkim_keys WHERE domain = $1 {order}");
                sqlx::query(&sql)
                    .bind(normalize_domain(d)?)
                    .fetch_all(pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM dkim_keys {order}");
                sqlx::query(&sql).fetch_all(pool).await?
            }
        };
        rows.iter().map(key_info).collect()
    }

    /// The keys a domain signs with (RSA first).
    ///
    /// # Errors
    /// Invalid domain; database failure.
    pub async fn active(&self, domain: &str) -> Result<Vec<KeyInfo>, DkimError> {
        let mut keys = self.list(Some(domain)).await?;
        keys.retain(|k| k.active);
        keys.sort_by_key(|k| {
            (
                k.algorithm != Algorithm::RsaSha256,
                std::cmp::Reverse(k.created_at),
            )
        });
        Ok(keys)
    }

    /// One key.
    ///
    /// # Errors
    /// [`DkimError::NoSuchKey`]; invalid names; database failure.
    pub async fn get(&self, domain: &str, selector: &str) -> Result<KeyInfo, DkimError> {
        let domain = normalize_domain(domain)?;
        let selector = normalize_selector(selector)?;
        match self.find(&domain, &selector).await? {
            Some(key) => Ok(key),
            None => Err(DkimError::NoSuchKey { domain, selector }),
        }
    }

    /// Deletes a key (active or not); returns what it was.
    ///
    /// # Errors
    /// [`DkimError::NoSuchKey`]; invalid names; database failure.
    pub async fn delete(&self, domain: &str, selector: &str) -> Result<KeyInfo, DkimError> {
        let key = self.get(domain, selector).await?;
        let r = sqlx::query("DELETE FROM dkim_keys WHERE domain = $1 AND selector = $2")
            .bind(&key.domain)
            .bind(&key.selector)
            .execute(self.directory.db().pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(DkimError::NoSuchKey {
                domain: key.domain,
                selector: key.selector,
            });
        }
        Ok(key)
    }

    /// The `p=` value derived from the key's stored *private* half: what
    /// must be published for signatures to verify (`postel dns check`
    /// compares it with the DNS), independent of the stored public key.
    ///
    /// # Errors
    /// [`DkimError::NoSuchKey`], [`DkimError::BadKey`] when the private key
    /// cannot be parsed; database failure.
    pub async fn public_key_of_private(&self, key: &KeyInfo) -> Result<String, DkimError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT private_key FROM dkim_keys WHERE domain = $1 AND selector = $2")
                .bind(&key.domain)
                .bind(&key.selector)
                .fetch_optional(self.directory.db().pool())
                .await?;
        let Some((pem,)) = row else {
            return Err(DkimError::NoSuchKey {
                domain: key.domain.clone(),
                selector: key.selector.clone(),
            });
        };
        super::crypto::public_b64(key.algorithm, &pem).map_err(|reason| DkimError::BadKey {
            domain: key.domain.clone(),
            selector: key.selector.clone(),
            reason,
        })
    }

    async fn local_domain(&self, domain: &str) -> Result<String, DkimError> {
        let d = normalize_domain(domain)?;
        if !self.directory.is_local_domain(&d).await? {
            return Err(DkimError::NotLocal(d));
        }
        Ok(d)
    }

    async fn refuse_taken(&self, domain: &str, selector: &str) -> Result<(), DkimError> {
        if self.find(domain, selector).await?.is_some() {
            return Err(DkimError::SelectorExists {
                domain: domain.to_string(),
                selector: selector.to_string(),
            });
        }
        Ok(())
    }

    async fn find(&self, domain: &str, selector: &str) -> Result<Option<KeyInfo>, DkimError> {
        let sql = format!("SELECT {COLUMNS} FROM dkim_keys WHERE domain = $1 AND selector = $2");
        let row = sqlx::query(&sql)
            .bind(domain)
            .bind(selector)
            .fetch_optional(self.directory.db().pool())
            .await?;
        row.as_ref().map(key_info).transpose()
    }
}

/// What [`Keys::rotate`] does to get the key that signs next.
enum Plan {
    /// Sign with this stored key.
    Activate(KeyInfo),
    /// Store this new key, under this selector or a default one.
    Create(KeyPair, Option<String>),
}
