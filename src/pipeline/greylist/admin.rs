//! Greylisting administration, for `postel greylist …` and the daemon's
//! periodic expiry: list triplets, allow a network or domain for good,
//! expire old state, or forget everything.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use super::{millis, now_ms, store};
use crate::db::{Db, now_unix};
use crate::pipeline::error::PipelineError;

/// One triplet, as `postel greylist list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripletRow {
    /// Client network or `spf:<domain>`.
    pub client: String,
    /// Normalised sender (`<>` for the null sender).
    pub sender: String,
    /// Recipient.
    pub recipient: String,
    /// First attempt, unix milliseconds.
    pub first_seen: i64,
    /// Latest attempt, unix milliseconds.
    pub last_seen: i64,
    /// Messages let through (0: still waiting).
    pub passes: i64,
}

/// Every triplet, most recently seen first.
///
/// # Errors
/// The database failed.
pub async fn list(db: &Db) -> Result<Vec<TripletRow>, PipelineError> {
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT client, sender, recipient, first_seen, last_seen, passes \
         FROM greylist_triplets ORDER BY last_seen DESC, client, sender, recipient",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(client, sender, recipient, first_seen, last_seen, passes)| TripletRow {
                client,
                sender,
                recipient,
                first_seen,
                last_seen,
                passes,
            },
        )
        .collect())
}

/// A permanent exemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// A client network (a single address is a /32 or /128).
    Network(IpNet),
    /// A sender domain and its subdomains, when SPF passes for them.
    Domain(String),
}

impl FromStr for AllowEntry {
    type Err = PipelineError;

    /// `192.0.2.0/24`, `192.0.2.7`, `2001:db8::/48` or `example.com`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = IpNet::from_str(s) {
            return Ok(AllowEntry::Network(net.trunc()));
        }
        if let Ok(ip) = IpAddr::from_str(s) {
            return Ok(AllowEntry::Network(IpNet::from(ip.to_canonical())));
        }
        let domain = s.trim_end_matches('.').to_ascii_lowercase();
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if domain.len() <= 253 && domain.contains('.') && domain.split('.').all(valid_label) {
            Ok(AllowEntry::Domain(domain))
        } else {
            Err(PipelineError::InvalidAllowEntry(s.to_string()))
        }
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Network(n) => write!(f, "{n}"),
            AllowEntry::Domain(d) => f.write_str(d),
        }
    }
}

impl AllowEntry {
    fn kind(&self) -> &'static str {
        match self {
            AllowEntry::Network(_) => "network",
            AllowEntry::Domain(_) => "domain",
        }
    }
}

/// Adds a permanent exemption; false if it was already there.
///
/// # Errors
/// The database failed.
pub async fn allow(db: &Db, entry: &AllowEntry) -> Result<bool, PipelineError> {
    let r = sqlx::query(
        "INSERT INTO greylist_allow (kind, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, value) DO NOTHING",
    )
    .bind(entry.kind())
    .bind(entry.to_string())
    .bind(now_unix())
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Removes a permanent exemption; false if it was not there.
///
/// # Errors
/// The database failed.
pub async fn disallow(db: &Db, entry: &AllowEntry) -> Result<bool, PipelineError> {
    let r = sqlx::query("DELETE FROM greylist_allow WHERE kind = $1 AND value = $2")
        .bind(entry.kind())
        .bind(entry.to_string())
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The permanent exemptions, networks first.
///
/// # Errors
/// The database failed.
pub async fn allowed(db: &Db) -> Result<Vec<AllowEntry>, PipelineError> {
    Ok(store::allow_rows(db)
        .await?
        .into_iter()
        .filter_map(|(_, value)| AllowEntry::from_str(&value).ok())
        .collect())
}

/// How many rows an expiry or purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Triplets.
    pub triplets: u64,
    /// Client networks (auto-allow counters).
    pub clients: u64,
    /// DKIM domains.
    pub domains: u64,
}

/// Forgets state unseen for `max_age`; the daemon calls this
/// periodically (hourly is plenty).
///
/// # Errors
/// The database failed.
pub async fn expire(db: &Db, max_age: Duration) -> Result<PurgeCounts, PipelineError> {
    expire_at(db, max_age, now_ms()).await
}

/// [`expire`] as of `now` (unix milliseconds).
///
/// # Errors
/// The database failed.
pub async fn expire_at(db: &Db, max_age: Duration, now: i64) -> Result<PurgeCounts, PipelineError> {
    let cutoff = now.saturating_sub(millis(max_age));
    delete_where(db, " WHERE last_seen < $1", Some(cutoff)).await
}

/// Forgets every triplet and counter (the allow list stays).
///
/// # Errors
/// The database failed.
pub async fn purge_all(db: &Db) -> Result<PurgeCounts, PipelineError> {
    delete_where(db, "", None).await
}

async fn delete_where(
    db: &Db,
    condition: &str,
    cutoff: Option<i64>,
) -> Result<PurgeCounts, PipelineError> {
    let mut w = db.begin_write().await?;
    let mut counts = [0u64; 3];
    for (i, table) in ["greylist_triplets", "greylist_clients", "greylist_domains"]
        .iter()
        .enumerate()
    {
        let sql = format!("DELETE FROM {table}{condition}");
        let mut q = sqlx::query(&sql);
        if let Some(c) = cutoff {
            q = q.bind(c);
        }
        counts[i] = q.execute(&mut *w.tx).await?.rows_affected();
    }
    w.commit().await?;
    Ok(PurgeCounts {
        triplets: counts[0],
        clients: counts[1],
        domains: counts[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_entries() {
        let p = |s: &str| AllowEntry::from_str(s).map(|e| e.to_string()).ok();
        assert_eq!(p("192.0.2.7"), Some("192.0.2.7/32".into()));
        assert_eq!(p("192.0.2.7/24"), Some("192.0.2.0/24".into()));
        assert_eq!(p("2001:db8::/48"), Some("2001:db8::/48".into()));
        assert_eq!(p("Example.COM."), Some("example.com".into()));
        assert_eq!(p("not a domain"), None);
        assert_eq!(p("localhost"), None);
    }
}
