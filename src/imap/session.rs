//! One IMAP connection: the read loop, the state machine and the output
//! buffer (RFC 3501 §3 states, §5.4 autologout, §5.5 pipelining).
//!
//! The loop: read with the idle timeout, `select!`ed against shutdown →
//! feed the codec's [`Parser`] → run every complete command in order →
//! flush. A synchronising literal gets its `+` at once; anything the
//! codec refuses gets its `BAD`/`NO` and the parser resynchronises.
//! Before each tagged response the selected mailbox's view is brought up
//! to date and what changed is told (`updates.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast;

use super::ImapSettings;
use super::caps::{self, Stage};
use super::error::{ImapError, Result};
use super::view::MailboxView;
use crate::directory::User;
use crate::net::{self, ReadEnd, Transport};
use crate::protocol::imap::{
    Code, Command, CommandBody, Completion, Condition, Parsed, Parser, RespText, Response,
};
use crate::server::{Services, Shutdown};
use crate::store::StoreEvent;

/// Output is flushed whenever the buffer holds this much.
pub const FLUSH_AT: usize = 64 * 1024;

/// A selected mailbox is synced with the store before a tagged response
/// when this long passed since the last sync, even without an event
/// (changes made by other processes or nodes send none).
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// The first read after a wait asks for this much: an idle session holds
/// no more than this for input (a read that fills it doubles the next
/// one, up to [`READ_MAX`], for APPEND streams).
pub const READ_MIN: usize = 2 * 1024;

/// Largest single read.
pub const READ_MAX: usize = 64 * 1024;

/// Buffers larger than this are released before waiting for the client,
/// so thousands of idle sessions do not each keep the high-water mark of
/// their last FETCH or APPEND.
pub const KEEP_IDLE: usize = 4 * 1024;

/// Largest literal accepted before login.
const PRE_LOGIN_LITERAL: u32 = 8 * 1024;

/// Consecutive refused commands after which the client is disconnected.
const MAX_BAD: u32 = 20;

/// A logged-in user.
pub(super) struct Account {
    /// The directory entry (address = the store's account name).
    pub user: User,
    /// The store's change events for the account.
    pub events: broadcast::Receiver<StoreEvent>,
}

/// The selected mailbox.
pub(super) struct Selected {
    /// The store's folder name.
    pub name: String,
    /// EXAMINE (or SELECT of a mailbox we may not change).
    pub read_only: bool,
    /// What the client knows.
    pub view: MailboxView,
    /// An event for this folder arrived since the last sync.
    pub dirty: bool,
    /// When the view was last synced with the store.
    pub synced_at: Instant,
}

/// Where the session is (RFC 3501 §3).
pub(super) enum State {
    NotAuthenticated,
    Authenticated(Account),
    Selected(Account, Selected),
    Logout,
}

/// An IMAP session over any [`Transport`].
pub struct Session<S: Transport> {
    pub(super) stream: Option<S>,
    pub(super) peer: SocketAddr,
    pub(super) services: Services,
    pub(super) settings: Arc<ImapSettings>,
    pub(super) shutdown: Shutdown,
    pub(super) parser: Parser,
    pub(super) out: Vec<u8>,
    pub(super) state: State,
    /// CONDSTORE is enabled (RFC 7162 §3.1): MODSEQ in every FETCH.
    pub(super) condstore: bool,
    bad_in_a_row: u32,
    /// Size of the next read ([`READ_MIN`]..=[`READ_MAX`]).
    pub(super) read_size: usize,
}

impl<S: Transport> Session<S> {
    /// A session for a client at `peer`.
    pub fn new(
        stream: S,
        peer: SocketAddr,
        services: Services,
        settings: Arc<ImapSettings>,
        shutdown: Shutdown,
    ) -> Self {
        Session {
            stream: Some(stream),
            peer,
            parser: Parser::new(settings.limits),
            services,
            settings,
            shutdown,
            out: Vec::new(),
            state: State::NotAuthenticated,
            condstore: false,
            bad_in_a_row: 0,
            read_size: READ_MIN,
        }
    }

    pub(super) fn tls(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.tls_info().is_some())
    }

    /// Whether credentials may be sent now (TLS, or loopback if allowed).
    pub(super) fn may_login(&self) -> bool {
        self.tls()
            || (self.settings.allow_plaintext_on_loopback
                && self.peer.ip().to_canonical().is_loopback())
    }

    /// The capabilities for the current state.
    pub(super) fn capabilities(&self) -> Vec<String> {
        let stage = match self.state {
            State::NotAuthenticated | State::Logout => Stage::Anonymous {
                tls: self.tls(),
                may_login: self.may_login(),
            },
            _ => Stage::Authenticated,
        };
        caps::capabilities(stage, self.settings.limits.append)
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        tracing::info!(peer = %self.peer, tls = self.tls(), "imap connected");
        let greeting = Response::status(
            Condition::Ok,
            Some(Code::Capability(self.capabilities())),
            format!("{} Postel IMAP ready", self.settings.hostname),
        );
        self.push(&greeting);
        let _ = self.serve().await;
        let _ = self.flush().await;
        if let Some(mut s) = self.stream.take() {
            let _ = s.shutdown().await;
        }
        tracing::info!("imap disconnected");
    }

    async fn serve(&mut self) -> Result<()> {
        loop {
            loop {
                match self.parser.next_command() {
                    Parsed::Complete(command) => {
                        self.bad_in_a_row = 0;
                        self.execute(command).await?;
                        if matches!(self.state, State::Logout) {
                            return Ok(());
                        }
                    }
                    Parsed::NeedsLiteral { size, sync } => self.literal(size, sync).await?,
                    Parsed::Error(e) => {
                        self.push(&e.response());
                        self.bad_in_a_row += 1;
                        if self.bad_in_a_row >= MAX_BAD {
                            return Err(self.bye("Too many invalid commands").await);
                        }
                    }
                    Parsed::Incomplete => break,
                }
            }
            self.flush().await?;
            let more = self.read_more().await?;
            self.parser.feed(&more);
        }
    }

    /// A literal was announced: `+` for a synchronising one. Before
    /// login only small literals are accepted (a user name or password),
    /// so an anonymous client cannot make the server buffer an APPEND.
    async fn literal(&mut self, size: u32, sync: bool) -> Result<()> {
        if self.account().is_none() && size > PRE_LOGIN_LITERAL {
            let refused = self.parser.refuse_literal();
            let text = RespText::with_code(Code::TooBig, "Literal too large before login");
            self.push(&match refused {
                Some(tag) => Response::Tagged(tag, Completion::Bad, text),
                None => Response::Status(Condition::Bad, text),
            });
            return self.flush().await;
        }
        if sync {
            self.push(&Response::continue_text("Ready for literal data"));
            self.flush().await?;
        }
        Ok(())
    }

    /// Reads what the client sent next, or ends the session (with
    /// `* BYE`) on timeout and shutdown.
    pub(super) async fn read_more(&mut self) -> Result<Vec<u8>> {
        self.release_buffers();
        let mut buf = Vec::new();
        let idle = self.settings.idle_timeout;
        let want = self.read_size;
        let stream = self.stream.as_mut().ok_or(ImapError::Gone)?;
        let mut stop = self.shutdown.clone();
        let read = tokio::select! {
            r = net::read_some(stream, &mut buf, want, idle) => r,
            _ = stop.wait() => return Err(self.bye("Server shutting down").await),
        };
        match read {
            Ok(Ok(n)) => {
                self.next_read_size(n);
                Ok(buf)
            }
            Ok(Err(ReadEnd::TimedOut)) => Err(self.bye("Autologout; idle for too long").await),
            Ok(Err(ReadEnd::Closed)) | Err(_) => Err(ImapError::Gone),
        }
    }

    /// Gives back large input and output buffers before a wait (their
    /// contents were consumed and flushed).
    pub(super) fn release_buffers(&mut self) {
        if self.out.is_empty() && self.out.capacity() > KEEP_IDLE {
            self.out = Vec::new();
        }
        self.parser.shrink(KEEP_IDLE);
    }

    /// Adapts the read size: a full read doubles it, a short one resets it.
    pub(super) fn next_read_size(&mut self, got: usize) {
        self.read_size = if got >= self.read_size {
            (self.read_size * 2).min(READ_MAX)
        } else {
            READ_MIN
        };
    }

    /// Sends `* BYE text`; the session ends with the error returned.
    pub(super) async fn bye(&mut self, text: &str) -> ImapError {
        self.push(&Response::status(Condition::Bye, None, text));
        let _ = self.flush().await;
        self.state = State::Logout;
        ImapError::Gone
    }

    /// Appends a response to the output buffer.
    pub(super) fn push(&mut self, response: &Response) {
        response.write_to(&mut self.out);
    }

    /// Appends a response, flushing when the buffer is large.
    pub(super) async fn send(&mut self, response: &Response) -> Result<()> {
        self.push(response);
        self.maybe_flush().await
    }

    /// Flushes when the buffer passed [`FLUSH_AT`].
    pub(super) async fn maybe_flush(&mut self) -> Result<()> {
        if self.out.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the output buffer to the client.
    pub(super) async fn flush(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut out = std::mem::take(&mut self.out);
        let written = self.write_stream(&out).await;
        out.clear();
        self.out = out;
        written
    }

    /// Writes `bytes` to the client (after what is buffered), bounded by
    /// the idle timeout so a client that stops reading cannot hold the
    /// session forever.
    pub(super) async fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            self.write_stream(&out).await?;
        }
        self.write_stream(bytes).await
    }

    async fn write_stream(&mut self, bytes: &[u8]) -> Result<()> {
        let idle = self.settings.idle_timeout;
        let stream = self.stream.as_mut().ok_or(ImapError::Gone)?;
        let write = async {
            stream.write_all(bytes).await?;
            stream.flush().await
        };
        match tokio::time::timeout(idle, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ImapError::Gone),
        }
    }

    async fn execute(&mut self, command: Command) -> Result<()> {
        let Command { tag, body } = command;
        let expunge_ok = allows_expunge(&body);
        tracing::debug!(command = body.name(), "imap command");
        let result = self.dispatch(&tag, body).await;
        let result = match result {
            Ok(text) => self.announce(expunge_ok).await.map(|()| text),
            Err(ImapError::Handled) => return Ok(()),
            Err(e @ (ImapError::Gone | ImapError::Bye(_))) => Err(e),
            Err(e) => match self.announce(expunge_ok).await {
                Ok(()) => Err(e),
                Err(fatal) => Err(fatal),
            },
        };
        match result {
            Ok(text) => {
                self.push(&Response::Tagged(tag, Completion::Ok, text));
                self.maybe_flush().await
            }
            Err(ImapError::Gone) => Err(ImapError::Gone),
            Err(ImapError::Bye(text)) => Err(self.bye(&text).await),
            Err(e) => {
                if let Some(r) = e.response(&tag) {
                    self.push(&r);
                }
                self.maybe_flush().await
            }
        }
    }

    /// The logged-in account, if any.
    pub(super) fn account(&self) -> Option<&Account> {
        match &self.state {
            State::Authenticated(a) | State::Selected(a, _) => Some(a),
            _ => None,
        }
    }

    /// The selected mailbox, if any.
    pub(super) fn selected(&self) -> Option<&Selected> {
        match &self.state {
            State::Selected(_, s) => Some(s),
            _ => None,
        }
    }

    /// A plain `OK` text.
    pub(super) fn done(text: impl Into<String>) -> RespText {
        RespText::new(text)
    }
}

/// Whether EXPUNGE responses may be sent before this command's tagged
/// response: not for FETCH, STORE and SEARCH by sequence number (RFC 3501
/// §7.4.1), nor COPY and SORT, which name messages the same way and are
/// pipelined the same way by clients.
fn allows_expunge(body: &CommandBody) -> bool {
    match body {
        CommandBody::Fetch(f) => f.uid,
        CommandBody::Store(s) => s.uid,
        CommandBody::Search(s) => s.uid,
        CommandBody::Sort(s) => s.uid,
        CommandBody::Copy { uid, .. } => *uid,
        _ => true,
    }
}
