//! One outbound SMTP connection: connect, greeting, EHLO (HELO when EHLO
//! is refused), STARTTLS, AUTH PLAIN, and the read/write helpers the mail
//! transaction uses. Every read and write has a deadline; replies are
//! parsed by the sans-IO [`ReplyParser`].
//!
//! TLS policy per connection ([`TlsPolicy`]): MX hosts get opportunistic
//! STARTTLS — used whenever offered, any certificate accepted, and if the
//! handshake itself fails the host is tried once more in plaintext (as
//! RFC 3207 §4.1 allows the client to decide); a smarthost gets the TLS
//! its configuration demands, or no connection at all.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::spool::CHUNK;
use super::tls::Conn;
use crate::config::Password;
use crate::net::TlsInfo;
use crate::protocol::smtp::{Capabilities, DotStuffer, Reply, ReplyParser, server_capabilities};

/// How TLS is used on a connection.
#[derive(Debug, Clone)]
pub(crate) enum TlsPolicy {
    /// STARTTLS when offered, any certificate (MX hosts).
    Opportunistic(Arc<rustls::ClientConfig>),
    /// STARTTLS is required, with this configuration.
    Required(Arc<rustls::ClientConfig>),
    /// TLS from the first byte (port 465).
    Implicit(Arc<rustls::ClientConfig>),
    /// Never.
    Off,
}

/// Deadlines of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// Greeting and each command's reply.
    pub command: Duration,
    /// Sending the message and the reply after it.
    pub data: Duration,
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// The host's name (SNI, logs, Remote-MTA).
    pub host: String,
    /// The address to connect to.
    pub addr: SocketAddr,
    /// Our EHLO name.
    pub helo: String,
    /// TLS policy.
    pub tls: TlsPolicy,
    /// AUTH PLAIN credentials (smarthost).
    pub auth: Option<(String, Password)>,
    /// Deadlines.
    pub timeouts: Timeouts,
}

/// Why a connection failed as a whole (not one recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionError {
    /// The reply that ended it, if the server said something.
    pub reply: Option<Reply>,
    /// What happened, for logs and notices.
    pub message: String,
}

impl SessionError {
    fn io(what: &str, e: impl std::fmt::Display) -> SessionError {
        SessionError {
            reply: None,
            message: format!("{what}: {e}"),
        }
    }

    fn refused(stage: &str, reply: Reply) -> SessionError {
        SessionError {
            message: format!("{stage} refused: {}", one_line(&reply)),
            reply: Some(reply),
        }
    }

    /// Whether a retry elsewhere or later cannot help (a 5xx reply).
    pub(crate) fn is_permanent(&self) -> bool {
        self.reply.as_ref().is_some_and(Reply::is_permanent)
    }
}

/// A reply on one line, as notices and logs quote it.
pub(crate) fn one_line(reply: &Reply) -> String {
    let mut s = reply.code.to_string();
    if let Some(st) = reply.status {
        s.push(' ');
        s.push_str(&st.to_string());
    }
    for line in &reply.lines {
        if !line.is_empty() {
            s.push(' ');
            s.push_str(line);
        }
    }
    s
}

/// An open, greeted SMTP connection.
#[derive(Debug)]
pub(crate) struct Client {
    /// `None` only while the TLS handshake owns the stream.
    conn: Option<Conn>,
    parser: ReplyParser,
    caps: Capabilities,
    spec: Spec,
    /// The server must see RSET before the next MAIL.
    pub(crate) dirty: bool,
}

impl Client {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS and
    /// authenticates as `spec` demands.
    ///
    /// # Errors
    /// [`SessionError`] from any of the steps.
    pub(crate) async fn connect(spec: &Spec) -> Result<Client, SessionError> {
        match Self::connect_once(spec, true).await {
            Err((e, true)) if matches!(spec.tls, TlsPolicy::Opportunistic(_)) => {
                tracing::info!(host = %spec.host, error = %e.message,
                    "TLS handshake failed; retrying without STARTTLS");
                Self::connect_once(spec, false).await.map_err(|(e, _)| e)
            }
            other => other.map_err(|(e, _)| e),
        }
    }

    /// One try; the flag says the failure was the TLS handshake.
    async fn connect_once(spec: &Spec, try_tls: bool) -> Result<Client, (SessionError, bool)> {
        let t = spec.timeouts;
        let tcp = tokio::time::timeout(t.connect, TcpStream::connect(spec.addr))
            .await
            .map_err(|_| (SessionError::io("connect", "timed out"), false))?
            .map_err(|e| (SessionError::io("connect", e), false))?;
        let _ = tcp.set_nodelay(true);
        let mut conn = Conn::Plain(tcp);
        if let TlsPolicy::Implicit(config) = &spec.tls {
            let handshake = conn.start_tls(config.clone(), &spec.host);
            conn = tokio::time::timeout(t.command, handshake)
                .await
                .map_err(|_| (SessionError::io("TLS handshake", "timed out"), true))?
                .map_err(|e| (SessionError::io("TLS handshake", e), true))?;
        }
        let mut client = Client {
            conn: Some(conn),
            parser: ReplyParser::new(),
            caps: Capabilities::default(),
            spec: spec.clone(),
            dirty: false,
        };
        let greeting = client.read_reply(t.command).await.map_err(|e| (e, false))?;
        if greeting.code != 220 {
            return Err((SessionError::refused("greeting", greeting), false));
        }
        client.hello().await.map_err(|e| (e, false))?;
        client.secure(try_tls).await?;
        client.authenticate().await.map_err(|e| (e, false))?;
        Ok(client)
    }

    /// EHLO, or HELO when the server does not know EHLO.
    async fn hello(&mut self) -> Result<(), SessionError> {
        let ehlo = format!("EHLO {}\r\n", self.spec.helo);
        let reply = self.command(&ehlo).await?;
        if reply.is_positive() {
            self.caps = server_capabilities(&reply);
            return Ok(());
        }
        if reply.code == 421 || !matches!(reply.code, 500..=504 | 550) {
            return Err(SessionError::refused("EHLO", reply));
        }
        let helo = format!("HELO {}\r\n", self.spec.helo);
        let reply = self.command(&helo).await?;
        if !reply.is_positive() {
            return Err(SessionError::refused("HELO", reply));
        }
        self.caps = Capabilities::default();
        Ok(())
    }

    /// STARTTLS as the policy says; the error flag marks handshake trouble.
    async fn secure(&mut self, try_tls: bool) -> Result<(), (SessionError, bool)> {
        let config = match &self.spec.tls {
            TlsPolicy::Opportunistic(c) if try_tls && self.caps.starttls => c.clone(),
            TlsPolicy::Required(c) if self.caps.starttls => c.clone(),
            TlsPolicy::Required(_) => {
                let e = SessionError::io("STARTTLS", "required but not offered");
                return Err((e, false));
            }
            _ => return Ok(()),
        };
        let reply = self.command("STARTTLS\r\n").await.map_err(|e| (e, false))?;
        if reply.code != 220 {
            if matches!(self.spec.tls, TlsPolicy::Required(_)) || reply.code == 421 {
                return Err((SessionError::refused("STARTTLS", reply), false));
            }
            return Ok(());
        }
        if self.parser.buffered() > 0 {
            let e = SessionError::io("STARTTLS", "data pipelined after 220 (injection?)");
            return Err((e, false));
        }
        let conn = self.conn()?;
        let handshake = conn.start_tls(config, &self.spec.host);
        let upgraded = tokio::time::timeout(self.spec.timeouts.command, handshake)
            .await
            .map_err(|_| (SessionError::io("TLS handshake", "timed out"), true))?
            .map_err(|e| (SessionError::io("TLS handshake", e), true))?;
        self.conn = Some(upgraded);
        self.parser.clear();
        self.hello().await.map_err(|e| (e, false))
    }

    /// AUTH PLAIN (RFC 4616) when credentials are configured.
    async fn authenticate(&mut self) -> Result<(), SessionError> {
        let Some((user, password)) = self.spec.auth.clone() else {
            return Ok(());
        };
        if self.tls().is_none() && !matches!(self.spec.tls, TlsPolicy::Off) {
            return Err(SessionError::io(
                "AUTH",
                "refusing to authenticate without TLS",
            ));
        }
        if !self.caps.offers_auth("PLAIN") {
            return Err(SessionError::io(
                "AUTH",
                "the server does not offer AUTH PLAIN",
            ));
        }
        let token = format!("\0{user}\0{}", password.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(token);
        let reply = self.command(&format!("AUTH PLAIN {encoded}\r\n")).await?;
        if reply.code != 235 {
            return Err(SessionError::refused("AUTH", reply));
        }
        Ok(())
    }

    /// What the server announced in its (last) EHLO reply.
    pub(crate) fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The TLS parameters, when TLS is active.
    pub(crate) fn tls(&self) -> Option<TlsInfo> {
        self.conn.as_ref().and_then(Conn::tls_info)
    }

    /// Takes the stream for the TLS handshake.
    fn conn(&mut self) -> Result<Conn, (SessionError, bool)> {
        self.conn
            .take()
            .ok_or_else(|| (SessionError::io("STARTTLS", "connection lost"), false))
    }

    /// The host's name.
    pub(crate) fn host(&self) -> &str {
        &self.spec.host
    }

    /// The address connected to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.spec.addr
    }

    /// The deadlines.
    pub(crate) fn timeouts(&self) -> Timeouts {
        self.spec.timeouts
    }

    /// Sends one command line and reads its reply.
    pub(crate) async fn command(&mut self, line: &str) -> Result<Reply, SessionError> {
        self.write(line.as_bytes(), self.spec.timeouts.command)
            .await?;
        self.read_reply(self.spec.timeouts.command).await
    }

    /// Writes `bytes` within `limit`.
    pub(crate) async fn write(
        &mut self,
        bytes: &[u8],
        limit: Duration,
    ) -> Result<(), SessionError> {
        let conn = self.conn.as_mut().ok_or_else(gone)?;
        let send = async {
            conn.write_all(bytes).await?;
            conn.flush().await
        };
        tokio::time::timeout(limit, send)
            .await
            .map_err(|_| SessionError::io("write", "timed out"))?
            .map_err(|e| SessionError::io("write", e))
    }

    /// Sends the message in the file at `path` as the content of DATA:
    /// dot-stuffed and ended with `.CRLF`, read and written in
    /// [`CHUNK`]-sized pieces (never the whole message in memory), all
    /// within `limit`. When the file cannot be read the connection is
    /// dropped, so the server can never take a truncated message for a
    /// whole one.
    pub(crate) async fn send_data(
        &mut self,
        path: &Path,
        limit: Duration,
    ) -> Result<(), SessionError> {
        let conn = self.conn.as_mut().ok_or_else(gone)?;
        let local = |e: std::io::Error| (true, SessionError::io("reading the queued message", e));
        let remote = |e: std::io::Error| (false, SessionError::io("write", e));
        let send = async {
            let mut file = tokio::fs::File::open(path).await.map_err(local)?;
            let mut buf = vec![0u8; CHUNK];
            let mut out = Vec::with_capacity(CHUNK + CHUNK / 32 + 8);
            let mut stuffer = DotStuffer::new();
            loop {
                let n = file.read(&mut buf).await.map_err(local)?;
                if n == 0 {
                    break;
                }
                out.clear();
                stuffer.push(&buf[..n], &mut out);
                conn.write_all(&out).await.map_err(remote)?;
            }
            out.clear();
            stuffer.finish(&mut out);
            conn.write_all(&out).await.map_err(remote)?;
            conn.flush().await.map_err(remote)
        };
        match tokio::time::timeout(limit, send).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((is_local, e))) => {
                if is_local {
                    self.conn = None;
                }
                Err(e)
            }
            Err(_) => Err(SessionError::io("write", "timed out")),
        }
    }

    /// Reads the next reply within `limit`.
    pub(crate) async fn read_reply(&mut self, limit: Duration) -> Result<Reply, SessionError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(reply) = self.parser.next_reply() {
                return reply.map_err(|e| SessionError::io("reply", e));
            }
            let mut buf = [0u8; 8192];
            let conn = self.conn.as_mut().ok_or_else(gone)?;
            let n = tokio::time::timeout_at(deadline, conn.read(&mut buf))
                .await
                .map_err(|_| SessionError::io("read", "timed out waiting for a reply"))?
                .map_err(|e| SessionError::io("read", e))?;
            if n == 0 {
                return Err(SessionError::io("read", "connection closed by the server"));
            }
            self.parser.feed(&buf[..n]);
        }
    }

    /// Says QUIT (politely, briefly) and closes.
    pub(crate) async fn quit(mut self) {
        let limit = Duration::from_secs(5).min(self.spec.timeouts.command);
        if self.write(b"QUIT\r\n", limit).await.is_ok() {
            let _ = self.read_reply(limit).await;
        }
        if let Some(mut conn) = self.conn.take() {
            let _ = conn.shutdown().await;
        }
    }
}

fn gone() -> SessionError {
    SessionError::io("connection", "lost after a failed TLS handshake")
}
