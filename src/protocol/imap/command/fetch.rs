//! `FETCH` and `UID FETCH` (RFC 3501 §6.4.5 and §6.4.8): macros, data
//! items, body sections with partial ranges, and the CHANGEDSINCE
//! modifier and MODSEQ item of CONDSTORE (RFC 7162 §3.1.4–5).
//!
//! Owns: [`Fetch`], [`FetchItems`], [`FetchAttribute`], [`Section`],
//! [`SectionText`], [`HeaderName`], [`Partial`] and their wire forms;
//! the response serialiser reuses [`Section`]'s form to echo `BODY[…]`
//! (header names upper-cased, each in the form the client sent it, as
//! Dovecot echoes them). The BINARY
//! family (RFC 3516) is not supported and is a syntax error.
//!
//! Must not: read messages or decide what `\Seen` side effects apply.

use std::num::NonZeroU32;

use super::CommandBody;
use crate::protocol::imap::lexer::{Cursor, Fail, PResult, is_astring_char};
use crate::protocol::imap::sequence::{SequenceSet, parse_sequence_set};
use crate::protocol::imap::wire::Writer;

/// A FETCH command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// `UID FETCH`: the set holds UIDs (and UID is always returned).
    pub uid: bool,
    /// The messages.
    pub set: SequenceSet,
    /// What to return.
    pub items: FetchItems,
    /// `(CHANGEDSINCE n)`: only messages whose mod-sequence is greater.
    pub changed_since: Option<u64>,
}

/// The items of a FETCH: a macro or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItems {
    /// `ALL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE.
    All,
    /// `FAST`: FLAGS INTERNALDATE RFC822.SIZE.
    Fast,
    /// `FULL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY.
    Full,
    /// One attribute or a parenthesised list (never empty).
    Attributes(Vec<FetchAttribute>),
}

impl FetchItems {
    /// The attributes, macros expanded.
    pub fn expand(&self) -> Vec<FetchAttribute> {
        use FetchAttribute::{Body, Envelope, Flags, InternalDate, Rfc822Size};
        match self {
            FetchItems::All => vec![Flags, InternalDate, Rfc822Size, Envelope],
            FetchItems::Fast => vec![Flags, InternalDate, Rfc822Size],
            FetchItems::Full => vec![Flags, InternalDate, Rfc822Size, Envelope, Body],
            FetchItems::Attributes(items) => items.clone(),
        }
    }
}

/// One FETCH data item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchAttribute {
    /// `ENVELOPE`.
    Envelope,
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822` (like `BODY[]`, sets `\Seen`).
    Rfc822,
    /// `RFC822.HEADER` (like `BODY.PEEK[HEADER]`).
    Rfc822Header,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `RFC822.TEXT` (like `BODY[TEXT]`, sets `\Seen`).
    Rfc822Text,
    /// `BODY` (the structure without extension data).
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `MODSEQ` (RFC 7162).
    ModSeq,
    /// `BODY[section]<partial>` or `BODY.PEEK[…]`.
    BodySection {
        /// `BODY.PEEK`: do not set `\Seen`.
        peek: bool,
        /// The section.
        section: Section,
        /// `<offset.length>`.
        partial: Option<Partial>,
    },
}

/// `<offset.length>` of a body section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    /// First octet wanted.
    pub offset: u32,
    /// Number of octets wanted.
    pub length: NonZeroU32,
}

/// A body section: a part path and what to take from that part.
/// `BODY[]` is the default (empty path, no text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Section {
    /// Part numbers (`1.2.3`); empty for the whole message.
    pub part: Vec<NonZeroU32>,
    /// What to take; `None` for the whole part.
    pub text: Option<SectionText>,
}

/// A header field name in `HEADER.FIELDS (…)`, with the form the
/// client sent it in (atom, or quoted string / literal), which the
/// response echoes as Dovecot does. Compare names with
/// [`HeaderName::as_str`], case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderName {
    name: String,
    quoted: bool,
}

impl HeaderName {
    /// A name sent as an atom when it can be one, else as a string.
    pub fn new(name: impl Into<String>) -> HeaderName {
        let name = name.into();
        let quoted = name.is_empty() || !name.bytes().all(is_astring_char);
        HeaderName { name, quoted }
    }

    /// A name sent as a quoted string or literal.
    pub fn quoted(name: impl Into<String>) -> HeaderName {
        HeaderName {
            name: name.into(),
            quoted: true,
        }
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether it was sent as a string rather than an atom.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    fn write(&self, w: &mut Writer<'_>, upper: bool) {
        let name = if upper {
            self.name.to_ascii_uppercase()
        } else {
            self.name.clone()
        };
        if self.quoted {
            w.string(name.as_bytes());
        } else {
            w.astring(name.as_bytes());
        }
    }
}

impl From<&str> for HeaderName {
    fn from(name: &str) -> HeaderName {
        HeaderName::new(name)
    }
}

impl From<String> for HeaderName {
    fn from(name: String) -> HeaderName {
        HeaderName::new(name)
    }
}

/// The text selector of a section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (names)`.
    HeaderFields(Vec<HeaderName>),
    /// `HEADER.FIELDS.NOT (names)`.
    HeaderFieldsNot(Vec<HeaderName>),
    /// `TEXT`.
    Text,
    /// `MIME` (only after a part number).
    Mime,
}

const SIMPLE: [(FetchAttribute, &str); 11] = [
    (FetchAttribute::Envelope, "ENVELOPE"),
    (FetchAttribute::Flags, "FLAGS"),
    (FetchAttribute::InternalDate, "INTERNALDATE"),
    (FetchAttribute::Rfc822, "RFC822"),
    (FetchAttribute::Rfc822Header, "RFC822.HEADER"),
    (FetchAttribute::Rfc822Size, "RFC822.SIZE"),
    (FetchAttribute::Rfc822Text, "RFC822.TEXT"),
    (FetchAttribute::Body, "BODY"),
    (FetchAttribute::BodyStructure, "BODYSTRUCTURE"),
    (FetchAttribute::Uid, "UID"),
    (FetchAttribute::ModSeq, "MODSEQ"),
];

fn section_text(words: &str, c: &mut Cursor<'_>, has_part: bool) -> PResult<Option<SectionText>> {
    let names = |c: &mut Cursor<'_>| {
        c.sp()?;
        c.list1(|c| {
            let atom = c.peek().is_some_and(is_astring_char);
            let name = c.astring_utf8()?;
            Ok(if atom {
                HeaderName {
                    name,
                    quoted: false,
                }
            } else {
                HeaderName::quoted(name)
            })
        })
    };
    Ok(Some(match words {
        "" => return Ok(None),
        "HEADER" => SectionText::Header,
        "HEADER.FIELDS" => SectionText::HeaderFields(names(c)?),
        "HEADER.FIELDS.NOT" => SectionText::HeaderFieldsNot(names(c)?),
        "TEXT" => SectionText::Text,
        "MIME" if has_part => SectionText::Mime,
        _ => return Err(Fail::Bad("invalid section")),
    }))
}

/// `"[" [section-spec] "]"`.
pub(in crate::protocol::imap) fn parse_section(c: &mut Cursor<'_>) -> PResult<Section> {
    c.expect(b'[', "expected '['")?;
    let spec = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'.');
    let spec = String::from_utf8_lossy(spec).to_ascii_uppercase();
    let mut words = spec.split('.').peekable();
    let mut part = Vec::new();
    while let Some(n) = words.next_if(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())) {
        let n = n.parse().ok().and_then(NonZeroU32::new);
        part.push(n.ok_or(Fail::Bad("invalid section part number"))?);
    }
    let rest: Vec<&str> = words.collect();
    if rest.iter().any(|w| w.is_empty()) && !spec.is_empty() {
        return Err(Fail::Bad("invalid section"));
    }
    let text = section_text(&rest.join("."), c, !part.is_empty())?;
    c.expect(b']', "expected ']' after the section")?;
    Ok(Section { part, text })
}

fn parse_partial(c: &mut Cursor<'_>) -> PResult<Option<Partial>> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let offset = c.number()?;
    c.expect(b'.', "invalid partial range")?;
    let length = c.nz_number()?;
    c.expect(b'>', "invalid partial range")?;
    Ok(Some(Partial { offset, length }))
}

fn parse_attribute(c: &mut Cursor<'_>) -> PResult<FetchAttribute> {
    let name = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'.');
    let name = String::from_utf8_lossy(name).to_ascii_uppercase();
    let peek = name == "BODY.PEEK";
    if (peek || name == "BODY") && c.peek() == Some(b'[') {
        let section = parse_section(c)?;
        let partial = parse_partial(c)?;
        return Ok(FetchAttribute::BodySection {
            peek,
            section,
            partial,
        });
    }
    SIMPLE
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(a, _)| a.clone())
        .ok_or(Fail::Bad("unknown FETCH attribute"))
}

fn parse_items(c: &mut Cursor<'_>) -> PResult<FetchItems> {
    if c.peek() == Some(b'(') {
        return c.list1(parse_attribute).map(FetchItems::Attributes);
    }
    let rest = c.rest();
    let word_end = rest
        .iter()
        .position(|&b| !b.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let word = String::from_utf8_lossy(&rest[..word_end]).to_ascii_uppercase();
    let item = match word.as_str() {
        "ALL" => FetchItems::All,
        "FAST" => FetchItems::Fast,
        "FULL" => FetchItems::Full,
        _ => return Ok(FetchItems::Attributes(vec![parse_attribute(c)?])),
    };
    c.advance(word_end);
    Ok(item)
}

fn parse_modifiers(c: &mut Cursor<'_>) -> PResult<Option<u64>> {
    let mut changed_since = None;
    for (name, value) in c.list1(|c| {
        let name = c.keyword()?;
        c.sp()?;
        Ok((name, c.number64()?))
    })? {
        match name.as_str() {
            "CHANGEDSINCE" if changed_since.is_none() => changed_since = Some(value),
            _ => return Err(Fail::Bad("unknown or repeated FETCH modifier")),
        }
    }
    Ok(changed_since)
}

/// `FETCH SP sequence-set SP items [SP "(" modifiers ")"]`.
pub(super) fn parse_fetch(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    c.sp()?;
    let items = parse_items(c)?;
    let mut changed_since = None;
    if !c.at_line_end() {
        c.sp()?;
        changed_since = parse_modifiers(c)?;
    }
    Ok(CommandBody::Fetch(Fetch {
        uid,
        set,
        items,
        changed_since,
    }))
}

impl Section {
    /// Writes `[1.2.HEADER.FIELDS (From To)]` (a command's form: names
    /// as given).
    pub(in crate::protocol::imap) fn write(&self, w: &mut Writer<'_>) {
        self.write_names(w, false);
    }

    /// Writes the section as a FETCH response echoes it:
    /// `[1.2.HEADER.FIELDS (FROM "TO")]`, header names in upper case and
    /// each as an atom or a string as the client sent it, as Dovecot
    /// echoes them (they match case-insensitively anyway).
    pub(in crate::protocol::imap) fn write_echo(&self, w: &mut Writer<'_>) {
        self.write_names(w, true);
    }

    fn write_names(&self, w: &mut Writer<'_>, upper: bool) {
        w.str("[");
        let part: Vec<String> = self.part.iter().map(|n| n.to_string()).collect();
        w.str(&part.join("."));
        if let Some(text) = &self.text {
            if !self.part.is_empty() {
                w.str(".");
            }
            let names = |w: &mut Writer<'_>, name: &str, list: &[HeaderName]| {
                w.str(name);
                w.sp();
                w.list(list, |w, n| n.write(w, upper));
            };
            match text {
                SectionText::Header => w.str("HEADER"),
                SectionText::HeaderFields(list) => names(w, "HEADER.FIELDS", list),
                SectionText::HeaderFieldsNot(list) => names(w, "HEADER.FIELDS.NOT", list),
                SectionText::Text => w.str("TEXT"),
                SectionText::Mime => w.str("MIME"),
            }
        }
        w.str("]");
    }
}

impl FetchAttribute {
    fn write(&self, w: &mut Writer<'_>) {
        if let FetchAttribute::BodySection {
            peek,
            section,
            partial,
        } = self
        {
            w.str(if *peek { "BODY.PEEK" } else { "BODY" });
            section.write(w);
            if let Some(p) = partial {
                w.str(&format!("<{}.{}>", p.offset, p.length));
            }
            return;
        }
        let name = SIMPLE
            .iter()
            .find(|(a, _)| a == self)
            .map_or("", |(_, n)| n);
        w.str(name);
    }
}

impl Fetch {
    /// Writes the arguments.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.sp();
        w.str(&self.set.to_string());
        w.sp();
        match &self.items {
            FetchItems::All => w.str("ALL"),
            FetchItems::Fast => w.str("FAST"),
            FetchItems::Full => w.str("FULL"),
            FetchItems::Attributes(items) => w.list(items, |w, a| a.write(w)),
        }
        if let Some(modseq) = self.changed_since {
            w.str(&format!(" (CHANGEDSINCE {modseq})"));
        }
    }
}
