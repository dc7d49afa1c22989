//! The ENVELOPE structure (RFC 3501 §7.4.2 "ENVELOPE", grammar
//! `envelope` and `address` in §9).
//!
//! Owns: [`Envelope`] and [`Address`] and their wire form, byte for byte
//! as Dovecot 2.3 writes them. Header text is kept as the raw octets of
//! the header (encoded-words left encoded, as the RFC asks). The Subject
//! and display names are written for humans (`wire.rs`
//! `Writer::human_string`: folds, tabs and extra blanks cleaned, a
//! literal whenever the cleaning changed something or the text holds
//! `"`, `\` or 8-bit octets); every other string is a message string
//! (`Writer::message_string`: quoted unless it holds CR, LF, 8-bit
//! octets or more than four `"`/`\`). An empty address list is `NIL`.
//!
//! Must not: parse messages; the message layer fills these in (including
//! the RFC's defaults, such as Sender and Reply-To falling back to From,
//! and group syntax as addresses with a NIL host).

use crate::protocol::imap::wire::Writer;

/// One address of an envelope address list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// The display name (raw header text; cleaned for humans on output).
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
    /// Subject header (raw header text; cleaned for humans on output).
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

fn human_nstring(w: &mut Writer<'_>, text: Option<&[u8]>) {
    match text {
        Some(text) => w.human_string(text),
        None => w.str("NIL"),
    }
}

fn write_addresses(w: &mut Writer<'_>, list: &[Address]) {
    if list.is_empty() {
        return w.str("NIL");
    }
    w.str("(");
    for a in list {
        w.str("(");
        human_nstring(w, a.name.as_deref());
        w.sp();
        w.message_nstring(a.adl.as_deref());
        w.sp();
        w.message_nstring(a.mailbox.as_deref());
        w.sp();
        w.message_nstring(a.host.as_deref());
        w.str(")");
    }
    w.str(")");
}

impl Envelope {
    /// Writes `(date subject from sender reply-to to cc bcc in-reply-to
    /// message-id)`.
    pub(in crate::protocol::imap) fn write(&self, w: &mut Writer<'_>) {
        w.str("(");
        w.message_nstring(self.date.as_deref());
        w.sp();
        human_nstring(w, self.subject.as_deref());
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
        w.message_nstring(self.in_reply_to.as_deref());
        w.sp();
        w.message_nstring(self.message_id.as_deref());
        w.str(")");
    }
}
