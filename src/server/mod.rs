//! The daemon's life cycle (`postel serve`).
//!
//! Owns: opening the shared services (database, directory, store, TLS)
//! from a loaded [`Config`], telling systemd when we are ready
//! (`sd_notify READY=1`) and when we stop, and waiting for SIGTERM/SIGINT.
//! Protocol listeners plug in here: each gets the [`Services`] and a
//! [`Shutdown`] handle.
//!
//! Must not: parse protocols or hold global state; everything a listener
//! needs travels in [`Services`].

use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::directory::Directory;
use crate::store::Store;
use crate::tls::{self, TlsError};

/// Errors that stop the daemon from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// TLS could not be prepared.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Installing signal handlers failed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// Everything a protocol session needs, shared by all sessions.
#[derive(Clone)]
pub struct Services {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// The SQL database.
    pub db: Db,
    /// Accounts.
    pub directory: Directory,
    /// Mail storage.
    pub store: Store,
    /// TLS for STARTTLS and implicit-TLS listeners.
    pub tls: Arc<rustls::ServerConfig>,
}

impl Services {
    /// Opens the database (migrating it), the directory, the store and TLS.
    ///
    /// # Errors
    /// Any of them failing to open.
    pub async fn open(config: Config) -> Result<Services, ServerError> {
        create_data_dir(&config)?;
        tls::install_default_provider();
        let db = Db::open(&config.database_url()).await?;
        let directory = Directory::new(db.clone(), config.directory.clone());
        let store = Store::new(db.clone(), config.mail_root(), &config.server.hostname);
        let tls = tls::server_config(&config)?;
        Ok(Services {
            config: Arc::new(config),
            db,
            directory,
            store,
            tls,
        })
    }
}

/// Creates `data_dir` with mode 0700 if it does not exist.
fn create_data_dir(config: &Config) -> Result<(), ServerError> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = &config.server.data_dir;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| ServerError::DataDir {
            path: dir.display().to_string(),
            source,
        })
}

/// A shutdown signal shared by listeners and sessions: cheap to clone,
/// `wait()` resolves once shutdown has begun.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The sending half of [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

/// A new shutdown pair.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Begins shutdown everywhere.
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }
}

impl Shutdown {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once shutdown has begun.
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means "stop".
        let _ = self.rx.wait_for(|v| *v).await;
    }
}

/// Tells systemd something (no-op outside systemd).
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "sd_notify failed");
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
///
/// # Errors
/// Start-up failures ([`ServerError`]); once running it only stops on a
/// signal.
pub async fn run(config: Config) -> Result<(), ServerError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(ServerError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServerError::Signals)?;

    let services = Services::open(config).await?;
    let (trigger, _shutdown) = shutdown_channel();
    tracing::info!(
        hostname = %services.config.server.hostname,
        data_dir = %services.config.server.data_dir.display(),
        database = services.db.backend_name(),
        "ready"
    );
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("ready"),
    ]);

    let which = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = which, "shutting down");
    notify(&[sd_notify::NotifyState::Stopping]);
    trigger.trigger();
    services.db.close().await;
    tracing::info!("stopped");
    Ok(())
}
