//! The outbound queue: a durable spool of messages for remote recipients,
//! the scheduler that delivers them over SMTP (RFC 5321 §5 MX selection,
//! RFC 7505 null MX, RFC 3207 opportunistic STARTTLS, RFC 2920
//! pipelining, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8), and
//! delivery status notifications (RFC 3464) when that fails.
//!
//! Owns: `data_dir/queue/` (one file per message, see `spool`) and the
//! tables `queue_messages` / `queue_recipients` (migration 0005), where
//! every recipient's state lives: queued, delivered, failed, bounced.
//!
//! Must not: parse SMTP by hand (the sans-IO codec in
//! [`crate::protocol::smtp`] does both directions), decide who may relay
//! (the SMTP session does), or keep state that matters only in memory:
//! several nodes may share the database and the spool, and a process may
//! be killed at any instant.
//!
//! # Durability and exactly-once
//! [`Queue::prepare`] writes and fsyncs the spool file; [`Prepared::commit`]
//! inserts the rows in one transaction. Only then does the session answer
//! `250`. Each recipient's outcome is written as soon as the remote MTA
//! answered the end of data, so the only window for a duplicate is between
//! the remote's `250` and that write.
//!
//! # Claiming work
//! A worker claims due recipient rows of one domain by stamping
//! `lease_owner`/`lease_until` (PostgreSQL: `FOR UPDATE SKIP LOCKED`;
//! SQLite: inside its single-writer transaction) and renews the lease
//! while it works. A lease that runs out — its node died — is claimed
//! again by anyone. At start-up a node releases the leases its previous
//! run held (the owner starts with `server.hostname`, so nodes sharing a
//! database need distinct host names).
//!
//! Files: `spool` (files), `claim`, `store` and `admin` (SQL), `accept` (the
//! session's all-or-nothing local + queue write), `runner` (the scheduler
//! loop), `worker` (one domain's batch), `settle` (recording outcomes,
//! retries and expiry, clean-up), `route` (MX and smarthost targets),
//! `client` (the SMTP client over TCP/TLS), `transaction` (one mail
//! transaction), `tls` (client TLS), `bounce` and `dsn` (notices).

mod accept;
pub mod admin;
mod bounce;
mod claim;
mod client;
mod dsn;
mod route;
mod runner;
mod settle;
mod spool;
mod store;
mod tls;
mod transaction;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use accept::{AcceptError, accept};
pub use dsn::{Dsn, DsnKind, DsnRecipient};
pub use runner::Runner;

use crate::config::{Config, QueueConfig, RelayConfig};
use crate::db::{Db, DbError};
use spool::Spool;

/// Errors of the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The spool file could not be written, read or removed.
    #[error("queue spool {path}: {source}")]
    Spool {
        /// The spool directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS client configuration could not be built.
    #[error("outbound TLS: {0}")]
    Tls(String),
    /// No queued message has this id.
    #[error("no queued message {0}")]
    NoSuchMessage(String),
}

impl From<sqlx::Error> for QueueError {
    fn from(e: sqlx::Error) -> Self {
        QueueError::Db(DbError::Sql(e))
    }
}

/// One recipient handed to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecipient {
    /// The address to deliver to (`local@domain`, SMTP canonical form).
    pub address: String,
    /// The address given in RCPT TO when it differs (an alias that
    /// forwards here); reported as Original-Recipient in notices.
    pub original: Option<String>,
}

/// The envelope of a message for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The envelope sender; `None` is the null sender `<>` (no bounces).
    pub sender: Option<String>,
    /// Remote recipients (duplicates are dropped).
    pub recipients: Vec<OutboundRecipient>,
    /// The message came with SMTPUTF8.
    pub smtputf8: bool,
}

/// The queue: accepts messages durably; [`Runner`] delivers them. Cheap
/// to clone.
#[derive(Clone, Debug)]
pub struct Queue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    spool: Spool,
    settings: QueueConfig,
    relay: RelayConfig,
    hostname: String,
    /// Woken after a commit so the runner looks at new work at once.
    wake: Notify,
}

/// A message whose spool file is durable but whose rows are not yet
/// committed. Dropping it without [`Prepared::commit`] leaves a file that
/// the next start removes; call [`Prepared::abort`] to remove it now.
#[derive(Debug)]
#[must_use = "commit or abort the prepared queue entry"]
pub struct Prepared {
    queue: Queue,
    id: String,
    outbound: Outbound,
    size: u64,
}

impl Queue {
    /// The queue for `config`, over `db`.
    pub fn new(db: Db, config: &Config) -> Queue {
        Queue {
            inner: Arc::new(Inner {
                db,
                spool: Spool::new(config.queue_dir()),
                settings: config.queue.clone(),
                relay: config.relay.clone(),
                hostname: config.server.hostname.clone(),
                wake: Notify::new(),
            }),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn spool(&self) -> &Spool {
        &self.inner.spool
    }

    pub(crate) fn settings(&self) -> &QueueConfig {
        &self.inner.settings
    }

    pub(crate) fn relay(&self) -> &RelayConfig {
        &self.inner.relay
    }

    pub(crate) fn hostname(&self) -> &str {
        &self.inner.hostname
    }

    /// Tells the runner (in this process) that new work may be due.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    fn spool_error(&self, source: std::io::Error) -> QueueError {
        QueueError::Spool {
            path: self.inner.spool.dir().display().to_string(),
            source,
        }
    }

    /// Phase one: writes `message` (as it will be sent) to the spool and
    /// fsyncs it. Nothing is visible to the runner until
    /// [`Prepared::commit`].
    ///
    /// # Errors
    /// [`QueueError::Spool`] when the file cannot be written durably.
    pub async fn prepare(
        &self,
        outbound: &Outbound,
        message: &[u8],
    ) -> Result<Prepared, QueueError> {
        let id = spool::new_id();
        self.inner
            .spool
            .write(&id, message.to_vec())
            .await
            .map_err(|e| self.spool_error(e))?;
        let mut outbound = outbound.clone();
        let mut seen = std::collections::HashSet::new();
        outbound
            .recipients
            .retain(|r| seen.insert(r.address.to_ascii_lowercase()));
        Ok(Prepared {
            queue: self.clone(),
            id,
            outbound,
            size: message.len() as u64,
        })
    }
}

impl Prepared {
    /// The queue id the message will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Phase two: records the envelope and every recipient in one
    /// transaction and wakes the runner. When this returns `Ok` the
    /// message is queued durably.
    ///
    /// # Errors
    /// The database refused; the spool file is removed and nothing is
    /// queued.
    pub async fn commit(self) -> Result<String, QueueError> {
        let q = &self.queue;
        let inserted = store::insert(q.db(), &self.id, &self.outbound, self.size).await;
        if let Err(e) = inserted {
            let _ = q.spool().remove(&self.id).await;
            return Err(e.into());
        }
        q.wake();
        Ok(self.id)
    }

    /// Gives up: removes the spool file.
    pub async fn abort(self) {
        if let Err(e) = self.queue.spool().remove(&self.id).await {
            tracing::warn!(id = %self.id, error = %e, "cannot remove an aborted queue file");
        }
    }
}

/// Milliseconds since the Unix epoch, the queue's clock.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A duration in milliseconds, saturating.
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The lowercase domain of `address` (after the last `@`).
pub(crate) fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase()
}
