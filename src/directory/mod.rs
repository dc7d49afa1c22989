//! The directory: who has an account here.
//!
//! Owns: domains, users (argon2id hashes, quotas, enabled flag) and aliases
//! (including `@domain` catch-alls), all in SQL through
//! [`crate::db`]; address canonicalisation; recipient resolution
//! (user → alias → sub-address → catch-all → postmaster); sender
//! ownership and the per-domain/per-user sender rules of submission.
//!
//! Must not: touch Maildirs (that is `store`) or speak any protocol.
//! Password checks run argon2 on the blocking pool and take the same time
//! whether or not the user exists ([`password::verify`]); a password
//! verified within the last minute is not verified again
//! ([`cache::CredentialCache`]).

pub mod address;
mod aliases;
pub mod cache;
pub mod password;
mod sender;
mod users;

pub use address::{Address, AddressError};
pub use aliases::{Alias, Resolution};
pub use cache::CredentialCache;
pub use password::Secret;
pub use sender::{SenderOverride, SenderRules, Setting};
pub use users::User;

use std::sync::Arc;

use crate::config::DirectoryConfig;
use crate::db::{Db, DbError, now_unix};

/// Errors of the directory layer.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Malformed address or domain.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The domain is not one of ours.
    #[error("domain {0} is not a local domain (add it with `postel domain add {0}`)")]
    NoSuchDomain(String),
    /// The domain already exists.
    #[error("domain {0} already exists")]
    DomainExists(String),
    /// The domain still has users.
    #[error("domain {domain} still has {users} user(s); delete them first")]
    DomainInUse {
        /// The domain.
        domain: String,
        /// How many users it has.
        users: i64,
    },
    /// No such user.
    #[error("no such user {0}")]
    NoSuchUser(String),
    /// The address is taken.
    #[error("address {0} already exists")]
    UserExists(String),
    /// No such alias.
    #[error("no such alias {0}")]
    NoSuchAlias(String),
    /// Bad alias definition.
    #[error("invalid alias: {0}")]
    InvalidAlias(String),
    /// Empty password.
    #[error("the password must not be empty")]
    EmptyPassword,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DirectoryError {
    fn from(e: sqlx::Error) -> Self {
        DirectoryError::Db(DbError::Sql(e))
    }
}

/// Handle to the account directory; cheap to clone.
#[derive(Clone, Debug)]
pub struct Directory {
    db: Db,
    config: DirectoryConfig,
    verified: Arc<CredentialCache>,
}

impl Directory {
    /// A directory over `db`, comparing addresses as `config` says.
    pub fn new(db: Db, config: DirectoryConfig) -> Directory {
        Directory {
            db,
            config,
            verified: Arc::new(CredentialCache::new()),
        }
    }

    /// The database underneath.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Parses and canonicalises an address per the configured rules.
    ///
    /// # Errors
    /// [`DirectoryError::Address`] when malformed.
    pub fn canonical(&self, address: &str) -> Result<Address, DirectoryError> {
        Ok(Address::parse(address)?.canonical(self.config.case_sensitive_local_part))
    }

    /// Adds a local domain.
    ///
    /// # Errors
    /// Malformed or existing domain; database failure.
    pub async fn add_domain(&self, domain: &str) -> Result<String, DirectoryError> {
        let d = address::normalize_domain(domain)?;
        let r = sqlx::query(
            "INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&d)
        .bind(now_unix())
        .execute(self.db.pool())
        .await?;
        if r.rows_affected() == 0 {
            return Err(DirectoryError::DomainExists(d));
        }
        Ok(d)
    }

    /// Deletes a local domain with no users left; its aliases go with it.
    ///
    /// # Errors
    /// Unknown domain, users remaining, database failure.
    pub async fn delete_domain(&self, domain: &str) -> Result<(), DirectoryError> {
        let d = address::normalize_domain(domain)?;
        let mut w = self.db.begin_write().await?;
        let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE domain = $1")
            .bind(&d)
            .fetch_one(&mut *w.tx)
            .await?;
        if users > 0 {
            return Err(DirectoryError::DomainInUse { domain: d, users });
        }
        let sources: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT source FROM aliases")
            .fetch_all(&mut *w.tx)
            .await?;
        let at_domain = format!("@{d}");
        for (source,) in sources.iter().filter(|(s,)| s.ends_with(&at_domain)) {
            sqlx::query("DELETE FROM aliases WHERE source = $1")
                .bind(source)
                .execute(&mut *w.tx)
                .await?;
        }
        let r = sqlx::query("DELETE FROM domains WHERE name = $1")
            .bind(&d)
            .execute(&mut *w.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(DirectoryError::NoSuchDomain(d));
        }
        w.commit().await?;
        Ok(())
    }

    /// All local domains, sorted.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_domains(&self) -> Result<Vec<String>, DirectoryError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM domains ORDER BY name")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Whether `domain` is one of ours.
    ///
    /// # Errors
    /// Database failure (a malformed domain is simply not local).
    pub async fn is_local_domain(&self, domain: &str) -> Result<bool, DirectoryError> {
        let Ok(d) = address::normalize_domain(domain) else {
            return Ok(false);
        };
        let row: Option<(String,)> = sqlx::query_as("SELECT name FROM domains WHERE name = $1")
            .bind(&d)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.is_some())
    }
}
