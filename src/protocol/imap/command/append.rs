//! `APPEND mailbox [flags] [date-time] literal` (RFC 3501 §6.3.11; the
//! literal may be non-synchronising, RFC 7888).
//!
//! Owns: [`Append`]. The message is the literal's octets, any octet
//! allowed (NUL included: refusing it is the session's call). Its size
//! limit is [`crate::protocol::imap::Limits::append`], checked by the
//! streaming parser before the data is read.
//!
//! Must not: store the message.

use time::OffsetDateTime;

use super::CommandBody;
use super::mailbox::parse_mailbox;
use crate::protocol::imap::datetime::{format_date_time, parse_date_time};
use crate::protocol::imap::flag::{Flag, parse_flag_list};
use crate::protocol::imap::lexer::{Cursor, PResult};
use crate::protocol::imap::mailbox::MailboxName;
use crate::protocol::imap::wire::Writer;

/// An APPEND command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    /// The destination.
    pub mailbox: MailboxName,
    /// Flags to set (empty if none were given, or `()`).
    pub flags: Vec<Flag>,
    /// The internal date to give the message, if sent.
    pub date: Option<OffsetDateTime>,
    /// The message.
    pub message: Vec<u8>,
}

/// `APPEND SP mailbox [SP flag-list] [SP date-time] SP literal`.
pub(super) fn parse_append(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mailbox = parse_mailbox(c)?;
    c.sp()?;
    let mut flags = Vec::new();
    if c.peek() == Some(b'(') {
        flags = parse_flag_list(c)?;
        c.sp()?;
    }
    let mut date = None;
    if c.peek() == Some(b'"') {
        date = Some(parse_date_time(c)?);
        c.sp()?;
    }
    let message = c.literal()?.to_vec();
    Ok(CommandBody::Append(Append {
        mailbox,
        flags,
        date,
        message,
    }))
}

impl Append {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.sp();
        w.mailbox(&self.mailbox);
        if !self.flags.is_empty() {
            w.sp();
            w.list(&self.flags, |w, f| w.str(&f.to_string()));
        }
        if let Some(date) = self.date {
            w.str(" \"");
            w.str(&format_date_time(date));
            w.str("\"");
        }
        w.sp();
        w.literal(&self.message);
    }
}
