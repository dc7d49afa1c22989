//! The daemon's life cycle (`postel serve`).
//!
//! Owns: opening the shared services (database, directory, store, TLS)
//! from a loaded [`Config`], binding listeners then dropping privileges
//! (`privileges`), telling systemd how we are (`notify`), reloading on
//! SIGHUP (`reload`, `signals`) and draining on SIGTERM/SIGINT
//! (`shutdown`). Protocol listeners plug in here: each gets its
//! protocol's handler from [`Live`] and a [`Shutdown`] handle.
//!
//! Must not: parse protocols or hold global state; everything a listener
//! needs travels in [`Services`].

use std::sync::Arc;

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
mod notify;
mod privileges;
pub mod reload;
mod shutdown;
mod signals;

pub use privileges::PrivilegeError;
pub use reload::{Live, ReloadError};
pub use shutdown::{Shutdown, ShutdownTrigger, shutdown_channel};

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
    /// Dropping privileges to `server.user`/`server.group` failed.
    #[error(transparent)]
    Privileges(#[from] PrivilegeError),
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

/// Binds every configured listener and starts accepting.
///
/// # Errors
/// An address that cannot be bound.
pub async fn start_listeners(
    services: &Services,
    tracker: &tokio_util::task::TaskTracker,
    shutdown: &Shutdown,
) -> Result<BoundAddrs, ServerError> {
    let bound = bind_listeners(&services.config.listen).await?;
    let addrs = bound_addrs(&bound)?;
    let live = Live::new(services.clone(), crate::http::Ports::from_bound(&addrs));
    serve_listeners(bound, &live, tracker, shutdown);
    Ok(addrs)
}

/// Binds every configured listener without accepting yet: `serve` binds
/// while it may still be root, before dropping privileges.
///
/// # Errors
/// An address that cannot be bound.
pub async fn bind_listeners(
    listen: &crate::config::ListenConfig,
) -> Result<Vec<listener::Bound>, ServerError> {
    use listener::Protocol;
    let plan = [
        (Protocol::Smtp, &listen.smtp),
        (Protocol::Submission, &listen.submission),
        (Protocol::Submissions, &listen.submissions),
        (Protocol::Pop3, &listen.pop3),
        (Protocol::Pop3s, &listen.pop3s),
        (Protocol::Imap, &listen.imap),
        (Protocol::Imaps, &listen.imaps),
        (Protocol::Http, &listen.http),
        (Protocol::Https, &listen.https),
    ];
    let mut all = Vec::new();
    for (protocol, list) in plan {
        let bound = listener::bind(protocol, list)
            .await
            .map_err(ServerError::Bind)?;
        all.extend(bound);
    }
    Ok(all)
}

/// The addresses `bound` listens on, per protocol.
///
/// # Errors
/// A socket whose address cannot be read.
pub fn bound_addrs(bound: &[listener::Bound]) -> Result<BoundAddrs, ServerError> {
    let mut addrs = BoundAddrs::default();
    for b in bound {
        let addr = b.listener.local_addr().map_err(ServerError::Bind)?;
        addrs.slot(b.protocol).push(addr);
    }
    Ok(addrs)
}

/// Starts accepting on `bound`; each connection is served with the
/// settings and certificates `live` holds when it arrives, behind its
/// listener's [`Gate`](crate::security::Gate) (one per `[listen]` key,
/// shared by its sockets).
///
/// [`bound_addrs`] tells where they listen.
pub fn serve_listeners(
    bound: Vec<listener::Bound>,
    live: &Live,
    tracker: &tokio_util::task::TaskTracker,
    shutdown: &Shutdown,
) {
    let security = live.services().security;
    let mut gates = std::collections::HashMap::new();
    for bound in bound {
        let protocol = bound.protocol;
        if let Ok(addr) = bound.listener.local_addr() {
            tracing::info!(%addr, listener = protocol.name(), "listening");
        }
        let gate = gates
            .entry(protocol)
            .or_insert_with(|| crate::security::Gate::new(protocol, &security))
            .clone();
        listener::spawn(
            bound,
            live.tls(),
            live.handler(protocol),
            listener::Limits {
                gate: Some(gate),
                ..listener::Limits::default()
            },
            tracker.clone(),
            shutdown.clone(),
        );
    }
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

/// How long sessions still receiving a message get after the drain
/// deadline to send their `421` and close.
const ABORT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the
/// configuration ([`Live::reload`]).
///
/// Order matters: listeners are bound first (ports below 1024 need root),
/// then privileges are dropped to `server.user`/`server.group`, and only
/// then are the data directory, database and certificates opened.
///
/// # Errors
/// Start-up failures ([`ServerError`]); once running it only stops on a
/// signal.
pub async fn run(config: Config) -> Result<(), ServerError> {
    let mut signals = signals::Signals::install()?;
    let bound = bind_listeners(&config.listen).await?;
    privileges::drop_privileges(&config.server)?;
    let services = Services::open(config).await?;
    let (trigger, shutdown) = shutdown_channel();
    let tracker = tokio_util::task::TaskTracker::new();
    // The HTTP pages advertise the ports the mail listeners were bound to.
    let ports = crate::http::Ports::from_bound(&bound_addrs(&bound)?);
    let live = Live::new(services.clone(), ports);
    serve_listeners(bound, &live, &tracker, &shutdown);
    start_queue(&services, &tracker, &shutdown)?;
    spawn_housekeeping(&services, &tracker, &shutdown);
    tracing::info!(
        hostname = %services.config.server.hostname,
        data_dir = %services.config.server.data_dir.display(),
        database = services.db.backend_name(),
        "ready"
    );
    notify::ready(&notify::status(&live, &services.queue).await);

    let which = signals.serve(&live, &services.queue).await;
    tracing::info!(signal = which, "shutting down");
    notify::stopping();
    drain(&live, trigger, &tracker).await;
    services.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Stops accepting and closes idle sessions, lets messages in progress
/// finish until `server.shutdown_timeout` (of the configuration in force),
/// then makes the rest give up.
async fn drain(live: &Live, trigger: ShutdownTrigger, tracker: &tokio_util::task::TaskTracker) {
    let deadline = live.services().config.server.shutdown_timeout.get();
    trigger.trigger();
    tracker.close();
    if tokio::time::timeout(deadline, tracker.wait()).await.is_ok() {
        return;
    }
    tracing::warn!(
        sessions = live.sessions(),
        "sessions still running at the shutdown deadline; refusing their messages"
    );
    trigger.abort();
    if tokio::time::timeout(ABORT_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("tasks still running after the shutdown deadline; exiting anyway");
    }
}
