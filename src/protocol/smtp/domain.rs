//! Domains and address literals as they appear in SMTP addresses
//! (RFC 5321 §4.1.2 `Domain` / `address-literal`, §4.1.3; RFC 6531 §3.3
//! for U-labels).
//!
//! Owns: [`Domain`] and [`AddressLiteral`], their strict parsing and
//! canonical display (`parse(display(x)) == x`).
//!
//! Must not: resolve anything, lower-case or IDNA-convert names (lookups
//! normalise; the codec keeps what the client sent), or accept a literal
//! it cannot print back.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::address::AddressError;

/// Maximum length of a domain in octets (RFC 5321 §4.5.3.1.2).
pub const MAX_DOMAIN: usize = 255;

/// The domain part of a mailbox: a name or an address literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A host name: dot-separated labels of letters, digits and inner
    /// hyphens; labels may be UTF-8 (U-labels, RFC 6531).
    Name(String),
    /// A bracketed address literal.
    Literal(AddressLiteral),
}

/// An address literal (RFC 5321 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressLiteral {
    /// `[192.0.2.1]`.
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`.
    Ipv6(Ipv6Addr),
    /// `[tag:content]`, a General-address-literal with a standardised tag
    /// other than `IPv6`.
    General {
        /// The tag (letters, digits, inner hyphens).
        tag: String,
        /// The content: printable ASCII except `[`, `\` and `]`.
        content: String,
    },
}

impl Domain {
    /// Parses a domain or bracketed address literal, the whole of `s`.
    ///
    /// # Errors
    /// [`AddressError::DomainTooLong`] over 255 octets,
    /// [`AddressError::BadLiteral`] for a malformed `[...]`,
    /// [`AddressError::BadDomain`] for anything else that is not a name.
    pub fn parse(s: &str) -> Result<Domain, AddressError> {
        if s.len() > MAX_DOMAIN {
            return Err(AddressError::DomainTooLong);
        }
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(AddressError::BadLiteral)?;
            return AddressLiteral::parse(inner).map(Domain::Literal);
        }
        if is_domain_name(s) {
            Ok(Domain::Name(s.to_string()))
        } else {
            Err(AddressError::BadDomain)
        }
    }

    /// Whether the domain is pure ASCII (if not, SMTPUTF8 is needed).
    pub fn is_ascii(&self) -> bool {
        match self {
            Domain::Name(name) => name.is_ascii(),
            Domain::Literal(_) => true,
        }
    }
}

/// Whether `s` is a dot-separated sequence of labels (RFC 5321 `Domain`,
/// extended to U-labels by RFC 6531).
pub(super) fn is_domain_name(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let ok_char =
        |c: char| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && !c.is_control());
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(ok_char)
}

impl AddressLiteral {
    /// Parses the text between `[` and `]`.
    ///
    /// # Errors
    /// [`AddressError::BadLiteral`] unless the text is a dotted IPv4
    /// address, `IPv6:` and an IPv6 address, or `tag:content`.
    pub fn parse(inner: &str) -> Result<AddressLiteral, AddressError> {
        if let Some(tag) = inner.get(..5)
            && tag.eq_ignore_ascii_case("IPv6:")
        {
            return inner[5..]
                .parse::<Ipv6Addr>()
                .map(AddressLiteral::Ipv6)
                .map_err(|_| AddressError::BadLiteral);
        }
        if let Some((tag, content)) = inner.split_once(':') {
            let content_ok =
                !content.is_empty() && content.bytes().all(|b| matches!(b, 33..=90 | 94..=126));
            let tag_ok = tag.is_ascii() && is_label(tag);
            return if content_ok && tag_ok {
                Ok(AddressLiteral::General {
                    tag: tag.to_string(),
                    content: content.to_string(),
                })
            } else {
                Err(AddressError::BadLiteral)
            };
        }
        parse_ipv4(inner)
            .map(AddressLiteral::Ipv4)
            .ok_or(AddressError::BadLiteral)
    }
}

/// RFC 5321 `IPv4-address-literal`: four `Snum` of one to three digits,
/// each at most 255 (leading zeros allowed, as the grammar allows them).
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Name(name) => f.write_str(name),
            Domain::Literal(literal) => literal.fmt(f),
        }
    }
}

impl fmt::Display for AddressLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressLiteral::Ipv4(ip) => write!(f, "[{ip}]"),
            AddressLiteral::Ipv6(ip) => write!(f, "[IPv6:{ip}]"),
            AddressLiteral::General { tag, content } => write!(f, "[{tag}:{content}]"),
        }
    }
}
