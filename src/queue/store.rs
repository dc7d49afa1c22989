//! The queue's SQL for the runner: inserting, recording outcomes under a
//! lease, renewing and releasing leases, cleaning up finished messages
//! (claiming is in `claim`). Queries are written once with `$n`
//! placeholders for SQLite and PostgreSQL.

use sqlx::Row;

use super::admin::{MessageInfo, RecipientState};
use super::{Outbound, domain_of, now_ms};
use crate::db::{Db, DbError};

pub(crate) use super::claim::{Claimed, claim, claim_failed};

/// What happened to one recipient in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub kind: OutcomeKind,
    /// Enhanced status code, e.g. `2.0.0`, `4.4.1`, `5.1.1`.
    pub status: String,
    /// The remote's reply (`550 5.1.1 No such user`), empty if none.
    pub diagnostic: String,
    /// What happened, for people (logs, `queue list`, the notice).
    pub message: String,
    /// The MX host name talked to, empty if none.
    pub remote: String,
}

/// The three results an attempt can have for a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutcomeKind {
    /// A remote MTA accepted responsibility.
    Delivered,
    /// Try again later (4xx, no connection, DNS trouble).
    Deferred,
    /// Never going to work (5xx, null MX, no such domain).
    Failed,
}

/// Inserts a message and its recipients in one transaction.
pub(crate) async fn insert(db: &Db, id: &str, o: &Outbound, size: u64) -> Result<(), DbError> {
    let now = now_ms();
    let mut w = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO queue_messages (id, sender, size, smtputf8, created_at, warned) \
         VALUES ($1, $2, $3, $4, $5, 0)",
    )
    .bind(id)
    .bind(o.sender.as_deref().unwrap_or(""))
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(i64::from(o.smtputf8))
    .bind(now)
    .execute(&mut *w.tx)
    .await?;
    for r in &o.recipients {
        sqlx::query(
            "INSERT INTO queue_recipients (message_id, recipient, original, domain, status, \
             attempts, next_attempt, updated_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5)",
        )
        .bind(id)
        .bind(&r.address)
        .bind(r.original.as_deref().unwrap_or(""))
        .bind(domain_of(&r.address))
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
    }
    w.commit().await
}

/// A domain with queued, unclaimed recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DueDomain {
    pub domain: String,
    /// The earliest next attempt among its rows.
    pub next: i64,
    /// How many of its rows are due now.
    pub due: i64,
}

/// Domains with queued recipients nobody holds a lease on.
pub(crate) async fn domains(db: &Db, now: i64) -> Result<Vec<DueDomain>, DbError> {
    let rows = sqlx::query(
        "SELECT domain, MIN(next_attempt), \
         SUM(CASE WHEN next_attempt <= $1 THEN 1 ELSE 0 END) FROM queue_recipients \
         WHERE status = 'queued' AND lease_until <= $1 GROUP BY domain",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDomain {
                domain: r.try_get(0)?,
                next: r.try_get(1)?,
                due: r.try_get(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Records outcomes of rows held by `owner`, in one transaction.
/// Deferred rows get `next_attempt`; failed rows keep their lease (the
/// caller sends the notice, then [`mark_bounced`]).
pub(crate) async fn record(
    db: &Db,
    owner: &str,
    results: &[(i64, Outcome, i64)],
) -> Result<u64, DbError> {
    let now = now_ms();
    let mut w = db.begin_write().await?;
    let mut changed = 0;
    for (id, o, next_attempt) in results {
        let status = match o.kind {
            OutcomeKind::Delivered => "delivered",
            OutcomeKind::Deferred => "queued",
            OutcomeKind::Failed => "failed",
        };
        let done = sqlx::query(
            "UPDATE queue_recipients SET status = $1, attempts = attempts + 1, \
             next_attempt = $2, status_code = $3, diagnostic = $4, last_error = $5, \
             remote_mta = $6, updated_at = $7 \
             WHERE id = $8 AND lease_owner = $9 AND status = 'queued'",
        )
        .bind(status)
        .bind(*next_attempt)
        .bind(&o.status)
        .bind(&o.diagnostic)
        .bind(&o.message)
        .bind(&o.remote)
        .bind(now)
        .bind(*id)
        .bind(owner)
        .execute(&mut *w.tx)
        .await?;
        changed += done.rows_affected();
    }
    w.commit().await?;
    Ok(changed)
}

/// Runs `sql` (binding `$1` = owner, `$2` = a number) once per id in
/// `ids` as `$3`, in one transaction.
async fn per_row(db: &Db, sql: &str, owner: &str, n: i64, ids: &[i64]) -> Result<(), DbError> {
    let mut w = db.begin_write().await?;
    for id in ids {
        sqlx::query(sql)
            .bind(owner)
            .bind(n)
            .bind(*id)
            .execute(&mut *w.tx)
            .await?;
    }
    w.commit().await
}

/// Failed rows whose notice went out (or needs none): `bounced`.
pub(crate) async fn mark_bounced(db: &Db, owner: &str, ids: &[i64]) -> Result<(), DbError> {
    let sql = "UPDATE queue_recipients SET status = 'bounced', updated_at = $2 \
               WHERE lease_owner = $1 AND id = $3 AND status = 'failed'";
    per_row(db, sql, owner, now_ms(), ids).await
}

/// Failed rows whose notice could not be sent now: try again at `next`.
pub(crate) async fn postpone(db: &Db, owner: &str, ids: &[i64], next: i64) -> Result<(), DbError> {
    let sql = "UPDATE queue_recipients SET next_attempt = $2 \
               WHERE lease_owner = $1 AND id = $3 AND status = 'failed'";
    per_row(db, sql, owner, next, ids).await
}

/// Extends every lease `owner` holds to `until`.
pub(crate) async fn renew(db: &Db, owner: &str, until: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE queue_recipients SET lease_until = $2 WHERE lease_owner = $1")
        .bind(owner)
        .bind(until)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Gives up every lease `owner` holds.
pub(crate) async fn release(db: &Db, owner: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE queue_recipients SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1",
    )
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Gives up the leases of every owner named `<node>:…` — the leftovers
/// of this node's previous run. Returns how many rows were freed.
pub(crate) async fn release_node(db: &Db, node: &str) -> Result<u64, DbError> {
    let escaped: String = node
        .chars()
        .flat_map(|c| match c {
            '!' | '%' | '_' => vec!['!', c],
            c => vec![c],
        })
        .collect();
    let done = sqlx::query(
        "UPDATE queue_recipients SET lease_owner = '', lease_until = 0 \
         WHERE lease_owner LIKE $1 ESCAPE '!'",
    )
    .bind(format!("{escaped}:%"))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// The envelope of message `id`.
pub(crate) async fn message(db: &Db, id: &str) -> Result<Option<MessageInfo>, DbError> {
    let row = sqlx::query(
        "SELECT id, sender, size, smtputf8, created_at, warned FROM queue_messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref()
        .map(super::admin::message_info)
        .transpose()
        .map_err(DbError::from)
}

/// Every recipient row of message `id`.
pub(crate) async fn recipients(db: &Db, id: &str) -> Result<Vec<RecipientState>, DbError> {
    super::admin::recipients_of(db, id).await
}

/// Sets the message's delay-notice flag; `true` only for the caller that
/// changed it (so exactly one node sends the notice).
pub(crate) async fn set_warned(db: &Db, id: &str) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE queue_messages SET warned = 1 WHERE id = $1 AND warned = 0")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes message `id` when none of its recipients is queued or waiting
/// for a notice; `true` when it was deleted (the caller removes the file).
pub(crate) async fn finish_if_done(db: &Db, id: &str) -> Result<bool, DbError> {
    let mut w = db.begin_write().await?;
    let lock = format!(
        "SELECT id FROM queue_messages WHERE id = $1{}",
        db.for_update()
    );
    let exists = sqlx::query(&lock)
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) FROM queue_recipients \
         WHERE message_id = $1 AND status IN ('queued', 'failed')",
    )
    .bind(id)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get(0)?;
    if open > 0 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM queue_recipients WHERE message_id = $1",
        "DELETE FROM queue_messages WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *w.tx).await?;
    }
    w.commit().await?;
    Ok(true)
}

/// Whether a message row with this id exists.
pub(crate) async fn exists(db: &Db, id: &str) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT 1 FROM queue_messages WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.is_some())
}

/// Messages none of whose recipients is queued or waiting for a notice.
pub(crate) async fn finished_messages(db: &Db) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query(
        "SELECT id FROM queue_messages m WHERE NOT EXISTS (SELECT 1 FROM queue_recipients r \
         WHERE r.message_id = m.id AND r.status IN ('queued', 'failed'))",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
