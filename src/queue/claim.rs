//! Claiming work: stamping due recipient rows with a lease owner and an
//! expiry, so that no two workers (in this process or on other nodes)
//! deliver the same recipient at once. On PostgreSQL the message rows are
//! picked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
//! different messages without waiting; SQLite claims inside its
//! single-writer `BEGIN IMMEDIATE`.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::now_ms;
use crate::db::{Backend, Db, DbError};

/// A claimed recipient row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub id: i64,
    pub message_id: String,
    pub recipient: String,
    pub domain: String,
    /// Attempts made before this claim.
    pub attempts: i64,
}

/// `" FOR UPDATE SKIP LOCKED"` on PostgreSQL, nothing on SQLite.
fn skip_locked(db: &Db) -> &'static str {
    match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

fn claimed(r: &AnyRow) -> Result<Claimed, sqlx::Error> {
    Ok(Claimed {
        id: r.try_get(0)?,
        message_id: r.try_get(1)?,
        recipient: r.try_get(2)?,
        domain: r.try_get(3)?,
        attempts: r.try_get(4)?,
    })
}

/// Which rows a claim takes.
#[derive(Debug, Clone, Copy)]
enum Claim<'a> {
    /// Due queued rows of a domain.
    Due(&'a str),
    /// Failed rows whose notice is due.
    Failed,
}

impl Claim<'_> {
    /// The row filter; `now` and `domain` name the placeholders to use.
    fn filter(self, now: &str, domain: &str) -> String {
        match self {
            Claim::Due(_) => format!(
                "domain = {domain} AND status = 'queued' AND next_attempt <= {now} \
                 AND lease_until <= {now}"
            ),
            Claim::Failed => {
                format!("status = 'failed' AND next_attempt <= {now} AND lease_until <= {now}")
            }
        }
    }
}

/// Claims every matching row of up to `messages` messages for `owner`
/// until `until`. Messages are claimed whole (all their matching rows),
/// so one message's recipients of one domain travel together; the
/// message rows are the lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
/// so concurrent claimers take different messages and never wait).
async fn claim_messages(
    db: &Db,
    claim: Claim<'_>,
    owner: &str,
    until: i64,
    messages: i64,
) -> Result<Vec<Claimed>, DbError> {
    let now = now_ms();
    let pick = format!(
        "SELECT id FROM queue_messages WHERE id IN \
         (SELECT message_id FROM queue_recipients WHERE {}) ORDER BY id LIMIT $2{}",
        claim.filter("$1", "$3"),
        skip_locked(db)
    );
    let take = format!(
        "UPDATE queue_recipients SET lease_owner = $1, lease_until = $2 \
         WHERE message_id = $4 AND {} RETURNING id, message_id, recipient, domain, attempts",
        claim.filter("$3", "$5")
    );
    let mut w = db.begin_write().await?;
    let mut q = sqlx::query(&pick).bind(now).bind(messages);
    if let Claim::Due(domain) = claim {
        q = q.bind(domain);
    }
    let ids: Vec<String> = q
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for id in &ids {
        let mut q = sqlx::query(&take)
            .bind(owner)
            .bind(until)
            .bind(now)
            .bind(id);
        if let Claim::Due(domain) = claim {
            q = q.bind(domain);
        }
        for r in q.fetch_all(&mut *w.tx).await? {
            out.push(claimed(&r)?);
        }
    }
    w.commit().await?;
    out.sort_by(|a, b| (&a.message_id, a.id).cmp(&(&b.message_id, b.id)));
    Ok(out)
}

/// Claims the due queued rows of up to `messages` messages of `domain`.
pub(crate) async fn claim(
    db: &Db,
    domain: &str,
    owner: &str,
    until: i64,
    messages: i64,
) -> Result<Vec<Claimed>, DbError> {
    claim_messages(db, Claim::Due(domain), owner, until, messages).await
}

/// Claims failed rows whose notice is still to be sent (a worker died
/// before sending it, or sending it failed earlier).
pub(crate) async fn claim_failed(
    db: &Db,
    owner: &str,
    until: i64,
    messages: i64,
) -> Result<Vec<Claimed>, DbError> {
    claim_messages(db, Claim::Failed, owner, until, messages).await
}
