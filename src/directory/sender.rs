//! Sender rules of submission: which addresses a logged-in user may use
//! as MAIL FROM and in `From:`. `[submission]` sets the defaults; a
//! domain, and a user, may override either setting (nullable columns of
//! `domains` and `users`, migration 0008). The user's value wins over the
//! domain's, the domain's over the configuration's.

use super::{Directory, DirectoryError, address};
use crate::config::{SenderPolicy, SubmissionConfig};

/// Overrides stored for one user or one domain; `None` = inherit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderOverride {
    /// Overrides `submission.sender_policy`.
    pub policy: Option<SenderPolicy>,
    /// Overrides `submission.check_header_from`.
    pub check_header_from: Option<bool>,
}

impl SenderOverride {
    /// From the two database columns. An unknown policy name (written by
    /// hand) is ignored with a warning rather than trusted.
    pub(super) fn from_columns(policy: Option<String>, check: Option<i64>) -> SenderOverride {
        let policy = policy.and_then(|p| match SenderPolicy::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unknown sender_policy in the database");
                None
            }
        });
        SenderOverride {
            policy,
            check_header_from: check.map(|c| c != 0),
        }
    }

    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.policy.is_none() && self.check_header_from.is_none()
    }

    /// `self` where set, else `fallback`.
    fn or(self, fallback: SenderOverride) -> SenderOverride {
        SenderOverride {
            policy: self.policy.or(fallback.policy),
            check_header_from: self.check_header_from.or(fallback.check_header_from),
        }
    }
}

/// A change to one setting of a [`SenderOverride`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting<T> {
    /// Leave as it is.
    Keep,
    /// Set this value.
    Set(T),
    /// Remove the override (inherit again).
    Inherit,
}

impl<T: Copy> Setting<T> {
    fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Setting::Keep => current,
            Setting::Set(v) => Some(v),
            Setting::Inherit => None,
        }
    }
}

/// The rules in force for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderRules {
    /// Which envelope senders the user may use.
    pub policy: SenderPolicy,
    /// Whether the `From:` header is checked against the same policy.
    pub check_header_from: bool,
}

/// Which row an override belongs to.
#[derive(Debug, Clone, Copy)]
enum Owner {
    User,
    Domain,
}

impl Owner {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Owner::User => ("users", "address"),
            Owner::Domain => ("domains", "name"),
        }
    }
}

impl Directory {
    /// The sender rules for `user`: its own overrides, then its domain's,
    /// then `defaults`. An unknown user gets `defaults`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn sender_rules(
        &self,
        user: &str,
        defaults: &SubmissionConfig,
    ) -> Result<SenderRules, DirectoryError> {
        type Row = (Option<String>, Option<i64>, Option<String>, Option<i64>);
        let row: Option<Row> = match self.canonical(user) {
            Ok(addr) => {
                sqlx::query_as(
                    "SELECT u.sender_policy, u.check_header_from, d.sender_policy, \
                     d.check_header_from FROM users u JOIN domains d ON d.name = u.domain \
                     WHERE u.address = $1",
                )
                .bind(addr.to_string())
                .fetch_optional(self.db.pool())
                .await?
            }
            Err(_) => None,
        };
        let found = row.map_or_else(SenderOverride::default, |(up, uc, dp, dc)| {
            SenderOverride::from_columns(up, uc).or(SenderOverride::from_columns(dp, dc))
        });
        Ok(SenderRules {
            policy: found.policy.unwrap_or(defaults.sender_policy),
            check_header_from: found
                .check_header_from
                .unwrap_or(defaults.check_header_from),
        })
    }

    /// The overrides stored for a local domain.
    ///
    /// # Errors
    /// Malformed or unknown domain; database failure.
    pub async fn domain_sender(&self, domain: &str) -> Result<SenderOverride, DirectoryError> {
        let d = address::normalize_domain(domain)?;
        self.read_override(Owner::Domain, &d)
            .await?
            .ok_or(DirectoryError::NoSuchDomain(d))
    }

    /// Changes the overrides of a local domain; returns the new ones.
    ///
    /// # Errors
    /// Malformed or unknown domain; database failure.
    pub async fn set_domain_sender(
        &self,
        domain: &str,
        policy: Setting<SenderPolicy>,
        check_header_from: Setting<bool>,
    ) -> Result<SenderOverride, DirectoryError> {
        let d = address::normalize_domain(domain)?;
        self.write_override(Owner::Domain, &d, policy, check_header_from)
            .await?
            .ok_or(DirectoryError::NoSuchDomain(d))
    }

    /// Changes the overrides of a user; returns the new ones.
    ///
    /// # Errors
    /// Malformed or unknown user; database failure.
    pub async fn set_user_sender(
        &self,
        address: &str,
        policy: Setting<SenderPolicy>,
        check_header_from: Setting<bool>,
    ) -> Result<SenderOverride, DirectoryError> {
        let a = self.canonical(address)?.to_string();
        self.write_override(Owner::User, &a, policy, check_header_from)
            .await?
            .ok_or(DirectoryError::NoSuchUser(a))
    }

    async fn read_override(
        &self,
        owner: Owner,
        key: &str,
    ) -> Result<Option<SenderOverride>, DirectoryError> {
        let (table, column) = owner.table();
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT sender_policy, check_header_from FROM {table} WHERE {column} = $1"
        ))
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|(p, c)| SenderOverride::from_columns(p, c)))
    }

    /// Read, change and write in one write transaction, so two CLI runs
    /// changing different settings do not undo each other.
    async fn write_override(
        &self,
        owner: Owner,
        key: &str,
        policy: Setting<SenderPolicy>,
        check_header_from: Setting<bool>,
    ) -> Result<Option<SenderOverride>, DirectoryError> {
        let (table, column) = owner.table();
        let mut w = self.db.begin_write().await?;
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT sender_policy, check_header_from FROM {table} WHERE {column} = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some((p, c)) = row else {
            return Ok(None);
        };
        let current = SenderOverride::from_columns(p, c);
        let new = SenderOverride {
            policy: policy.apply(current.policy),
            check_header_from: check_header_from.apply(current.check_header_from),
        };
        sqlx::query(&format!(
            "UPDATE {table} SET sender_policy = $1, check_header_from = $2 WHERE {column} = $3"
        ))
        .bind(new.policy.map(|p| p.as_str().to_string()))
        .bind(new.check_header_from.map(i64::from))
        .bind(key)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(Some(new))
    }
}
