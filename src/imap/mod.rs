//! The IMAP server (RFC 3501 IMAP4rev1 and the extensions listed in
//! [`caps`]) over the shared store.
//!
//! Owns: the session ([`Session`]: NotAuthenticated → Authenticated →
//! Selected → Logout), the selected mailbox as the client knows it
//! ([`view::MailboxView`]: sequence numbers, ghosts of expunged messages,
//! pending EXISTS/EXPUNGE/FETCH), IMAP's own SQL state ([`tables`]:
//! subscriptions and `\Recent` marks), and the commands, one file per
//! family in `op/`. Errors of every layer become responses in one place,
//! [`error`].
//!
//! Must not: parse or print protocol syntax (that is
//! [`crate::protocol::imap`], sans-IO), know Maildir file names (that is
//! [`crate::store`]), or parse MIME itself (that is [`mime`]).
//!
//! # Streaming
//! Responses are written to a buffer that is flushed whenever it passes
//! [`session::FLUSH_AT`] octets, and message bodies larger than that are
//! written straight from the message read for that one response: a FETCH
//! of a whole mailbox never holds more than one message in memory.
//!
//! # Updates from elsewhere
//! Each session subscribes to its account's store events. Between
//! commands nothing is sent (RFC 3501 §7.4.1 forbids untagged EXPUNGE
//! when no command is in progress); before each tagged response the view
//! is synced with the store when an event arrived or the last sync is
//! older than [`session::SYNC_EVERY`] (changes by other processes), and
//! what changed is told — EXPUNGE only where RFC 3501 allows it
//! (`updates.rs`). IDLE wakes on the event itself.
//!
//! # `\Recent`
//! Set in exactly one session: SELECT claims every UID up to the newest
//! in one write transaction on `imap_recent` ([`tables::claim_recent`]);
//! EXAMINE claims nothing. See `docs/architecture.md` for the reasons
//! behind these choices.

pub mod caps;
pub mod error;
pub mod mime;
pub mod names;
mod op;
pub mod session;
pub mod tables;
mod updates;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

pub use session::Session;

use crate::protocol::imap::Limits;
use crate::server::Services;
use crate::server::listener::Handler;

/// Settings of the IMAP sessions, from `[imap]`.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    /// Our host name, in the greeting.
    pub hostname: String,
    /// Autologout after this much silence (RFC 3501 §5.4: ≥ 30 minutes).
    pub idle_timeout: Duration,
    /// Allow LOGIN and AUTHENTICATE without TLS from loopback.
    pub allow_plaintext_on_loopback: bool,
    /// Input limits of the codec.
    pub limits: Limits,
}

impl ImapSettings {
    /// Settings from the configuration.
    pub fn from_config(config: &crate::config::Config) -> ImapSettings {
        let imap = &config.imap;
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        ImapSettings {
            hostname: config.server.hostname.clone(),
            idle_timeout: imap.idle_timeout.get(),
            allow_plaintext_on_loopback: imap.allow_plaintext_auth_on_loopback,
            limits: Limits {
                line: imap.max_line_length,
                literal: clamp(imap.max_literal_size),
                append: clamp(imap.max_append_size),
                ..Limits::default()
            },
        }
    }
}

/// The connection handler for the IMAP listeners.
pub fn handler(services: Services) -> Handler {
    let settings = Arc::new(ImapSettings::from_config(&services.config));
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
