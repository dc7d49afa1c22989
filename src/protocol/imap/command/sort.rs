//! `SORT` and `UID SORT` (RFC 5256 §3: sort criteria, a mandatory
//! charset and search keys), with DISPLAYFROM / DISPLAYTO of RFC 5957.
//!
//! Owns: [`Sort`], [`SortCriterion`], [`SortKey`]. The search keys are
//! the SEARCH grammar (`search.rs`).
//!
//! Must not: sort.

use super::CommandBody;
use super::search::{SearchKey, parse_keys, write_keys};
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::wire::Writer;

/// A SORT command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// `UID SORT`: return UIDs.
    pub uid: bool,
    /// The sort criteria, most significant first (at least one).
    pub criteria: Vec<SortCriterion>,
    /// The charset of the search strings.
    pub charset: String,
    /// The search criteria (at least one).
    pub search: Vec<SearchKey>,
}

/// One sort criterion: a key, optionally reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE` was given.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

/// What to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// `ARRIVAL`: internal date.
    Arrival,
    /// `CC`.
    Cc,
    /// `DATE`: the Date header.
    Date,
    /// `FROM`.
    From,
    /// `SIZE`.
    Size,
    /// `SUBJECT`: base subject.
    Subject,
    /// `TO`.
    To,
    /// `DISPLAYFROM` (RFC 5957).
    DisplayFrom,
    /// `DISPLAYTO` (RFC 5957).
    DisplayTo,
}

const KEYS: [(SortKey, &str); 9] = [
    (SortKey::Arrival, "ARRIVAL"),
    (SortKey::Cc, "CC"),
    (SortKey::Date, "DATE"),
    (SortKey::From, "FROM"),
    (SortKey::Size, "SIZE"),
    (SortKey::Subject, "SUBJECT"),
    (SortKey::To, "TO"),
    (SortKey::DisplayFrom, "DISPLAYFROM"),
    (SortKey::DisplayTo, "DISPLAYTO"),
];

fn parse_criterion(c: &mut Cursor<'_>) -> PResult<SortCriterion> {
    let mut name = c.keyword()?;
    let reverse = name == "REVERSE";
    if reverse {
        c.sp()?;
        name = c.keyword()?;
    }
    let key = KEYS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(k, _)| *k)
        .ok_or(Fail::Bad("unknown sort key"))?;
    Ok(SortCriterion { reverse, key })
}

/// `SORT SP "(" criteria ")" SP charset 1*(SP search-key)`.
pub(super) fn parse_sort(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let criteria = c.list1(parse_criterion)?;
    c.sp()?;
    let charset = c.astring_utf8()?;
    c.sp()?;
    let search = parse_keys(c)?;
    Ok(CommandBody::Sort(Sort {
        uid,
        criteria,
        charset,
        search,
    }))
}

impl Sort {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.sp();
        w.list(&self.criteria, |w, c| {
            if c.reverse {
                w.str("REVERSE ");
            }
            w.str(
                KEYS.iter()
                    .find(|(k, _)| *k == c.key)
                    .map_or("", |(_, n)| n),
            );
        });
        w.sp();
        w.astring(self.charset.as_bytes());
        write_keys(&self.search, w);
    }
}
