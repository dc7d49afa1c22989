//! The message-structure side of IMAP FETCH, SEARCH and SORT: pure
//! functions over a message's octets (CRLF line ends, as the store
//! returns them).
//!
//! Owns:
//! - ENVELOPE ([`envelope`]) and BODY / BODYSTRUCTURE
//!   ([`body_structure`]) as the codec's [`Envelope`] and
//!   [`BodyStructure`] values (RFC 3501 §7.4.2);
//! - body sections ([`section`]): `BODY[]`, `[HEADER]`, `[TEXT]`,
//!   `[HEADER.FIELDS (…)]`, `[.NOT]`, `[1.2]`, `[2.MIME]`, `[3.HEADER]`…
//!   (RFC 3501 §6.4.5), as raw octets;
//! - decoded text for SEARCH ([`header_values`], [`header_text`],
//!   [`body_text`]) and SORT keys ([`sort_subject`], [`sort_mailbox`],
//!   [`sort_display`], [`sort_date`], [`base_subject`]; RFC 5256, RFC
//!   5957).
//!
//! FETCH results match Dovecot 2.3's byte for byte on the values (see
//! `tests/fixtures/imap-mime/README.md`): IMAP wants the MIME tree *as
//! sent*, so the tree, header and address parsing here are our own,
//! written to behave like Dovecot's on valid and broken input; decoding
//! for SEARCH uses mail-parser. When several FETCH items are needed,
//! parse once with [`ParsedMessage`].
//!
//! Hostile input: any octets are accepted and none panics; nesting is
//! expanded to [`MAX_DEPTH`] levels and [`MAX_PARTS`] parts (deeper
//! parts are kept whole as `application/octet-stream`), and the parser
//! is iterative.
//!
//! Must not: do I/O, know sessions or the store, apply `<partial>`
//! ranges (the caller does), or set `\Seen`.

mod address;
mod envelope;
mod header;
mod lex;
mod params;
mod search;
mod section;
mod structure;
mod subject;
mod tree;

pub use search::{
    body_text, header_text, header_values, sort_date, sort_display, sort_mailbox, sort_subject,
    subject,
};
pub use subject::base_subject;
pub use tree::{MAX_DEPTH, MAX_PARTS};

use std::borrow::Cow;

use crate::protocol::imap::{BodyStructure, Envelope, Section};
use tree::Tree;

/// A message parsed once for several FETCH items.
#[derive(Debug, Clone)]
pub struct ParsedMessage<'a> {
    raw: &'a [u8],
    tree: Tree,
}

impl<'a> ParsedMessage<'a> {
    /// Parses `raw` (never fails: any octets have a structure).
    pub fn new(raw: &'a [u8]) -> ParsedMessage<'a> {
        ParsedMessage {
            raw,
            tree: Tree::parse(raw),
        }
    }

    /// The message's ENVELOPE.
    pub fn envelope(&self) -> Envelope {
        envelope::envelope_of(&self.tree.part(0).header)
    }

    /// BODYSTRUCTURE (`extended`) or BODY.
    pub fn body_structure(&self, extended: bool) -> BodyStructure {
        structure::structure_of(self.raw, &self.tree, 0, extended)
    }

    /// The octets of a body section (empty when the part does not
    /// exist, as Dovecot answers); `<partial>` is the caller's.
    pub fn section(&self, section: &Section) -> Vec<u8> {
        section::section_of(self.raw, &self.tree, section)
    }

    /// The octets of the whole message.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The whole message as `BODY[]` and `RFC822` send it: NUL octets
    /// made 0x80 like every section (an IMAP literal may not carry NUL;
    /// Dovecot does the same), borrowed when there is no NUL.
    pub fn whole(&self) -> Cow<'a, [u8]> {
        if !self.raw.contains(&0) {
            return Cow::Borrowed(self.raw);
        }
        Cow::Owned(
            self.raw
                .iter()
                .map(|&b| if b == 0 { 0x80 } else { b })
                .collect(),
        )
    }
}

/// The ENVELOPE of `message`.
pub fn envelope(message: &[u8]) -> Envelope {
    ParsedMessage::new(message).envelope()
}

/// The BODYSTRUCTURE (`extended`) or BODY of `message`.
pub fn body_structure(message: &[u8], extended: bool) -> BodyStructure {
    ParsedMessage::new(message).body_structure(extended)
}

/// The octets of `section` of `message` (see [`ParsedMessage::section`]).
pub fn section(message: &[u8], section: &Section) -> Vec<u8> {
    ParsedMessage::new(message).section(section)
}

#[cfg(test)]
mod hostile_tests;
