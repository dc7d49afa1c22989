//! Body sections of FETCH (RFC 3501 §6.4.5 `BODY[section]`): raw octets
//! of the whole message, its header or text, one part's body or MIME
//! header, and the header or text of an encapsulated message/rfc822,
//! located the way Dovecot locates them.
//!
//! Owns: [`find_part`] and [`section_of`]. Rules:
//! - part numbers walk multipart children; a non-multipart part has
//!   only part 1 (itself), and the walk goes on inside it only when it
//!   is message/rfc822 (`2.1` of a message/rfc822 is the first part of
//!   the encapsulated message);
//! - `HEADER`, `TEXT` and `HEADER.FIELDS[.NOT]` after a part number need
//!   a message/rfc822 part; `MIME` of a message/rfc822 is its own header;
//! - a part that does not exist gives empty data, as Dovecot answers;
//! - `HEADER.FIELDS` keeps the matching fields (names compared without
//!   case) in message order, raw, then the empty line if the header
//!   has one (for the message's own header, `HEADER.FIELDS` adds it);
//! - NUL octets become 0x80 (IMAP literals may not carry NUL).
//!
//! Must not: apply `<partial>` (the caller does) or set `\Seen`.

use super::header::parse_header;
use super::tree::{Kind, Tree};
use crate::protocol::imap::{HeaderName, Section, SectionText};

/// The part a section's part numbers name, if it exists.
pub(crate) fn find_part(tree: &Tree, path: &[std::num::NonZeroU32]) -> Option<usize> {
    let mut index = 0usize;
    for (i, num) in path.iter().enumerate() {
        let more = i + 1 < path.len();
        let part = tree.part(index);
        if part.kind == Kind::Multipart {
            let n = usize::try_from(num.get() - 1).ok()?;
            index = *part.children.get(n)?;
        } else if num.get() != 1 || (more && part.kind != Kind::Message) {
            return None;
        }
        let part = tree.part(index);
        if more && part.kind == Kind::Message {
            index = *part.children.first()?;
        }
    }
    Some(index)
}

/// Where the header of part `index` begins for `HEADER.FIELDS`: for an
/// encapsulated message, right after its parent's header (which is
/// before the empty line when that line was given to a boundary).
fn fields_start(tree: &Tree, index: usize) -> usize {
    let part = tree.part(index);
    match part.parent.map(|p| tree.part(p)) {
        Some(parent) if parent.kind == Kind::Message => parent.header.range.end,
        _ => part.header.range.start,
    }
}

/// The fields kept (or, with `exclude`, dropped) by name, then the
/// empty line if there is one. As in Dovecot, the header is read afresh
/// from its start up to an empty line, whatever the MIME tree says, and
/// only the message's own `HEADER.FIELDS` adds a missing empty line.
fn filter(msg: &[u8], start: usize, names: &[HeaderName], exclude: bool) -> Vec<u8> {
    let header = parse_header(msg, start, &mut |_| false);
    let mut out = Vec::new();
    for field in &header.fields {
        let listed = names
            .iter()
            .any(|n| n.as_str().as_bytes().eq_ignore_ascii_case(&field.name));
        if listed != exclude {
            out.extend_from_slice(msg.get(field.raw.clone()).unwrap_or_default());
        }
    }
    if header.has_eoh {
        let eoh_start = header.fields.last().map_or(start, |f| f.raw.end);
        out.extend_from_slice(msg.get(eoh_start..header.body_start).unwrap_or_default());
    } else if start == 0 && !exclude {
        if out.last().is_some_and(|&b| b != b'\n') {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn header_text(msg: &[u8], tree: &Tree, index: usize, text: &SectionText) -> Vec<u8> {
    let part = tree.part(index);
    let bytes = |r: &std::ops::Range<usize>| msg.get(r.clone()).unwrap_or_default().to_vec();
    match text {
        SectionText::Header => bytes(&part.header.range),
        SectionText::Text => bytes(&part.body),
        SectionText::HeaderFields(names) => filter(msg, fields_start(tree, index), names, false),
        SectionText::HeaderFieldsNot(names) => filter(msg, fields_start(tree, index), names, true),
        SectionText::Mime => bytes(&part.header.range),
    }
}

/// The octets of `section` of the message `msg` parsed as `tree`.
pub(crate) fn section_of(msg: &[u8], tree: &Tree, section: &Section) -> Vec<u8> {
    let mut out = if section.part.is_empty() {
        match &section.text {
            None => msg.to_vec(),
            Some(text) => header_text(msg, tree, 0, text),
        }
    } else {
        match find_part(tree, &section.part) {
            None => Vec::new(),
            Some(index) => part_section(msg, tree, index, section.text.as_ref()),
        }
    };
    for b in &mut out {
        if *b == 0 {
            *b = 0x80;
        }
    }
    out
}

fn part_section(msg: &[u8], tree: &Tree, index: usize, text: Option<&SectionText>) -> Vec<u8> {
    let part = tree.part(index);
    match text {
        None => msg.get(part.body.clone()).unwrap_or_default().to_vec(),
        Some(SectionText::Mime) => header_text(msg, tree, index, &SectionText::Mime),
        Some(other) => match (part.kind, part.children.first()) {
            (Kind::Message, Some(&child)) => header_text(msg, tree, child, other),
            _ => Vec::new(),
        },
    }
}
