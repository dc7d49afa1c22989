//! IMAP's own SQL state (migration `0006_imap`): subscriptions and the
//! `\Recent` marks. Shared by every node through the database, like the
//! message index.
//!
//! `\Recent` (RFC 3501 §2.3.2) must be set in exactly one session: the
//! first one that selects the folder after the message arrived. Each
//! folder has one mark, "every UID up to `last_uid` was claimed"; a
//! SELECT (or a session that already has the folder selected and sees new
//! mail) claims up to the folder's newest UID in one write transaction,
//! so two sessions racing cannot both claim the same message. EXAMINE
//! claims nothing. A different UIDVALIDITY restarts the mark at 0.

use crate::db::{Db, DbError};

/// Claims every UID up to `newest` in `account`'s `folder` for the
/// calling session. Returns the mark before the claim: the session's
/// recent messages are those with a UID above it (none when another
/// session already claimed them).
///
/// # Errors
/// Database errors.
pub async fn claim_recent(
    db: &Db,
    account: &str,
    folder: &str,
    uidvalidity: u32,
    newest: u32,
) -> Result<u32, DbError> {
    // Marks only grow within a UIDVALIDITY: when everything is claimed
    // already, no write transaction (and no SQLite write lock) is needed.
    let mark = recent_mark(db, account, folder, uidvalidity).await?;
    if mark >= newest && mark > 0 {
        return Ok(mark);
    }
    let mut wtx = db.begin_write().await?;
    // Make sure the row exists first, so that on PostgreSQL the SELECT
    // below locks it even for the very first claim (two first claims
    // would otherwise both read "nothing claimed").
    sqlx::query(
        "INSERT INTO imap_recent (account, name, uidvalidity, last_uid) \
         VALUES ($1, $2, $3, 0) ON CONFLICT (account, name) DO NOTHING",
    )
    .bind(account)
    .bind(folder)
    .bind(i64::from(uidvalidity))
    .execute(&mut *wtx.tx)
    .await?;
    let row: Option<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT uidvalidity, last_uid FROM imap_recent WHERE account = $1 AND name = $2{}",
        db.for_update()
    ))
    .bind(account)
    .bind(folder)
    .fetch_optional(&mut *wtx.tx)
    .await?;
    let before = match row {
        Some((v, last)) if v == i64::from(uidvalidity) => u32::try_from(last).unwrap_or(0),
        _ => 0,
    };
    let stale = row.is_some_and(|(v, _)| v != i64::from(uidvalidity));
    if newest > before || stale {
        sqlx::query(
            "UPDATE imap_recent SET uidvalidity = $3, last_uid = $4 \
             WHERE account = $1 AND name = $2",
        )
        .bind(account)
        .bind(folder)
        .bind(i64::from(uidvalidity))
        .bind(i64::from(newest.max(before)))
        .execute(&mut *wtx.tx)
        .await?;
    }
    wtx.commit().await?;
    Ok(before)
}

/// The mark without claiming: messages above it are recent for the next
/// session that selects the folder (STATUS RECENT).
///
/// # Errors
/// Database errors.
pub async fn recent_mark(
    db: &Db,
    account: &str,
    folder: &str,
    uidvalidity: u32,
) -> Result<u32, DbError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT uidvalidity, last_uid FROM imap_recent WHERE account = $1 AND name = $2",
    )
    .bind(account)
    .bind(folder)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some((v, last)) if v == i64::from(uidvalidity) => u32::try_from(last).unwrap_or(0),
        _ => 0,
    })
}

/// Every folder name `account` subscribed to, sorted.
///
/// # Errors
/// Database errors.
pub async fn subscriptions(db: &Db, account: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM imap_subscriptions WHERE account = $1 ORDER BY name")
            .bind(account)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Subscribes `account` to `folder` (idempotent).
///
/// # Errors
/// Database errors.
pub async fn subscribe(db: &Db, account: &str, folder: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO imap_subscriptions (account, name) VALUES ($1, $2) \
         ON CONFLICT (account, name) DO NOTHING",
    )
    .bind(account)
    .bind(folder)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Removes a subscription; `false` if there was none.
///
/// # Errors
/// Database errors.
pub async fn unsubscribe(db: &Db, account: &str, folder: &str) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM imap_subscriptions WHERE account = $1 AND name = $2")
        .bind(account)
        .bind(folder)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// After RENAME: moves the subscriptions of `from` and the folders below
/// it to the new names, and forgets the `\Recent` marks of the old names
/// (the renamed folders keep their UIDVALIDITY, so their marks move too).
///
/// # Errors
/// Database errors.
pub async fn rename(db: &Db, account: &str, from: &str, to: &str) -> Result<(), DbError> {
    let mut wtx = db.begin_write().await?;
    for table in ["imap_subscriptions", "imap_recent"] {
        let rows: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT name FROM {table} WHERE account = $1"))
                .bind(account)
                .fetch_all(&mut *wtx.tx)
                .await?;
        for (name,) in rows {
            let Some(rest) = renamed(&name, from) else {
                continue;
            };
            let new = format!("{to}{rest}");
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE account = $1 AND name = $2"
            ))
            .bind(account)
            .bind(&new)
            .execute(&mut *wtx.tx)
            .await?;
            sqlx::query(&format!(
                "UPDATE {table} SET name = $3 WHERE account = $1 AND name = $2"
            ))
            .bind(account)
            .bind(&name)
            .bind(&new)
            .execute(&mut *wtx.tx)
            .await?;
        }
    }
    wtx.commit().await?;
    Ok(())
}

/// The part of `name` after `from` when `name` is `from` or below it.
fn renamed<'a>(name: &'a str, from: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(from)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}
