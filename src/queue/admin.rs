//! What `postel queue` sees and does: list, show, flush, delete. All of
//! it goes through the database, so it works against a running daemon
//! (on this node or another): a flush makes rows due now, and the
//! daemon's runner picks them up at its next poll (every few seconds).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Queue, QueueError, now_ms, spool, store};
use crate::db::{Db, DbError};

/// A queued message's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The queue id (the spool file's name).
    pub id: String,
    /// The envelope sender; empty for the null sender `<>`.
    pub sender: String,
    /// Size in octets.
    pub size: i64,
    /// Received with SMTPUTF8.
    pub smtputf8: bool,
    /// When it was accepted, unix milliseconds.
    pub created_at: i64,
    /// Whether the delay notice went out.
    pub warned: bool,
}

/// One recipient's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientState {
    /// Row id.
    pub id: i64,
    /// The recipient address.
    pub recipient: String,
    /// The original RCPT TO, empty when the same.
    pub original: String,
    /// `queued`, `delivered`, `failed` or `bounced`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt, unix milliseconds (for queued rows).
    pub next_attempt: i64,
    /// Until when a worker holds it, unix milliseconds (0: nobody).
    pub lease_until: i64,
    /// Enhanced status of the last outcome.
    pub status_code: String,
    /// The remote's last reply.
    pub diagnostic: String,
    /// What went wrong last.
    pub last_error: String,
    /// The MX host last talked to.
    pub remote_mta: String,
    /// Last change, unix milliseconds.
    pub updated_at: i64,
}

/// A message with its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The envelope.
    pub info: MessageInfo,
    /// Every recipient, in insertion order.
    pub recipients: Vec<RecipientState>,
}

pub(crate) fn message_info(r: &AnyRow) -> Result<MessageInfo, sqlx::Error> {
    Ok(MessageInfo {
        id: r.try_get(0)?,
        sender: r.try_get(1)?,
        size: r.try_get(2)?,
        smtputf8: r.try_get::<i64, _>(3)? != 0,
        created_at: r.try_get(4)?,
        warned: r.try_get::<i64, _>(5)? != 0,
    })
}

fn recipient_state(r: &AnyRow) -> Result<RecipientState, sqlx::Error> {
    Ok(RecipientState {
        id: r.try_get(0)?,
        recipient: r.try_get(1)?,
        original: r.try_get(2)?,
        status: r.try_get(3)?,
        attempts: r.try_get(4)?,
        next_attempt: r.try_get(5)?,
        lease_until: r.try_get(6)?,
        status_code: r.try_get(7)?,
        diagnostic: r.try_get(8)?,
        last_error: r.try_get(9)?,
        remote_mta: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

const RECIPIENT_COLUMNS: &str = "id, recipient, original, status, attempts, next_attempt, \
     lease_until, status_code, diagnostic, last_error, remote_mta, updated_at";

pub(crate) async fn recipients_of(db: &Db, id: &str) -> Result<Vec<RecipientState>, DbError> {
    let sql = format!(
        "SELECT {RECIPIENT_COLUMNS} FROM queue_recipients WHERE message_id = $1 ORDER BY id"
    );
    let rows = sqlx::query(&sql).bind(id).fetch_all(db.pool()).await?;
    Ok(rows.iter().map(recipient_state).collect::<Result<_, _>>()?)
}

impl Queue {
    /// How many messages are queued (for status lines).
    ///
    /// # Errors
    /// The database failed.
    pub async fn size(&self) -> Result<u64, QueueError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM queue_messages")
            .fetch_one(self.db().pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Recipients in the queue, counted per status (`pending`, …).
    ///
    /// # Errors
    /// The database failed.
    pub async fn recipients_by_status(&self) -> Result<Vec<(String, u64)>, QueueError> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM queue_recipients GROUP BY status")
            .fetch_all(self.db().pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let n: i64 = r.try_get(1)?;
            out.push((r.try_get::<String, _>(0)?, u64::try_from(n).unwrap_or(0)));
        }
        Ok(out)
    }

    /// Every queued message, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self) -> Result<Vec<QueuedMessage>, QueueError> {
        let rows = sqlx::query(
            "SELECT id, sender, size, smtputf8, created_at, warned FROM queue_messages \
             ORDER BY created_at, id",
        )
        .fetch_all(self.db().pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let info = message_info(r)?;
            let recipients = recipients_of(self.db(), &info.id).await?;
            out.push(QueuedMessage { info, recipients });
        }
        Ok(out)
    }

    /// One message with its recipients, and the message's header section
    /// from the spool file (empty if the file is unreadable).
    ///
    /// # Errors
    /// [`QueueError::NoSuchMessage`], or the database failed.
    pub async fn show(&self, id: &str) -> Result<(QueuedMessage, String), QueueError> {
        let missing = || QueueError::NoSuchMessage(id.to_string());
        if !spool::valid_id(id) {
            return Err(missing());
        }
        let info = store::message(self.db(), id).await?.ok_or_else(missing)?;
        let recipients = recipients_of(self.db(), id).await?;
        let body = self.spool().read(id).await.unwrap_or_default();
        let end = body
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(body.len(), |p| p + 2);
        let headers = String::from_utf8_lossy(&body[..end]).into_owned();
        Ok((QueuedMessage { info, recipients }, headers))
    }

    /// Makes queued recipients due now: of message `id`, or all of them.
    /// Returns how many rows were changed.
    ///
    /// # Errors
    /// [`QueueError::NoSuchMessage`] for an unknown id, or the database.
    pub async fn flush(&self, id: Option<&str>) -> Result<u64, QueueError> {
        let now = now_ms();
        let done = match id {
            Some(id) => {
                if !spool::valid_id(id) || !store::exists(self.db(), id).await? {
                    return Err(QueueError::NoSuchMessage(id.to_string()));
                }
                sqlx::query(
                    "UPDATE queue_recipients SET next_attempt = $1 \
                     WHERE message_id = $2 AND status IN ('queued', 'failed')",
                )
                .bind(now)
                .bind(id)
                .execute(self.db().pool())
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE queue_recipients SET next_attempt = $1 \
                     WHERE status IN ('queued', 'failed')",
                )
                .bind(now)
                .execute(self.db().pool())
                .await?
            }
        };
        self.wake();
        Ok(done.rows_affected())
    }

    /// Removes message `id` from the queue without delivering it or
    /// notifying anyone (an administrator's decision). A delivery in
    /// progress finishes its current transaction but records nothing.
    ///
    /// # Errors
    /// [`QueueError::NoSuchMessage`], the database or the spool.
    pub async fn delete(&self, id: &str) -> Result<(), QueueError> {
        if !spool::valid_id(id) {
            return Err(QueueError::NoSuchMessage(id.to_string()));
        }
        let mut w = self.db().begin_write().await?;
        for sql in [
            "DELETE FROM queue_recipients WHERE message_id = $1",
            "DELETE FROM queue_messages WHERE id = $1",
        ] {
            let done = sqlx::query(sql).bind(id).execute(&mut *w.tx).await?;
            if sql.contains("queue_messages") && done.rows_affected() == 0 {
                return Err(QueueError::NoSuchMessage(id.to_string()));
            }
        }
        w.commit().await?;
        self.spool()
            .remove(id)
            .await
            .map_err(|e| self.spool_error(e))
    }
}
