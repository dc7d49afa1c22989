//! The ENVELOPE structure (RFC 3501 §7.4.2 "ENVELOPE", grammar
//! `envelope` and `address` in §9).
//!
//! Owns: [`Envelope`] and [`Address`] and their wire form. Header text
//! is kept as the raw octets of the header (encoded-words left encoded,
//! as the RFC asks); strings with 8-bit octets, CR or LF are written as
//! literals. An empty address list is written `NIL`.
//!
//! Must not: parse messages; the message layer fills these in (including
//! the RFC's defaults, such as Sender and Reply-To falling back to From,
//! and group syntax as addresses with a NIL host).

use crate::protocol::imap::wire::Writer;

/// One address of an envelope address list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// The display name (raw header text).
    pub name: Option<Vec<u8>>,
    /// The source route (obsolete; normally `None`).
    pub adl: Option<Vec<u8>>,
    /// The local part; for group syntax, the group name (start) or
    /// `None` (end).
    pub mailbox: Option<Vec<u8>>,
    /// The domain; `None` marks group syntax.
    pub host: Option<Vec<u8>>,
}

/// A message's envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Date header.
    pub date: Option<Vec<u8>>,
    /// Subject header.
    pub subject: Option<Vec<u8>>,
    /// From addresses.
    pub from: Vec<Address>,
    /// Sender addresses.
    pub sender: Vec<Address>,
    /// Reply-To addresses.
    pub reply_to: Vec<Address>,
    /// To addresses.
    pub to: Vec<Address>,
    /// Cc addresses.
    pub cc: Vec<Address>,
    /// Bcc addresses.
    pub bcc: Vec<Address>,
    /// In-Reply-To header.
    pub in_reply_to: Option<Vec<u8>>,
    /// Message-ID header.
    pub message_id: Option<Vec<u8>>,
}

fn write_addresses(w: &mut Writer<'_>, list: &[Address]) {
    if list.is_empty() {
        return w.str("NIL");
    }
    w.str("(");
    for a in list {
        w.str("(");
        w.nstring(a.name.as_deref());
        w.sp();
        w.nstring(a.adl.as_deref());
        w.sp();
        w.nstring(a.mailbox.as_deref());
        w.sp();
        w.nstring(a.host.as_deref());
        w.str(")");
    }
    w.str(")");
}

impl Envelope {
    /// Writes `(date subject from sender reply-to to cc bcc in-reply-to
    /// message-id)`.
    pub(in crate::protocol::imap) fn write(&self, w: &mut Writer<'_>) {
        w.str("(");
        w.nstring(self.date.as_deref());
        w.sp();
        w.nstring(self.subject.as_deref());
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            w.sp();
            write_addresses(w, list);
        }
        w.sp();
        w.nstring(self.in_reply_to.as_deref());
        w.sp();
        w.nstring(self.message_id.as_deref());
        w.str(")");
    }
}
