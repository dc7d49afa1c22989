//! # Postel
//!
//! An all-in-one mail server: inbound SMTP, submission, IMAP and POP3 over
//! one Maildir store and one SQL account database.
//!
//! ## Module map
//! - [`config`]: the typed TOML tree; every error names file, line and key.
//! - [`db`]: the sqlx pool (SQLite default, PostgreSQL), migrations,
//!   write transactions that never fail with "database is locked".
//! - [`directory`]: accounts: domains, users, aliases, quotas, argon2.
//! - [`store`]: Maildir++ folders and the message index (UIDs, flags,
//!   modseq), two-phase durable delivery, change notification.
//! - [`delivery`]: all-or-nothing durable delivery to local recipients.
//! - [`queue`]: the durable outbound queue, SMTP client, bounces (DSN).
//! - [`mutf7`]: IMAP's modified UTF-7, used for folder names on disk.
//! - [`tls`]: rustls server configuration, self-signed fallback.
//! - [`protocol`]: sans-IO codecs (SMTP today), unit-tested without sockets.
//! - [`dns`]: the resolver and the SPF/DKIM/DMARC authenticator.
//! - [`dnsrecords`]: the DNS records a domain needs (`postel dns`) and
//!   checking that they are published (`postel dns check`).
//! - [`pipeline`]: inbound checks as stages (SPF, DKIM, DMARC, greylisting).
//! - [`net`]: plain/TLS streams with in-place upgrade, bounded reads.
//! - [`smtp`]: SMTP sessions (inbound MTA) over the codec, pipeline and delivery.
//! - [`imap`]: the IMAP server: sessions, the selected mailbox's view, commands.
//! - [`pop3`]: the POP3 server over the store's INBOX.
//! - [`security`]: abuse protection: failed logins, bans, connection and sending limits.
//! - [`server`]: the daemon's life cycle (`postel serve`).
//! - [`http`]: the optional HTTP listener: client autoconfiguration,
//!   MTA-STS policy, `/healthz`, Prometheus `/metrics`.
//! - [`metrics`]: process-wide counters and histograms (atomics).
//! - [`telemetry`]: tracing setup.
//!
//! Dependencies point one way: protocols → delivery/queue → store and
//! directory → db. `store` and `directory` never see protocol types.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod db;
pub mod delivery;
pub mod directory;
pub mod dkim;
pub mod dns;
pub mod dnsrecords;
pub mod http;
pub mod imap;
pub mod metrics;
pub mod mutf7;
pub mod net;
pub mod pipeline;
pub mod pop3;
pub mod protocol;
pub mod queue;
pub mod security;
pub mod server;
pub mod smtp;
pub mod store;
pub mod telemetry;
pub mod tls;
