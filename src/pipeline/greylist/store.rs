//! Greylisting state in SQL (migration `0003_greylist`), so that every
//! node behind the MX records sees the same triplets.
//!
//! Every decision runs inside one [`Db::begin_write`] transaction: on
//! SQLite that holds the write lock from the start; on PostgreSQL the
//! rows read are locked with `FOR UPDATE`, and inserts race safely with
//! `ON CONFLICT`. Times are unix milliseconds.

use sqlx::{Any, Transaction};

use crate::db::Db;

type Tx = Transaction<'static, Any>;

/// A triplet row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TripletState {
    /// First attempt.
    pub first_seen: i64,
    /// Latest attempt.
    pub last_seen: i64,
    /// Messages let through.
    pub passes: i64,
}

/// Reads a triplet, locking it on PostgreSQL.
pub async fn triplet(
    db: &Db,
    tx: &mut Tx,
    key: (&str, &str, &str),
) -> Result<Option<TripletState>, sqlx::Error> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT first_seen, last_seen, passes FROM greylist_triplets \
         WHERE client = $1 AND sender = $2 AND recipient = $3{}",
        db.for_update()
    ))
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(first_seen, last_seen, passes)| TripletState {
        first_seen,
        last_seen,
        passes,
    }))
}

/// Writes a triplet's new state (insert or overwrite).
pub async fn put_triplet(
    tx: &mut Tx,
    key: (&str, &str, &str),
    state: TripletState,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO greylist_triplets (client, sender, recipient, first_seen, last_seen, passes) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (client, sender, recipient) DO UPDATE SET \
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, passes = excluded.passes",
    )
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(state.first_seen)
    .bind(state.last_seen)
    .bind(state.passes)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Which counter table: client networks or DKIM domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `greylist_clients(network)`.
    Client,
    /// `greylist_domains(domain)`.
    Domain,
}

impl Counter {
    fn table_and_key(self) -> (&'static str, &'static str) {
        match self {
            Counter::Client => ("greylist_clients", "network"),
            Counter::Domain => ("greylist_domains", "domain"),
        }
    }
}

/// The pass count of a network or domain seen since `cutoff`.
pub async fn passes_since(
    db: &Db,
    tx: &mut Tx,
    counter: Counter,
    key: &str,
    cutoff: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let (table, column) = counter.table_and_key();
    let row: Option<(i64,)> = sqlx::query_as(&format!(
        "SELECT passes FROM {table} WHERE {column} = $1 AND last_seen >= $2{}",
        db.for_update()
    ))
    .bind(key)
    .bind(cutoff)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The pass count and last-seen time of a network or domain, read
/// outside any write transaction (the fast path of auto-allowed clients).
pub async fn peek(db: &Db, counter: Counter, key: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let (table, column) = counter.table_and_key();
    sqlx::query_as(&format!(
        "SELECT passes, last_seen FROM {table} WHERE {column} = $1"
    ))
    .bind(key)
    .fetch_optional(db.pool())
    .await
}

/// Adds `add` passes to a network or domain and marks it seen at `now`;
/// an entry older than `cutoff` starts again from zero.
pub async fn bump(
    tx: &mut Tx,
    counter: Counter,
    key: &str,
    add: i64,
    now: i64,
    cutoff: i64,
) -> Result<(), sqlx::Error> {
    let (table, column) = counter.table_and_key();
    sqlx::query(&format!(
        "INSERT INTO {table} ({column}, passes, last_seen) VALUES ($1, $2, $3) \
         ON CONFLICT ({column}) DO UPDATE SET \
         passes = CASE WHEN {table}.last_seen < $4 THEN excluded.passes \
                       ELSE {table}.passes + excluded.passes END, \
         last_seen = excluded.last_seen"
    ))
    .bind(key)
    .bind(add)
    .bind(now)
    .bind(cutoff)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The administrator's allow list as `(kind, value)` rows.
pub async fn allow_rows(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT kind, value FROM greylist_allow ORDER BY kind, value")
        .fetch_all(db.pool())
        .await
}
