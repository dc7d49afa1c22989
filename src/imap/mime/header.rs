//! Header sections (RFC 5322 §2.2): fields with their continuation
//! lines, the raw octets of each field, and the value Dovecot's header
//! parser hands to ENVELOPE and BODYSTRUCTURE.
//!
//! Owns: [`Field`], [`Header`], [`parse_header`] and line helpers.
//! A field's value is the text after the colon with leading blanks
//! skipped, and each continuation line appended after a bare LF (its
//! CR dropped, its leading white space kept). A line without a colon is
//! a field whose name is the whole line. The header ends after an empty
//! line, at the end of the input, or just before a line the caller says
//! is a MIME boundary (the line break before that line then belongs to
//! the boundary).
//!
//! Must not: decode anything (RFC 2047 decoding is in `search.rs`).

use std::ops::Range;

/// One header field.
#[derive(Debug, Clone, Default)]
pub(crate) struct Field {
    /// The name: octets before the colon, trailing blanks removed (the
    /// whole first line when there is no colon).
    pub(crate) name: Vec<u8>,
    /// The unfolded value (see the module docs); empty without a colon.
    pub(crate) value: Vec<u8>,
    /// The raw octets of the field, line breaks included.
    pub(crate) raw: Range<usize>,
}

/// A parsed header section.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    /// The fields, in order.
    pub(crate) fields: Vec<Field>,
    /// The octets of the header section (empty line included, if any).
    pub(crate) range: Range<usize>,
    /// Where the body begins (after the empty line, or where the header
    /// stopped).
    pub(crate) body_start: usize,
    /// Whether the header ended with an empty line.
    pub(crate) has_eoh: bool,
}

impl Header {
    /// The last field named `name` (ASCII case-insensitive).
    pub(crate) fn last(&self, name: &[u8]) -> Option<&Field> {
        self.fields
            .iter()
            .rev()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Whether a field named `name` exists.
    pub(crate) fn has(&self, name: &[u8]) -> bool {
        self.last(name).is_some()
    }
}

/// The line starting at `pos`: (end of its text without CR LF, start
/// of the next line). Without a final LF both are the input's end.
pub(crate) fn line_at(msg: &[u8], pos: usize) -> (usize, usize) {
    let rest = msg.get(pos..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let lf = pos + lf;
            let text_end = if lf > pos && msg[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            (text_end, lf + 1)
        }
        None => (msg.len(), msg.len()),
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Reads one field starting at `pos` (not an empty line); returns it
/// and the length of the line break that ended its last line.
fn parse_field(msg: &[u8], pos: usize) -> (Field, usize) {
    let (first_end, mut next) = line_at(msg, pos);
    let first = &msg[pos..first_end];
    let mut field = Field::default();
    match first.iter().position(|&b| b == b':') {
        Some(colon) => {
            let mut name_end = colon;
            while name_end > 0 && is_blank(first[name_end - 1]) {
                name_end -= 1;
            }
            field.name = first[..name_end].to_vec();
            let after = &first[colon + 1..];
            let skip = after.iter().take_while(|&&b| is_blank(b)).count();
            // Only blanks: Dovecot skips just the first one.
            let skip = if skip == after.len() {
                skip.min(1)
            } else {
                skip
            };
            field.value = after[skip..].to_vec();
        }
        None => field.name = first.to_vec(),
    }
    let mut newline = next - first_end;
    while msg.get(next).copied().is_some_and(is_blank) {
        let (end, after) = line_at(msg, next);
        field.value.push(b'\n');
        field.value.extend_from_slice(&msg[next..end]);
        newline = after - end;
        next = after;
    }
    field.raw = pos..next;
    (field, newline)
}

/// Parses the header section starting at `start`. `is_boundary` is
/// asked at the start of every field; when it answers true the header
/// stops there.
pub(crate) fn parse_header(
    msg: &[u8],
    start: usize,
    is_boundary: &mut dyn FnMut(usize) -> bool,
) -> Header {
    let mut header = Header {
        range: start..start,
        body_start: start,
        ..Header::default()
    };
    let mut pos = start;
    let mut last_newline = 0;
    while pos < msg.len() {
        let (text_end, next) = line_at(msg, pos);
        if text_end == pos && next > pos {
            header.range.end = next;
            header.body_start = next;
            header.has_eoh = true;
            return header;
        }
        if is_boundary(pos) {
            // The line break before a boundary belongs to the boundary.
            header.range.end = pos - last_newline;
            header.body_start = pos;
            return header;
        }
        let (field, newline) = parse_field(msg, pos);
        pos = field.raw.end;
        last_newline = newline;
        header.fields.push(field);
    }
    header.range.end = msg.len();
    header.body_start = msg.len();
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(msg: &[u8]) -> Header {
        parse_header(msg, 0, &mut |_| false)
    }

    #[test]
    fn values_unfold_with_bare_lf_and_skip_leading_blanks() {
        let h = parse(b"Subject:   a\r\n  b\r\nX: \r\n\r\nbody");
        assert_eq!(h.fields[0].name, b"Subject");
        assert_eq!(h.fields[0].value, b"a\n  b");
        assert_eq!(h.fields[1].value, b"");
        assert!(h.has_eoh);
        assert_eq!(h.body_start, 26);
        assert_eq!(
            &b"Subject:   a\r\n  b\r\nX: \r\n\r\nbody"[h.body_start..],
            b"body"
        );
    }

    #[test]
    fn lines_without_colon_are_fields_named_by_the_line() {
        let h = parse(b"garbage line\r\nA : b\r\n");
        assert_eq!(h.fields[0].name, b"garbage line");
        assert_eq!(h.fields[1].name, b"A");
        assert!(!h.has_eoh);
        assert_eq!(h.range.end, 21);
    }

    #[test]
    fn a_boundary_takes_the_previous_line_break() {
        let msg = b"A: b\r\n--x\r\n";
        let h = parse_header(msg, 0, &mut |pos| msg[pos..].starts_with(b"--x"));
        assert_eq!(h.range, 0..4);
        assert_eq!(h.body_start, 6);
    }
}
