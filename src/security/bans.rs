//! The SQL of abuse protection: failed logins per client address
//! (`auth_failures`) and bans (`bans`), both in the database so that
//! every process and every node sees the same state. Times are unix
//! milliseconds.
//!
//! Must not: cache. [`super::Security`] keeps the in-process copy of the
//! active bans and refreshes it from here.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::db::{Db, DbError};

/// One ban as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// The address (`192.0.2.7`) or network (`192.0.2.0/24`).
    pub address: String,
    /// Why: `10 failed logins within 15m`, or what the administrator said.
    pub reason: String,
    /// When the ban began, unix milliseconds.
    pub since: i64,
    /// When it ends, unix milliseconds; `None` until deleted.
    pub until: Option<i64>,
}

impl Ban {
    /// The banned network (a single address is a /32 or /128).
    pub fn network(&self) -> Option<IpNet> {
        parse_target(&self.address).ok()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A duration in milliseconds, saturating.
pub(super) fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Parses what an administrator may ban: an address or a network, made
/// canonical (IPv4-mapped IPv6 becomes IPv4, host bits are cleared).
///
/// # Errors
/// Neither an IP address nor a network in CIDR form.
pub fn parse_target(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is neither an IP address nor a network like 192.0.2.0/24"))
}

/// How a network is written in the `bans` table: a bare address for a
/// single host, CIDR otherwise.
pub fn target_key(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// Bans that have not ended at `now`.
///
/// # Errors
/// The database failed.
pub async fn active(db: &Db, now: i64) -> Result<Vec<Ban>, DbError> {
    let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT address, reason, since, until FROM bans \
         WHERE until IS NULL OR until > $1 ORDER BY since, address",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(address, reason, since, until)| Ban {
            address,
            reason,
            since,
            until,
        })
        .collect())
}

/// Bans `net` from `since` until `until` (`None`: until deleted),
/// replacing an earlier ban of the same network.
///
/// # Errors
/// The database failed.
pub async fn add(
    db: &Db,
    net: &IpNet,
    reason: &str,
    since: i64,
    until: Option<i64>,
) -> Result<(), DbError> {
    let mut w = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO bans (address, reason, since, until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (address) DO UPDATE SET reason = $2, since = $3, until = $4",
    )
    .bind(target_key(net))
    .bind(reason)
    .bind(since)
    .bind(until)
    .execute(&mut *w.tx)
    .await?;
    w.commit().await
}

/// Lifts the ban of `net` and forgets the failures of that address;
/// whether a ban existed.
///
/// # Errors
/// The database failed.
pub async fn del(db: &Db, net: &IpNet) -> Result<bool, DbError> {
    let key = target_key(net);
    let mut w = db.begin_write().await?;
    let r = sqlx::query("DELETE FROM bans WHERE address = $1")
        .bind(&key)
        .execute(&mut *w.tx)
        .await?;
    sqlx::query("DELETE FROM auth_failures WHERE address = $1")
        .bind(&key)
        .execute(&mut *w.tx)
        .await?;
    w.commit().await?;
    Ok(r.rows_affected() > 0)
}

/// Records one failed login from `ip` at `now`; returns how many
/// failures the address has in the window (this one included). A window
/// older than `window_ms` starts over.
///
/// # Errors
/// The database failed.
pub async fn record_failure(db: &Db, ip: IpAddr, now: i64, window_ms: i64) -> Result<u32, DbError> {
    let start = now.saturating_sub(window_ms);
    let mut w = db.begin_write().await?;
    let (n,): (i64,) = sqlx::query_as(
        "INSERT INTO auth_failures (address, failures, first_at, last_at) VALUES ($1, 1, $2, $2) \
         ON CONFLICT (address) DO UPDATE SET \
           failures = CASE WHEN auth_failures.first_at <= $3 THEN 1 \
                      ELSE auth_failures.failures + 1 END, \
           first_at = CASE WHEN auth_failures.first_at <= $3 THEN $2 \
                      ELSE auth_failures.first_at END, \
           last_at = $2 \
         RETURNING failures",
    )
    .bind(ip.to_canonical().to_string())
    .bind(now)
    .bind(start)
    .fetch_one(&mut *w.tx)
    .await?;
    w.commit().await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Forgets the failures of `ip` (after a successful login or a ban).
/// Reads first, so the common case (no failures) takes no write lock.
///
/// # Errors
/// The database failed.
pub async fn clear_failures(db: &Db, ip: IpAddr) -> Result<(), DbError> {
    let key = ip.to_canonical().to_string();
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT failures FROM auth_failures WHERE address = $1")
            .bind(&key)
            .fetch_optional(db.pool())
            .await?;
    if row.is_none() {
        return Ok(());
    }
    let mut w = db.begin_write().await?;
    sqlx::query("DELETE FROM auth_failures WHERE address = $1")
        .bind(&key)
        .execute(&mut *w.tx)
        .await?;
    w.commit().await
}

/// Deletes ended bans and failures older than `window_ms`; the number of
/// rows removed.
///
/// # Errors
/// The database failed.
pub async fn purge(db: &Db, now: i64, window_ms: i64) -> Result<u64, DbError> {
    let mut w = db.begin_write().await?;
    let a = sqlx::query("DELETE FROM bans WHERE until IS NOT NULL AND until <= $1")
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
    let b = sqlx::query("DELETE FROM auth_failures WHERE last_at <= $1")
        .bind(now.saturating_sub(window_ms))
        .execute(&mut *w.tx)
        .await?;
    w.commit().await?;
    Ok(a.rows_affected() + b.rows_affected())
}

#[cfg(test)]
#[path = "bans_tests.rs"]
mod tests;
