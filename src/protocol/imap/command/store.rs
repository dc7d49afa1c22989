//! Commands that change or move messages: `STORE` (RFC 3501 §6.4.6,
//! with the UNCHANGEDSINCE modifier of RFC 7162 §3.1.3), `COPY`
//! (§6.4.7), `MOVE` (RFC 6851 §3.1), their `UID` forms (§6.4.8) and
//! `UID EXPUNGE` (UIDPLUS, RFC 4315 §2.1).
//!
//! Owns: [`Store`] and [`StoreAction`]. Flags may be a parenthesised list
//! or bare flags separated by spaces; both parse to the same value and
//! print as a list.
//!
//! Must not: touch the store.

use super::CommandBody;
use super::mailbox::parse_mailbox;
use crate::protocol::imap::flag::{Flag, parse_flag, parse_flag_list};
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::sequence::{SequenceSet, parse_sequence_set};
use crate::protocol::imap::wire::Writer;

/// A STORE command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// `UID STORE`: the set holds UIDs.
    pub uid: bool,
    /// The messages.
    pub set: SequenceSet,
    /// Replace, add or remove.
    pub action: StoreAction,
    /// `.SILENT`: no untagged FETCH for the change.
    pub silent: bool,
    /// The flags (possibly empty: `FLAGS ()` clears them).
    pub flags: Vec<Flag>,
    /// `(UNCHANGEDSINCE n)`: only messages whose mod-sequence is at most
    /// this.
    pub unchanged_since: Option<u64>,
}

/// What STORE does with the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreAction {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

fn parse_unchanged_since(c: &mut Cursor<'_>) -> PResult<u64> {
    let modifiers = c.list1(|c| {
        let name = c.keyword()?;
        c.sp()?;
        Ok((name, c.number64()?))
    })?;
    match modifiers.as_slice() {
        [(name, value)] if name == "UNCHANGEDSINCE" => Ok(*value),
        _ => Err(Fail::Bad("unknown or repeated STORE modifier")),
    }
}

fn parse_flags(c: &mut Cursor<'_>) -> PResult<Vec<Flag>> {
    if c.peek() == Some(b'(') {
        return parse_flag_list(c);
    }
    let mut flags = vec![parse_flag(c)?];
    while !c.at_line_end() {
        c.sp()?;
        flags.push(parse_flag(c)?);
    }
    Ok(flags)
}

/// `STORE SP sequence-set [SP "(" UNCHANGEDSINCE n ")"] SP
/// ["+"/"-"] "FLAGS" [".SILENT"] SP flags`.
pub(super) fn parse_store(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    c.sp()?;
    let mut unchanged_since = None;
    if c.peek() == Some(b'(') {
        unchanged_since = Some(parse_unchanged_since(c)?);
        c.sp()?;
    }
    let item = c.keyword()?;
    let (action, name) = match item.as_bytes().first() {
        Some(b'+') => (StoreAction::Add, &item[1..]),
        Some(b'-') => (StoreAction::Remove, &item[1..]),
        _ => (StoreAction::Replace, item.as_str()),
    };
    let silent = match name {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => return Err(Fail::Bad("expected FLAGS, +FLAGS or -FLAGS")),
    };
    c.sp()?;
    let flags = parse_flags(c)?;
    Ok(CommandBody::Store(Store {
        uid,
        set,
        action,
        silent,
        flags,
        unchanged_since,
    }))
}

fn set_and_mailbox(
    c: &mut Cursor<'_>,
) -> PResult<(SequenceSet, crate::protocol::imap::MailboxName)> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    c.sp()?;
    Ok((set, parse_mailbox(c)?))
}

/// `COPY SP sequence-set SP mailbox`.
pub(super) fn parse_copy(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    let (set, mailbox) = set_and_mailbox(c)?;
    Ok(CommandBody::Copy { uid, set, mailbox })
}

/// `MOVE SP sequence-set SP mailbox`.
pub(super) fn parse_move(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    let (set, mailbox) = set_and_mailbox(c)?;
    Ok(CommandBody::Move { uid, set, mailbox })
}

/// `UID EXPUNGE SP sequence-set`.
pub(super) fn parse_uid_expunge(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    parse_sequence_set(c).map(CommandBody::UidExpunge)
}

impl Store {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.sp();
        w.str(&self.set.to_string());
        if let Some(modseq) = self.unchanged_since {
            w.str(&format!(" (UNCHANGEDSINCE {modseq})"));
        }
        w.str(match self.action {
            StoreAction::Replace => " FLAGS",
            StoreAction::Add => " +FLAGS",
            StoreAction::Remove => " -FLAGS",
        });
        if self.silent {
            w.str(".SILENT");
        }
        w.sp();
        w.list(&self.flags, |w, f| w.str(&f.to_string()));
    }
}

/// Writes the arguments of COPY, MOVE and UID EXPUNGE.
pub(super) fn write(body: &CommandBody, w: &mut Writer<'_>) {
    w.sp();
    match body {
        CommandBody::UidExpunge(set) => w.str(&set.to_string()),
        CommandBody::Copy { set, mailbox, .. } | CommandBody::Move { set, mailbox, .. } => {
            w.str(&set.to_string());
            w.sp();
            w.mailbox(mailbox);
        }
        _ => {}
    }
}
