//! A whole Postel on loopback for integration tests: temp data dir,
//! SQLite (or the PostgreSQL test database), a test DNS server, listeners
//! on `127.0.0.1:0`, real protocol sessions, and the outbound queue's
//! runner (remote MX hosts are played by `sink.rs` through `[relay]
//! mx_port`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use postel::directory::Secret;
use postel::server::{self, Services, ShutdownTrigger};
use tokio_util::task::TaskTracker;

use super::TestDb;
use super::dns::{TestDns, TestRecord};

/// A running server.
pub struct TestServer {
    /// Shared services (directory, store, …) of the server.
    pub services: Services,
    /// The SMTP (port 25 role) listener address.
    pub smtp: SocketAddr,
    /// The submission (587 role, STARTTLS) listener address.
    pub submission: SocketAddr,
    /// The submissions (465 role, implicit TLS) listener address.
    pub submissions: SocketAddr,
    /// The IMAP (143 role, STARTTLS) listener address.
    pub imap: SocketAddr,
    /// The IMAPS (993 role, implicit TLS) listener address.
    pub imaps: SocketAddr,
    /// The POP3 (110 role, STLS) listener address.
    pub pop3: SocketAddr,
    /// The POP3S (995 role, implicit TLS) listener address.
    pub pop3s: SocketAddr,
    /// The HTTP listener address, when enabled with [`Builder::http`].
    pub http: Option<SocketAddr>,
    /// The HTTPS listener address, when enabled with [`Builder::http`].
    pub https: Option<SocketAddr>,
    /// The test DNS server the server resolves through.
    pub dns: TestDns,
    /// The data directory.
    pub data_dir: PathBuf,
    trigger: ShutdownTrigger,
    tracker: TaskTracker,
    _db: TestDb,
}

/// Builds a [`TestServer`].
pub struct Builder {
    extra: String,
    records: Vec<TestRecord>,
    db: Option<TestDb>,
    http: bool,
}

/// A builder with greylisting off, no TLS files, no extra records.
pub fn builder() -> Builder {
    Builder {
        extra: String::new(),
        records: Vec::new(),
        db: None,
        http: false,
    }
}

impl Builder {
    /// Appends raw TOML (sections must not repeat those the builder writes:
    /// `[server]`, `[database]`, `[listen]`, `[dns]`).
    pub fn config(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self.extra.push('\n');
        self
    }

    /// DNS records the test DNS server answers.
    pub fn records(mut self, records: impl IntoIterator<Item = TestRecord>) -> Self {
        self.records.extend(records);
        self
    }

    /// Also listens for HTTP and HTTPS on `127.0.0.1:0`.
    pub fn http(mut self) -> Self {
        self.http = true;
        self
    }

    /// Uses this database instead of a fresh SQLite one.
    pub fn db(mut self, db: TestDb) -> Self {
        self.db = Some(db);
        self
    }

    /// Starts the server.
    pub async fn start(self) -> TestServer {
        let db = match self.db {
            Some(db) => db,
            None => super::sqlite().await,
        };
        let dns = TestDns::start(self.records).await;
        let data_dir = db.dir.path().join("data");
        let mut text = format!(
            "[server]\nhostname = \"mail.test\"\ndata_dir = \"{}\"\n\
             [database]\nurl = \"{}\"\n\
             [dns]\nnameservers = [\"{}\"]\n\
             [listen]\nsmtp = [\"127.0.0.1:0\"]\nsubmission = [\"127.0.0.1:0\"]\nsubmissions = [\"127.0.0.1:0\"]\n\
             imap = [\"127.0.0.1:0\"]\nimaps = [\"127.0.0.1:0\"]\npop3 = [\"127.0.0.1:0\"]\npop3s = [\"127.0.0.1:0\"]\n",
            data_dir.display(),
            db.url,
            dns.addr()
        );
        if self.http {
            text.push_str("http = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n");
        }
        if !self.extra.contains("[greylist]") {
            text.push_str("[greylist]\nenabled = false\n");
        }
        text.push_str(&self.extra);
        let path = db.dir.path().join("postel.toml");
        std::fs::write(&path, &text).expect("write config");
        let config =
            postel::config::load::load(&path).unwrap_or_else(|e| panic!("config: {e}\n{text}"));
        let services = Services::open(config).await.expect("open services");
        let (trigger, shutdown) = server::shutdown_channel();
        let tracker = TaskTracker::new();
        let bound = server::start_listeners(&services, &tracker, &shutdown)
            .await
            .expect("listen");
        server::start_queue(&services, &tracker, &shutdown).expect("outbound queue");
        let smtp = bound.smtp.first().copied().expect("an smtp listener");
        TestServer {
            services,
            smtp,
            submission: bound
                .submission
                .first()
                .copied()
                .expect("a submission listener"),
            submissions: bound
                .submissions
                .first()
                .copied()
                .expect("a submissions listener"),
            imap: bound.imap.first().copied().expect("an imap listener"),
            imaps: bound.imaps.first().copied().expect("an imaps listener"),
            pop3: bound.pop3.first().copied().expect("a pop3 listener"),
            pop3s: bound.pop3s.first().copied().expect("a pop3s listener"),
            http: bound.http.first().copied(),
            https: bound.https.first().copied(),
            dns,
            data_dir,
            trigger,
            tracker,
            _db: db,
        }
    }
}

impl TestServer {
    /// Adds a domain and users (password "password") to it.
    pub async fn with_users(&self, domain: &str, locals: &[&str]) {
        let dir = &self.services.directory;
        if !dir.is_local_domain(domain).await.expect("domain lookup") {
            dir.add_domain(domain).await.expect("add domain");
        }
        for l in locals {
            let user = dir
                .add_user(&format!("{l}@{domain}"), &Secret::new("password"), 0)
                .await
                .expect("add user");
            self.services
                .store
                .create_account(&user.address)
                .await
                .expect("create account");
        }
    }

    /// The Maildir folder directory of `account` (`""` for INBOX).
    pub fn maildir(&self, account: &str, folder: &str) -> PathBuf {
        let root = self
            .services
            .store
            .account_dir(account)
            .expect("account dir");
        if folder.is_empty() || folder == "INBOX" {
            root
        } else {
            root.join(format!(".{folder}"))
        }
    }

    /// Every message file in `new/` and `cur/` of a folder, sorted by name.
    pub fn messages(&self, account: &str, folder: &str) -> Vec<Vec<u8>> {
        let dir = self.maildir(account, folder);
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read(p).expect("read message"))
            .collect()
    }

    /// Stops accepting and waits for sessions to end.
    pub async fn stop(self) {
        self.trigger.trigger();
        self.tracker.close();
        self.tracker.wait().await;
        self.dns.stop().await;
    }
}
