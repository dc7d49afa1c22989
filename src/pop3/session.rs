//! One POP3 connection.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::{LockGuard, Locks, Pop3Settings};
use crate::directory::{Secret, User};
use crate::net::{self, ReadEnd, Transport};
use crate::protocol::pop3::{self, Code, Command, MultiLine, ParseError};
use crate::protocol::sasl::{Credentials, Exchange, Mechanism, Step};
use crate::protocol::smtp::{LineLimits, LineReader};
use crate::server::{Services, Shutdown};

const INBOX: &str = "INBOX";

/// One message of the maildrop as seen at login.
#[derive(Debug, Clone)]
struct Msg {
    uid: u32,
    size: u64,
    deleted: bool,
}

/// TRANSACTION state: the snapshot taken at login.
struct Maildrop {
    account: String,
    uidvalidity: u32,
    messages: Vec<Msg>,
    /// UIDs sent by RETR; they get `\Seen` at QUIT (as Dovecot does), in
    /// one store call instead of one per message.
    retrieved: std::collections::BTreeSet<u32>,
    _lock: Option<LockGuard>,
}

enum State {
    Authorization { user: Option<String> },
    Transaction(Maildrop),
}

/// A POP3 session over any [`Transport`].
pub struct Session<S: Transport> {
    stream: Option<S>,
    peer: SocketAddr,
    services: Services,
    settings: Arc<Pop3Settings>,
    locks: Locks,
    shutdown: Shutdown,
    reader: LineReader,
    out: Vec<u8>,
    state: State,
    done: bool,
}

enum Gone {
    Closed,
}

impl<S: Transport> Session<S> {
    /// A session for a client at `peer`.
    pub fn new(
        stream: S,
        peer: SocketAddr,
        services: Services,
        settings: Arc<Pop3Settings>,
        locks: Locks,
        shutdown: Shutdown,
    ) -> Self {
        Session {
            stream: Some(stream),
            peer,
            services,
            settings,
            locks,
            shutdown,
            reader: LineReader::new(LineLimits {
                command: pop3::MAX_LINE,
                auth: pop3::MAX_AUTH_LINE,
            }),
            out: Vec::new(),
            state: State::Authorization { user: None },
            done: false,
        }
    }

    fn tls(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.tls_info().is_some())
    }

    /// Whether credentials may be sent now (TLS, or loopback if allowed).
    fn may_login(&self) -> bool {
        self.tls()
            || (self.settings.allow_plaintext_on_loopback
                && self.peer.ip().to_canonical().is_loopback())
    }

    /// Runs the session to its end. A connection that ends without QUIT
    /// deletes nothing.
    pub async fn run(mut self) {
        tracing::info!(peer = %self.peer, "pop3 connected");
        self.out.extend(pop3::ok(&format!(
            "{} POP3 Postel ready",
            self.settings.hostname
        )));
        let _ = self.serve().await;
        if let Some(mut s) = self.stream.take() {
            let _ = s.shutdown().await;
        }
        tracing::info!("pop3 disconnected");
    }

    async fn serve(&mut self) -> Result<(), Gone> {
        loop {
            while !self.done {
                match self.reader.next_line() {
                    Some(Ok(line)) => self.handle(&line.bytes).await?,
                    Some(Err(_)) => self.out.extend(pop3::err(None, "Line too long")),
                    None => break,
                }
            }
            self.flush().await?;
            if self.done {
                return Ok(());
            }
            let line = self.read_more().await?;
            self.reader.feed(&line);
        }
    }

    async fn read_more(&mut self) -> Result<Vec<u8>, Gone> {
        let mut buf = Vec::new();
        let stream = self.stream.as_mut().ok_or(Gone::Closed)?;
        let mut stop = self.shutdown.clone();
        let read = tokio::select! {
            r = net::read_some(stream, &mut buf, 64 * 1024, self.settings.idle_timeout) => r,
            _ = stop.wait() => {
                self.out.extend(pop3::err(Some(Code::SysTemp), "Server shutting down"));
                self.flush().await?;
                return Err(Gone::Closed);
            }
        };
        match read {
            Ok(Ok(_)) => Ok(buf),
            Ok(Err(ReadEnd::TimedOut)) => {
                self.out
                    .extend(pop3::err(None, "Autologout; idle for too long"));
                self.flush().await?;
                Err(Gone::Closed)
            }
            Ok(Err(ReadEnd::Closed)) | Err(_) => Err(Gone::Closed),
        }
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        if self.out.is_empty() {
            return Ok(());
        }
        let stream = self.stream.as_mut().ok_or(Gone::Closed)?;
        let r = stream.write_all(&self.out).await;
        self.out.clear();
        r.map_err(|_| Gone::Closed)?;
        stream.flush().await.map_err(|_| Gone::Closed)
    }

    async fn handle(&mut self, line: &[u8]) -> Result<(), Gone> {
        let command = match Command::parse(line) {
            Ok(c) => c,
            Err(ParseError::Syntax(usage)) => {
                self.out
                    .extend(pop3::err(None, &format!("Syntax: {usage}")));
                return Ok(());
            }
            Err(_) => {
                self.out.extend(pop3::err(None, "Unknown command"));
                return Ok(());
            }
        };
        match command {
            Command::Capa => self.handle_capa(),
            Command::Noop if matches!(self.state, State::Transaction(_)) => {
                self.out.extend(pop3::ok(""))
            }
            Command::Quit => self.handle_quit().await,
            Command::Stls => return self.handle_stls().await,
            Command::User(name) => self.handle_user(name),
            Command::Pass(pw) => self.handle_pass(pw).await,
            Command::Auth { mechanism, initial } => {
                return self.handle_auth(mechanism, initial).await;
            }
            other => self.handle_transaction(other).await,
        }
        Ok(())
    }

    fn handle_capa(&mut self) {
        let mut m = MultiLine::new("Capability list follows");
        for cap in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"] {
            m.line(cap);
        }
        if matches!(self.state, State::Authorization { .. }) {
            if self.may_login() {
                m.line("USER");
                m.line("SASL PLAIN");
            }
            if !self.tls() {
                m.line("STLS");
            }
        }
        m.line("IMPLEMENTATION Postel");
        self.out.extend(m.finish());
    }

    async fn handle_stls(&mut self) -> Result<(), Gone> {
        if self.tls() || !matches!(self.state, State::Authorization { .. }) {
            self.out.extend(pop3::err(None, "STLS not allowed now"));
            return Ok(());
        }
        self.out.extend(pop3::ok("Begin TLS negotiation"));
        self.flush().await?;
        // Anything pipelined after STLS was sent in plaintext: drop it.
        self.reader.discard_buffered();
        let stream = self.stream.take().ok_or(Gone::Closed)?;
        let hs = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            stream.start_tls(self.services.tls.clone()),
        );
        match hs.await {
            Ok(Ok(s)) => {
                self.stream = Some(s);
                self.state = State::Authorization { user: None };
                Ok(())
            }
            _ => Err(Gone::Closed),
        }
    }

    fn handle_user(&mut self, name: String) {
        let allowed = self.may_login();
        match &mut self.state {
            State::Authorization { user } if allowed => {
                *user = Some(name);
                self.out.extend(pop3::ok("Send your password"));
            }
            State::Authorization { .. } => self.refuse_plaintext(),
            State::Transaction(_) => self.out.extend(pop3::err(None, "Already logged in")),
        }
    }

    fn refuse_plaintext(&mut self) {
        self.out.extend(pop3::err(
            Some(Code::Auth),
            "Plaintext authentication disallowed on non-secure connections; use STLS",
        ));
    }

    async fn handle_pass(&mut self, password: String) {
        let user = match &mut self.state {
            State::Authorization { user } => user.take(),
            State::Transaction(_) => {
                self.out.extend(pop3::err(None, "Already logged in"));
                return;
            }
        };
        let Some(user) = user else {
            self.out.extend(pop3::err(None, "USER first"));
            return;
        };
        if !self.may_login() {
            self.refuse_plaintext();
            return;
        }
        self.login(&user, password).await;
    }

    async fn handle_auth(
        &mut self,
        mechanism: Option<String>,
        initial: Option<String>,
    ) -> Result<(), Gone> {
        if !matches!(self.state, State::Authorization { .. }) {
            self.out.extend(pop3::err(None, "Already logged in"));
            return Ok(());
        }
        let Some(mechanism) = mechanism else {
            let mut m = MultiLine::new("Supported mechanisms");
            m.line("PLAIN");
            self.out.extend(m.finish());
            return Ok(());
        };
        if !self.may_login() {
            self.refuse_plaintext();
            return Ok(());
        }
        if Mechanism::parse(&mechanism) != Some(Mechanism::Plain) {
            self.out
                .extend(pop3::err(None, "Unsupported SASL mechanism"));
            return Ok(());
        }
        let creds = match Exchange::start(Mechanism::Plain, initial.as_deref()) {
            Ok((ex, step)) => self.converse(ex, step).await?,
            Err(_) => None,
        };
        match creds {
            Some(c) if c.authzid.as_deref().is_none_or(|z| z == c.username) => {
                self.login(&c.username, c.password).await
            }
            Some(_) | None => self
                .out
                .extend(pop3::err(Some(Code::Auth), "Authentication failed")),
        }
        Ok(())
    }

    async fn converse(
        &mut self,
        mut ex: Exchange,
        mut step: Step,
    ) -> Result<Option<Credentials>, Gone> {
        loop {
            match step {
                Step::Done(c) => return Ok(Some(c)),
                Step::Challenge(ch) => {
                    self.out.extend(format!("+ {ch}\r\n").into_bytes());
                    self.flush().await?;
                }
            }
            self.reader.set_sasl(true);
            let line = loop {
                if let Some(l) = self.reader.next_line() {
                    break l
                        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
                        .ok();
                }
                let more = self.read_more().await?;
                self.reader.feed(&more);
            };
            self.reader.set_sasl(false);
            step = match line.as_deref().map(|l| ex.step(l)) {
                Some(Ok(s)) => s,
                _ => return Ok(None),
            };
        }
    }

    async fn login(&mut self, username: &str, password: String) {
        let ip = self.peer.ip();
        let security = self.services.security.clone();
        let verified = if security.is_banned(ip).await {
            Ok(None) // Banned since connecting: no more guesses.
        } else {
            self.services
                .directory
                .verify_password(username, &Secret::new(password))
                .await
        };
        let user = match verified {
            Ok(Some(u)) => u,
            Ok(None) => {
                let delay = security.login_failed(ip).await;
                crate::metrics::auth_failed("pop3");
                tokio::time::sleep(delay).await;
                tracing::info!(%username, "pop3 authentication failed");
                self.out
                    .extend(pop3::err(Some(Code::Auth), "Authentication failed"));
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "directory unavailable");
                self.out.extend(pop3::err(
                    Some(Code::SysTemp),
                    "Temporary failure, try again later",
                ));
                return;
            }
        };
        security.login_succeeded(ip).await;
        self.open_maildrop(user).await;
    }

    async fn open_maildrop(&mut self, user: User) {
        let lock = if self.settings.exclusive {
            match self.locks.try_lock(&user.address) {
                Some(l) => Some(l),
                None => {
                    self.out.extend(pop3::err(
                        Some(Code::InUse),
                        "Mailbox already locked by another session",
                    ));
                    return;
                }
            }
        } else {
            None
        };
        let snap = match self.services.store.sync(&user.address, INBOX).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, account = %user.address, "cannot open maildrop");
                self.out
                    .extend(pop3::err(Some(Code::SysTemp), "Cannot open the maildrop"));
                return;
            }
        };
        let messages: Vec<Msg> = snap
            .messages
            .iter()
            .map(|m| Msg {
                uid: m.uid,
                size: m.size,
                deleted: false,
            })
            .collect();
        tracing::info!(account = %user.address, messages = messages.len(), "pop3 login");
        self.out
            .extend(pop3::ok(&format!("Logged in; {} messages", messages.len())));
        self.state = State::Transaction(Maildrop {
            account: user.address,
            uidvalidity: snap.uidvalidity,
            messages,
            retrieved: std::collections::BTreeSet::new(),
            _lock: lock,
        });
    }
}

mod transaction;
