//! Decoded text for SEARCH (RFC 3501 §6.4.4) and the keys of SORT (RFC
//! 5256 §3): header values with RFC 2047 encoded-words decoded, body
//! text transfer-decoded and converted to UTF-8 (through mail-parser),
//! the first mailbox of an address header, and the sent date.
//!
//! Owns: the functions re-exported by [`super`]. Unlike FETCH, these
//! are about meaning, not octets: text is UTF-8 (invalid octets become
//! U+FFFD) and never raw.
//!
//! Must not: do I/O; the caller supplies the message octets and, for
//! dates, the INTERNALDATE fallback.

use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, MessageParser, PartType};

use super::address::parse_addresses;
use super::header::{Header, parse_header};

fn top_header(message: &[u8]) -> Header {
    parse_header(message, 0, &mut |_| false)
}

/// RFC 2047 decoding of one unfolded header value.
pub(crate) fn decode_value(value: &[u8]) -> String {
    let mut input = value.to_vec();
    input.extend_from_slice(b"\r\n");
    match MessageStream::new(&input).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        HeaderValue::TextList(list) => list.join(" "),
        _ => String::new(),
    }
}

/// The decoded values of the message's top-level header fields named
/// `name` (ASCII case-insensitive), in message order — for SEARCH
/// `HEADER`, `SUBJECT`, `FROM`, `TO`, `CC`, `BCC`.
pub fn header_values(message: &[u8], name: &str) -> Vec<String> {
    top_header(message)
        .fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| decode_value(&f.value))
        .collect()
}

/// The whole top-level header, decoded, one `Name: value` per line —
/// the header half of SEARCH `TEXT`.
pub fn header_text(message: &[u8]) -> String {
    let mut out = String::new();
    for f in &top_header(message).fields {
        out.push_str(&String::from_utf8_lossy(&f.name));
        out.push_str(": ");
        out.push_str(&decode_value(&f.value));
        out.push('\n');
    }
    out
}

/// The text of every text part (plain and HTML, including those inside
/// attached messages), transfer-decoded and converted to UTF-8 — for
/// SEARCH `BODY` and the body half of `TEXT`.
pub fn body_text(message: &[u8]) -> Vec<String> {
    let Some(parsed) = MessageParser::new().parse(message) else {
        return Vec::new();
    };
    parsed
        .parts
        .iter()
        .filter_map(|part| match &part.body {
            PartType::Text(text) | PartType::Html(text) => Some(text.to_string()),
            _ => None,
        })
        .collect()
}

/// The decoded Subject (the last one, as ENVELOPE shows), or "".
pub fn subject(message: &[u8]) -> String {
    header_values(message, "subject").pop().unwrap_or_default()
}

/// The SORT `SUBJECT` key: the base subject of RFC 5256 §2.1.
pub fn sort_subject(message: &[u8]) -> String {
    super::subject::base_subject(&subject(message))
}

/// The SORT `FROM` / `TO` / `CC` key: the mailbox (local part) of the
/// first address of the last `header` field, ASCII letters upper-cased,
/// or "" (RFC 5256 §3).
pub fn sort_mailbox(message: &[u8], header: &str) -> String {
    let top = top_header(message);
    let Some(field) = top.last(header.as_bytes()) else {
        return String::new();
    };
    parse_addresses(&field.value)
        .into_iter()
        .find(|a| a.domain.is_some())
        .and_then(|a| a.mailbox)
        .map(|m| decode_value(&m).to_ascii_uppercase())
        .unwrap_or_default()
}

/// The SORT `DISPLAYFROM` / `DISPLAYTO` key (RFC 5957 §3): the decoded
/// display name of the first address of the last `header` field, or
/// its `mailbox@host` when it has none; ASCII letters upper-cased.
pub fn sort_display(message: &[u8], header: &str) -> String {
    let top = top_header(message);
    let Some(field) = top.last(header.as_bytes()) else {
        return String::new();
    };
    let Some(first) = parse_addresses(&field.value)
        .into_iter()
        .find(|a| a.domain.is_some())
    else {
        return String::new();
    };
    let name = first.name.as_deref().map(decode_value).unwrap_or_default();
    let shown = if name.trim().is_empty() {
        let mailbox = String::from_utf8_lossy(first.mailbox.as_deref().unwrap_or_default());
        let host = String::from_utf8_lossy(first.domain.as_deref().unwrap_or_default());
        format!("{mailbox}@{host}")
    } else {
        name
    };
    shown.to_ascii_uppercase()
}

/// The sent date as a Unix time: the Date header when it parses, else
/// `internal_date` (RFC 5256 §2.2, SORT `DATE`).
pub fn sort_date(message: &[u8], internal_date: i64) -> i64 {
    let top = top_header(message);
    let Some(field) = top.last(b"date") else {
        return internal_date;
    };
    let mut input = field.value.clone();
    input.extend_from_slice(b"\r\n");
    match MessageStream::new(&input).parse_date() {
        HeaderValue::DateTime(date) if date.is_valid() => date.to_timestamp(),
        _ => internal_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: =?UTF-8?Q?Andr=C3=A9?= <Andre@x.example>\r\n\
Subject: =?ISO-8859-1?Q?Re:_caf=E9?=\r\n\
Date: Tue, 5 Mar 2024 10:15:00 +0100\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n";

    #[test]
    fn headers_and_body_are_decoded() {
        assert_eq!(header_values(MSG, "FROM"), ["André <Andre@x.example>"]);
        assert_eq!(subject(MSG), "Re: café");
        assert_eq!(body_text(MSG), ["café\r\n"]);
    }

    #[test]
    fn sort_keys() {
        assert_eq!(sort_subject(MSG), "CAFé");
        assert_eq!(sort_mailbox(MSG, "from"), "ANDRE");
        assert_eq!(sort_mailbox(MSG, "cc"), "");
        assert_eq!(sort_display(MSG, "from"), "ANDRé");
        assert_eq!(
            sort_display(b"To: <a@b.example>\r\n\r\n", "to"),
            "A@B.EXAMPLE"
        );
        assert_eq!(sort_date(MSG, 7), 1_709_630_100);
        assert_eq!(sort_date(b"Date: garbage\r\n\r\n", 7), 7);
        assert_eq!(sort_date(b"\r\n", 7), 7);
    }
}
