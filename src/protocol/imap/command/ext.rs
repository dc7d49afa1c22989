//! Small extension commands: `ID` (RFC 2971 §3.1), `ENABLE` (RFC 5161
//! §3.1), `GETQUOTA` and `GETQUOTAROOT` (RFC 9208 §4.2–3).
//!
//! Owns: their syntax. ID fields are strings and values nstrings, both
//! UTF-8; an odd number of ID items is a syntax error. ENABLE takes one
//! or more capability atoms.
//!
//! Must not: decide what to enable or how quotas are computed.

use super::CommandBody;
use super::mailbox::parse_mailbox;
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::token::Atom;
use crate::protocol::imap::wire::Writer;

/// `ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" / NIL)`.
pub(super) fn parse_id(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    if c.nil() {
        return Ok(CommandBody::Id(None));
    }
    let pairs = c.list(|c| {
        let field = c.string_utf8()?;
        c.sp().map_err(|_| Fail::Bad("ID field without a value"))?;
        Ok((field, c.nstring_utf8()?))
    })?;
    Ok(CommandBody::Id(Some(pairs)))
}

/// `ENABLE 1*(SP capability)`.
pub(super) fn parse_enable(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut caps = Vec::new();
    loop {
        c.sp()?;
        caps.push(Atom::new(c.atom()?).ok_or(Fail::Bad("invalid capability"))?);
        if c.at_line_end() {
            return Ok(CommandBody::Enable(caps));
        }
    }
}

/// `GETQUOTA SP quota-root`.
pub(super) fn parse_getquota(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let root = c.astring_utf8()?;
    Ok(CommandBody::GetQuota { root })
}

/// `GETQUOTAROOT SP mailbox`.
pub(super) fn parse_getquotaroot(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mailbox = parse_mailbox(c)?;
    Ok(CommandBody::GetQuotaRoot { mailbox })
}

/// Writes the arguments of the commands parsed here.
pub(super) fn write(body: &CommandBody, w: &mut Writer<'_>) {
    w.sp();
    match body {
        CommandBody::Id(None) => w.str("NIL"),
        CommandBody::Id(Some(pairs)) => w.list(pairs, |w, (field, value)| {
            w.string(field.as_bytes());
            w.sp();
            w.nstring(value.as_ref().map(|v| v.as_bytes()));
        }),
        CommandBody::Enable(caps) => {
            let caps: Vec<&str> = caps.iter().map(Atom::as_str).collect();
            w.str(&caps.join(" "));
        }
        CommandBody::GetQuota { root } => w.astring(root.as_bytes()),
        CommandBody::GetQuotaRoot { mailbox } => w.mailbox(mailbox),
        _ => {}
    }
}
