//! ENVELOPE (RFC 3501 §7.4.2) of a message or of an encapsulated
//! message/rfc822, built as Dovecot builds it.
//!
//! Owns: [`envelope_of`] and the clean-up Dovecot applies to Date,
//! Message-ID, In-Reply-To and address parts, [`no_lf`] (line breaks
//! dropped, a space put where the next line did not start with one).
//! Each NUL becomes U+FFFD, as in Dovecot 2.3 (outside quoted strings
//! a NUL already ended the address token that held it).
//! The Subject and display names are passed raw otherwise: the codec
//! cleans them for humans as it writes them, because whether Dovecot
//! sends them quoted or as a literal depends on the raw text. Text is
//! otherwise left raw — encoded-words stay encoded, 8-bit stays 8-bit —
//! as RFC 3501 asks. When a field occurs twice the last one
//! counts; Sender and Reply-To fall back to From when absent or empty.
//!
//! Must not: decode text (that is `search.rs`).

use super::address::{Addr, parse_addresses};
use super::header::Header;
use crate::protocol::imap::{Address, Envelope};

/// `value` with each NUL replaced by U+FFFD, as Dovecot 2.3 stores
/// header text (a NUL cannot travel in an IMAP string).
pub(crate) fn replace_nul(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if b == 0 {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// Clean-up of the other strings: each CR or LF is dropped, and
/// replaced by a space unless the next octet is a blank (or the end).
pub(crate) fn no_lf(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for (i, &b) in value.iter().enumerate() {
        if b != b'\r' && b != b'\n' {
            out.push(b);
        } else if !matches!(value.get(i + 1), None | Some(b' ' | b'\t' | 0)) {
            out.push(b' ');
        }
    }
    out
}

fn address(a: &Addr) -> Address {
    Address {
        name: a.name.as_deref().map(replace_nul),
        adl: a.route.as_deref().map(|r| no_lf(&replace_nul(r))),
        mailbox: a.mailbox.as_deref().map(|m| no_lf(&replace_nul(m))),
        host: a.domain.as_deref().map(|d| no_lf(&replace_nul(d))),
    }
}

fn addresses(value: &[u8]) -> Vec<Address> {
    parse_addresses(value).iter().map(address).collect()
}

/// The envelope of the part whose header is `header`.
pub(crate) fn envelope_of(header: &Header) -> Envelope {
    let mut env = Envelope::default();
    for field in &header.fields {
        let v = &field.value;
        let text = || Some(no_lf(&replace_nul(v)));
        match field.name.to_ascii_lowercase().as_slice() {
            b"date" => env.date = text(),
            b"subject" => env.subject = Some(replace_nul(v)),
            b"message-id" => env.message_id = text(),
            b"in-reply-to" => env.in_reply_to = text(),
            b"from" => env.from = addresses(v),
            b"sender" => env.sender = addresses(v),
            b"reply-to" => env.reply_to = addresses(v),
            b"to" => env.to = addresses(v),
            b"cc" => env.cc = addresses(v),
            b"bcc" => env.bcc = addresses(v),
            _ => {}
        }
    }
    if env.sender.is_empty() {
        env.sender = env.from.clone();
    }
    if env.reply_to.is_empty() {
        env.reply_to = env.from.clone();
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_becomes_the_replacement_character() {
        assert_eq!(replace_nul(b"a\0b\0"), "a\u{FFFD}b\u{FFFD}".as_bytes());
        assert_eq!(replace_nul(b"plain"), b"plain");
    }

    #[test]
    fn no_lf_keeps_the_folding_blank() {
        assert_eq!(no_lf(b"a\n b"), b"a b");
        assert_eq!(no_lf(b"a\nb"), b"a b");
        assert_eq!(no_lf(b"\n <x>"), b" <x>");
    }
}
