//! Small validated tokens shared by commands and responses: [`Tag`],
//! [`Atom`] and [`Secret`] (RFC 3501 §9: `tag`, `atom`; passwords and
//! SASL data are kept out of logs as STYLE.md asks).
//!
//! Owns: the rules for what a tag and an atom may contain, so a value of
//! these types always prints as something the parser reads back.
//! Must not: know about commands.

use std::fmt;

use super::lexer::{is_astring_char, is_atom_char};

/// A command tag: one or more ASTRING-CHARs except `+` (RFC 3501 §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// Validates a tag; `None` if empty or if it holds a character a tag
    /// may not (space, controls, 8-bit, `(){%*"\+`).
    pub fn new(tag: &str) -> Option<Tag> {
        let ok = !tag.is_empty() && tag.bytes().all(|b| is_astring_char(b) && b != b'+');
        ok.then(|| Tag(tag.to_string()))
    }

    /// The tag as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IMAP atom (RFC 3501 §9 `atom`): one or more printable US-ASCII
/// characters other than `(){ %*"\]`. Used for keywords and flag names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(String);

impl Atom {
    /// Validates an atom; `None` if `s` is empty or holds a special.
    pub fn new(s: &str) -> Option<Atom> {
        let ok = !s.is_empty() && s.bytes().all(is_atom_char);
        ok.then(|| Atom(s.to_string()))
    }

    /// The atom's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text that must never reach a log: a LOGIN password or SASL data.
/// `Debug` prints `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps secret text.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself; hand it to the directory or the SASL module
    /// only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
