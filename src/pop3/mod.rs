//! The POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, SASL RFC
//! 5034) over the shared store: the maildrop is the account's INBOX.
//!
//! Owns: the session (AUTHORIZATION → TRANSACTION → UPDATE), the
//! per-maildrop exclusive lock of RFC 1939 §8 (in this process), and the
//! mapping of POP3 onto the store: a snapshot taken at login, `\Seen`
//! set by RETR, deletions applied only by QUIT in TRANSACTION state.
//!
//! UIDL: `%08X%08X` of UID and UIDVALIDITY, Dovecot's default
//! (`pop3_uidl_format = %08Xu%08Xv`), so it is the same on every node and
//! after every restart, and clients migrating from Dovecot with an
//! adopted Maildir (same UIDs and UIDVALIDITY) download nothing again.

mod session;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use session::Session;

use crate::server::Services;
use crate::server::listener::Handler;

/// Settings of the POP3 sessions.
#[derive(Debug, Clone)]
pub struct Pop3Settings {
    /// Our host name, in the greeting.
    pub hostname: String,
    /// Idle time before the session is closed (RFC 1939 §3: ≥ 10 minutes).
    pub idle_timeout: Duration,
    /// Allow USER/PASS and AUTH without TLS for loopback clients.
    pub allow_plaintext_on_loopback: bool,
    /// Refuse a second session on the same maildrop with `[IN-USE]`.
    pub exclusive: bool,
}

impl Pop3Settings {
    /// Settings from the configuration.
    pub fn from_config(config: &crate::config::Config) -> Pop3Settings {
        Pop3Settings {
            hostname: config.server.hostname.clone(),
            idle_timeout: config.pop3.idle_timeout.get(),
            allow_plaintext_on_loopback: config.pop3.allow_plaintext_auth_on_loopback,
            exclusive: config.pop3.exclusive,
        }
    }
}

/// Maildrops with a POP3 session in TRANSACTION state, in this process.
#[derive(Debug, Clone, Default)]
pub struct Locks {
    held: Arc<Mutex<HashSet<String>>>,
}

/// A held maildrop lock; released when dropped (session end, however it
/// ends).
#[derive(Debug)]
pub struct LockGuard {
    locks: Locks,
    account: String,
}

impl Locks {
    /// Takes the lock of `account`, or `None` if a session holds it.
    pub fn try_lock(&self, account: &str) -> Option<LockGuard> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.insert(account.to_string()).then(|| LockGuard {
            locks: self.clone(),
            account: account.to_string(),
        })
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let mut held = self.locks.held.lock().unwrap_or_else(|e| e.into_inner());
        held.remove(&self.account);
    }
}

/// The connection handler for the POP3 listeners; both share `locks`.
pub fn handler(services: Services, locks: Locks) -> Handler {
    let settings = Arc::new(Pop3Settings::from_config(&services.config));
    Arc::new(move |conn, shutdown| {
        let session = Session::new(
            conn.stream,
            conn.peer,
            services.clone(),
            settings.clone(),
            locks.clone(),
            shutdown,
        );
        Box::pin(session.run())
    })
}
