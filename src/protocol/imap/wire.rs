//! Writing IMAP strings and lists (RFC 3501 §4: atom, quoted string,
//! literal, NIL), shared by the command and response serialisers.
//!
//! Owns: the choice of form for a value, the same everywhere:
//! - an astring is written as an atom when it is one (non-empty, only
//!   ASTRING-CHARs), else as a string;
//! - a string is quoted when it is at most [`MAX_QUOTED`] octets of
//!   7-bit text without CR, LF or NUL (`"` and `\` escaped), else a
//!   literal `{n}\r\n…` (`{n+}` for commands when asked);
//! - an absent nstring is `NIL`.
//!
//! Must not: decide what to write, only how.

use super::lexer::{is_astring_char, is_atom_char, is_list_char};
use super::mailbox::MailboxName;

/// Longest string written in quoted form; longer ones become literals.
pub const MAX_QUOTED: usize = 1024;

/// Appends wire forms to a buffer.
pub(super) struct Writer<'a> {
    out: &'a mut Vec<u8>,
    literal_plus: bool,
}

fn quotable(bytes: &[u8]) -> bool {
    bytes.len() <= MAX_QUOTED
        && bytes
            .iter()
            .all(|&b| matches!(b, 0x01..=0x7f) && b != b'\r' && b != b'\n')
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`; literals are written `{n+}` when
    /// `literal_plus` is set (commands only).
    pub(super) fn new(out: &'a mut Vec<u8>, literal_plus: bool) -> Self {
        Writer { out, literal_plus }
    }

    /// Raw octets.
    pub(super) fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Raw text.
    pub(super) fn str(&mut self, s: &str) {
        self.raw(s.as_bytes());
    }

    /// One space.
    pub(super) fn sp(&mut self) {
        self.out.push(b' ');
    }

    /// A number (or anything whose `Display` is wire-safe).
    pub(super) fn num(&mut self, n: impl std::fmt::Display) {
        self.str(&n.to_string());
    }

    /// Server-chosen atom text (capability, code or resource name):
    /// characters an atom may not hold are dropped.
    pub(super) fn atom(&mut self, s: &str) {
        let clean: Vec<u8> = s.bytes().filter(|&b| is_atom_char(b)).collect();
        self.raw(&clean);
    }

    /// A literal.
    pub(super) fn literal(&mut self, bytes: &[u8]) {
        let plus = if self.literal_plus { "+" } else { "" };
        self.str(&format!("{{{}{plus}}}\r\n", bytes.len()));
        self.raw(bytes);
    }

    /// A string: quoted if possible, else a literal.
    pub(super) fn string(&mut self, bytes: &[u8]) {
        if !quotable(bytes) {
            return self.literal(bytes);
        }
        self.out.push(b'"');
        for &b in bytes {
            if b == b'"' || b == b'\\' {
                self.out.push(b'\\');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
    }

    /// An astring: an atom if possible, else a string.
    pub(super) fn astring(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() && bytes.iter().all(|&b| is_astring_char(b)) {
            self.raw(bytes);
        } else {
            self.string(bytes);
        }
    }

    /// An nstring: `NIL` or a string.
    pub(super) fn nstring(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(bytes) => self.string(bytes),
            None => self.str("NIL"),
        }
    }

    /// A mailbox name in a command (astring of its modified UTF-7 form).
    pub(super) fn mailbox(&mut self, name: &MailboxName) {
        self.astring(&name.to_wire());
    }

    /// A mailbox name in a response: always a string, as most servers
    /// write it and some clients expect.
    pub(super) fn mailbox_quoted(&mut self, name: &MailboxName) {
        self.string(&name.to_wire());
    }

    /// A LIST pattern (`list-mailbox`): wildcards may stay bare.
    pub(super) fn pattern(&mut self, pattern: &MailboxName) {
        let wire = pattern.to_wire();
        if !wire.is_empty() && wire.iter().all(|&b| is_list_char(b)) {
            self.raw(&wire);
        } else {
            self.string(&wire);
        }
    }

    /// `(a b c)`, each item written by `item`.
    pub(super) fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        self.out.push(b'(');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            item(self, x);
        }
        self.out.push(b')');
    }
}
