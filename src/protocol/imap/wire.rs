//! Writing IMAP strings and lists (RFC 3501 §4: atom, quoted string,
//! literal, NIL), shared by the command and response serialisers.
//!
//! Owns: the choice of form for a value. The general rule:
//! - an astring is written as an atom when it is one (non-empty, only
//!   ASTRING-CHARs), else as a string;
//! - a string is quoted when it is at most [`MAX_QUOTED`] octets of
//!   7-bit text without CR, LF or NUL (`"` and `\` escaped), else a
//!   literal `{n}\r\n…` (`{n+}` for commands when asked);
//! - an absent nstring is `NIL`.
//!
//! Text taken from a message (ENVELOPE and BODYSTRUCTURE fields) follows
//! Dovecot 2.3's rules instead, so that FETCH answers are byte-identical
//! to Dovecot's (see `tests/fixtures/imap-mime/README.md`):
//! - `Writer::message_string`: quoted whatever its length unless it
//!   holds CR, LF, NUL, an 8-bit octet or more than
//!   [`MAX_QUOTED_SPECIALS`] `"`/`\`, else a literal;
//! - `Writer::human_string` (Subject, display names): the raw header
//!   text is cleaned for reading (line breaks dropped, tabs and runs of
//!   blanks made one space, leading and trailing blanks dropped, NUL
//!   made 0x80) and written quoted only when the cleaning changed
//!   nothing and it holds no `"`, `\` or 8-bit octet; otherwise a
//!   literal of the cleaned text (`""` when nothing is left).
//!
//! Must not: decide what to write, only how.

use super::lexer::{is_astring_char, is_atom_char, is_list_char};
use super::mailbox::MailboxName;

/// Longest string the general rule writes in quoted form; longer ones
/// become literals (message text has no such limit).
pub const MAX_QUOTED: usize = 1024;

/// Most quote-specials (`"`, `\`) a string of message text (ENVELOPE,
/// BODYSTRUCTURE) may hold and still be quoted: past this many escapes a
/// literal is shorter (Dovecot's choice, which we copy).
pub const MAX_QUOTED_SPECIALS: usize = 4;

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

/// Whether `bytes` goes quoted under Dovecot's rule for message text.
fn message_quotable(bytes: &[u8]) -> bool {
    let mut specials = 0;
    for &b in bytes {
        match b {
            b'"' | b'\\' => specials += 1,
            0 | b'\r' | b'\n' | 0x80..=0xff => return false,
            _ => {}
        }
    }
    specials <= MAX_QUOTED_SPECIALS
}

/// Dovecot's clean-up of text for humans: CR and LF dropped, each run of
/// blanks (space, tab) made one space, leading and trailing blanks
/// dropped, NUL made 0x80. Also says whether anything changed.
fn clean_for_humans(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(raw.len());
    let mut changed = false;
    // True at the start and after a blank: a further blank is dropped.
    let mut after_blank = true;
    for &b in raw {
        match b {
            b'\r' | b'\n' => changed = true,
            b' ' | b'\t' => {
                if after_blank {
                    changed = true;
                } else {
                    changed |= b == b'\t';
                    out.push(b' ');
                }
                after_blank = true;
            }
            0 => {
                changed = true;
                out.push(0x80);
                after_blank = false;
            }
            _ => {
                out.push(b);
                after_blank = false;
            }
        }
    }
    if out.last() == Some(&b' ') && after_blank {
        out.pop();
        changed = true;
    }
    (out, changed)
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
        if quotable(bytes) {
            self.quoted(bytes);
        } else {
            self.literal(bytes);
        }
    }

    /// A string taken from a message, in Dovecot's form: quoted unless
    /// it holds CR, LF, NUL, 8-bit octets or more than
    /// [`MAX_QUOTED_SPECIALS`] quote-specials (any length), else a
    /// literal.
    pub(super) fn message_string(&mut self, bytes: &[u8]) {
        if message_quotable(bytes) {
            self.quoted(bytes);
        } else {
            self.literal(bytes);
        }
    }

    /// `NIL` or a [`Writer::message_string`].
    pub(super) fn message_nstring(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(bytes) => self.message_string(bytes),
            None => self.str("NIL"),
        }
    }

    /// Raw header text (Subject, a display name) cleaned for reading and
    /// written as Dovecot writes it: quoted when the cleaning changed
    /// nothing and the text holds no `"`, `\` or 8-bit octet, `""` when
    /// nothing is left, else a literal of the cleaned text.
    pub(super) fn human_string(&mut self, raw: &[u8]) {
        let (clean, changed) = clean_for_humans(raw);
        if clean.is_empty() {
            self.str("\"\"");
        } else if changed
            || clean
                .iter()
                .any(|&b| matches!(b, b'"' | b'\\' | 0x80..=0xff))
        {
            self.literal(&clean);
        } else {
            self.quoted(&clean);
        }
    }

    /// `"…"` with `"` and `\` escaped (the caller checked the octets).
    fn quoted(&mut self, bytes: &[u8]) {
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
