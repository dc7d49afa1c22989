//! Reading the start of a command and dispatching on its name (RFC 3501
//! §2.2.1 tags, §9 `command`, `uid`).
//!
//! Owns: the tag, the case-insensitive command name and the `UID`
//! prefix, the table of command parsers, and turning a [`Fail`] into a
//! [`ParseError`] naming the command. [`run`] also serves the streaming
//! parser's early check of a command cut short by a literal that has not
//! arrived ([`Outcome::Incomplete`]).
//!
//! Must not: parse arguments (the family files do).

use super::Command;
use super::{CommandBody, append, auth, ext, fetch, list, mailbox, search, sort, store};
use crate::protocol::imap::error::{CommandError, ParseError};
use crate::protocol::imap::lexer::{Cursor, Fail, PResult, is_astring_char};
use crate::protocol::imap::token::Tag;

type ParseFn = fn(&mut Cursor<'_>) -> PResult<CommandBody>;

/// Commands by name; `UID` commands are in [`UID_COMMANDS`].
const COMMANDS: [(&str, ParseFn); 33] = [
    ("CAPABILITY", |_| Ok(CommandBody::Capability)),
    ("NOOP", |_| Ok(CommandBody::Noop)),
    ("LOGOUT", |_| Ok(CommandBody::Logout)),
    ("STARTTLS", |_| Ok(CommandBody::StartTls)),
    ("AUTHENTICATE", auth::parse_authenticate),
    ("LOGIN", auth::parse_login),
    ("SELECT", |c| mailbox::parse_select(c, false)),
    ("EXAMINE", |c| mailbox::parse_select(c, true)),
    ("CREATE", mailbox::parse_create),
    ("DELETE", mailbox::parse_delete),
    ("RENAME", mailbox::parse_rename),
    ("SUBSCRIBE", mailbox::parse_subscribe),
    ("UNSUBSCRIBE", mailbox::parse_unsubscribe),
    ("LIST", list::parse_list),
    ("LSUB", mailbox::parse_lsub),
    ("STATUS", mailbox::parse_status),
    ("APPEND", append::parse_append),
    ("CHECK", |_| Ok(CommandBody::Check)),
    ("CLOSE", |_| Ok(CommandBody::Close)),
    ("EXPUNGE", |_| Ok(CommandBody::Expunge)),
    ("UNSELECT", |_| Ok(CommandBody::Unselect)),
    ("IDLE", |_| Ok(CommandBody::Idle)),
    ("NAMESPACE", |_| Ok(CommandBody::Namespace)),
    ("SEARCH", |c| search::parse_search(c, false)),
    ("FETCH", |c| fetch::parse_fetch(c, false)),
    ("STORE", |c| store::parse_store(c, false)),
    ("COPY", |c| store::parse_copy(c, false)),
    ("MOVE", |c| store::parse_move(c, false)),
    ("SORT", |c| sort::parse_sort(c, false)),
    ("ID", ext::parse_id),
    ("ENABLE", ext::parse_enable),
    ("GETQUOTA", ext::parse_getquota),
    ("GETQUOTAROOT", ext::parse_getquotaroot),
];

/// Commands after `UID `.
const UID_COMMANDS: [(&str, ParseFn); 7] = [
    ("UID FETCH", |c| fetch::parse_fetch(c, true)),
    ("UID STORE", |c| store::parse_store(c, true)),
    ("UID COPY", |c| store::parse_copy(c, true)),
    ("UID MOVE", |c| store::parse_move(c, true)),
    ("UID SEARCH", |c| search::parse_search(c, true)),
    ("UID SORT", |c| sort::parse_sort(c, true)),
    ("UID EXPUNGE", store::parse_uid_expunge),
];

/// How parsing a (possibly partial) command ended.
pub(in crate::protocol::imap) enum Outcome {
    /// A whole, valid command.
    Parsed(Command),
    /// Valid so far, but a literal's data has not arrived.
    Incomplete,
    /// Refused.
    Failed(CommandError),
}

/// The tag at the start of `input`, if one can be read (it must be
/// followed by a space or the line end).
pub(in crate::protocol::imap) fn leading_tag(input: &[u8]) -> Option<Tag> {
    let end = input
        .iter()
        .position(|&b| !is_astring_char(b) || b == b'+')?;
    match input[end] {
        b' ' | b'\r' | b'\n' => Tag::new(std::str::from_utf8(&input[..end]).ok()?),
        _ => None,
    }
}

fn lookup(c: &mut Cursor<'_>) -> Result<(&'static str, ParseFn), ParseError> {
    let name = c.keyword().map_err(|_| ParseError::UnknownCommand)?;
    if name != "UID" {
        let found = COMMANDS.iter().find(|(n, _)| *n == name);
        return found.copied().ok_or(ParseError::UnknownCommand);
    }
    let sub = c.sp().and_then(|()| c.keyword()).unwrap_or_default();
    UID_COMMANDS
        .iter()
        .find(|(n, _)| n.strip_prefix("UID ") == Some(sub.as_str()))
        .copied()
        .ok_or(ParseError::Syntax {
            command: "UID",
            reason: "expected FETCH, STORE, COPY, MOVE, SEARCH, SORT or EXPUNGE",
        })
}

/// Parses `input`, which may end inside a literal.
pub(in crate::protocol::imap) fn run(input: &[u8]) -> Outcome {
    let mut c = Cursor::new(input);
    if c.at_line_end() {
        return Outcome::Failed(CommandError::untagged(ParseError::Empty));
    }
    let Some(tag) = leading_tag(input) else {
        return Outcome::Failed(CommandError::untagged(ParseError::BadTag));
    };
    c.advance(tag.as_str().len());
    let fail = |error| Outcome::Failed(CommandError::new(Some(tag.clone()), error));
    if c.at_line_end() || c.sp().is_err() {
        return fail(ParseError::MissingCommand);
    }
    let (name, parse) = match lookup(&mut c) {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    match parse(&mut c).and_then(|body| c.finish().map(|()| body)) {
        Ok(body) => Outcome::Parsed(Command {
            tag: tag.clone(),
            body,
        }),
        // Out of input without a line end: a literal's data (or, for
        // a zero-length literal, what follows it) has not arrived.
        Err(Fail::Incomplete) => Outcome::Incomplete,
        Err(Fail::Bad(_)) if c.rest().is_empty() => Outcome::Incomplete,
        Err(Fail::Bad(reason)) => fail(ParseError::Syntax {
            command: name,
            reason,
        }),
        Err(Fail::TooDeep) => fail(ParseError::TooDeep { command: name }),
    }
}
