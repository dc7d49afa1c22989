//! The MIME tree of a message as sent (RFC 2045, RFC 2046 §5.1
//! multipart, §5.2.1 message/rfc822), with the raw octet ranges IMAP
//! sections, sizes and line counts are made of. Parsed the way Dovecot's
//! `message-parser` does, so part numbers, sizes and line counts agree
//! with Dovecot on broken input too.
//!
//! Owns: [`Tree`] and [`Part`]. The rules, in short:
//! - a part is MIME when its header has MIME-Version or Content-Type, or
//!   it is a multipart child; Content-* of a non-MIME part are ignored;
//! - the first Content-Type decides text / multipart / message/rfc822;
//!   none means text/plain (message/rfc822 under multipart/digest);
//! - a multipart with a boundary parameter opens its body at the empty
//!   line ending its header; a boundary line is `--` + a known boundary
//!   as a prefix (the longest, newest first), at a line start; the line
//!   break before it belongs to the boundary; a boundary of an outer
//!   multipart closes the inner parts;
//! - nesting stops at [`MAX_DEPTH`] levels (the message is level 1)
//!   and [`MAX_PARTS`] parts: a multipart or message/rfc822 part there
//!   is kept whole, its structure not expanded.
//!
//! Must not: decode bodies; recurse (it is iterative, so hostile nesting
//! cannot exhaust the stack).

use std::ops::Range;

use super::header::{Header, line_at, parse_header};
use super::lex::Lexer;
use super::params::{ContentFields, parse_params};

/// Most levels of parts, the message itself included (Dovecot's limit).
pub const MAX_DEPTH: usize = 100;
/// Most parts expanded in one message (Dovecot's default).
pub const MAX_PARTS: usize = 10_000;
/// Longest boundary used; longer ones are cut (RFC 2046 allows 70).
const MAX_BOUNDARY: usize = 80;

/// What a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `text/*`, or no Content-Type.
    Text,
    /// `multipart/*`.
    Multipart,
    /// `message/rfc822`: the one child is the encapsulated message.
    Message,
    /// Anything else.
    Other,
}

/// One part of the tree.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The enclosing part (`None` for the message itself).
    pub(crate) parent: Option<usize>,
    /// Child parts (multipart children, or the encapsulated message).
    pub(crate) children: Vec<usize>,
    /// The header section.
    pub(crate) header: Header,
    /// The body octets.
    pub(crate) body: Range<usize>,
    /// What the part is.
    pub(crate) kind: Kind,
    /// A multipart/rfc822 part not expanded because of the limits.
    pub(crate) truncated: bool,
    /// Its Content-* fields (empty when the part is not MIME).
    pub(crate) content: ContentFields,
    depth: usize,
    digest: bool,
}

/// A parsed message: `parts[0]` is the message itself.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    /// All parts, parents before children.
    pub(crate) parts: Vec<Part>,
}

struct Boundary {
    part: usize,
    text: Vec<u8>,
}

/// The boundary line at `pos`, if any: (index in `bounds`, closing).
fn boundary_at(msg: &[u8], pos: usize, bounds: &[Boundary]) -> Option<(usize, bool)> {
    let data = msg.get(pos..)?.strip_prefix(b"--")?;
    let mut size = data.len();
    if let Some(lf) = data.iter().position(|&b| b == b'\n') {
        size = lf;
        if size > 0 && data[size - 1] == b'\r' {
            size -= 1;
        }
        if size > 2 && data[..size].ends_with(b"--") {
            size -= 2;
        }
    }
    let mut best: Option<usize> = None;
    for (i, b) in bounds.iter().enumerate().rev() {
        let longer = best.is_none_or(|j| bounds[j].text.len() < b.text.len());
        if b.text.len() <= size && data.starts_with(&b.text) && longer {
            best = Some(i);
        }
    }
    let i = best?;
    let len = bounds[i].text.len();
    Some((i, data.get(len..len + 2) == Some(b"--")))
}

impl Tree {
    /// Parses `msg` (never fails: every input has a structure).
    pub(crate) fn parse(msg: &[u8]) -> Tree {
        Parser {
            msg,
            parts: Vec::new(),
            bounds: Vec::new(),
        }
        .run()
    }

    /// The part at `index` (the message itself at 0).
    pub(crate) fn part(&self, index: usize) -> &Part {
        &self.parts[index.min(self.parts.len() - 1)]
    }
}

struct Parser<'m> {
    msg: &'m [u8],
    parts: Vec<Part>,
    bounds: Vec<Boundary>,
}

/// What to do after a header: where the body goes.
enum Next {
    Header(usize, usize),
    ToBoundary(usize, usize),
    ToEof,
}

impl Parser<'_> {
    fn run(mut self) -> Tree {
        let mut next = self.begin_part(None, 0);
        loop {
            next = match next {
                Next::Header(parent, pos) => self.begin_part(Some(parent), pos),
                Next::ToBoundary(part, pos) => self.body_to_boundary(part, pos),
                Next::ToEof => break,
            };
        }
        let end = self.msg.len();
        for p in &mut self.parts {
            if p.body.end == usize::MAX {
                p.body.end = end;
            }
        }
        Tree { parts: self.parts }
    }

    fn can_nest(&self, depth: usize) -> bool {
        depth + 1 < MAX_DEPTH && self.parts.len() < MAX_PARTS
    }

    /// Parses the header of a new part at `pos` and decides its body.
    fn begin_part(&mut self, parent: Option<usize>, pos: usize) -> Next {
        let index = self.parts.len();
        let (depth, in_digest) = match parent {
            Some(p) => (self.parts[p].depth + 1, self.parts[p].digest),
            None => (0, false),
        };
        let msg = self.msg;
        let bounds = &self.bounds;
        let header = parse_header(msg, pos, &mut |at| {
            boundary_at(msg, at, bounds).is_some_and(|(i, _)| bounds[i].part != index)
        });
        let multipart_child = parent.is_some_and(|p| self.parts[p].kind == Kind::Multipart);
        let is_mime = multipart_child || header.has(b"mime-version") || header.has(b"content-type");
        let content = if is_mime {
            ContentFields::parse(&header.fields)
        } else {
            ContentFields::default()
        };
        let (kind, digest, boundary) = classify(&header, is_mime, in_digest);
        let body_start = header.body_start;
        if let Some(p) = parent {
            self.parts[p].children.push(index);
        }
        let mut part = Part {
            parent,
            children: Vec::new(),
            header,
            body: body_start..usize::MAX,
            kind,
            truncated: false,
            content,
            depth,
            digest,
        };
        let nest = self.can_nest(depth);
        let opens = kind == Kind::Multipart && part.header.has_eoh && boundary.is_some();
        if (opens || kind == Kind::Message) && !nest {
            part.truncated = true;
            part.kind = Kind::Other;
        }
        if opens && nest {
            let text = boundary.unwrap_or_default();
            self.bounds.push(Boundary { part: index, text });
        }
        self.give_eoh_to_boundary(&mut part);
        self.parts.push(part);
        match (opens && nest, kind == Kind::Message && nest) {
            (true, _) => Next::ToBoundary(index, body_start),
            (_, true) => Next::Header(index, body_start),
            _ if self.bounds.is_empty() => Next::ToEof,
            _ => Next::ToBoundary(index, body_start),
        }
    }

    /// When the line after the header's empty line is a boundary of an
    /// enclosing part, that empty line's break belongs to the boundary
    /// (Dovecot checks for a boundary once more after the empty line).
    fn give_eoh_to_boundary(&self, part: &mut Part) {
        let h = &mut part.header;
        if !h.has_eoh {
            return;
        }
        let index = self.parts.len();
        let outer = boundary_at(self.msg, h.body_start, &self.bounds)
            .is_some_and(|(i, _)| self.bounds[i].part != index);
        if outer {
            let crlf = h.body_start >= 2 && self.msg[h.body_start - 2] == b'\r';
            h.range.end = h.body_start - if crlf { 2 } else { 1 };
        }
    }

    /// Finds the next boundary line from `pos` (a line start) and closes
    /// the parts it ends.
    fn body_to_boundary(&mut self, part: usize, pos: usize) -> Next {
        let msg = self.msg;
        let mut line = pos;
        let found = loop {
            if let Some(hit) = boundary_at(msg, line, &self.bounds) {
                break Some(hit);
            }
            let (_, next) = line_at(msg, line);
            if next >= msg.len() {
                break None;
            }
            line = next;
        };
        let Some((bi, close)) = found else {
            return Next::ToEof;
        };
        let mut delim = line;
        if line > pos {
            delim -= 1;
            if delim > pos && msg[delim - 1] == b'\r' {
                delim -= 1;
            }
        }
        let owner = self.bounds[bi].part;
        let mut cur = part;
        while cur != owner {
            self.parts[cur].body.end = delim;
            match self.parts[cur].parent {
                Some(p) => cur = p,
                None => break,
            }
        }
        let bound_len = self.bounds[bi].text.len();
        self.bounds.truncate(if close { bi } else { bi + 1 });
        let (_, after) = line_at(msg, line + 2 + bound_len);
        if after >= msg.len() && !msg.get(..after).is_some_and(|m| m.ends_with(b"\n")) {
            return Next::ToEof;
        }
        if close {
            if self.bounds.is_empty() {
                Next::ToEof
            } else {
                Next::ToBoundary(owner, after)
            }
        } else {
            Next::Header(owner, after)
        }
    }
}

/// The part's kind, whether it is a digest, and its boundary (for an
/// opening multipart), from its first Content-Type.
fn classify(header: &Header, is_mime: bool, in_digest: bool) -> (Kind, bool, Option<Vec<u8>>) {
    let default = if in_digest { Kind::Message } else { Kind::Text };
    let first = header
        .fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(b"content-type"));
    let (Some(field), true) = (first, is_mime) else {
        return (default, false, None);
    };
    let mut lx = Lexer::new(&field.value);
    lx.skip_lwsp();
    let mut ty = Vec::new();
    let ok = lx.content_type(&mut ty) != super::lex::Step::Fail;
    let lower = ty.to_ascii_lowercase();
    if lower == b"message/rfc822" {
        return (Kind::Message, false, None);
    }
    if lower.starts_with(b"text") && (lower.len() == 4 || lower[4] == b'/') {
        return (Kind::Text, false, None);
    }
    let Some(sub) = lower.strip_prefix(b"multipart/") else {
        return (Kind::Other, false, None);
    };
    let digest = sub == b"digest";
    let boundary = if ok {
        parse_params(&mut lx)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(b"boundary"))
            .map(|(_, mut v)| {
                v.truncate(MAX_BOUNDARY);
                v
            })
    } else {
        None
    };
    (Kind::Multipart, digest, boundary)
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
