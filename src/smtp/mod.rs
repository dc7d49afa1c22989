//! The SMTP server sessions: the inbound MTA on `listen.smtp` (RFC 5321,
//! 3207, 6531, 3030, 2920), with submission as a mode of the same session
//! in a later step.
//!
//! Owns: driving the sans-IO codec of [`crate::protocol::smtp`] over a
//! connection (read with timeouts, pipelined replies in order, STARTTLS
//! with the plaintext buffer discarded), the transaction (sender,
//! recipients resolved through the directory, relay rules), the inbound
//! checks of [`crate::pipeline`] and durable delivery through
//! [`crate::delivery`]. `250` to DATA is sent only after every copy is
//! fsync'd.
//!
//! Files: `session.rs` (the loop and I/O), `commands.rs` (HELO/EHLO,
//! MAIL, RSET, STARTTLS and the small verbs), `rcpt.rs` (recipients and
//! relaying), `data.rs` (DATA, BDAT, end of message).

mod auth;
mod commands;
mod data;
mod rcpt;
mod session;
mod submission;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

pub use session::Session;

use crate::config::{Config, SubmissionConfig};
use crate::dns::cache::TtlCache;
use crate::server::Services;
use crate::server::listener::Handler;

/// What a listener's sessions are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Mail from the Internet (port 25): no AUTH, inbound checks on.
    Mta,
    /// Message submission (587 with STARTTLS, 465 with implicit TLS,
    /// RFC 6409/8314): AUTH required, sender policy, no inbound checks.
    Submission,
}

/// Settings of the SMTP sessions, taken from the config once.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Our name in the greeting, EHLO and `Received:`.
    pub hostname: String,
    /// What this listener is for.
    pub mode: Mode,
    /// Largest message, in octets.
    pub max_message_size: u64,
    /// Most recipients per transaction.
    pub max_recipients: usize,
    /// Clients that may relay without AUTH.
    pub relay_networks: Vec<IpNet>,
    /// How long to wait for a command (RFC 5321 §4.5.3.2.7: 5 minutes).
    pub command_timeout: Duration,
    /// How long to wait for more message data (§4.5.3.2.5: 3 minutes).
    pub data_timeout: Duration,
    /// Errors after which each error reply is delayed (tarpit).
    pub soft_error_limit: u32,
    /// Errors after which the session is closed with `421`.
    pub hard_error_limit: u32,
    /// The delay after an error beyond the soft limit.
    pub error_delay: Duration,
    /// What submitted mail may say (submission mode).
    pub submission: SubmissionConfig,
    /// Recent directory answers for local recipients, shared by the
    /// listener's sessions (see `rcpt.rs`).
    pub recipients: Arc<RecipientCache>,
}

/// A local recipient's accounts (with quotas) and remote forwards.
pub type RecipientRoute = (Vec<(String, u64)>, Vec<String>);

/// Recent directory answers by RCPT address.
pub type RecipientCache = TtlCache<String, RecipientRoute>;

/// How long a local recipient's directory answer is reused: short, so
/// that removing or disabling an address takes effect almost at once,
/// long enough that a burst of mail to one address costs one lookup.
pub const RECIPIENT_CACHE_TTL: Duration = Duration::from_secs(1);

/// Most recipients remembered per listener.
const RECIPIENT_CACHE_SIZE: usize = 10_000;

impl SmtpSettings {
    /// Settings for `mode` from the configuration.
    pub fn from_config(config: &Config, mode: Mode) -> SmtpSettings {
        let smtp = &config.smtp;
        SmtpSettings {
            hostname: config.server.hostname.clone(),
            mode,
            max_message_size: smtp.max_message_size,
            max_recipients: smtp.max_recipients,
            relay_networks: smtp.relay_networks.clone(),
            command_timeout: smtp.command_timeout.get(),
            data_timeout: smtp.data_timeout.get(),
            soft_error_limit: smtp.soft_error_limit,
            hard_error_limit: smtp.hard_error_limit,
            error_delay: smtp.error_delay.get(),
            submission: config.submission.clone(),
            recipients: Arc::new(RecipientCache::new(RECIPIENT_CACHE_SIZE)),
        }
    }

    /// Whether `ip` may relay without authenticating.
    pub fn is_relay_client(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.relay_networks.iter().any(|n| n.contains(&ip))
    }
}

/// The connection handler for an SMTP listener in `mode`.
pub fn handler(services: Services, mode: Mode) -> Handler {
    let settings = Arc::new(SmtpSettings::from_config(&services.config, mode));
    Arc::new(move |conn, shutdown| {
        let session = Session::new(
            conn.stream,
            conn.peer,
            services.clone(),
            settings.clone(),
            shutdown,
        );
        Box::pin(session.run())
    })
}
