//! Aliases and recipient resolution.
//!
//! Resolution order for a local address (first match wins, aliases expand
//! recursively up to [`MAX_DEPTH`] levels, loops are cut):
//! 1. a user with exactly that address;
//! 2. aliases with exactly that source;
//! 3. the same two for the address without its sub-address (`alice+x@` → `alice@`);
//! 4. the domain's catch-all (`@domain`);
//! 5. `postmaster@` of any local domain: the configured `directory.postmaster`,
//!    or, when that is empty, the domain's oldest user.

use std::collections::BTreeSet;

use super::{Address, Directory, DirectoryError, address};
use crate::db::now_unix;

/// How deep alias chains are followed.
pub const MAX_DEPTH: usize = 10;

/// One alias row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// `local@domain` or `@domain` (catch-all).
    pub source: String,
    /// Where mail goes.
    pub target: String,
}

/// Where mail for an address ends up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Local accounts (canonical addresses), sorted, without duplicates.
    pub local: Vec<String>,
    /// Remote addresses to forward to, sorted, without duplicates.
    pub remote: Vec<String>,
}

impl Directory {
    /// Normalises an alias source: `@domain` or an address, in a local domain.
    async fn alias_source(&self, source: &str) -> Result<String, DirectoryError> {
        let (canon, domain) = match source.strip_prefix('@') {
            Some(d) => {
                let d = address::normalize_domain(d)?;
                (format!("@{d}"), d)
            }
            None => {
                let a = self.canonical(source)?;
                (a.to_string(), a.domain().to_string())
            }
        };
        if !self.is_local_domain(&domain).await? {
            return Err(DirectoryError::NoSuchDomain(domain));
        }
        Ok(canon)
    }

    /// Adds `source → target` for every target.
    ///
    /// # Errors
    /// Malformed source or target, non-local source domain, no targets.
    pub async fn add_alias(&self, source: &str, targets: &[String]) -> Result<(), DirectoryError> {
        let src = self.alias_source(source).await?;
        if targets.is_empty() {
            return Err(DirectoryError::InvalidAlias(
                "at least one target is needed".into(),
            ));
        }
        let mut canon = Vec::with_capacity(targets.len());
        for t in targets {
            let t = self.canonical(t)?.to_string();
            if t == src {
                return Err(DirectoryError::InvalidAlias(format!(
                    "{src} cannot point to itself"
                )));
            }
            canon.push(t);
        }
        let mut w = self.db.begin_write().await?;
        for t in canon {
            sqlx::query(
                "INSERT INTO aliases (source, target, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (source, target) DO NOTHING",
            )
            .bind(&src)
            .bind(t)
            .bind(now_unix())
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Removes the given targets of `source`, or all of them when `targets`
    /// is empty.
    ///
    /// # Errors
    /// Nothing matched; malformed input; database failure.
    pub async fn delete_alias(
        &self,
        source: &str,
        targets: &[String],
    ) -> Result<u64, DirectoryError> {
        let src = match source.strip_prefix('@') {
            Some(d) => format!("@{}", address::normalize_domain(d)?),
            None => self.canonical(source)?.to_string(),
        };
        let mut removed = 0;
        if targets.is_empty() {
            removed = sqlx::query("DELETE FROM aliases WHERE source = $1")
                .bind(&src)
                .execute(self.db.pool())
                .await?
                .rows_affected();
        } else {
            for t in targets {
                let t = self.canonical(t)?.to_string();
                removed += sqlx::query("DELETE FROM aliases WHERE source = $1 AND target = $2")
                    .bind(&src)
                    .bind(t)
                    .execute(self.db.pool())
                    .await?
                    .rows_affected();
            }
        }
        if removed == 0 {
            return Err(DirectoryError::NoSuchAlias(src));
        }
        Ok(removed)
    }

    /// All aliases, sorted by source then target.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_aliases(&self) -> Result<Vec<Alias>, DirectoryError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT source, target FROM aliases ORDER BY source, target")
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(source, target)| Alias { source, target })
            .collect())
    }

    async fn alias_targets(&self, source: &str) -> Result<Vec<String>, DirectoryError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT target FROM aliases WHERE source = $1 ORDER BY target")
                .bind(source)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Where mail to `rcpt` goes; `None` when nobody here receives it.
    /// An address in a non-local domain resolves to itself as remote.
    ///
    /// # Errors
    /// Malformed address; database failure.
    pub async fn resolve(&self, rcpt: &str) -> Result<Option<Resolution>, DirectoryError> {
        let addr = self.canonical(rcpt)?;
        let mut local = BTreeSet::new();
        let mut remote = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut queue = vec![(addr, 0usize)];
        let mut found_any = false;
        // Alias chains mostly stay in one domain: ask about each once.
        let mut local_domains: Vec<(String, bool)> = Vec::new();
        while let Some((a, depth)) = queue.pop() {
            if depth > MAX_DEPTH || !seen.insert(a.to_string()) {
                continue;
            }
            let is_local = match local_domains.iter().find(|(d, _)| d == a.domain()) {
                Some((_, known)) => *known,
                None => {
                    let known = self.is_local_domain(a.domain()).await?;
                    local_domains.push((a.domain().to_string(), known));
                    known
                }
            };
            if !is_local {
                remote.insert(a.to_string());
                found_any = true;
                continue;
            }
            match self.expand_local(&a).await? {
                Expansion::User(u) => {
                    local.insert(u);
                    found_any = true;
                }
                Expansion::Targets(ts) => {
                    for t in ts {
                        if let Ok(t) = self.canonical(&t) {
                            queue.push((t, depth + 1));
                        }
                    }
                }
                Expansion::Nothing => {}
            }
        }
        Ok(found_any.then(|| Resolution {
            local: local.into_iter().collect(),
            remote: remote.into_iter().collect(),
        }))
    }

    async fn expand_local(&self, a: &Address) -> Result<Expansion, DirectoryError> {
        let mut candidates = vec![a.to_string()];
        candidates.extend(
            a.without_subaddress(&self.config.plus_separator)
                .map(|c| c.to_string()),
        );
        let catch_all = format!("@{}", a.domain());
        // One round trip for every rule below: the user rows and alias
        // rows of the address, of its base address and the catch-all;
        // the order of the rules is applied here.
        let base = candidates.get(1).unwrap_or(&candidates[0]);
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT 'u', address, address FROM users WHERE address = $1 OR address = $2 \
             UNION ALL \
             SELECT 'a', source, target FROM aliases \
             WHERE source = $1 OR source = $2 OR source = $3",
        )
        .bind(&candidates[0])
        .bind(base)
        .bind(&catch_all)
        .fetch_all(self.db.pool())
        .await?;
        let targets = |source: &str| {
            let mut ts: Vec<String> = rows
                .iter()
                .filter(|(kind, s, _)| kind == "a" && s == source)
                .map(|(_, _, t)| t.clone())
                .collect();
            ts.sort();
            ts
        };
        for c in &candidates {
            if rows.iter().any(|(kind, s, _)| kind == "u" && s == c) {
                return Ok(Expansion::User(c.clone()));
            }
            let ts = targets(c);
            if !ts.is_empty() {
                return Ok(Expansion::Targets(ts));
            }
        }
        let ts = targets(&catch_all);
        if !ts.is_empty() {
            return Ok(Expansion::Targets(ts));
        }
        if a.local().eq_ignore_ascii_case("postmaster") {
            return self.postmaster_of(a.domain()).await;
        }
        Ok(Expansion::Nothing)
    }

    /// Whether `user` may send as `address`: it is the user's own address
    /// or a sub-address of it, or an alias (not a catch-all) whose
    /// expansion delivers to the user.
    ///
    /// # Errors
    /// Database failure; a malformed address is simply not owned.
    pub async fn owns(&self, user: &str, address: &str) -> Result<bool, DirectoryError> {
        let (Ok(user), Ok(addr)) = (self.canonical(user), self.canonical(address)) else {
            return Ok(false);
        };
        let user = user.to_string();
        let mut candidates = vec![addr.clone()];
        candidates.extend(addr.without_subaddress(&self.config.plus_separator));
        for c in candidates {
            let c = c.to_string();
            if c == user {
                return Ok(true);
            }
            if !self.alias_targets(&c).await?.is_empty() {
                let r = self.resolve(&c).await?;
                if r.is_some_and(|r| r.local.contains(&user)) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    async fn postmaster_of(&self, domain: &str) -> Result<Expansion, DirectoryError> {
        if !self.config.postmaster.is_empty() {
            return Ok(Expansion::Targets(vec![self.config.postmaster.clone()]));
        }
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT address FROM users WHERE domain = $1 ORDER BY created_at, address LIMIT 1",
        )
        .bind(domain)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map_or(Expansion::Nothing, |(u,)| Expansion::User(u)))
    }
}

enum Expansion {
    User(String),
    Targets(Vec<String>),
    Nothing,
}
