//! The sans-IO SMTP codec: bytes in, commands and message data out;
//! replies out as bytes (RFC 5321 with SIZE RFC 1870, 8BITMIME RFC 6152,
//! SMTPUTF8 RFC 6531, CHUNKING/BINARYMIME RFC 3030, PIPELINING RFC 2920,
//! STARTTLS RFC 3207, ENHANCEDSTATUSCODES RFC 2034/3463, AUTH syntax
//! RFC 4954).
//!
//! Owns, one file per concern:
//! - `line.rs`: [`LineReader`], the command-mode input buffer;
//! - `command.rs`, `address.rs`, `domain.rs`, `params.rs`: [`Command`]
//!   parsing and canonical printing; `error.rs`: [`ParseError`] and its
//!   reply;
//! - `data.rs`: [`DataReceiver`] (strict `<CRLF>.<CRLF>`);
//!   `bdat.rs`: [`BdatReceiver`] and [`ChunkSkipper`];
//! - `reply.rs`, `replies.rs`, `ehlo.rs`: [`Reply`], every named reply,
//!   the EHLO reply from [`Capabilities`];
//! - `state.rs`: [`Sequencer`] (which command may run now) and
//!   [`ErrorCounter`].
//!
//! Must not: do I/O, use tokio or sqlx, touch files, look up users, or
//! depend on anything else in the crate.
//!
//! The session (in `crate::smtp`) drives it like this:
//! 1. feed what it read to the [`LineReader`]; for each line:
//!    [`LineError::TooLong`] → [`Reply::line_too_long`]; otherwise
//!    [`Command::parse`] — on error send [`ParseError::reply`];
//! 2. [`Sequencer::check`] with the advertised [`Capabilities`] — on
//!    error send that reply; otherwise do the async work and report it
//!    with `Sequencer::on_*`;
//! 3. after `354` (DATA) or for BDAT: take [`LineReader::take_buffered`],
//!    feed it to the receiver, read more until it reports an outcome,
//!    and give the unconsumed rest back to [`LineReader::feed`];
//! 4. after `220` to STARTTLS: [`LineReader::discard_buffered`], then the
//!    handshake, then [`Sequencer::on_tls`];
//! 5. count error replies with [`ErrorCounter::observe`]; close after a
//!    reply for which [`Reply::closes_connection`] is true.

mod address;
mod bdat;
mod client;
mod command;
mod data;
mod domain;
mod ehlo;
mod error;
mod line;
mod params;
mod replies;
mod reply;
mod state;

#[cfg(test)]
mod tests;

pub use address::{AddressError, ForwardPath, MAX_LOCAL_PART, MAX_PATH, Mailbox, ReversePath};
pub use bdat::{BdatReceiver, ChunkOutcome, ChunkSkipper};
pub use client::{
    DotStuffer, ReplyError, ReplyLimits, ReplyParser, dot_stuff, has_eight_bit, server_capabilities,
};
pub use command::{Command, SaslResponse, Verb};
pub use data::{DataLimits, DataOutcome, DataReceiver, DataSink, Progress};
pub use domain::{AddressLiteral, Domain, MAX_DOMAIN};
pub use ehlo::{Capabilities, Ehlo};
pub use error::ParseError;
pub use line::{Line, LineError, LineLimits, LineReader};
pub use params::{Body, EsmtpParam, MailParams, RcptParams};
pub use reply::{EnhancedStatus, MAX_REPLY_LINE, Reply};
pub use state::{Envelope, ErrorCounter, ErrorVerdict, Phase, Sequencer};
