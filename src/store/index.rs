//! The SQL side of the message index: tables `mailboxes` (one row per
//! folder: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ), `messages` (one row per
//! message: UID, base name, flags, keywords, size, internal date, modseq)
//! and `mailbox_uidvalidity` (per-account high-water mark, so a folder
//! recreated in the same second still gets a new UIDVALIDITY).
//!
//! Owns: the queries. Must not: decide anything; callers hold the write
//! transaction and the row locks. Every integer column is BIGINT and is
//! decoded as `i64`; placeholders are `$n` (valid for both engines).

use sqlx::AnyConnection;

use super::error::Result;
use super::flags::Flags;

/// A `mailboxes` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MailboxRow {
    pub id: i64,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highest_modseq: u64,
}

/// A `messages` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageRow {
    pub uid: u32,
    pub base: String,
    pub flags: Flags,
    pub size: u64,
    pub internal_date: i64,
    pub modseq: u64,
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The folder's row; `lock` is `""` or `" FOR UPDATE"`.
pub(crate) async fn mailbox(
    conn: &mut AnyConnection,
    account: &str,
    name: &str,
    lock: &str,
) -> Result<Option<MailboxRow>> {
    let sql = format!(
        "SELECT id, uidvalidity, uidnext, highest_modseq FROM mailboxes \
         WHERE account = $1 AND name = $2{lock}"
    );
    let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(&sql)
        .bind(account)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id, v, n, m)| MailboxRow {
        id,
        uidvalidity: u32_of(v),
        uidnext: u32_of(n),
        highest_modseq: u64_of(m),
    }))
}

/// Picks a new UIDVALIDITY for a folder of `account`: at least `now` and
/// above every value the account ever had — or, with `imported`, takes
/// that value (from Dovecot) and raises the high-water mark to it. Locks
/// the account's counter row, so call it before locking any `mailboxes`
/// row (lock order).
pub(crate) async fn allocate_uidvalidity(
    conn: &mut AnyConnection,
    for_update: &str,
    account: &str,
    imported: Option<u32>,
) -> Result<u32> {
    sqlx::query(
        "INSERT INTO mailbox_uidvalidity (account, last_uidvalidity) VALUES ($1, 0) \
         ON CONFLICT (account) DO NOTHING",
    )
    .bind(account)
    .execute(&mut *conn)
    .await?;
    let sql =
        format!("SELECT last_uidvalidity FROM mailbox_uidvalidity WHERE account = $1{for_update}");
    let (last,): (i64,) = sqlx::query_as(&sql)
        .bind(account)
        .fetch_one(&mut *conn)
        .await?;
    let (max,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(uidvalidity), 0) FROM mailboxes WHERE account = $1")
            .bind(account)
            .fetch_one(&mut *conn)
            .await?;
    let now = crate::db::now_unix().clamp(1, i64::from(u32::MAX));
    let value = match imported {
        Some(v) => i64::from(v),
        None => now.max(last + 1).max(max + 1),
    };
    let value = u32::try_from(value).unwrap_or(u32::MAX);
    sqlx::query("UPDATE mailbox_uidvalidity SET last_uidvalidity = $2 WHERE account = $1")
        .bind(account)
        .bind(i64::from(value).max(last))
        .execute(&mut *conn)
        .await?;
    Ok(value)
}

/// Inserts a folder row; `None` when one with that name already exists.
pub(crate) async fn create_mailbox(
    conn: &mut AnyConnection,
    account: &str,
    name: &str,
    uidvalidity: u32,
    uidnext: u32,
) -> Result<Option<MailboxRow>> {
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO mailboxes (account, name, uidvalidity, uidnext, highest_modseq) \
         VALUES ($1, $2, $3, $4, 1) ON CONFLICT (account, name) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(name)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(uidnext.max(1)))
    .fetch_optional(conn)
    .await?;
    Ok(id.map(|(id,)| MailboxRow {
        id,
        uidvalidity,
        uidnext: uidnext.max(1),
        highest_modseq: 1,
    }))
}

/// Deletes a folder row and its messages.
pub(crate) async fn delete_mailbox(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM messages WHERE mailbox_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM mailboxes WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Renames a folder row (UIDVALIDITY and messages stay).
pub(crate) async fn rename_mailbox(conn: &mut AnyConnection, id: i64, name: &str) -> Result<()> {
    sqlx::query("UPDATE mailboxes SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a folder's new UIDNEXT and HIGHESTMODSEQ.
pub(crate) async fn set_counters(conn: &mut AnyConnection, row: &MailboxRow) -> Result<()> {
    sqlx::query("UPDATE mailboxes SET uidnext = $2, highest_modseq = $3 WHERE id = $1")
        .bind(row.id)
        .bind(i64::from(row.uidnext))
        .bind(i64_of(row.highest_modseq))
        .execute(conn)
        .await?;
    Ok(())
}

/// The folder's message rows, all or only those changed after `since`.
pub(crate) async fn messages(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    since: Option<u64>,
) -> Result<Vec<MessageRow>> {
    let rows: Vec<(i64, String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT uid, basename, flags, keywords, size, internal_date, modseq FROM messages \
         WHERE mailbox_id = $1 AND modseq > $2",
    )
    .bind(mailbox_id)
    .bind(since.map_or(-1, i64_of))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(uid, base, flags, keywords, size, date, modseq)| MessageRow {
                uid: u32_of(uid),
                base,
                flags: Flags::from_columns(&flags, &keywords),
                size: u64_of(size),
                internal_date: date,
                modseq: u64_of(modseq),
            },
        )
        .collect())
}

/// The UIDs of a folder.
pub(crate) async fn uids(conn: &mut AnyConnection, mailbox_id: i64) -> Result<Vec<u32>> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT uid FROM messages WHERE mailbox_id = $1")
        .bind(mailbox_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(u,)| u32_of(u)).collect())
}

/// The number of messages in a folder.
pub(crate) async fn count(conn: &mut AnyConnection, mailbox_id: i64) -> Result<usize> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE mailbox_id = $1")
        .bind(mailbox_id)
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

const INSERT_BATCH: usize = 200;
const DELETE_BATCH: usize = 500;

/// Inserts message rows in batches.
pub(crate) async fn insert_messages(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    rows: &[MessageRow],
) -> Result<()> {
    for chunk in rows.chunks(INSERT_BATCH) {
        let mut sql = String::from(
            "INSERT INTO messages (mailbox_id, uid, basename, flags, keywords, size, \
             internal_date, modseq) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 7 + 2;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p,
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
        }
        let mut q = sqlx::query(&sql).bind(mailbox_id);
        for r in chunk {
            q = q
                .bind(i64::from(r.uid))
                .bind(r.base.clone())
                .bind(r.flags.maildir_info())
                .bind(r.flags.keywords_column())
                .bind(i64_of(r.size))
                .bind(r.internal_date)
                .bind(i64_of(r.modseq));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Deletes message rows by UID, in batches.
pub(crate) async fn delete_messages(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    uids: &[u32],
) -> Result<()> {
    for chunk in uids.chunks(DELETE_BATCH) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "DELETE FROM messages WHERE mailbox_id = $1 AND uid IN ({})",
            list.join(",")
        );
        let mut q = sqlx::query(&sql).bind(mailbox_id);
        for uid in chunk {
            q = q.bind(i64::from(*uid));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Stores one message's flags and modseq.
pub(crate) async fn update_flags(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    uid: u32,
    flags: &Flags,
    modseq: u64,
) -> Result<()> {
    sqlx::query(
        "UPDATE messages SET flags = $3, keywords = $4, modseq = $5 \
         WHERE mailbox_id = $1 AND uid = $2",
    )
    .bind(mailbox_id)
    .bind(i64::from(uid))
    .bind(flags.maildir_info())
    .bind(flags.keywords_column())
    .bind(i64_of(modseq))
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every folder and message row of an account (the UIDVALIDITY
/// high-water mark stays, so a recreated account never reuses a value).
pub(crate) async fn delete_account(conn: &mut AnyConnection, account: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account = $1)",
    )
    .bind(account)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM mailboxes WHERE account = $1")
        .bind(account)
        .execute(conn)
        .await?;
    Ok(())
}
