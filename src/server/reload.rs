//! The settings in force, and swapping them on SIGHUP without dropping a
//! connection.
//!
//! A [`Live`] holds the current *generation*: a [`Services`] built from
//! one configuration, with the protocol handlers made from it. Listeners
//! do not keep a handler of their own; they ask [`Live::handler`]'s
//! wrapper, which picks the generation in force when a connection
//! arrives. A session keeps the `Services` it started with until it ends,
//! so a reload never changes the rules in the middle of a conversation;
//! the next connection gets the new ones.
//!
//! Certificates are swapped in place: every listener and STARTTLS share
//! one `rustls::ServerConfig` whose certificate resolver ([`LiveCerts`])
//! points at the resolver built from the newest `[tls]` section, so a
//! renewed certificate is served from the next handshake on.
//!
//! A configuration that does not load (any FILE:LINE: KEY problem) or
//! whose certificate cannot be read is refused as a whole and the old
//! one stays. Keys that need a restart (listener addresses, the data
//! directory, the database, the process user, DNS servers, the queue and
//! relay — the queue runner and the store were made from them — the
//! log filter, installed once, and `[security]`/`[limits]`, enforced by
//! the listeners' gates) keep their old values, with a warning
//! naming them.
//!
//! Must not: re-open the database or the store; shared state (login
//! throttle, POP3 maildrop locks, the queue) carries over unchanged.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::Services;
use super::listener::{Handler, Protocol};
use crate::config::{Config, ConfigError};
use crate::directory::Directory;
use crate::pipeline::{Pipeline, PipelineSettings};
use crate::tls::TlsError;

/// Why a reload was refused (the old configuration stays in force).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file does not load; every problem names FILE:LINE: KEY.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// What a successful reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// Keys whose new value waits for a restart (old value kept).
    pub restart_needed: Vec<&'static str>,
}

/// The settings in force for new connections; cheap to clone.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Arc<Generation>>,
    certs: Arc<LiveCerts>,
    pop3_locks: crate::pop3::Locks,
    http_ports: crate::http::Ports,
    sessions: AtomicUsize,
}

/// One configuration's services and the handlers made from them.
struct Generation {
    services: Services,
    smtp: Handler,
    submission: Handler,
    imap: Handler,
    pop3: Handler,
    http: Handler,
}

impl Generation {
    fn new(
        services: Services,
        locks: &crate::pop3::Locks,
        http_ports: crate::http::Ports,
    ) -> Generation {
        use crate::smtp::Mode;
        Generation {
            smtp: crate::smtp::handler(services.clone(), Mode::Mta),
            submission: crate::smtp::handler(services.clone(), Mode::Submission),
            imap: crate::imap::handler(services.clone()),
            pop3: crate::pop3::handler(services.clone(), locks.clone()),
            http: crate::http::handler(services.clone(), http_ports),
            services,
        }
    }

    fn handler(&self, protocol: Protocol) -> &Handler {
        match protocol {
            Protocol::Smtp => &self.smtp,
            Protocol::Submission | Protocol::Submissions => &self.submission,
            Protocol::Imap | Protocol::Imaps => &self.imap,
            Protocol::Pop3 | Protocol::Pop3s => &self.pop3,
            Protocol::Http | Protocol::Https => &self.http,
        }
    }
}

impl Live {
    /// Starts with `services`; their TLS configuration gets a certificate
    /// resolver that reloads can repoint. `http_ports` are the mail ports
    /// the HTTP pages advertise (those actually bound).
    pub fn new(mut services: Services, http_ports: crate::http::Ports) -> Live {
        let certs = Arc::new(LiveCerts::new(services.tls.cert_resolver.clone()));
        let mut tls = (*services.tls).clone();
        tls.cert_resolver = certs.clone();
        services.tls = Arc::new(tls);
        let pop3_locks = crate::pop3::Locks::default();
        let generation = Generation::new(services, &pop3_locks, http_ports);
        Live {
            inner: Arc::new(Inner {
                current: RwLock::new(Arc::new(generation)),
                certs,
                pop3_locks,
                http_ports,
                sessions: AtomicUsize::new(0),
            }),
        }
    }

    fn current(&self) -> Arc<Generation> {
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The services in force now.
    pub fn services(&self) -> Services {
        self.current().services.clone()
    }

    /// The TLS configuration of every listener (its certificates follow
    /// reloads).
    pub fn tls(&self) -> Arc<rustls::ServerConfig> {
        self.current().services.tls.clone()
    }

    /// Sessions running now, all generations together.
    pub fn sessions(&self) -> usize {
        self.inner.sessions.load(Ordering::Relaxed)
    }

    /// The handler for `protocol`'s listeners: each connection runs the
    /// handler of the generation in force when it was accepted.
    pub fn handler(&self, protocol: Protocol) -> Handler {
        let inner = self.inner.clone();
        Arc::new(move |conn, shutdown| {
            let live = Live {
                inner: inner.clone(),
            };
            let generation = live.current();
            let session = (generation.handler(protocol))(conn, shutdown);
            let counted = SessionCount::enter(inner.clone());
            Box::pin(async move {
                let _counted = counted;
                session.await;
            })
        })
    }

    /// Reads the configuration file again (`config.source` of the one in
    /// force) and, when it is valid, serves new connections with it.
    ///
    /// # Errors
    /// The file does not load or its certificate cannot be used; nothing
    /// changed.
    pub fn reload(&self) -> Result<Reloaded, ReloadError> {
        let old = self.current();
        let old_config = &old.services.config;
        let mut config = crate::config::load::load(&old_config.source)?;
        let restart_needed = keep_fixed(old_config, &mut config);
        let fresh_tls = crate::tls::server_config(&config)?;
        let services = rebuild(&old.services, config);
        let generation = Generation::new(services, &self.inner.pop3_locks, self.inner.http_ports);
        self.inner.certs.set(fresh_tls.cert_resolver.clone());
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(generation);
        Ok(Reloaded { restart_needed })
    }
}

/// The services for `config`, sharing everything stateful with `old`.
fn rebuild(old: &Services, config: Config) -> Services {
    let directory = Directory::new(old.db.clone(), config.directory.clone());
    let settings = PipelineSettings::from_config(&config, &config.auth);
    let pipeline = Pipeline::new(settings, old.db.clone(), old.resolver.clone());
    Services {
        config: Arc::new(config),
        directory,
        pipeline,
        ..old.clone()
    }
}

/// Puts the old value back into `new` for every key that only a restart
/// can change, and names those that differed.
fn keep_fixed(old: &Config, new: &mut Config) -> Vec<&'static str> {
    fn keep<T: Debug + Clone>(name: &'static str, old: &T, new: &mut T, out: &mut Vec<&str>) {
        if format!("{old:?}") != format!("{new:?}") {
            *new = old.clone();
            out.push(name);
        }
    }
    let mut out = Vec::new();
    let s = &old.server;
    keep("listen", &old.listen, &mut new.listen, &mut out);
    keep(
        "server.hostname",
        &s.hostname,
        &mut new.server.hostname,
        &mut out,
    );
    keep(
        "server.data_dir",
        &s.data_dir,
        &mut new.server.data_dir,
        &mut out,
    );
    keep("server.user", &s.user, &mut new.server.user, &mut out);
    keep("server.group", &s.group, &mut new.server.group, &mut out);
    keep("database", &old.database, &mut new.database, &mut out);
    keep("dns", &old.dns, &mut new.dns, &mut out);
    keep("queue", &old.queue, &mut new.queue, &mut out);
    keep("relay", &old.relay, &mut new.relay, &mut out);
    keep("log", &old.log, &mut new.log, &mut out);
    // Bans and connection limits are enforced by per-listener gates made
    // once, at start.
    keep("security", &old.security, &mut new.security, &mut out);
    keep("limits", &old.limits, &mut new.limits, &mut out);
    out
}

/// Counts a running session until dropped.
struct SessionCount(Arc<Inner>);

impl SessionCount {
    fn enter(inner: Arc<Inner>) -> SessionCount {
        inner.sessions.fetch_add(1, Ordering::Relaxed);
        SessionCount(inner)
    }
}

impl Drop for SessionCount {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A certificate resolver that can be repointed: every handshake asks
/// the resolver of the newest `[tls]` section.
#[derive(Debug)]
pub struct LiveCerts {
    current: RwLock<Arc<dyn ResolvesServerCert>>,
}

impl LiveCerts {
    fn new(first: Arc<dyn ResolvesServerCert>) -> LiveCerts {
        LiveCerts {
            current: RwLock::new(first),
        }
    }

    fn set(&self, next: Arc<dyn ResolvesServerCert>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next;
    }
}

impl ResolvesServerCert for LiveCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        current.resolve(hello)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        crate::config::load::parse(std::path::Path::new("t.toml"), text).expect("valid config")
    }

    #[test]
    fn restart_only_keys_keep_their_old_values() {
        let old = config("[server]\ndata_dir = \"/srv/a\"\n[smtp]\nmax_message_size = 1000\n");
        let mut new = config(
            "[server]\ndata_dir = \"/srv/b\"\n[smtp]\nmax_message_size = 2000\n\
             [listen]\nsmtp = [\"127.0.0.1:2525\"]\n",
        );
        let restart = keep_fixed(&old, &mut new);
        assert_eq!(restart, vec!["listen", "server.data_dir"]);
        assert_eq!(new.server.data_dir, old.server.data_dir);
        assert_eq!(format!("{:?}", new.listen), format!("{:?}", old.listen));
        assert_eq!(new.smtp.max_message_size, 2000, "reloadable keys change");
    }

    #[test]
    fn an_unchanged_file_needs_no_restart() {
        let text = "[server]\nhostname = \"mx.example.org\"\n";
        let old = config(text);
        let mut new = config(text);
        assert!(keep_fixed(&old, &mut new).is_empty());
    }
}
