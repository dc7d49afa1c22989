//! The typed configuration tree: one TOML file, every key known.
//!
//! Owns: the `Config` structs (serde, `deny_unknown_fields`), their
//! defaults, humane durations, and loading/validation whose every error
//! names file, line and key (see [`load`]).
//!
//! Must not: open sockets or databases. Besides the config file, it only
//! opens the TLS certificate and key to prove they are readable; they are
//! parsed by `crate::tls` from the paths here.
//!
//! Layout: `load` (entry points, error types) → `reader` (TOML items with
//! line numbers) → `sections` (the schema) → `validate` (one value) and
//! `checks` (several keys, relative paths). [`load`] walks the TOML
//! document itself rather than going through the serde derives below,
//! because serde stops at the first error and loses line numbers; the
//! derives remain for building configs in code and tests.
//!
//! The reference for every key is `docs/configuration.md`; the annotated
//! example is `config/postel.toml`.

mod checks;
pub mod duration;
mod imap;
pub mod load;
mod mta_sts;
mod outbound;
mod pop3;
mod reader;
mod sections;
mod security;
#[cfg(test)]
mod tests;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

pub use duration::HumanDuration;
pub use imap::ImapConfig;
pub use load::{ConfigError, ConfigProblem};
pub use mta_sts::{MtaStsConfig, MtaStsMode};
pub use outbound::{Password, QueueConfig, RelayConfig, RelayTls};
pub use pop3::Pop3Config;
pub use security::{LimitsConfig, SecurityConfig};

/// The whole configuration, as loaded from one file. `Default` is the
/// configuration of an empty file (with an empty `source`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Identity and data location.
    #[serde(default)]
    pub server: ServerConfig,
    /// Account database.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Certificates.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Listener addresses per protocol.
    #[serde(default)]
    pub listen: ListenConfig,
    /// Resolvers.
    #[serde(default)]
    pub dns: DnsConfig,
    /// SMTP limits and relay rules.
    #[serde(default)]
    pub smtp: SmtpConfig,
    /// Greylisting stage.
    #[serde(default)]
    pub greylist: GreylistConfig,
    /// Account lookup rules.
    #[serde(default)]
    pub directory: DirectoryConfig,
    /// Inbound sender authentication (SPF, DKIM, DMARC) and client checks.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Message submission (587/465) policy.
    #[serde(default)]
    pub submission: SubmissionConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Outbound queue: retries, expiry, concurrency.
    #[serde(default)]
    pub queue: QueueConfig,
    /// Outbound route: a smarthost, or direct MX delivery.
    #[serde(default)]
    pub relay: RelayConfig,
    /// IMAP sessions: limits and timeouts.
    #[serde(default)]
    pub imap: ImapConfig,
    /// POP3 sessions: exclusive access, timeouts.
    #[serde(default)]
    pub pop3: Pop3Config,
    /// The MTA-STS policy served over HTTPS (RFC 8461).
    #[serde(default)]
    pub mta_sts: MtaStsConfig,
    /// Failed logins and bans.
    #[serde(default)]
    pub security: SecurityConfig,
    /// Connection and sending-rate limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The file this was loaded from (not a TOML key).
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Banner/EHLO name; default: the system hostname.
    pub hostname: String,
    /// Maildirs, queue, generated keys/certs, SQLite file. A relative
    /// path in the file is made absolute against the working directory
    /// at load time.
    pub data_dir: PathBuf,
    /// The user to run as after binding the listeners, when started as
    /// root; default: stay as started.
    pub user: Option<String>,
    /// The group to run as; default: `user`'s primary group.
    pub group: Option<String>,
    /// How long SIGTERM waits for messages being received to finish
    /// before refusing them with `421`; default 30 s.
    pub shutdown_timeout: HumanDuration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: system_hostname(),
            data_dir: PathBuf::from("/var/lib/postel"),
            user: None,
            group: None,
            shutdown_timeout: HumanDuration::from_secs(30),
        }
    }
}

/// The machine's hostname, or `localhost` when it cannot be read.
pub fn system_hostname() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `[database]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`; default `sqlite://<data_dir>/postel.db`.
    pub url: Option<String>,
}

/// `[tls]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain. Both `cert` and `key` absent: self-signed.
    /// Load checks both or neither are set and that they are readable;
    /// relative paths are made absolute against the working directory.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

/// `[listen]`: each a list of socket addresses; empty disables it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenConfig {
    /// Inbound MTA (25, STARTTLS).
    pub smtp: Vec<SocketAddr>,
    /// Submission (587, STARTTLS).
    pub submission: Vec<SocketAddr>,
    /// Submission over implicit TLS (465).
    pub submissions: Vec<SocketAddr>,
    /// IMAP (143, STARTTLS).
    pub imap: Vec<SocketAddr>,
    /// IMAP over implicit TLS (993).
    pub imaps: Vec<SocketAddr>,
    /// POP3 (110, STLS).
    pub pop3: Vec<SocketAddr>,
    /// POP3 over implicit TLS (995).
    pub pop3s: Vec<SocketAddr>,
    /// HTTP: autoconfiguration, MTA-STS, health and metrics (80); off by
    /// default.
    pub http: Vec<SocketAddr>,
    /// The same over implicit TLS (443); off by default.
    pub https: Vec<SocketAddr>,
}

fn both(port: u16) -> Vec<SocketAddr> {
    vec![
        SocketAddr::from(([0, 0, 0, 0], port)),
        SocketAddr::from(([0u16; 8], port)),
    ]
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            smtp: both(25),
            submission: both(587),
            submissions: both(465),
            imap: both(143),
            imaps: both(993),
            pop3: both(110),
            pop3s: both(995),
            http: Vec::new(),
            https: Vec::new(),
        }
    }
}

/// `[dns]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Resolvers as `ip:port` (a bare IP in the file means port 53);
    /// empty means `/etc/resolv.conf`.
    pub nameservers: Vec<SocketAddr>,
}

/// `[smtp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Largest message accepted, in octets.
    pub max_message_size: u64,
    /// Most recipients per transaction.
    pub max_recipients: usize,
    /// Clients that may relay without AUTH and skip greylisting.
    pub relay_networks: Vec<IpNet>,
    /// How long a session waits for the next command (RFC 5321 §4.5.3.2.7).
    pub command_timeout: HumanDuration,
    /// How long a session waits for more message data (§4.5.3.2.5).
    pub data_timeout: HumanDuration,
    /// Errors after which each error reply is delayed by `error_delay`.
    pub soft_error_limit: u32,
    /// Errors after which the session is closed with 421.
    pub hard_error_limit: u32,
    /// The delay after each error beyond `soft_error_limit`.
    pub error_delay: HumanDuration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            max_message_size: 52_428_800,
            max_recipients: 100,
            relay_networks: vec![
                "127.0.0.0/8".parse().unwrap_or_default(),
                "::1/128".parse().unwrap_or_default(),
            ],
            command_timeout: HumanDuration::from_secs(300),
            data_timeout: HumanDuration::from_secs(180),
            soft_error_limit: 10,
            hard_error_limit: 20,
            error_delay: HumanDuration::from_secs(1),
        }
    }
}

/// `[greylist]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GreylistConfig {
    /// Whether the stage runs at all.
    pub enabled: bool,
    /// How long a new triplet is refused.
    pub delay: HumanDuration,
    /// Triplets unseen this long are forgotten.
    pub max_age: HumanDuration,
    /// A client network that passed this many times is no longer delayed;
    /// 0 turns this automatic allow-listing off.
    pub auto_allow_after: u32,
    /// Client networks never greylisted.
    pub allow_networks: Vec<IpNet>,
    /// Sender domains never greylisted (when SPF passes for them).
    pub allow_domains: Vec<String>,
}

impl Default for GreylistConfig {
    fn default() -> Self {
        GreylistConfig {
            enabled: true,
            delay: HumanDuration::from_secs(300),
            max_age: HumanDuration::from_secs(35 * 86_400),
            auto_allow_after: 5,
            allow_networks: Vec::new(),
            allow_domains: Vec::new(),
        }
    }
}

/// `[directory]`: how addresses map to accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// Compare local parts case-sensitively (domains never are).
    pub case_sensitive_local_part: bool,
    /// Sub-address separator (`alice+tag@` → `alice@`); empty disables.
    pub plus_separator: String,
    /// Where `postmaster@` of every local domain goes when no user or
    /// alias of that name exists; empty: the first user of `server.hostname`'s
    /// domain is not guessed, `postmaster@` must then exist explicitly.
    pub postmaster: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            case_sensitive_local_part: false,
            plus_separator: "+".to_string(),
            postmaster: String::new(),
        }
    }
}

/// Which envelope senders an authenticated user may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderPolicy {
    /// Their own address, its sub-addresses, and aliases that deliver to them.
    #[default]
    Owned,
    /// Any address in their own domain.
    Domain,
    /// Any address (trusted users only).
    Any,
}

impl SenderPolicy {
    /// The name used in the configuration, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            SenderPolicy::Owned => "owned",
            SenderPolicy::Domain => "domain",
            SenderPolicy::Any => "any",
        }
    }

    /// Parses `"owned"`, `"domain"` or `"any"`.
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(s: &str) -> Result<SenderPolicy, String> {
        match s {
            "owned" => Ok(SenderPolicy::Owned),
            "domain" => Ok(SenderPolicy::Domain),
            "any" => Ok(SenderPolicy::Any),
            _ => Err(format!(
                "{s:?} is not one of \"owned\", \"domain\", \"any\""
            )),
        }
    }
}

impl std::fmt::Display for SenderPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[submission]`: what authenticated clients may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubmissionConfig {
    /// Which MAIL FROM addresses a user may use.
    pub sender_policy: SenderPolicy,
    /// Refuse (`553 5.7.1`) a message whose header `From:` the user may not use.
    pub check_header_from: bool,
    /// Leave the client's IP address out of the `Received:` header.
    pub hide_client_ip: bool,
    /// Allow AUTH without TLS for clients on loopback (127.0.0.0/8, ::1).
    pub allow_plaintext_auth_on_loopback: bool,
}

impl Default for SubmissionConfig {
    fn default() -> Self {
        SubmissionConfig {
            sender_policy: SenderPolicy::Owned,
            check_header_from: true,
            hide_client_ip: false,
            allow_plaintext_auth_on_loopback: false,
        }
    }
}

/// What a failing check does to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailAction {
    /// Refuse it with a permanent error.
    Reject,
    /// Deliver it to the Junk folder.
    Junk,
    /// Only record the result in Authentication-Results.
    #[default]
    Mark,
}

/// Whether and how the client's reverse DNS is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReverseDns {
    /// No PTR lookup; Received says `unknown`.
    Off,
    /// Look up PTR and confirm it forwards (FCrDNS); the name goes into
    /// Received and `iprev=` into Authentication-Results.
    #[default]
    Check,
    /// As `check`, and refuse clients without a forward-confirmed name.
    Require,
}

/// `[auth]`: inbound sender authentication and client checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// SPF `fail` (`-all`) when the From domain publishes no DMARC record:
    /// `reject` (`550 5.7.23`), `junk` or `mark`.
    pub spf_fail: FailAction,
    /// DMARC `fail` under `p=reject`: normally `reject` (`550 5.7.1`);
    /// `junk` or `mark` to be lenient.
    pub dmarc_reject: FailAction,
    /// DMARC `fail` under `p=quarantine`: normally `junk`.
    pub dmarc_quarantine: FailAction,
    /// DNS blocklist zones queried for every client (`zen.spamhaus.org`);
    /// a listed client is refused with `554 5.7.1`.
    pub dnsbl: Vec<String>,
    /// Reverse-DNS check of the client: `off`, `check` or `require`.
    pub reverse_dns: ReverseDns,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            spf_fail: FailAction::Mark,
            dmarc_reject: FailAction::Reject,
            dmarc_quarantine: FailAction::Junk,
            dnsbl: Vec::new(),
            reverse_dns: ReverseDns::Check,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `RUST_LOG`-style filter (`info`, `postel=debug,sqlx=warn`);
    /// the `RUST_LOG` environment variable wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_string(),
        }
    }
}

impl Config {
    /// The database URL, defaulting to a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.server.data_dir.join("postel.db").display()
            ),
        }
    }

    /// The outbound spool: `data_dir/queue`.
    pub fn queue_dir(&self) -> PathBuf {
        self.server.data_dir.join("queue")
    }

    /// Root of all Maildirs: `data_dir/mail`.
    pub fn mail_root(&self) -> PathBuf {
        self.server.data_dir.join("mail")
    }

    /// The file this configuration came from.
    pub fn source(&self) -> &Path {
        &self.source
    }
}
