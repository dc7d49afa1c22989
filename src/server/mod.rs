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
use crate::dns::{DnsSetupError, Resolver};
use crate::pipeline::{Pipeline, PipelineSettings};
use crate::queue::{Queue, QueueError, Runner};
use crate::security::Security;
use crate::store::Store;
use crate::tls::{self, TlsError};

pub mod listener;

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
    /// The DNS resolver could not be set up.
    #[error(transparent)]
    Dns(#[from] DnsSetupError),
    /// A listener could not be bound.
    #[error("{0}")]
    Bind(std::io::Error),
    /// The outbound queue could not start.
    #[error(transparent)]
    Queue(#[from] QueueError),
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
    /// DNS, through `dns.nameservers`.
    pub resolver: Resolver,
    /// The inbound checks.
    pub pipeline: Pipeline,
    /// Failed logins, bans, connection and sending limits (all protocols).
    pub security: Security,
    /// DKIM signing of submitted mail.
    pub dkim: crate::dkim::Signer,
    /// The outbound queue (accepting; [`start_queue`] delivers).
    pub queue: Queue,
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
        let resolver = Resolver::from_config(&config.dns)?;
        let settings = PipelineSettings::from_config(&config, &config.auth);
        let pipeline = Pipeline::new(settings, db.clone(), resolver.clone());
        let queue = Queue::new(db.clone(), &config);
        let dkim = crate::dkim::Signer::new(db.clone());
        let config = Arc::new(config);
        let security = Security::new(db.clone(), config.clone());
        Ok(Services {
            config,
            db,
            directory,
            store,
            tls,
            resolver,
            pipeline,
            security,
            dkim,
            queue,
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

/// How long shutdown waits for sessions to finish.
const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// The addresses actually bound, per protocol (port 0 resolved).
#[derive(Debug, Clone, Default)]
pub struct BoundAddrs {
    /// `listen.smtp`.
    pub smtp: Vec<std::net::SocketAddr>,
    /// `listen.submission`.
    pub submission: Vec<std::net::SocketAddr>,
    /// `listen.submissions`.
    pub submissions: Vec<std::net::SocketAddr>,
    /// `listen.imap`.
    pub imap: Vec<std::net::SocketAddr>,
    /// `listen.imaps`.
    pub imaps: Vec<std::net::SocketAddr>,
    /// `listen.pop3`.
    pub pop3: Vec<std::net::SocketAddr>,
    /// `listen.pop3s`.
    pub pop3s: Vec<std::net::SocketAddr>,
    /// `listen.http`.
    pub http: Vec<std::net::SocketAddr>,
    /// `listen.https`.
    pub https: Vec<std::net::SocketAddr>,
}

/// Binds every implemented listener and starts accepting.
///
/// # Errors
/// An address that cannot be bound.
pub async fn start_listeners(
    services: &Services,
    tracker: &tokio_util::task::TaskTracker,
    shutdown: &Shutdown,
) -> Result<BoundAddrs, ServerError> {
    use crate::smtp::Mode;
    use listener::Protocol;
    let listen = &services.config.listen;
    let pop3 = crate::pop3::handler(services.clone(), crate::pop3::Locks::default());
    let imap = crate::imap::handler(services.clone());
    let plan = [
        (
            Protocol::Smtp,
            &listen.smtp,
            crate::smtp::handler(services.clone(), Mode::Mta),
        ),
        (
            Protocol::Submission,
            &listen.submission,
            crate::smtp::handler(services.clone(), Mode::Submission),
        ),
        (
            Protocol::Submissions,
            &listen.submissions,
            crate::smtp::handler(services.clone(), Mode::Submission),
        ),
        (Protocol::Pop3, &listen.pop3, pop3.clone()),
        (Protocol::Pop3s, &listen.pop3s, pop3),
        (Protocol::Imap, &listen.imap, imap.clone()),
        (Protocol::Imaps, &listen.imaps, imap),
    ];
    let mut addrs = BoundAddrs::default();
    // The HTTP pages advertise the mail listeners' ports: bound first.
    let http = [
        (Protocol::Http, &listen.http),
        (Protocol::Https, &listen.https),
    ];
    let plan: Vec<_> = plan.into_iter().map(|(p, l, h)| (p, l, Some(h))).collect();
    let http = http.into_iter().map(|(p, l)| (p, l, None));
    for (protocol, list, handler) in plan.into_iter().chain(http) {
        let handler = handler.unwrap_or_else(|| {
            let ports = crate::http::Ports::from_bound(&addrs);
            crate::http::handler(services.clone(), ports)
        });
        let gate = crate::security::Gate::new(protocol, &services.security);
        for bound in listener::bind(protocol, list)
            .await
            .map_err(ServerError::Bind)?
        {
            let addr = bound.listener.local_addr().map_err(ServerError::Bind)?;
            tracing::info!(%addr, listener = protocol.name(), "listening");
            addrs.slot(protocol).push(addr);
            listener::spawn(
                bound,
                services.tls.clone(),
                handler.clone(),
                listener::Limits {
                    gate: Some(gate.clone()),
                    ..listener::Limits::default()
                },
                tracker.clone(),
                shutdown.clone(),
            );
        }
    }
    Ok(addrs)
}

impl BoundAddrs {
    /// The list a protocol's bound addresses go into.
    fn slot(&mut self, protocol: listener::Protocol) -> &mut Vec<std::net::SocketAddr> {
        use listener::Protocol;
        match protocol {
            Protocol::Smtp => &mut self.smtp,
            Protocol::Submission => &mut self.submission,
            Protocol::Submissions => &mut self.submissions,
            Protocol::Pop3 => &mut self.pop3,
            Protocol::Pop3s => &mut self.pop3s,
            Protocol::Imap => &mut self.imap,
            Protocol::Imaps => &mut self.imaps,
            Protocol::Http => &mut self.http,
            Protocol::Https => &mut self.https,
        }
    }
}

/// Starts delivering the outbound queue (retries, bounces) until shutdown.
///
/// # Errors
/// The client TLS configuration cannot be built.
pub fn start_queue(
    services: &Services,
    tracker: &tokio_util::task::TaskTracker,
    shutdown: &Shutdown,
) -> Result<(), ServerError> {
    let runner = Runner::new(
        services.queue.clone(),
        services.resolver.clone(),
        services.store.clone(),
        services.directory.clone(),
    )?;
    runner.spawn(tracker, shutdown);
    Ok(())
}

/// How often background expiry (greylisting state) runs.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Periodic background work: greylisting expiry, ended bans.
fn spawn_housekeeping(
    services: &Services,
    tracker: &tokio_util::task::TaskTracker,
    shutdown: &Shutdown,
) {
    let pipeline = services.pipeline.clone();
    let security = services.security.clone();
    let mut stop = shutdown.clone();
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            tokio::select! {
                _ = stop.wait() => return,
                _ = tick.tick() => {}
            }
            match pipeline.expire().await {
                Ok(c) => tracing::debug!(triplets = c.triplets, "greylist expiry"),
                Err(e) => tracing::warn!(error = %e, "greylist expiry failed"),
            }
            if let Err(e) = security.expire().await {
                tracing::warn!(error = %e, "expiry of bans failed");
            }
        }
    });
}

/// Runs the daemon until SIGTERM or SIGINT.
///
/// # Errors
/// Start-up failures ([`ServerError`]); once running it only stops on a
/// signal.
pub async fn run(config: Config) -> Result<(), ServerError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(ServerError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServerError::Signals)?;

    let services = Services::open(config).await?;
    let (trigger, shutdown) = shutdown_channel();
    let tracker = tokio_util::task::TaskTracker::new();
    start_listeners(&services, &tracker, &shutdown).await?;
    start_queue(&services, &tracker, &shutdown)?;
    spawn_housekeeping(&services, &tracker, &shutdown);
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
    tracker.close();
    if tokio::time::timeout(DRAIN_DEADLINE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("sessions still running at the shutdown deadline; closing anyway");
    }
    services.db.close().await;
    tracing::info!("stopped");
    Ok(())
}
