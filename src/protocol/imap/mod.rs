//! The sans-IO IMAP codec: bytes in, commands out; responses out as
//! bytes. IMAP4rev1 (RFC 3501) complete, plus the syntax of the
//! extensions the server advertises: LITERAL+ (RFC 7888), SASL-IR
//! (RFC 4959), IDLE (RFC 2177), NAMESPACE (RFC 2342), ID (RFC 2971),
//! ENABLE (RFC 5161), UNSELECT (RFC 3691), UIDPLUS (RFC 4315), MOVE
//! (RFC 6851), CONDSTORE (RFC 7162), ESEARCH (RFC 4731), SEARCHRES
//! (RFC 5182), SORT (RFC 5256), LIST-EXTENDED (RFC 5258), LIST-STATUS
//! (RFC 5819), SPECIAL-USE (RFC 6154), QUOTA (RFC 9208), STATUS=SIZE
//! (RFC 8438) and the response codes of RFC 5530.
//!
//! Owns, one file per concern:
//! - `reader.rs`: [`Parser`], the streaming framer (lines, literals,
//!   limits) and [`Limits`]; `frame.rs`: literal announcements and
//!   skipping refused input;
//! - `lexer.rs`: the primitives (atoms, strings, literals, numbers);
//! - `command/`: [`Command`] and one file per command family, each
//!   parsing and printing its commands;
//! - `token.rs` ([`Tag`], [`Atom`], [`Secret`]), `mailbox.rs`
//!   ([`MailboxName`], modified UTF-7), `flag.rs` ([`Flag`]),
//!   `sequence.rs` ([`SequenceSet`]), `datetime.rs` (dates);
//! - `response/`: [`Response`] and everything it carries, including the
//!   streaming [`FetchEncoder`], [`Envelope`] and [`BodyStructure`];
//! - `wire.rs`: how strings are written (atom, quoted, literal, NIL);
//! - `error.rs`: [`ParseError`] / [`CommandError`] and the one mapping
//!   from a refusal to its response.
//!
//! Must not: do I/O, use tokio or sqlx, touch files, know session state
//! or depend on anything in the crate but `crate::mutf7`.
//!
//! The session (in `crate::imap`) drives it like this:
//! 1. [`Parser::feed`] what it read, then call [`Parser::next_command`]
//!    until [`Parsed::Incomplete`]:
//!    - [`Parsed::NeedsLiteral`] with `sync`: write `+ Ready` (or call
//!      [`Parser::refuse_literal`] and write a tagged `NO`); without
//!      `sync` (LITERAL+) write nothing;
//!    - [`Parsed::Error`]: write [`CommandError::response`]; the parser
//!      already skips the rest of the bad command;
//!    - [`Parsed::Complete`]: execute it;
//! 2. after `AUTHENTICATE`, write challenges ([`Response::challenge`])
//!    and read each answer with [`Parser::next_authenticate`]; after
//!    `IDLE`'s `+ idling`, wait for [`Parser::next_idle_done`];
//! 3. after `STARTTLS`'s `OK`: [`Parser::discard_buffered`], then the
//!    handshake;
//! 4. write responses with [`Response::write_to`]; for a FETCH with large
//!    sections use [`FetchEncoder`] and stream the literal octets.

mod command;
mod datetime;
mod error;
mod flag;
mod frame;
mod lexer;
mod mailbox;
mod reader;
mod response;
mod sequence;
mod token;
mod wire;

#[cfg(test)]
mod tests;

pub use command::{
    Append, AuthenticateLine, Command, CommandBody, EntryType, Fetch, FetchAttribute, FetchItems,
    HeaderName, List, ListReturn, ListSelect, Partial, Search, SearchKey, SearchReturn, Section,
    SectionText, Sort, SortCriterion, SortKey, StatusItem, Store, StoreAction,
    parse_authenticate_line,
};
pub use datetime::{format_date, format_date_time};
pub use error::{CommandError, ParseError};
pub use flag::Flag;
pub use lexer::MAX_NESTING;
pub use mailbox::MailboxName;
pub use reader::{Limits, Parsed, Parser};
pub use response::{
    Address, BodyFields, BodyStructure, Code, Completion, Condition, Continuation, Data,
    Disposition, ESearchItem, Envelope, FetchData, FetchEncoder, FetchLiteral, ListItem,
    MailboxAttribute, MultipartExtension, Namespace, QuotaResource, RespText, Response,
    SinglePartExtension, StatusValue,
};
pub use sequence::{SeqNumber, SeqRange, SequenceSet};
pub use token::{Atom, Secret, Tag};
pub use wire::{MAX_QUOTED, MAX_QUOTED_SPECIALS};
