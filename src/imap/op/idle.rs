//! IDLE (RFC 2177): after `+ idling`, changes to the selected mailbox
//! are told as they happen, until the client sends `DONE`.
//!
//! The session waits on four things at once: the client's input, the
//! store's broadcast for the account (a delivery, another session's
//! STORE or EXPUNGE, POP3's QUIT: told at once), a poll timer (changes
//! made by other processes send no event) and shutdown. The idle timeout
//! counts from the last input, so an IDLE lasts at most that long
//! (RFC 2177 §3: clients re-issue it within 29 minutes).

use std::time::{Duration, Instant};

use tokio::sync::broadcast::error::RecvError;

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use crate::net::{self, ReadEnd, Transport};
use crate::protocol::imap::{RespText, Response, Tag};
use crate::store::StoreEvent;

/// How often an idling session looks at the store without an event
/// (Dovecot's `mailbox_idle_check_interval` default). Changes made by
/// this process wake it at once; this only bounds how late a change by
/// another process or node is told. Every sync costs a directory scan
/// and a query, so with 10,000 idling sessions a 5 s poll kept half a
/// core busy.
const POLL: Duration = Duration::from_secs(30);

/// What woke the session.
enum Wake {
    Input(std::io::Result<Result<usize, ReadEnd>>),
    Event(Result<StoreEvent, RecvError>),
    Poll,
    Shutdown,
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_idle(&mut self, _tag: &Tag) -> Result<RespText> {
        self.announce(true).await?;
        self.push(&Response::continue_text("idling"));
        self.flush().await?;
        let mut last_input = Instant::now();
        loop {
            match self.parser.next_idle_done() {
                Some(Ok(())) => return Ok(Self::done("IDLE terminated")),
                Some(Err(_)) => return Err(ImapError::bad("Expected DONE")),
                None => {}
            }
            let left = self
                .settings
                .idle_timeout
                .saturating_sub(last_input.elapsed());
            self.release_buffers();
            let mut buf = Vec::new();
            match self.wait(&mut buf, left).await? {
                Wake::Input(Ok(Ok(n))) => {
                    self.next_read_size(n);
                    last_input = Instant::now();
                    self.parser.feed(&buf);
                }
                Wake::Input(Ok(Err(ReadEnd::TimedOut))) => {
                    return Err(self.bye("Autologout; idle for too long").await);
                }
                Wake::Input(_) => return Err(ImapError::Gone),
                Wake::Shutdown => return Err(self.bye("Server shutting down").await),
                Wake::Event(ev) => {
                    self.note_event(ev);
                    self.tell().await?;
                }
                Wake::Poll => self.tell().await?,
            }
        }
    }

    /// Syncs and sends what changed (EXPUNGE is allowed during IDLE).
    async fn tell(&mut self) -> Result<()> {
        self.announce(true).await?;
        self.flush().await
    }

    fn note_event(&mut self, ev: Result<StoreEvent, RecvError>) {
        if let State::Selected(_, sel) = &mut self.state {
            match ev {
                Ok(ev) if ev.folder == sel.name || ev.folder.is_empty() => sel.dirty = true,
                Ok(_) => {}
                Err(_) => sel.dirty = true,
            }
        }
    }

    async fn wait(&mut self, buf: &mut Vec<u8>, left: Duration) -> Result<Wake> {
        let mut stop = self.shutdown.clone();
        let selected = matches!(self.state, State::Selected(..));
        let want = self.read_size;
        let stream = self.stream.as_mut().ok_or(ImapError::Gone)?;
        let events = match &mut self.state {
            State::Authenticated(a) | State::Selected(a, _) => &mut a.events,
            _ => return Err(ImapError::bad("Log in first")),
        };
        Ok(tokio::select! {
            r = net::read_some(stream, buf, want, left) => Wake::Input(r),
            ev = events.recv() => match ev {
                Err(RecvError::Closed) => {
                    tokio::time::sleep(POLL).await;
                    Wake::Poll
                }
                other => Wake::Event(other),
            },
            () = tokio::time::sleep(POLL), if selected => Wake::Poll,
            () = stop.wait() => Wake::Shutdown,
        })
    }
}
