//! One SMTP connection: the read loop, reply batching and I/O helpers.
//! Command handlers live in the sibling files as `handle_<verb>`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::{Mode, SmtpSettings};
use crate::net::{self, ReadEnd, Transport};
use crate::pipeline::{SessionCtx, Verdict};
use crate::protocol::smtp::{
    Capabilities, Command, ErrorCounter, ErrorVerdict, LineError, LineLimits, LineReader, Reply,
    ReversePath, Sequencer,
};
use crate::server::{Services, Shutdown};

/// Largest read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;

/// An accepted recipient: the address as given and where it delivers.
#[derive(Debug, Clone)]
pub(super) struct Recipient {
    /// The address from RCPT TO (for the pipeline and the log).
    pub address: String,
    /// Local accounts with their quotas.
    pub accounts: Vec<(String, u64)>,
    /// Remote addresses for the outbound queue: the address itself when
    /// relaying, an alias's remote targets when forwarding.
    pub remote: Vec<String>,
}

/// The mail transaction in progress.
#[derive(Debug, Default)]
pub(super) struct Transaction {
    pub from: Option<ReversePath>,
    pub recipients: Vec<Recipient>,
    /// The SIZE= estimate, used for quota checks at RCPT.
    pub size_hint: u64,
}

/// An SMTP session over any [`Transport`].
pub struct Session<S: Transport> {
    pub(super) stream: Option<S>,
    pub(super) peer: SocketAddr,
    pub(super) services: Services,
    pub(super) settings: Arc<SmtpSettings>,
    pub(super) shutdown: Shutdown,
    pub(super) reader: LineReader,
    pub(super) seq: Sequencer,
    pub(super) errors: ErrorCounter,
    pub(super) out: Vec<u8>,
    pub(super) ctx: SessionCtx,
    pub(super) client_verdict: Verdict,
    pub(super) tx: Transaction,
    pub(super) bdat: Option<crate::protocol::smtp::BdatReceiver>,
    pub(super) message: Vec<u8>,
    pub(super) closing: bool,
    /// The logged-in user (submission).
    pub(super) user: Option<crate::directory::User>,
    tarpit: bool,
}

/// Why the session loop stops.
pub(super) enum Stop {
    /// The peer went away or an I/O error happened.
    Gone,
}

impl<S: Transport> Session<S> {
    /// A session for a client at `peer` on `stream` (TLS may already be
    /// active, for implicit-TLS listeners).
    pub fn new(
        stream: S,
        peer: SocketAddr,
        services: Services,
        settings: Arc<SmtpSettings>,
        shutdown: Shutdown,
    ) -> Self {
        let mut ctx = SessionCtx::new(peer.ip());
        let tls = stream.tls_info();
        if let Some(info) = &tls {
            ctx.start_tls(super::data::tls_info(info));
        }
        ctx.hide_client = settings.mode == Mode::Submission && settings.submission.hide_client_ip;
        Session {
            stream: Some(stream),
            peer,
            seq: Sequencer::new(settings.max_recipients, tls.is_some()),
            errors: ErrorCounter::new(settings.soft_error_limit, settings.hard_error_limit),
            reader: LineReader::new(LineLimits::default()),
            services,
            settings,
            shutdown,
            out: Vec::with_capacity(1024),
            ctx,
            client_verdict: Verdict::Accept,
            tx: Transaction::default(),
            bdat: None,
            message: Vec::new(),
            closing: false,
            user: None,
            tarpit: false,
        }
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        tracing::info!(peer = %self.peer, "connected");
        if self.settings.mode == Mode::Mta {
            self.client_verdict = self.services.pipeline.check_client(&mut self.ctx).await;
        }
        self.reply(Reply::greeting(&self.settings.hostname));
        let _ = self.serve().await;
        if let Some(mut s) = self.stream.take() {
            let _ = s.shutdown().await;
        }
        tracing::info!("disconnected");
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        loop {
            while !self.closing {
                match self.reader.next_line() {
                    Some(Ok(line)) => self.handle_line(&line.bytes).await?,
                    Some(Err(LineError::TooLong { .. })) => self.reply(Reply::line_too_long()),
                    None => break,
                }
            }
            self.flush().await?;
            if self.closing {
                return Ok(());
            }
            if std::mem::take(&mut self.tarpit) {
                let s = &self.settings;
                let delay = crate::security::rate::tarpit_delay(
                    self.errors.count(),
                    s.soft_error_limit,
                    s.error_delay,
                );
                tokio::time::sleep(delay).await;
            }
            let mut buf = Vec::new();
            // Between BDAT chunks a message is still being received.
            let in_message = self.bdat.is_some();
            let idle = self.settings.command_timeout;
            match self.read_until(&mut buf, idle, in_message).await? {
                Ok(_) => self.reader.feed(&buf),
                Err(ReadEnd::Closed) => return Err(Stop::Gone),
                Err(ReadEnd::TimedOut) => {
                    self.close_with(Reply::timeout(&self.settings.hostname));
                }
            }
        }
    }

    /// Reads a command once, bounded by `idle` and by shutdown (which
    /// answers 421).
    pub(super) async fn read(
        &mut self,
        buf: &mut Vec<u8>,
        idle: Duration,
    ) -> Result<Result<usize, ReadEnd>, Stop> {
        self.read_until(buf, idle, false).await
    }

    /// Reads once, bounded by `idle` and by shutdown, which answers 421.
    /// `in_message`: message data is being received, and shutdown lets it
    /// finish until its deadline (`server.shutdown_timeout`); a message
    /// cut off then is refused whole, never delivered half.
    pub(super) async fn read_until(
        &mut self,
        buf: &mut Vec<u8>,
        idle: Duration,
        in_message: bool,
    ) -> Result<Result<usize, ReadEnd>, Stop> {
        let stream = self.stream.as_mut().ok_or(Stop::Gone)?;
        let mut shutdown = self.shutdown.clone();
        let stop = async move {
            if in_message {
                shutdown.wait_abort().await;
            } else {
                shutdown.wait().await;
            }
        };
        tokio::select! {
            // A session that is told to stop does not start another command.
            biased;
            () = stop => {
                if in_message {
                    tracing::info!("shutdown deadline reached while receiving a message; refused");
                    self.reset_transaction();
                }
                self.close_with(Reply::shutdown(&self.settings.hostname));
                self.flush().await?;
                Err(Stop::Gone)
            }
            r = net::read_some(stream, buf, READ_CHUNK, idle) => r.map_err(|_| Stop::Gone),
        }
    }

    /// Queues a reply; counts errors and closes after too many.
    pub(super) fn reply(&mut self, reply: Reply) {
        reply.write_to(&mut self.out);
        if reply.closes_connection() {
            self.closing = true;
            return;
        }
        match self.errors.observe(&reply) {
            ErrorVerdict::Continue => {}
            ErrorVerdict::Delay => self.tarpit = true,
            ErrorVerdict::Disconnect => {
                self.close_with(Reply::too_many_errors(&self.settings.hostname));
            }
        }
    }

    /// Queues a final reply and ends the session after it is sent.
    pub(super) fn close_with(&mut self, reply: Reply) {
        reply.write_to(&mut self.out);
        self.closing = true;
    }

    /// Sends the queued replies.
    pub(super) async fn flush(&mut self) -> Result<(), Stop> {
        if self.out.is_empty() {
            return Ok(());
        }
        let stream = self.stream.as_mut().ok_or(Stop::Gone)?;
        let res = stream.write_all(&self.out).await;
        self.out.clear();
        res.map_err(|_| Stop::Gone)?;
        stream.flush().await.map_err(|_| Stop::Gone)
    }

    /// What EHLO advertises on this connection right now.
    pub(super) fn capabilities(&self) -> Capabilities {
        Capabilities {
            pipelining: true,
            size: Some(self.settings.max_message_size),
            starttls: !self.seq.is_tls(),
            auth: if self.auth_allowed() {
                vec!["PLAIN".into(), "LOGIN".into()]
            } else {
                Vec::new()
            },
            enhanced_status_codes: true,
            eight_bit_mime: true,
            binary_mime: false,
            smtputf8: true,
            chunking: true,
        }
    }

    async fn handle_line(&mut self, line: &[u8]) -> Result<(), Stop> {
        let command = match Command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.reply(e.reply());
                return Ok(());
            }
        };
        if let Err(refusal) = self.submission_gate(&command) {
            self.reply(refusal);
            return Ok(());
        }
        if let Err(refusal) = self.seq.check(&command, &self.capabilities()) {
            self.reply(refusal);
            if let Command::Bdat { size, .. } = command {
                self.skip_chunk(size).await?;
            }
            return Ok(());
        }
        self.dispatch(command).await
    }

    async fn dispatch(&mut self, command: Command) -> Result<(), Stop> {
        match command {
            Command::Helo(name) => self.handle_helo(name, false),
            Command::Ehlo(name) => self.handle_helo(name, true),
            Command::Mail { from, params } => self.handle_mail(from, params).await,
            Command::Rcpt { to, .. } => self.handle_rcpt(to).await,
            Command::Data => return self.handle_data().await,
            Command::Bdat { size, last } => return self.handle_bdat(size, last).await,
            Command::Rset => self.handle_rset(),
            Command::Noop => self.reply(Reply::ok()),
            Command::Quit => self.close_with(Reply::quit()),
            Command::Help => self.reply(Reply::help()),
            Command::Vrfy(_) => self.reply(Reply::vrfy()),
            Command::Expn(_) => self.reply(Reply::expn_disabled()),
            Command::StartTls => return self.handle_starttls().await,
            Command::Auth {
                mechanism,
                initial_response,
            } => return self.handle_auth(mechanism, initial_response).await,
        }
        Ok(())
    }

    /// Forgets the transaction (after RSET, HELO, end of data, STARTTLS).
    pub(super) fn reset_transaction(&mut self) {
        self.tx = Transaction::default();
        self.bdat = None;
        self.message = Vec::new();
    }
}
