//! `SEARCH` and `UID SEARCH` (RFC 3501 §6.4.4, every search key of §9
//! `search-key`), with the MODSEQ key of CONDSTORE (RFC 7162 §3.1.5),
//! ESEARCH return options (RFC 4731 §3.1) and SAVE / `$` (SEARCHRES,
//! RFC 5182).
//!
//! Owns: [`Search`], [`SearchKey`], [`SearchReturn`], [`EntryType`] and
//! the search-key grammar, which SORT reuses. A parenthesised group is
//! [`SearchKey::And`]; NOT, OR and groups count towards
//! [`crate::protocol::imap::MAX_NESTING`], so deeply nested input is an
//! error rather than a stack overflow. Search strings are kept as octets:
//! their meaning depends on the CHARSET, which the session checks.
//!
//! Must not: evaluate criteria.

use time::Date;

use super::CommandBody;
use crate::protocol::imap::datetime::{format_date, parse_date};
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::sequence::{SequenceSet, parse_sequence_set};
use crate::protocol::imap::token::Atom;
use crate::protocol::imap::wire::Writer;

/// A SEARCH command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// `UID SEARCH`: return UIDs.
    pub uid: bool,
    /// `RETURN (…)` (ESEARCH); `None` for a classic `* SEARCH` answer,
    /// `Some(vec![])` for `RETURN ()` (means ALL).
    pub returns: Option<Vec<SearchReturn>>,
    /// `CHARSET name`.
    pub charset: Option<String>,
    /// The criteria, all of which must match (at least one).
    pub criteria: Vec<SearchKey>,
}

/// An ESEARCH return option (RFC 4731) or SAVE (RFC 5182).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturn {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE`.
    Save,
}

/// The `entry-type-req` of a MODSEQ search key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// `priv`.
    Private,
    /// `shared`.
    Shared,
    /// `all`.
    All,
}

/// One search criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the variants are the RFC 3501 keys of the same name
pub enum SearchKey {
    All,
    Answered,
    Deleted,
    Draft,
    Flagged,
    New,
    Old,
    Recent,
    Seen,
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unseen,
    Bcc(Vec<u8>),
    Body(Vec<u8>),
    Cc(Vec<u8>),
    From(Vec<u8>),
    Subject(Vec<u8>),
    Text(Vec<u8>),
    To(Vec<u8>),
    Before(Date),
    On(Date),
    Since(Date),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    /// `HEADER field-name string`.
    Header(String, Vec<u8>),
    Keyword(Atom),
    Unkeyword(Atom),
    Larger(u64),
    Smaller(u64),
    /// `UID set`.
    Uid(SequenceSet),
    /// A bare sequence set (message numbers).
    SequenceSet(SequenceSet),
    Not(Box<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    /// A parenthesised group: all must match (never empty).
    And(Vec<SearchKey>),
    /// `MODSEQ [entry-name entry-type] n` (RFC 7162).
    ModSeq {
        /// The metadata entry (`"/flags/\Seen"`) and its type.
        entry: Option<(String, EntryType)>,
        /// Messages with a mod-sequence at least this.
        modseq: u64,
    },
}

const FLAG_KEYS: [(SearchKey, &str); 14] = [
    (SearchKey::All, "ALL"),
    (SearchKey::Answered, "ANSWERED"),
    (SearchKey::Deleted, "DELETED"),
    (SearchKey::Draft, "DRAFT"),
    (SearchKey::Flagged, "FLAGGED"),
    (SearchKey::New, "NEW"),
    (SearchKey::Old, "OLD"),
    (SearchKey::Recent, "RECENT"),
    (SearchKey::Seen, "SEEN"),
    (SearchKey::Unanswered, "UNANSWERED"),
    (SearchKey::Undeleted, "UNDELETED"),
    (SearchKey::Undraft, "UNDRAFT"),
    (SearchKey::Unflagged, "UNFLAGGED"),
    (SearchKey::Unseen, "UNSEEN"),
];

type StringKey = fn(Vec<u8>) -> SearchKey;
const STRING_KEYS: [(&str, StringKey); 7] = [
    ("BCC", SearchKey::Bcc),
    ("BODY", SearchKey::Body),
    ("CC", SearchKey::Cc),
    ("FROM", SearchKey::From),
    ("SUBJECT", SearchKey::Subject),
    ("TEXT", SearchKey::Text),
    ("TO", SearchKey::To),
];

type DateKey = fn(Date) -> SearchKey;
const DATE_KEYS: [(&str, DateKey); 6] = [
    ("BEFORE", SearchKey::Before),
    ("ON", SearchKey::On),
    ("SINCE", SearchKey::Since),
    ("SENTBEFORE", SearchKey::SentBefore),
    ("SENTON", SearchKey::SentOn),
    ("SENTSINCE", SearchKey::SentSince),
];

/// The other keys that take arguments (parsed in `parse_named`).
const ARG_KEYS: [&str; 9] = [
    "HEADER",
    "KEYWORD",
    "UNKEYWORD",
    "LARGER",
    "SMALLER",
    "UID",
    "NOT",
    "OR",
    "MODSEQ",
];

const RETURNS: [(SearchReturn, &str); 5] = [
    (SearchReturn::Min, "MIN"),
    (SearchReturn::Max, "MAX"),
    (SearchReturn::All, "ALL"),
    (SearchReturn::Count, "COUNT"),
    (SearchReturn::Save, "SAVE"),
];

const ENTRY_TYPES: [(EntryType, &str); 3] = [
    (EntryType::Private, "priv"),
    (EntryType::Shared, "shared"),
    (EntryType::All, "all"),
];

/// One nesting level around `inner`.
fn nested<T>(c: &mut Cursor<'_>, inner: impl FnOnce(&mut Cursor<'_>) -> PResult<T>) -> PResult<T> {
    c.descend()?;
    let value = inner(c)?;
    c.ascend();
    Ok(value)
}

fn parse_modseq(c: &mut Cursor<'_>) -> PResult<SearchKey> {
    let mut entry = None;
    if c.peek() == Some(b'"') {
        let name = c.string_utf8()?;
        c.sp()?;
        let kind = c.keyword()?.to_ascii_lowercase();
        let kind = ENTRY_TYPES.iter().find(|(_, n)| *n == kind);
        entry = Some((name, kind.ok_or(Fail::Bad("invalid entry type"))?.0));
        c.sp()?;
    }
    let modseq = c.number64()?;
    Ok(SearchKey::ModSeq { entry, modseq })
}

fn parse_named(c: &mut Cursor<'_>) -> PResult<SearchKey> {
    let name = c.keyword()?;
    if let Some((key, _)) = FLAG_KEYS.iter().find(|(_, n)| *n == name) {
        return Ok(key.clone());
    }
    let known = STRING_KEYS.iter().any(|(n, _)| *n == name)
        || DATE_KEYS.iter().any(|(n, _)| *n == name)
        || ARG_KEYS.contains(&name.as_str());
    if !known {
        return Err(Fail::Bad("unknown search key"));
    }
    c.sp()?;
    if let Some((_, make)) = STRING_KEYS.iter().find(|(n, _)| *n == name) {
        return Ok(make(c.astring()?));
    }
    if let Some((_, make)) = DATE_KEYS.iter().find(|(n, _)| *n == name) {
        return Ok(make(parse_date(c)?));
    }
    let keyword = |c: &mut Cursor<'_>| Atom::new(c.atom()?).ok_or(Fail::Bad("invalid keyword"));
    Ok(match name.as_str() {
        "HEADER" => {
            let field = c.astring_utf8()?;
            c.sp()?;
            SearchKey::Header(field, c.astring()?)
        }
        "KEYWORD" => SearchKey::Keyword(keyword(c)?),
        "UNKEYWORD" => SearchKey::Unkeyword(keyword(c)?),
        "LARGER" => SearchKey::Larger(c.number64()?),
        "SMALLER" => SearchKey::Smaller(c.number64()?),
        "UID" => SearchKey::Uid(parse_sequence_set(c)?),
        "NOT" => SearchKey::Not(Box::new(nested(c, parse_key)?)),
        "OR" => nested(c, |c| {
            let a = parse_key(c)?;
            c.sp()?;
            Ok(SearchKey::Or(Box::new(a), Box::new(parse_key(c)?)))
        })?,
        "MODSEQ" => parse_modseq(c)?,
        _ => return Err(Fail::Bad("unknown search key")),
    })
}

/// One `search-key`.
pub(super) fn parse_key(c: &mut Cursor<'_>) -> PResult<SearchKey> {
    match c.peek() {
        Some(b'(') => nested(c, |c| c.list1(parse_key)).map(SearchKey::And),
        Some(b'0'..=b'9' | b'*' | b'$') => parse_sequence_set(c).map(SearchKey::SequenceSet),
        _ => parse_named(c),
    }
}

/// `1*(SP search-key)` up to the end of the line; the cursor is at the
/// first key.
pub(super) fn parse_keys(c: &mut Cursor<'_>) -> PResult<Vec<SearchKey>> {
    let mut keys = vec![parse_key(c)?];
    while !c.at_line_end() {
        c.sp()?;
        keys.push(parse_key(c)?);
    }
    Ok(keys)
}

/// Consumes `word` (an atom) if it is next, with the space after it.
fn word(c: &mut Cursor<'_>, word: &str) -> PResult<bool> {
    if c.peek_keyword() != word {
        return Ok(false);
    }
    c.advance(word.len());
    c.sp()?;
    Ok(true)
}

/// `SEARCH [SP RETURN (…)] [SP CHARSET astring] 1*(SP search-key)`.
pub(super) fn parse_search(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let mut returns = None;
    if word(c, "RETURN")? {
        returns = Some(c.list(|c| {
            let name = c.keyword()?;
            let found = RETURNS.iter().find(|(_, n)| *n == name);
            found
                .map(|(r, _)| *r)
                .ok_or(Fail::Bad("unknown RETURN option"))
        })?);
        c.sp()?;
    }
    let mut charset = None;
    if word(c, "CHARSET")? {
        charset = Some(c.astring_utf8()?);
        c.sp()?;
    }
    let criteria = parse_keys(c)?;
    Ok(CommandBody::Search(Search {
        uid,
        returns,
        charset,
        criteria,
    }))
}

fn write_named(key: &SearchKey, w: &mut Writer<'_>) {
    use SearchKey as K;
    let date =
        |w: &mut Writer<'_>, name: &str, d: &Date| w.str(&format!("{name} {}", format_date(*d)));
    let string = |w: &mut Writer<'_>, name: &str, s: &[u8]| {
        w.str(name);
        w.sp();
        w.astring(s);
    };
    match key {
        K::Bcc(s) => string(w, "BCC", s),
        K::Body(s) => string(w, "BODY", s),
        K::Cc(s) => string(w, "CC", s),
        K::From(s) => string(w, "FROM", s),
        K::Subject(s) => string(w, "SUBJECT", s),
        K::Text(s) => string(w, "TEXT", s),
        K::To(s) => string(w, "TO", s),
        K::Before(d) => date(w, "BEFORE", d),
        K::On(d) => date(w, "ON", d),
        K::Since(d) => date(w, "SINCE", d),
        K::SentBefore(d) => date(w, "SENTBEFORE", d),
        K::SentOn(d) => date(w, "SENTON", d),
        K::SentSince(d) => date(w, "SENTSINCE", d),
        K::Header(field, value) => {
            string(w, "HEADER", field.as_bytes());
            w.sp();
            w.astring(value);
        }
        K::Keyword(k) => w.str(&format!("KEYWORD {k}")),
        K::Unkeyword(k) => w.str(&format!("UNKEYWORD {k}")),
        K::Larger(n) => w.str(&format!("LARGER {n}")),
        K::Smaller(n) => w.str(&format!("SMALLER {n}")),
        K::Uid(set) => w.str(&format!("UID {set}")),
        K::ModSeq { entry, modseq } => {
            w.str("MODSEQ ");
            if let Some((name, kind)) = entry {
                w.string(name.as_bytes());
                let kind = ENTRY_TYPES.iter().find(|(k, _)| k == kind);
                w.str(&format!(" {} ", kind.map_or("all", |(_, n)| n)));
            }
            w.num(modseq);
        }
        _ => {}
    }
}

impl SearchKey {
    /// Writes the key's wire form.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        if let Some((_, name)) = FLAG_KEYS.iter().find(|(k, _)| k == self) {
            return w.str(name);
        }
        match self {
            SearchKey::SequenceSet(set) => w.str(&set.to_string()),
            SearchKey::Not(key) => {
                w.str("NOT ");
                key.write(w);
            }
            SearchKey::Or(a, b) => {
                w.str("OR ");
                a.write(w);
                w.sp();
                b.write(w);
            }
            SearchKey::And(keys) => w.list(keys, |w, k| k.write(w)),
            other => write_named(other, w),
        }
    }
}

/// Writes ` key key …`.
pub(super) fn write_keys(keys: &[SearchKey], w: &mut Writer<'_>) {
    for key in keys {
        w.sp();
        key.write(w);
    }
}

impl Search {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        if let Some(returns) = &self.returns {
            w.str(" RETURN ");
            w.list(returns, |w, r| {
                w.str(RETURNS.iter().find(|(x, _)| x == r).map_or("", |(_, n)| n));
            });
        }
        if let Some(charset) = &self.charset {
            w.str(" CHARSET ");
            w.astring(charset.as_bytes());
        }
        write_keys(&self.criteria, w);
    }
}
