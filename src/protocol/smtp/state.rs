//! Command sequencing for one SMTP connection (RFC 5321 §3.3, §4.1.4
//! order of commands; RFC 3030 §2–§3 DATA/BDAT exclusivity; RFC 3207 §4.2
//! state reset after STARTTLS; RFC 4954 §4 AUTH rules) and the error
//! counter behind Postfix's `smtpd_hard_error_limit`.
//!
//! Owns: [`Sequencer`], a pure state machine that answers "may this
//! command run now?" with the right `503`/`452`/`502`/`555` reply, and is
//! told what the session accepted; [`ErrorCounter`].
//!
//! The session calls [`Sequencer::check`] with a parsed command and the
//! capabilities it currently advertises; on `Ok` it does its own async
//! checks (recipient lookup, greylisting, …) and then reports the result
//! through one of the `on_*` methods. The sequencer never sees a
//! refused command, so its state is always what the client was told.
//!
//! Must not: perform I/O, look up anything, or produce replies for
//! success (the session knows whether delivery worked).

use super::command::Command;
use super::ehlo::Capabilities;
use super::params::Body;
use super::reply::Reply;

/// The envelope of the transaction in progress, as far as sequencing
/// needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// The `BODY=` of MAIL.
    pub body: Body,
    /// MAIL carried `SMTPUTF8`.
    pub smtputf8: bool,
    /// Recipients accepted so far.
    pub accepted: usize,
    /// Recipients refused so far.
    pub rejected: usize,
}

/// Where the connection is in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before HELO/EHLO (also right after STARTTLS).
    Fresh,
    /// Greeted, no transaction.
    Greeted {
        /// The client used EHLO.
        extended: bool,
    },
    /// After MAIL; RCPTs are counted in the envelope.
    Mail(Envelope),
    /// Between `354` and the end of data.
    Data,
    /// BDAT chunks have been received, LAST not yet.
    Bdat(Envelope),
}

/// The sequencing state machine for one connection.
#[derive(Debug, Clone)]
pub struct Sequencer {
    phase: Phase,
    extended: bool,
    tls: bool,
    authenticated: bool,
    max_recipients: usize,
}

impl Sequencer {
    /// A fresh connection; `max_recipients` per message (Postfix's
    /// `smtpd_recipient_limit` is 1000); `tls` for implicit-TLS ports.
    pub fn new(max_recipients: usize, tls: bool) -> Self {
        Sequencer {
            phase: Phase::Fresh,
            extended: false,
            tls,
            authenticated: false,
            max_recipients,
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the connection is TLS-protected.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether AUTH succeeded on this connection.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// Whether `cmd` may run now, given what is advertised in `caps`.
    /// For MAIL this includes [`super::MailParams::validate`], for RCPT
    /// [`super::RcptParams::validate`], the recipient limit and the
    /// SMTPUTF8 rule for non-ASCII recipients.
    ///
    /// A refused `BDAT` still has its chunk on the wire: drain it with
    /// [`super::ChunkSkipper`] before reading the next command.
    ///
    /// # Errors
    /// The reply to send instead of running the command.
    pub fn check(&self, cmd: &Command, caps: &Capabilities) -> Result<(), Reply> {
        match cmd {
            Command::Mail { from, params } => {
                self.check_mail()?;
                params.validate(from, caps)
            }
            Command::Rcpt { to, params } => {
                let env = match self.phase {
                    Phase::Mail(env) => env,
                    Phase::Bdat(_) | Phase::Data => return Err(Reply::bad_sequence()),
                    Phase::Fresh | Phase::Greeted { .. } => return Err(Reply::need_mail()),
                };
                params.validate()?;
                if env.accepted >= self.max_recipients {
                    return Err(Reply::too_many_recipients());
                }
                if !env.smtputf8 && !to.is_ascii() {
                    return Err(Reply::smtputf8_required());
                }
                Ok(())
            }
            Command::Data => match self.phase {
                Phase::Mail(env) if env.body == Body::BinaryMime => Err(Reply::data_bdat_mixed()),
                Phase::Mail(env) => Self::need_recipients(env),
                Phase::Bdat(_) => Err(Reply::data_bdat_mixed()),
                _ => Err(Reply::need_mail()),
            },
            Command::Bdat { .. } if !caps.chunking => Err(Reply::not_implemented()),
            Command::Bdat { .. } => match self.phase {
                Phase::Mail(env) => Self::need_recipients(env),
                Phase::Bdat(_) => Ok(()),
                _ => Err(Reply::need_mail()),
            },
            Command::StartTls => self.check_starttls(caps),
            Command::Auth { .. } => self.check_auth(caps),
            Command::Helo(_)
            | Command::Ehlo(_)
            | Command::Rset
            | Command::Noop
            | Command::Quit
            | Command::Help
            | Command::Vrfy(_)
            | Command::Expn(_) => Ok(()),
        }
    }

    fn check_mail(&self) -> Result<(), Reply> {
        match self.phase {
            Phase::Fresh => Err(Reply::need_helo()),
            Phase::Greeted { .. } => Ok(()),
            Phase::Mail(_) | Phase::Bdat(_) | Phase::Data => Err(Reply::nested_mail()),
        }
    }

    fn need_recipients(env: Envelope) -> Result<(), Reply> {
        match (env.accepted, env.rejected) {
            (0, 0) => Err(Reply::need_rcpt()),
            (0, _) => Err(Reply::no_valid_recipients()),
            _ => Ok(()),
        }
    }

    fn check_starttls(&self, caps: &Capabilities) -> Result<(), Reply> {
        if self.tls {
            return Err(Reply::tls_already_active());
        }
        if !caps.starttls {
            return Err(Reply::not_implemented());
        }
        match self.phase {
            Phase::Fresh => Err(Reply::need_helo()),
            Phase::Greeted { .. } => Ok(()),
            _ => Err(Reply::transaction_in_progress()),
        }
    }

    fn check_auth(&self, caps: &Capabilities) -> Result<(), Reply> {
        if caps.auth.is_empty() {
            return Err(Reply::auth_not_enabled());
        }
        if self.authenticated {
            return Err(Reply::already_authenticated());
        }
        match self.phase {
            Phase::Fresh => Err(Reply::need_helo()),
            Phase::Greeted { extended: false } => Err(Reply::need_ehlo()),
            Phase::Greeted { extended: true } => Ok(()),
            _ => Err(Reply::transaction_in_progress()),
        }
    }

    /// HELO (`extended == false`) or EHLO was answered `250`: any
    /// transaction is abandoned (RFC 5321 §4.1.4).
    pub fn on_greeting(&mut self, extended: bool) {
        self.extended = extended;
        self.phase = Phase::Greeted { extended };
    }

    /// MAIL was accepted with these parameters.
    pub fn on_mail(&mut self, body: Body, smtputf8: bool) {
        self.phase = Phase::Mail(Envelope {
            body,
            smtputf8,
            accepted: 0,
            rejected: 0,
        });
    }

    /// A RCPT passed [`Sequencer::check`]; `accepted` is the session's
    /// verdict after its own lookups.
    pub fn on_rcpt(&mut self, accepted: bool) {
        if let Phase::Mail(env) = &mut self.phase {
            if accepted {
                env.accepted += 1;
            } else {
                env.rejected += 1;
            }
        }
    }

    /// DATA was answered `354`.
    pub fn on_data_start(&mut self) {
        self.phase = Phase::Data;
    }

    /// A BDAT chunk was received; `last` or any error ends the
    /// transaction (`ended == true`), otherwise more chunks may follow.
    pub fn on_bdat_chunk(&mut self, ended: bool) {
        match (self.phase, ended) {
            (_, true) => self.end_transaction(),
            (Phase::Mail(env) | Phase::Bdat(env), false) => self.phase = Phase::Bdat(env),
            _ => {}
        }
    }

    /// The message transfer ended (accepted or refused); back to
    /// waiting for MAIL.
    pub fn end_transaction(&mut self) {
        if self.phase != Phase::Fresh {
            self.phase = Phase::Greeted {
                extended: self.extended,
            };
        }
    }

    /// RSET was answered `250`.
    pub fn on_rset(&mut self) {
        self.end_transaction();
    }

    /// The TLS handshake after STARTTLS succeeded: everything learnt
    /// before is forgotten (RFC 3207 §4.2).
    pub fn on_tls(&mut self) {
        self.phase = Phase::Fresh;
        self.extended = false;
        self.tls = true;
        self.authenticated = false;
    }

    /// AUTH succeeded.
    pub fn on_authenticated(&mut self) {
        self.authenticated = true;
    }
}

/// What the session should do after an error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorVerdict {
    /// Carry on.
    Continue,
    /// Over the soft limit: pause before replying (Postfix sleeps
    /// `smtpd_error_sleep_time`, 1 s).
    Delay,
    /// Over the hard limit: send [`Reply::too_many_errors`] and close.
    Disconnect,
}

/// Counts error replies on a connection (Postfix: soft limit 10, hard
/// limit 20; reset after a message is accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCounter {
    count: u32,
    soft_limit: u32,
    hard_limit: u32,
}

impl Default for ErrorCounter {
    fn default() -> Self {
        ErrorCounter::new(10, 20)
    }
}

impl ErrorCounter {
    /// A counter with the given limits.
    pub fn new(soft_limit: u32, hard_limit: u32) -> Self {
        ErrorCounter {
            count: 0,
            soft_limit,
            hard_limit,
        }
    }

    /// Records one error reply.
    pub fn record(&mut self) -> ErrorVerdict {
        self.count = self.count.saturating_add(1);
        if self.count >= self.hard_limit {
            ErrorVerdict::Disconnect
        } else if self.count > self.soft_limit {
            ErrorVerdict::Delay
        } else {
            ErrorVerdict::Continue
        }
    }

    /// Records `reply` if it is a 4xx/5xx, else leaves the count alone.
    pub fn observe(&mut self, reply: &Reply) -> ErrorVerdict {
        if reply.is_transient() || reply.is_permanent() {
            self.record()
        } else {
            ErrorVerdict::Continue
        }
    }

    /// Forgets past errors (after a message was accepted).
    pub fn reset(&mut self) {
        self.count = 0;
    }

    /// Errors recorded so far.
    pub fn count(&self) -> u32 {
        self.count
    }
}
