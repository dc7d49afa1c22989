//! `LIST`: the basic form of RFC 3501 §6.3.8 and the extended form of
//! LIST-EXTENDED (RFC 5258 §3: selection options, several patterns,
//! return options), with SPECIAL-USE (RFC 6154 §3) and LIST-STATUS
//! (RFC 5819 §2) return options.
//!
//! Owns: [`List`], [`ListSelect`], [`ListReturn`]. Unknown options are
//! syntax errors (RFC 5258 §3 asks servers to reject them with BAD), as
//! is RECURSIVEMATCH without another selection option (§3.1).
//!
//! Must not: match patterns against mailboxes.

use super::CommandBody;
use super::mailbox::{
    StatusItem, parse_mailbox, parse_pattern, parse_status_item, write_status_items,
};
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::mailbox::MailboxName;
use crate::protocol::imap::wire::Writer;

/// A LIST command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// Selection options, if the client sent the parenthesised list
    /// (possibly empty).
    pub selection: Option<Vec<ListSelect>>,
    /// The reference name (often empty).
    pub reference: MailboxName,
    /// One or more patterns.
    pub patterns: Vec<MailboxName>,
    /// Return options, if the client sent `RETURN (…)` (possibly
    /// empty).
    pub returns: Option<Vec<ListReturn>>,
}

impl List {
    /// Whether this is an extended LIST (RFC 5258 §3): selection or
    /// return options, or more than one pattern.
    pub fn is_extended(&self) -> bool {
        self.selection.is_some() || self.returns.is_some() || self.patterns.len() > 1
    }
}

/// A LIST selection option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListSelect {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH`.
    RecursiveMatch,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
}

/// A LIST return option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListReturn {
    /// `CHILDREN`.
    Children,
    /// `SUBSCRIBED`.
    Subscribed,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
    /// `STATUS (items)` (RFC 5819).
    Status(Vec<StatusItem>),
}

const SELECT_OPTIONS: [(ListSelect, &str); 4] = [
    (ListSelect::Subscribed, "SUBSCRIBED"),
    (ListSelect::Remote, "REMOTE"),
    (ListSelect::RecursiveMatch, "RECURSIVEMATCH"),
    (ListSelect::SpecialUse, "SPECIAL-USE"),
];

fn select_name(option: ListSelect) -> &'static str {
    SELECT_OPTIONS
        .iter()
        .find(|(o, _)| *o == option)
        .map_or("", |(_, name)| name)
}

fn parse_select_option(c: &mut Cursor<'_>) -> PResult<ListSelect> {
    let name = c.keyword()?;
    SELECT_OPTIONS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(o, _)| *o)
        .ok_or(Fail::Bad("unknown LIST selection option"))
}

fn parse_return_option(c: &mut Cursor<'_>) -> PResult<ListReturn> {
    match c.keyword()?.as_str() {
        "CHILDREN" => Ok(ListReturn::Children),
        "SUBSCRIBED" => Ok(ListReturn::Subscribed),
        "SPECIAL-USE" => Ok(ListReturn::SpecialUse),
        "STATUS" => {
            c.sp()?;
            Ok(ListReturn::Status(c.list1(parse_status_item)?))
        }
        _ => Err(Fail::Bad("unknown LIST return option")),
    }
}

/// `LIST [SP list-select-opts] SP mailbox SP mbox-or-pat
/// [SP list-return-opts]`.
pub(super) fn parse_list(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mut selection = None;
    if c.peek() == Some(b'(') {
        let options = c.list(parse_select_option)?;
        if options.contains(&ListSelect::RecursiveMatch)
            && options.iter().all(|o| *o == ListSelect::RecursiveMatch)
        {
            return Err(Fail::Bad("RECURSIVEMATCH needs another selection option"));
        }
        selection = Some(options);
        c.sp()?;
    }
    let reference = parse_mailbox(c)?;
    c.sp()?;
    let patterns = match c.peek() {
        Some(b'(') => c.list1(parse_pattern)?,
        _ => vec![parse_pattern(c)?],
    };
    let mut returns = None;
    if !c.at_line_end() {
        c.sp()?;
        if c.keyword()? != "RETURN" {
            return Err(Fail::Bad("expected RETURN"));
        }
        c.sp()?;
        returns = Some(c.list(parse_return_option)?);
    }
    Ok(CommandBody::List(List {
        selection,
        reference,
        patterns,
        returns,
    }))
}

impl List {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.sp();
        if let Some(selection) = &self.selection {
            w.list(selection, |w, o| w.str(select_name(*o)));
            w.sp();
        }
        w.mailbox(&self.reference);
        w.sp();
        match self.patterns.as_slice() {
            [one] => w.pattern(one),
            many => w.list(many, |w, p| w.pattern(p)),
        }
        if let Some(returns) = &self.returns {
            w.str(" RETURN ");
            w.list(returns, |w, r| match r {
                ListReturn::Children => w.str("CHILDREN"),
                ListReturn::Subscribed => w.str("SUBSCRIBED"),
                ListReturn::SpecialUse => w.str("SPECIAL-USE"),
                ListReturn::Status(items) => {
                    w.str("STATUS ");
                    write_status_items(w, items);
                }
            });
        }
    }
}
