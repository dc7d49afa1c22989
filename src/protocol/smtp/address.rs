//! Mailboxes and envelope paths (RFC 5321 §4.1.2, §4.5.3.1; RFC 6531 §3.3).
//!
//! Owns: [`Mailbox`], [`ReversePath`] (`MAIL FROM`) and [`ForwardPath`]
//! (`RCPT TO`): strict parsing of `<local@domain>` with quoted local parts,
//! address literals, UTF-8 (checked against the `SMTPUTF8` parameter by
//! the session, not here), source routes (accepted and dropped, as RFC
//! 5321 §4.1.1.3 and Appendix C ask), the `<>` null path and the special
//! `<Postmaster>`; and the canonical form they print as.
//!
//! Must not: look anything up, fold case, or accept what it cannot print
//! back: a local part is stored decoded (`"john"@x` is `john@x`) and
//! printed quoted only when it is not a dot-string, so printing then
//! parsing gives the same value. Length limits (local part 64, domain
//! 255, path 256 octets) are checked on the received text, which is never
//! shorter than the canonical one.

use std::fmt;

use super::domain::{Domain, MAX_DOMAIN};

/// Maximum length of a local part in octets (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART: usize = 64;
/// Maximum length of a path, brackets included (RFC 5321 §4.5.3.1.3).
pub const MAX_PATH: usize = 256;

/// Why an address is malformed; the session answers 501 with 5.1.7
/// (sender) or 5.1.3 (recipient) for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The address is not enclosed in `<` `>` (or `>` is missing).
    #[error("address not enclosed in angle brackets")]
    MissingBrackets,
    /// `<>` where a mailbox is required.
    #[error("empty address")]
    Empty,
    /// The local part is longer than 64 octets.
    #[error("local part longer than 64 octets")]
    LocalPartTooLong,
    /// The domain is longer than 255 octets.
    #[error("domain longer than 255 octets")]
    DomainTooLong,
    /// The path is longer than 256 octets.
    #[error("path longer than 256 octets")]
    PathTooLong,
    /// The local part is neither a dot-string nor a quoted string.
    #[error("malformed local part")]
    BadLocalPart,
    /// No `@domain` after the local part.
    #[error("missing domain")]
    MissingDomain,
    /// The domain is not a valid name.
    #[error("malformed domain")]
    BadDomain,
    /// A `[...]` address literal is malformed.
    #[error("malformed address literal")]
    BadLiteral,
    /// A source route (`@a,@b:`) is malformed.
    #[error("malformed source route")]
    BadSourceRoute,
}

/// A mailbox `local-part@domain`, the local part stored decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    local_part: String,
    domain: Domain,
}

impl Mailbox {
    /// Builds a mailbox from a decoded local part and a domain.
    ///
    /// # Errors
    /// [`AddressError::BadLocalPart`] if the local part holds a control
    /// character; the `TooLong` variants if the canonical form breaks a
    /// length limit.
    pub fn new(local_part: impl Into<String>, domain: Domain) -> Result<Mailbox, AddressError> {
        let local_part = local_part.into();
        if !local_part.chars().all(is_quotable) {
            return Err(AddressError::BadLocalPart);
        }
        let mailbox = Mailbox { local_part, domain };
        if encode_local(&mailbox.local_part).len() > MAX_LOCAL_PART {
            return Err(AddressError::LocalPartTooLong);
        }
        let domain_len = mailbox.domain.to_string().len();
        if domain_len > MAX_DOMAIN {
            return Err(AddressError::DomainTooLong);
        }
        if mailbox.to_string().len() + 2 > MAX_PATH {
            return Err(AddressError::PathTooLong);
        }
        Ok(mailbox)
    }

    /// Parses `local-part@domain` (no angle brackets), all of `s`.
    ///
    /// # Errors
    /// An [`AddressError`] naming the first problem found.
    pub fn parse(s: &str) -> Result<Mailbox, AddressError> {
        let (local, rest) = if s.starts_with('"') {
            parse_quoted(s)?
        } else {
            let at = s.find('@').ok_or(AddressError::MissingDomain)?;
            let local = &s[..at];
            if !is_dot_string(local) {
                return Err(AddressError::BadLocalPart);
            }
            (local.to_string(), &s[at..])
        };
        let local_wire_len = s.len() - rest.len();
        if local_wire_len > MAX_LOCAL_PART {
            return Err(AddressError::LocalPartTooLong);
        }
        let domain = rest.strip_prefix('@').ok_or(AddressError::MissingDomain)?;
        Mailbox::new(local, Domain::parse(domain)?)
    }

    /// The decoded local part (quotes and backslashes removed).
    pub fn local_part(&self) -> &str {
        &self.local_part
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Whether the address is pure ASCII (if not, SMTPUTF8 is needed).
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && self.domain.is_ascii()
    }
}

/// Characters a (decoded) local part may hold: what `qtextSMTP` and
/// `quoted-pairSMTP` can carry, plus UTF-8 (RFC 6531).
fn is_quotable(c: char) -> bool {
    matches!(c, ' '..='~') || (!c.is_ascii() && !c.is_control())
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_control())
}

fn is_dot_string(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Parses a leading quoted string; returns it decoded and what follows.
fn parse_quoted(s: &str) -> Result<(String, &str), AddressError> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e)) if matches!(e, ' '..='~') => out.push(e),
                _ => return Err(AddressError::BadLocalPart),
            },
            c if is_quotable(c) => out.push(c),
            _ => return Err(AddressError::BadLocalPart),
        }
    }
    Err(AddressError::BadLocalPart)
}

/// The canonical wire form of a local part.
fn encode_local(local: &str) -> String {
    if is_dot_string(local) {
        return local.to_string();
    }
    let mut out = String::with_capacity(local.len() + 2);
    out.push('"');
    for c in local.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", encode_local(&self.local_part), self.domain)
    }
}

/// The `MAIL FROM` path: a mailbox or the null path `<>` used by
/// bounces (RFC 5321 §4.5.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    /// `<>`.
    Null,
    /// `<mailbox>`.
    Mailbox(Mailbox),
}

/// The `RCPT TO` path: a mailbox or the special `<Postmaster>` (RFC 5321
/// §4.1.1.3), which must be accepted without a domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardPath {
    /// `<Postmaster>` (any case).
    Postmaster,
    /// `<mailbox>`.
    Mailbox(Mailbox),
}

/// What was between the brackets of a path.
enum PathBody {
    Null,
    Postmaster,
    Mailbox(Mailbox),
}

impl ReversePath {
    /// Parses a complete `<...>` reverse path, all of `s`.
    ///
    /// # Errors
    /// An [`AddressError`]; `<Postmaster>` is not a valid sender.
    pub fn parse(s: &str) -> Result<ReversePath, AddressError> {
        match parse_reverse_path(s)? {
            (_, end) if end != s.len() => Err(AddressError::MissingBrackets),
            (path, _) => Ok(path),
        }
    }

    /// The mailbox, unless this is the null path.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ReversePath::Null => None,
            ReversePath::Mailbox(m) => Some(m),
        }
    }

    /// Whether the path is pure ASCII.
    pub fn is_ascii(&self) -> bool {
        self.mailbox().is_none_or(Mailbox::is_ascii)
    }
}

impl ForwardPath {
    /// Parses a complete `<...>` forward path, all of `s`.
    ///
    /// # Errors
    /// An [`AddressError`]; `<>` is [`AddressError::Empty`].
    pub fn parse(s: &str) -> Result<ForwardPath, AddressError> {
        match parse_forward_path(s)? {
            (_, end) if end != s.len() => Err(AddressError::MissingBrackets),
            (path, _) => Ok(path),
        }
    }

    /// The mailbox, unless this is `<Postmaster>`.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ForwardPath::Postmaster => None,
            ForwardPath::Mailbox(m) => Some(m),
        }
    }

    /// Whether the path is pure ASCII.
    pub fn is_ascii(&self) -> bool {
        self.mailbox().is_none_or(Mailbox::is_ascii)
    }
}

/// Parses a reverse path at the start of `s`; returns it and the number
/// of bytes it took (up to and including `>`).
pub(super) fn parse_reverse_path(s: &str) -> Result<(ReversePath, usize), AddressError> {
    match parse_path(s)? {
        (PathBody::Null, end) => Ok((ReversePath::Null, end)),
        (PathBody::Postmaster, _) => Err(AddressError::MissingDomain),
        (PathBody::Mailbox(m), end) => Ok((ReversePath::Mailbox(m), end)),
    }
}

/// Parses a forward path at the start of `s`; returns it and the number
/// of bytes it took (up to and including `>`).
pub(super) fn parse_forward_path(s: &str) -> Result<(ForwardPath, usize), AddressError> {
    match parse_path(s)? {
        (PathBody::Null, _) => Err(AddressError::Empty),
        (PathBody::Postmaster, end) => Ok((ForwardPath::Postmaster, end)),
        (PathBody::Mailbox(m), end) => Ok((ForwardPath::Mailbox(m), end)),
    }
}

/// Parses `<[route:]mailbox>`, `<>` or `<Postmaster>` at the start of `s`.
fn parse_path(s: &str) -> Result<(PathBody, usize), AddressError> {
    let end = find_path_end(s)?;
    if end > MAX_PATH {
        return Err(AddressError::PathTooLong);
    }
    let inner = &s[1..end - 1];
    if inner.is_empty() {
        return Ok((PathBody::Null, end));
    }
    if inner.eq_ignore_ascii_case("postmaster") {
        return Ok((PathBody::Postmaster, end));
    }
    let mailbox = match inner.strip_prefix('@') {
        Some(route) => {
            let (route, mailbox) = route.split_once(':').ok_or(AddressError::BadSourceRoute)?;
            if !route_hops_valid(route) {
                return Err(AddressError::BadSourceRoute);
            }
            mailbox
        }
        None => inner,
    };
    Ok((PathBody::Mailbox(Mailbox::parse(mailbox)?), end))
}

/// `A-d-l` without its first `@`: `dom *( "," "@" dom )`.
fn route_hops_valid(route: &str) -> bool {
    route.split(',').enumerate().all(|(i, hop)| {
        let name = if i == 0 {
            Some(hop)
        } else {
            hop.strip_prefix('@')
        };
        name.is_some_and(super::domain::is_domain_name)
    })
}

/// The index just past the `>` that closes the path starting at `s[0]`,
/// skipping over quoted strings and address literals.
fn find_path_end(s: &str) -> Result<usize, AddressError> {
    if !s.starts_with('<') {
        return Err(AddressError::MissingBrackets);
    }
    let (mut quoted, mut escaped, mut literal) = (false, false, false);
    for (i, b) in s.bytes().enumerate().skip(1) {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if literal {
            literal = b != b']';
        } else {
            match b {
                b'"' => quoted = true,
                b'[' => literal = true,
                b'>' => return Ok(i + 1),
                _ => {}
            }
        }
    }
    Err(AddressError::MissingBrackets)
}

impl fmt::Display for ReversePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

impl fmt::Display for ForwardPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardPath::Postmaster => f.write_str("<Postmaster>"),
            ForwardPath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}
