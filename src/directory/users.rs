//! Users: one row per mailbox owner.

use super::password::{self, Secret};
use super::sender::SenderOverride;
use super::{Directory, DirectoryError};
use crate::db::now_unix;

/// A user as the rest of Postel sees it (never with its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Canonical address, also the account name in the store.
    pub address: String,
    /// Storage quota in octets; 0 = unlimited.
    pub quota_bytes: u64,
    /// Whether the user may log in and receive mail.
    pub enabled: bool,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// This user's own sender rules; `None` where the domain's (or the
    /// configuration's) apply.
    pub sender: SenderOverride,
}

type UserRow = (String, i64, i64, i64, Option<String>, Option<i64>);

fn user_from(row: UserRow) -> User {
    User {
        address: row.0,
        quota_bytes: u64::try_from(row.1).unwrap_or(0),
        enabled: row.2 != 0,
        created_at: row.3,
        sender: SenderOverride::from_columns(row.4, row.5),
    }
}

const USER_COLUMNS: &str =
    "address, quota_bytes, enabled, created_at, sender_policy, check_header_from";

fn quota_i64(quota: u64) -> i64 {
    i64::try_from(quota).unwrap_or(i64::MAX)
}

impl Directory {
    /// Creates a user in an existing local domain.
    ///
    /// # Errors
    /// Malformed address, unknown domain, existing address, empty password.
    pub async fn add_user(
        &self,
        address: &str,
        password: &Secret,
        quota_bytes: u64,
    ) -> Result<User, DirectoryError> {
        let addr = self.canonical(address)?;
        if password.expose().is_empty() {
            return Err(DirectoryError::EmptyPassword);
        }
        if !self.is_local_domain(addr.domain()).await? {
            return Err(DirectoryError::NoSuchDomain(addr.domain().to_string()));
        }
        let hash = password::hash(password).await?;
        let now = now_unix();
        let r = sqlx::query(
            "INSERT INTO users (address, domain, password_hash, quota_bytes, enabled, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (address) DO NOTHING",
        )
        .bind(addr.to_string())
        .bind(addr.domain())
        .bind(hash)
        .bind(quota_i64(quota_bytes))
        .bind(now)
        .execute(self.db.pool())
        .await?;
        if r.rows_affected() == 0 {
            return Err(DirectoryError::UserExists(addr.to_string()));
        }
        Ok(User {
            address: addr.to_string(),
            quota_bytes,
            enabled: true,
            created_at: now,
            sender: SenderOverride::default(),
        })
    }

    /// Deletes a user (its Maildir is the store's business).
    ///
    /// # Errors
    /// Unknown user; database failure.
    pub async fn delete_user(&self, address: &str) -> Result<String, DirectoryError> {
        let addr = self.canonical(address)?.to_string();
        let r = sqlx::query("DELETE FROM users WHERE address = $1")
            .bind(&addr)
            .execute(self.db.pool())
            .await?;
        self.verified.forget(&addr);
        if r.rows_affected() == 0 {
            return Err(DirectoryError::NoSuchUser(addr));
        }
        Ok(addr)
    }

    /// Users, optionally of one domain, sorted by address.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_users(&self, domain: Option<&str>) -> Result<Vec<User>, DirectoryError> {
        let rows: Vec<UserRow> = match domain {
            Some(d) => {
                let d = super::address::normalize_domain(d)?;
                sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE domain = $1 ORDER BY address"
                ))
                .bind(d)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY address"
                ))
                .fetch_all(self.db.pool())
                .await?
            }
        };
        Ok(rows.into_iter().map(user_from).collect())
    }

    /// The user with exactly this (canonicalised) address.
    ///
    /// # Errors
    /// Database failure; a malformed address is simply not found.
    pub async fn get_user(&self, address: &str) -> Result<Option<User>, DirectoryError> {
        let Ok(addr) = self.canonical(address) else {
            return Ok(None);
        };
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE address = $1"
        ))
        .bind(addr.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(user_from))
    }

    /// Replaces a user's password.
    ///
    /// # Errors
    /// Unknown user, empty password, database failure.
    pub async fn set_password(
        &self,
        address: &str,
        password: &Secret,
    ) -> Result<(), DirectoryError> {
        if password.expose().is_empty() {
            return Err(DirectoryError::EmptyPassword);
        }
        let addr = self.canonical(address)?.to_string();
        let hash = password::hash(password).await?;
        let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE address = $2")
            .bind(hash)
            .bind(&addr)
            .execute(self.db.pool())
            .await?;
        self.verified.forget(&addr);
        if r.rows_affected() == 0 {
            return Err(DirectoryError::NoSuchUser(addr));
        }
        Ok(())
    }

    /// Sets a user's quota (0 = unlimited).
    ///
    /// # Errors
    /// Unknown user; database failure.
    pub async fn set_quota(&self, address: &str, quota_bytes: u64) -> Result<(), DirectoryError> {
        let addr = self.canonical(address)?.to_string();
        let r = sqlx::query("UPDATE users SET quota_bytes = $1 WHERE address = $2")
            .bind(quota_i64(quota_bytes))
            .bind(&addr)
            .execute(self.db.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(DirectoryError::NoSuchUser(addr));
        }
        Ok(())
    }

    /// Enables or disables a user.
    ///
    /// # Errors
    /// Unknown user; database failure.
    pub async fn set_enabled(&self, address: &str, enabled: bool) -> Result<(), DirectoryError> {
        let addr = self.canonical(address)?.to_string();
        let r = sqlx::query("UPDATE users SET enabled = $1 WHERE address = $2")
            .bind(i64::from(enabled))
            .bind(&addr)
            .execute(self.db.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(DirectoryError::NoSuchUser(addr));
        }
        Ok(())
    }

    /// Checks a login. `Some(user)` only for an existing, enabled user with
    /// the right password; the time taken does not reveal which of these
    /// failed. The user's row is read every time; argon2 is skipped when
    /// the same password was verified against the same stored hash within
    /// the last [`super::cache::TTL`] (and the user is enabled).
    ///
    /// # Errors
    /// Database failure.
    pub async fn verify_password(
        &self,
        address: &str,
        password: &Secret,
    ) -> Result<Option<User>, DirectoryError> {
        type Row = (String, String, i64, i64, i64, Option<String>, Option<i64>);
        let row: Option<Row> = match self.canonical(address) {
            Ok(addr) => {
                sqlx::query_as(
                    "SELECT address, password_hash, quota_bytes, enabled, created_at, \
                     sender_policy, check_header_from FROM users WHERE address = $1",
                )
                .bind(addr.to_string())
                .fetch_optional(self.db.pool())
                .await?
            }
            Err(_) => None,
        };
        let (stored, user) = match row {
            Some((a, h, q, e, c, p, f)) => (Some(h), Some(user_from((a, q, e, c, p, f)))),
            None => (None, None),
        };
        if let (Some(phc), Some(u)) = (&stored, &user)
            && u.enabled
            && self.verified.hit(&u.address, phc, password.expose())
        {
            return Ok(user);
        }
        let phc = stored.clone();
        let ok = password::verify(stored, password).await;
        let user = user.filter(|u| ok && u.enabled);
        if let (Some(u), Some(phc)) = (&user, phc) {
            self.verified.insert(&u.address, &phc, password.expose());
        }
        Ok(user)
    }
}
