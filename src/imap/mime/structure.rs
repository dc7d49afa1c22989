//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from the MIME tree, with
//! Dovecot's choices where the RFC leaves room or the input is broken:
//! - no Content-Type: `text/plain` with `charset us-ascii`; a text part
//!   without a charset parameter gets `charset us-ascii` appended;
//! - no Content-Transfer-Encoding: `7bit`;
//! - sizes are raw (encoded) body octets, line counts are LF counts;
//! - a multipart without parts (no boundary, or none found) gets one
//!   empty text/plain part, as the grammar needs at least one;
//! - a part beyond the nesting limits is `application/octet-stream`;
//! - types, subtypes and parameters keep the case they were sent in
//!   (a part without Content-Type is `text/plain`, lower case);
//!   Content-ID, -Description, -MD5 and -Location are raw header text.
//!
//! Owns: [`structure_of`]. Must not: recurse deeper than the tree's
//! nesting limit (it follows the tree, which is capped).

use super::envelope::{envelope_of, no_lf, replace_nul};
use super::params::{ContentFields, Param};
use super::tree::{Kind, Part, Tree};
use crate::protocol::imap::{
    BodyFields, BodyStructure, Disposition, MultipartExtension, SinglePartExtension,
};

/// A string for BODYSTRUCTURE: raw octets, NUL made U+FFFD (Dovecot).
fn text(bytes: &[u8]) -> Vec<u8> {
    replace_nul(bytes)
}

fn params(list: &[Param]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter().map(|(k, v)| (text(k), text(v))).collect()
}

fn nstring(value: Option<&Vec<u8>>) -> Option<Vec<u8>> {
    value.map(|v| no_lf(&text(v)))
}

fn octets(range: &std::ops::Range<usize>) -> u32 {
    u32::try_from(range.len()).unwrap_or(u32::MAX)
}

fn lines(msg: &[u8], range: &std::ops::Range<usize>) -> u32 {
    let body = msg.get(range.clone()).unwrap_or_default();
    let n = body.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn disposition(c: &ContentFields) -> Option<Disposition> {
    c.disposition.as_ref().map(|(kind, p)| Disposition {
        kind: text(kind),
        params: params(p),
    })
}

fn language(c: &ContentFields) -> Vec<Vec<u8>> {
    c.language
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|l| text(l))
        .collect()
}

fn single_ext(c: &ContentFields, extended: bool) -> Option<SinglePartExtension> {
    extended.then(|| SinglePartExtension {
        md5: nstring(c.md5.as_ref()),
        disposition: disposition(c),
        language: language(c),
        location: nstring(c.location.as_ref()),
    })
}

fn fields(part: &Part, default_charset: bool) -> BodyFields {
    let c = &part.content;
    let mut p = params(&c.params);
    if default_charset && !p.iter().any(|(k, _)| k.eq_ignore_ascii_case(b"charset")) {
        p.push((b"charset".to_vec(), b"us-ascii".to_vec()));
    }
    BodyFields {
        params: p,
        id: nstring(c.id.as_ref()),
        description: nstring(c.description.as_ref()),
        encoding: c.encoding.as_deref().map_or_else(|| b"7bit".to_vec(), text),
        octets: octets(&part.body),
    }
}

/// The empty part Dovecot puts in a multipart that has none.
fn empty_text(extended: bool) -> BodyStructure {
    BodyStructure::Text {
        media_type: b"text".to_vec(),
        subtype: b"plain".to_vec(),
        fields: BodyFields {
            params: vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
            id: None,
            description: None,
            encoding: b"7bit".to_vec(),
            octets: 0,
        },
        lines: 0,
        extension: extended.then(SinglePartExtension::default),
    }
}

fn multipart(msg: &[u8], tree: &Tree, part: &Part, extended: bool) -> BodyStructure {
    let mut parts: Vec<BodyStructure> = part
        .children
        .iter()
        .map(|&child| structure_of(msg, tree, child, extended))
        .collect();
    if parts.is_empty() {
        parts.push(empty_text(extended));
    }
    let c = &part.content;
    BodyStructure::Multipart {
        parts,
        subtype: text(&c.subtype),
        extension: extended.then(|| MultipartExtension {
            params: params(&c.params),
            disposition: disposition(c),
            language: language(c),
            location: nstring(c.location.as_ref()),
        }),
    }
}

fn message(msg: &[u8], tree: &Tree, part: &Part, extended: bool) -> BodyStructure {
    let (envelope, body) = match part.children.first() {
        Some(&child) => (
            envelope_of(&tree.part(child).header),
            structure_of(msg, tree, child, extended),
        ),
        None => (Default::default(), empty_text(extended)),
    };
    BodyStructure::Message {
        fields: fields(part, false),
        envelope: Box::new(envelope),
        body: Box::new(body),
        lines: lines(msg, &part.body),
        extension: single_ext(&part.content, extended),
    }
}

/// The structure of part `index` of `tree` (0: the whole message).
pub(crate) fn structure_of(msg: &[u8], tree: &Tree, index: usize, extended: bool) -> BodyStructure {
    let part = tree.part(index);
    let c = &part.content;
    match part.kind {
        Kind::Multipart => return multipart(msg, tree, part, extended),
        Kind::Message => return message(msg, tree, part, extended),
        Kind::Text | Kind::Other => {}
    }
    let extension = single_ext(c, extended);
    if part.truncated {
        return BodyStructure::Basic {
            media_type: b"application".to_vec(),
            subtype: b"octet-stream".to_vec(),
            fields: fields(part, false),
            extension,
        };
    }
    match c.media_type.as_deref() {
        None => BodyStructure::Text {
            media_type: b"text".to_vec(),
            subtype: b"plain".to_vec(),
            fields: fields(part, true),
            lines: lines(msg, &part.body),
            extension,
        },
        Some(ty) if c.is_text() => BodyStructure::Text {
            media_type: text(ty),
            subtype: text(&c.subtype),
            fields: fields(part, true),
            lines: lines(msg, &part.body),
            extension,
        },
        Some(ty) => BodyStructure::Basic {
            media_type: text(ty),
            subtype: text(&c.subtype),
            fields: fields(part, false),
            extension,
        },
    }
}
