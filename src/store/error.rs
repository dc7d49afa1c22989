//! The store's error type. Protocols map it to replies in one place each:
//! `InvalidName`, `NoSuchFolder`, `AlreadyExists`, `NotFound` → IMAP `NO`;
//! `OverQuota` → SMTP `552 5.2.2` / IMAP `NO [OVERQUOTA]`; the rest are
//! server faults (`451 4.3.0`, IMAP `NO [SERVERBUG]`) whose details go to
//! the log only.

use std::path::{Path, PathBuf};

use crate::db::DbError;

/// Everything that can go wrong in the message store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An account, folder or keyword name is not acceptable (it would
    /// escape the mail root, collide with the on-disk separator, …).
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The message (UID) does not exist, or its file is gone.
    #[error("message not found")]
    NotFound,
    /// Storing the message would exceed the account's quota.
    #[error("over quota: {used} of {limit} bytes used, {needed} more needed")]
    OverQuota {
        /// The limit in bytes.
        limit: u64,
        /// Bytes in use before this delivery.
        used: u64,
        /// Size of the refused message.
        needed: u64,
    },
    /// The folder (or account) to create already exists.
    #[error("{0:?} already exists")]
    AlreadyExists(String),
    /// The folder does not exist.
    #[error("no such folder {0:?}")]
    NoSuchFolder(String),
    /// A filesystem operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A Dovecot control file (`dovecot-uidlist`, `dovecot-keywords`) or
    /// Maildir entry could not be understood.
    #[error("cannot parse {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The index database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A blocking filesystem task panicked or was cancelled.
    #[error("filesystem task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(DbError::Sql(e))
    }
}

/// Shorthand for results of this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Wraps an `io::Error` with the path it concerns.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs blocking filesystem work off the async executor.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}
