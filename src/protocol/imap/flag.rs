//! Message flags (RFC 3501 §2.3.2, grammar `flag`, `flag-list`,
//! `flag-fetch`, `flag-perm` in §9).
//!
//! Owns: [`Flag`], its parsing and its wire form. System flags are
//! matched case-insensitively (`\SEEN` is [`Flag::Seen`]); keywords keep
//! the case the client used. `\Recent` parses (so the session can refuse
//! it in STORE) and is printed in FETCH responses.
//!
//! Must not: decide which flags a command may set.

use std::fmt;

use super::lexer::{Cursor, Fail, PResult};
use super::token::Atom;

/// A message flag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// `\Seen`.
    Seen,
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Draft`.
    Draft,
    /// `\Recent` (server-managed; only FETCH responses carry it).
    Recent,
    /// A keyword such as `$Forwarded` or `NonJunk`.
    Keyword(Atom),
    /// Another `\`-flag this server does not know (`flag-extension`).
    Extension(Atom),
}

const SYSTEM: [(Flag, &str); 6] = [
    (Flag::Seen, "Seen"),
    (Flag::Answered, "Answered"),
    (Flag::Flagged, "Flagged"),
    (Flag::Deleted, "Deleted"),
    (Flag::Draft, "Draft"),
    (Flag::Recent, "Recent"),
];

impl Flag {
    /// Parses a flag's text: `\Seen` (any case) or a keyword atom.
    pub fn parse(text: &str) -> Option<Flag> {
        match text.strip_prefix('\\') {
            Some(name) => {
                let atom = Atom::new(name)?;
                let system = SYSTEM
                    .iter()
                    .find(|(_, n)| n.eq_ignore_ascii_case(name))
                    .map(|(flag, _)| flag.clone());
                Some(system.unwrap_or(Flag::Extension(atom)))
            }
            None => Atom::new(text).map(Flag::Keyword),
        }
    }

    /// A keyword flag; `None` unless `name` is an atom.
    pub fn keyword(name: &str) -> Option<Flag> {
        Atom::new(name).map(Flag::Keyword)
    }

    /// Whether this is one of the system flags (`\Seen` … `\Recent`).
    pub fn is_system(&self) -> bool {
        !matches!(self, Flag::Keyword(_) | Flag::Extension(_))
    }
}

impl fmt::Display for Flag {
    /// The wire form: `\Seen`, `$Forwarded`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Keyword(atom) => f.write_str(atom.as_str()),
            Flag::Extension(atom) => write!(f, "\\{atom}"),
            system => {
                let name = SYSTEM
                    .iter()
                    .find(|(flag, _)| flag == system)
                    .map_or("", |(_, name)| name);
                write!(f, "\\{name}")
            }
        }
    }
}

/// Reads one `flag` (or `\Recent`).
pub(super) fn parse_flag(c: &mut Cursor<'_>) -> PResult<Flag> {
    let backslash = c.eat(b'\\');
    let atom = c.atom().map_err(|_| Fail::Bad("invalid flag"))?;
    let text = if backslash {
        format!("\\{atom}")
    } else {
        atom.to_string()
    };
    Flag::parse(&text).ok_or(Fail::Bad("invalid flag"))
}

/// Reads a `flag-list`: `(` [flag *(SP flag)] `)`.
pub(super) fn parse_flag_list(c: &mut Cursor<'_>) -> PResult<Vec<Flag>> {
    c.list(parse_flag)
}
