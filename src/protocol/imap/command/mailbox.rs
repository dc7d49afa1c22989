//! Commands that name mailboxes: `SELECT` and `EXAMINE` (RFC 3501
//! §6.3.1–2, with the CONDSTORE select parameter of RFC 7162 §3.1.8 in
//! the RFC 4466 §2.1 syntax), `CREATE`, `DELETE`, `RENAME`, `SUBSCRIBE`,
//! `UNSUBSCRIBE`, `LSUB` (§6.3.3–9) and `STATUS` (§6.3.10, with
//! HIGHESTMODSEQ of RFC 7162 §3.1.1 and SIZE of RFC 8438).
//!
//! Owns: their syntax and [`StatusItem`]. Mailbox names are astrings
//! decoded from modified UTF-7 ([`MailboxName::from_wire`]); the LSUB
//! pattern is a `list-mailbox` (wildcards may be bare).
//!
//! Must not: resolve names against the store.

use super::CommandBody;
use crate::protocol::imap::lexer::{Cursor, Fail, PResult, is_list_char};
use crate::protocol::imap::mailbox::MailboxName;
use crate::protocol::imap::wire::Writer;

/// An item of `STATUS` (and of LIST's `RETURN (STATUS (…))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    /// `MESSAGES`.
    Messages,
    /// `RECENT`.
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `HIGHESTMODSEQ` (RFC 7162).
    HighestModSeq,
    /// `SIZE` (RFC 8438).
    Size,
}

const STATUS_ITEMS: [(StatusItem, &str); 7] = [
    (StatusItem::Messages, "MESSAGES"),
    (StatusItem::Recent, "RECENT"),
    (StatusItem::UidNext, "UIDNEXT"),
    (StatusItem::UidValidity, "UIDVALIDITY"),
    (StatusItem::Unseen, "UNSEEN"),
    (StatusItem::HighestModSeq, "HIGHESTMODSEQ"),
    (StatusItem::Size, "SIZE"),
];

impl StatusItem {
    /// The item's name on the wire.
    pub fn as_str(self) -> &'static str {
        STATUS_ITEMS
            .iter()
            .find(|(item, _)| *item == self)
            .map_or("", |(_, name)| name)
    }
}

/// A mailbox name (astring).
pub(super) fn parse_mailbox(c: &mut Cursor<'_>) -> PResult<MailboxName> {
    Ok(MailboxName::from_wire(&c.astring()?))
}

/// A `list-mailbox`: list-chars or a string.
pub(super) fn parse_pattern(c: &mut Cursor<'_>) -> PResult<MailboxName> {
    let raw = match c.peek() {
        Some(b) if is_list_char(b) => c.take_while(is_list_char).to_vec(),
        _ => c.string()?,
    };
    Ok(MailboxName::from_wire(&raw))
}

/// One status item.
pub(super) fn parse_status_item(c: &mut Cursor<'_>) -> PResult<StatusItem> {
    let name = c.keyword()?;
    STATUS_ITEMS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(item, _)| *item)
        .ok_or(Fail::Bad("unknown status item"))
}

/// `SELECT`/`EXAMINE mailbox [SP "(" select-param … ")"]`.
pub(super) fn parse_select(c: &mut Cursor<'_>, examine: bool) -> PResult<CommandBody> {
    c.sp()?;
    let mailbox = parse_mailbox(c)?;
    let mut condstore = false;
    if !c.at_line_end() {
        c.sp()?;
        for param in c.list(|c| c.keyword())? {
            match param.as_str() {
                "CONDSTORE" => condstore = true,
                _ => return Err(Fail::Bad("unknown select parameter")),
            }
        }
    }
    Ok(match examine {
        true => CommandBody::Examine { mailbox, condstore },
        false => CommandBody::Select { mailbox, condstore },
    })
}

fn one_mailbox(c: &mut Cursor<'_>) -> PResult<MailboxName> {
    c.sp()?;
    parse_mailbox(c)
}

/// `CREATE mailbox`.
pub(super) fn parse_create(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    one_mailbox(c).map(|mailbox| CommandBody::Create { mailbox })
}

/// `DELETE mailbox`.
pub(super) fn parse_delete(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    one_mailbox(c).map(|mailbox| CommandBody::Delete { mailbox })
}

/// `SUBSCRIBE mailbox`.
pub(super) fn parse_subscribe(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    one_mailbox(c).map(|mailbox| CommandBody::Subscribe { mailbox })
}

/// `UNSUBSCRIBE mailbox`.
pub(super) fn parse_unsubscribe(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    one_mailbox(c).map(|mailbox| CommandBody::Unsubscribe { mailbox })
}

/// `RENAME mailbox SP mailbox`.
pub(super) fn parse_rename(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let from = one_mailbox(c)?;
    let to = one_mailbox(c)?;
    Ok(CommandBody::Rename { from, to })
}

/// `LSUB mailbox SP list-mailbox`.
pub(super) fn parse_lsub(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let reference = one_mailbox(c)?;
    c.sp()?;
    let pattern = parse_pattern(c)?;
    Ok(CommandBody::Lsub { reference, pattern })
}

/// `STATUS mailbox SP "(" status-att *(SP status-att) ")"`.
pub(super) fn parse_status(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mailbox = one_mailbox(c)?;
    c.sp()?;
    let items = c.list1(parse_status_item)?;
    Ok(CommandBody::Status { mailbox, items })
}

/// Writes `(MESSAGES UNSEEN …)`.
pub(super) fn write_status_items(w: &mut Writer<'_>, items: &[StatusItem]) {
    w.list(items, |w, item| w.str(item.as_str()));
}

/// Writes the arguments of the commands parsed here.
pub(super) fn write(body: &CommandBody, w: &mut Writer<'_>) {
    w.sp();
    match body {
        CommandBody::Select { mailbox, condstore }
        | CommandBody::Examine { mailbox, condstore } => {
            w.mailbox(mailbox);
            if *condstore {
                w.str(" (CONDSTORE)");
            }
        }
        CommandBody::Create { mailbox }
        | CommandBody::Delete { mailbox }
        | CommandBody::Subscribe { mailbox }
        | CommandBody::Unsubscribe { mailbox } => w.mailbox(mailbox),
        CommandBody::Rename { from, to } => {
            w.mailbox(from);
            w.sp();
            w.mailbox(to);
        }
        CommandBody::Lsub { reference, pattern } => {
            w.mailbox(reference);
            w.sp();
            w.pattern(pattern);
        }
        CommandBody::Status { mailbox, items } => {
            w.mailbox(mailbox);
            w.sp();
            write_status_items(w, items);
        }
        _ => {}
    }
}
