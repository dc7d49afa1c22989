//! Mailbox names as the session sees them (RFC 3501 §5.1: INBOX is
//! case-insensitive; §5.1.3: names travel in modified UTF-7).
//!
//! Owns: [`MailboxName`], decoded from the wire into UTF-8 and encoded
//! back. A name that is not valid modified UTF-7 is kept as the raw
//! octets the client sent, so the session can refuse it (and the value
//! still prints back exactly). The same type carries LIST patterns,
//! whose wildcards `*` and `%` are plain ASCII.
//!
//! Must not: know about hierarchy delimiters, namespaces or Maildir.

use std::fmt;

use crate::mutf7;

/// A mailbox name or LIST pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inbox,
    Name(String),
    Invalid(Vec<u8>),
}

impl MailboxName {
    /// `INBOX`.
    pub fn inbox() -> MailboxName {
        MailboxName(Repr::Inbox)
    }

    /// A name given in UTF-8; `INBOX` in any case becomes [`Self::inbox`].
    pub fn new(name: &str) -> MailboxName {
        if name.eq_ignore_ascii_case("INBOX") {
            MailboxName(Repr::Inbox)
        } else {
            MailboxName(Repr::Name(name.to_string()))
        }
    }

    /// A name as it appeared on the wire, decoded from modified UTF-7.
    /// Octets that are not valid modified UTF-7 give an invalid name
    /// ([`Self::is_valid`] is false).
    pub fn from_wire(raw: &[u8]) -> MailboxName {
        match std::str::from_utf8(raw).map(mutf7::decode) {
            Ok(Ok(name)) => MailboxName::new(&name),
            _ => MailboxName(Repr::Invalid(raw.to_vec())),
        }
    }

    /// Whether this is INBOX.
    pub fn is_inbox(&self) -> bool {
        matches!(self.0, Repr::Inbox)
    }

    /// Whether the client sent valid modified UTF-7; answer `BAD` (or
    /// `NO`) to a command naming an invalid mailbox.
    pub fn is_valid(&self) -> bool {
        !matches!(self.0, Repr::Invalid(_))
    }

    /// The UTF-8 name (`"INBOX"` for INBOX); `None` if invalid.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Inbox => Some("INBOX"),
            Repr::Name(name) => Some(name),
            Repr::Invalid(_) => None,
        }
    }

    /// The wire form: modified UTF-7, or the raw octets of an invalid
    /// name.
    pub fn to_wire(&self) -> Vec<u8> {
        match &self.0 {
            Repr::Inbox => b"INBOX".to_vec(),
            Repr::Name(name) => mutf7::encode(name).into_bytes(),
            Repr::Invalid(raw) => raw.clone(),
        }
    }
}

impl fmt::Display for MailboxName {
    /// The UTF-8 name, or the lossy raw octets of an invalid one (for
    /// logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Invalid(raw) => f.write_str(&String::from_utf8_lossy(raw)),
            _ => f.write_str(self.as_str().unwrap_or_default()),
        }
    }
}
