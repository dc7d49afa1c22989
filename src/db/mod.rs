//! The SQL database: one pool for the whole process, SQLite (embedded
//! default) or PostgreSQL (scale-out), behind sqlx's `Any` driver.
//!
//! Owns: connecting, the pragmas that make SQLite durable and patient
//! (WAL, `synchronous=FULL`, a busy timeout), migrations, and the one way
//! to open a write transaction ([`Db::begin_write`]).
//!
//! Must not: know about accounts, messages or protocols. `directory` and
//! `store` hold the queries; this module only hands out connections.
//!
//! Every query in the crate is written once, with `$1`-style placeholders,
//! which both SQLite and PostgreSQL understand.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names a scheme we do not support.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The SQLite file's directory could not be created.
    #[error("cannot create database directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A query or connection failed.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which SQL engine the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Queueing writers here, in process,
    /// is fairer and faster than letting them sleep in SQLite's busy
    /// handler; the busy timeout still covers other processes.
    write_lock: Arc<Mutex<()>>,
    /// SQLite only: one connection with `synchronous = NORMAL`, kept apart
    /// so that setting can never leak into other writes
    /// ([`Db::begin_write_relaxed`]).
    relaxed: Option<AnyPool>,
}

/// A write transaction. SQLite's is `BEGIN IMMEDIATE`, so it holds the
/// write lock from the start and can never fail half-way with "database is
/// locked" when it upgrades from reading to writing.
pub struct WriteTx {
    /// The open transaction; commit it with [`WriteTx::commit`].
    pub tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits the transaction.
    ///
    /// # Errors
    /// The database refused the commit.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 30_000;

impl Db {
    /// Connects to `url` and brings the schema up to date.
    ///
    /// `sqlite://PATH` creates the file (and its directory) if needed.
    ///
    /// # Errors
    /// Unsupported URL, unreachable server, or a failed migration.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let db = match backend {
            Backend::Sqlite => Self::open_sqlite(url).await?,
            Backend::Postgres => Self::open_postgres(url).await?,
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn open_sqlite(url: &str) -> Result<Db, DbError> {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let url = if url.contains('?') {
            url.to_string()
        } else {
            format!("{url}?mode=rwc")
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = sqlite_pool(options.clone(), 8, "FULL").await?;
        let relaxed = sqlite_pool(options, 1, "NORMAL").await?;
        Ok(Db {
            pool,
            backend: Backend::Sqlite,
            write_lock: Arc::new(Mutex::new(())),
            relaxed: Some(relaxed),
        })
    }

    async fn open_postgres(url: &str) -> Result<Db, DbError> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(60))
            .connect(url)
            .await?;
        Ok(Db {
            pool,
            backend: Backend::Postgres,
            write_lock: Arc::new(Mutex::new(())),
            relaxed: None,
        })
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// The pool, for reads and single-statement writes.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Opens a write transaction (see [`WriteTx`]). On PostgreSQL callers
    /// lock the rows they change with `SELECT … FOR UPDATE`
    /// ([`Db::for_update`] gives the suffix to append).
    ///
    /// # Errors
    /// The database could not start the transaction.
    pub async fn begin_write(&self) -> Result<WriteTx, DbError> {
        match self.backend {
            Backend::Sqlite => {
                let guard = self.write_lock.clone().lock_owned().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    _guard: Some(guard),
                })
            }
            Backend::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                _guard: None,
            }),
        }
    }

    /// `" FOR UPDATE"` on PostgreSQL, empty on SQLite (whose write
    /// transactions already hold the database lock).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Writes a consistent, compacted copy of an SQLite database to
    /// `dest` (`VACUUM INTO`) while others keep using it. `Ok(false)` for
    /// PostgreSQL, which is backed up with its own tools (`pg_dump`).
    ///
    /// # Errors
    /// The copy failed (e.g. `dest` exists or is not writable).
    pub async fn snapshot_into(&self, dest: &Path) -> Result<bool, DbError> {
        if self.backend == Backend::Postgres {
            return Ok(false);
        }
        let dest = dest.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    /// "sqlite" or "postgresql", for logs.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }

    /// Closes every connection, waiting for checked-out ones.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(relaxed) = &self.relaxed {
            relaxed.close().await;
        }
    }

    /// A write transaction for changes that may be lost in a power
    /// failure (not in a crash of the process): IMAP flag changes. Its
    /// commit is not flushed to disk on its own — SQLite in WAL mode with
    /// `synchronous = NORMAL`, PostgreSQL with `synchronous_commit = off`
    /// — the next ordinary commit or checkpoint flushes it. Dovecot treats
    /// flag changes the same way (`mail_fsync = optimized`). Never use it
    /// for anything that records mail or a UID.
    ///
    /// # Errors
    /// The database could not start the transaction.
    pub async fn begin_write_relaxed(&self) -> Result<WriteTx, DbError> {
        match (&self.backend, &self.relaxed) {
            (Backend::Sqlite, Some(relaxed)) => {
                let guard = self.write_lock.clone().lock_owned().await;
                let tx = relaxed.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    _guard: Some(guard),
                })
            }
            _ => {
                let mut w = self.begin_write().await?;
                if self.backend == Backend::Postgres {
                    sqlx::query("SET LOCAL synchronous_commit = off")
                        .execute(&mut *w.tx)
                        .await?;
                }
                Ok(w)
            }
        }
    }
}

/// A pool of SQLite connections with WAL, the busy timeout, foreign keys
/// and `synchronous = <sync>`.
async fn sqlite_pool(
    options: AnyConnectOptions,
    max: u32,
    sync: &'static str,
) -> Result<AnyPool, DbError> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(60))
        // A connection to a local file cannot go stale: the ping sqlx
        // sends on every acquire cost a round trip to the connection's
        // worker thread per query (half the thread hops of a lookup).
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    format!(
                        "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                         PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = {sync}; \
                         PRAGMA foreign_keys = ON;"
                    )
                    .as_str(),
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

/// Tells the backend from the URL scheme.
///
/// # Errors
/// [`DbError::UnsupportedUrl`] for anything but sqlite and postgres(ql).
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::UnsupportedUrl(url.to_string()))
    }
}

/// Seconds since the Unix epoch, as the database stores time.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(backend_of("sqlite://./x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://u@h/d").ok(), Some(Backend::Postgres));
        assert!(backend_of("mysql://u@h/d").is_err());
    }

    #[tokio::test]
    async fn sqlite_is_wal_and_full_sync() -> Result<(), DbError> {
        let dir = tempfile::tempdir().map_err(|e| DbError::CreateDir {
            path: "tmp".into(),
            source: e,
        })?;
        let url = format!("sqlite://{}/sub/t.db", dir.path().display());
        let db = Db::open(&url).await?;
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await?;
        assert_eq!(mode.0.to_lowercase(), "wal");
        let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(db.pool())
            .await?;
        assert_eq!(sync.0, 2, "synchronous=FULL");
        Ok(())
    }

    /// Relaxed writes run on their own connection (synchronous=NORMAL),
    /// are seen by everyone at once and survive the process; ordinary
    /// connections stay FULL however the two kinds interleave.
    #[tokio::test]
    async fn relaxed_writes_are_committed_and_never_leak_their_setting() -> Result<(), DbError> {
        for (db, _scratch) in testing::databases().await {
            let mut w = db.begin_write_relaxed().await?;
            if db.backend() == Backend::Sqlite {
                let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
                    .fetch_one(&mut *w.tx)
                    .await?;
                assert_eq!(sync.0, 1, "synchronous=NORMAL");
            }
            sqlx::query("INSERT INTO domains (name, created_at) VALUES ($1, 0)")
                .bind("relaxed.test")
                .execute(&mut *w.tx)
                .await?;
            w.commit().await?;
            let mut w = db.begin_write().await?;
            sqlx::query("INSERT INTO domains (name, created_at) VALUES ($1, 0)")
                .bind("full.test")
                .execute(&mut *w.tx)
                .await?;
            w.commit().await?;
            let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM domains")
                .fetch_one(db.pool())
                .await?;
            assert_eq!(n.0, 2);
            if db.backend() == Backend::Sqlite {
                for _ in 0..8 {
                    let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
                        .fetch_one(db.pool())
                        .await?;
                    assert_eq!(sync.0, 2, "the shared pool stays FULL");
                }
            }
        }
        Ok(())
    }
}
