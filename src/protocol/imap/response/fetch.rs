//! Untagged FETCH responses (RFC 3501 §7.4.2; MODSEQ of RFC 7162
//! §3.1.4), written item by item so a large body never needs a buffer
//! of its own.
//!
//! Owns: [`FetchData`] (one item with its value) and [`FetchEncoder`],
//! which writes `* n FETCH (`, the items separated by spaces, and `)`.
//! For a large section the session calls [`FetchEncoder::literal_header`]
//! (`BODY[1]<0> {n}\r\n`), flushes, then streams exactly n octets from
//! the message file itself before the next item.
//!
//! Must not: read messages or decide which items to send.

use time::OffsetDateTime;

use super::body::BodyStructure;
use super::envelope::Envelope;
use crate::protocol::imap::command::Section;
use crate::protocol::imap::datetime::format_date_time;
use crate::protocol::imap::flag::Flag;
use crate::protocol::imap::wire::Writer;

/// One FETCH response item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchData {
    /// `FLAGS (…)` (may include `\Recent`).
    Flags(Vec<Flag>),
    /// `UID n`.
    Uid(u32),
    /// `RFC822.SIZE n`.
    Rfc822Size(u64),
    /// `INTERNALDATE "…"`.
    InternalDate(OffsetDateTime),
    /// `MODSEQ (n)`.
    ModSeq(u64),
    /// `ENVELOPE (…)`.
    Envelope(Box<Envelope>),
    /// `BODY (…)`: the structure without extension data.
    Body(Box<BodyStructure>),
    /// `BODYSTRUCTURE (…)`.
    BodyStructure(Box<BodyStructure>),
    /// `BODY[section]<origin> {n}…` (always a literal); `None` data is
    /// `NIL`.
    Section {
        /// The section as requested.
        section: Section,
        /// The partial offset, when a partial range was requested.
        origin: Option<u32>,
        /// The octets.
        data: Option<Vec<u8>>,
    },
    /// `RFC822 data`.
    Rfc822(Option<Vec<u8>>),
    /// `RFC822.HEADER data`.
    Rfc822Header(Option<Vec<u8>>),
    /// `RFC822.TEXT data`.
    Rfc822Text(Option<Vec<u8>>),
}

/// The name of an item whose value is a literal the session streams
/// (a section's header names are echoed in upper case, as Dovecot does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchLiteral<'a> {
    /// `BODY[section]<origin>`.
    Section {
        /// The section as requested.
        section: &'a Section,
        /// The partial offset, when a partial range was requested.
        origin: Option<u32>,
    },
    /// `RFC822`.
    Rfc822,
    /// `RFC822.HEADER`.
    Rfc822Header,
    /// `RFC822.TEXT`.
    Rfc822Text,
}

impl FetchLiteral<'_> {
    fn write(self, w: &mut Writer<'_>) {
        match self {
            FetchLiteral::Section { section, origin } => {
                w.str("BODY");
                section.write_echo(w);
                if let Some(origin) = origin {
                    w.str(&format!("<{origin}>"));
                }
            }
            FetchLiteral::Rfc822 => w.str("RFC822"),
            FetchLiteral::Rfc822Header => w.str("RFC822.HEADER"),
            FetchLiteral::Rfc822Text => w.str("RFC822.TEXT"),
        }
    }
}

/// Writes one `* n FETCH (…)` response in pieces.
#[derive(Debug)]
#[must_use = "finish the response with FetchEncoder::finish"]
pub struct FetchEncoder {
    items: usize,
}

impl FetchEncoder {
    /// Starts `* seq FETCH (`.
    pub fn begin(seq: u32, out: &mut Vec<u8>) -> FetchEncoder {
        out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        FetchEncoder { items: 0 }
    }

    fn separator(&mut self, out: &mut Vec<u8>) {
        if self.items > 0 {
            out.push(b' ');
        }
        self.items += 1;
    }

    /// Appends one item.
    pub fn item(&mut self, item: &FetchData, out: &mut Vec<u8>) {
        self.separator(out);
        let mut w = Writer::new(out, false);
        let data = |w: &mut Writer<'_>, name: FetchLiteral<'_>, data: &Option<Vec<u8>>| {
            name.write(w);
            match data {
                Some(data) => {
                    w.sp();
                    w.literal(data);
                }
                None => w.str(" NIL"),
            }
        };
        match item {
            FetchData::Flags(flags) => {
                w.str("FLAGS ");
                w.list(flags, |w, f| w.str(&f.to_string()));
            }
            FetchData::Uid(uid) => w.str(&format!("UID {uid}")),
            FetchData::Rfc822Size(size) => w.str(&format!("RFC822.SIZE {size}")),
            FetchData::InternalDate(date) => {
                w.str(&format!("INTERNALDATE \"{}\"", format_date_time(*date)));
            }
            FetchData::ModSeq(modseq) => w.str(&format!("MODSEQ ({modseq})")),
            FetchData::Envelope(envelope) => {
                w.str("ENVELOPE ");
                envelope.write(&mut w);
            }
            FetchData::Body(body) => {
                w.str("BODY ");
                body.write(&mut w, false);
            }
            FetchData::BodyStructure(body) => {
                w.str("BODYSTRUCTURE ");
                body.write(&mut w, true);
            }
            FetchData::Section {
                section,
                origin,
                data: d,
            } => {
                let name = FetchLiteral::Section {
                    section,
                    origin: *origin,
                };
                data(&mut w, name, d);
            }
            FetchData::Rfc822(d) => data(&mut w, FetchLiteral::Rfc822, d),
            FetchData::Rfc822Header(d) => data(&mut w, FetchLiteral::Rfc822Header, d),
            FetchData::Rfc822Text(d) => data(&mut w, FetchLiteral::Rfc822Text, d),
        }
    }

    /// Appends `name {len}\r\n`; the caller must send exactly `len`
    /// octets next (after flushing `out`), then continue with more items
    /// or [`FetchEncoder::finish`].
    pub fn literal_header(&mut self, name: FetchLiteral<'_>, len: u64, out: &mut Vec<u8>) {
        self.separator(out);
        let mut w = Writer::new(out, false);
        name.write(&mut w);
        w.str(&format!(" {{{len}}}\r\n"));
    }

    /// Appends `)\r\n`.
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(b")\r\n");
    }
}

/// Writes a whole FETCH response.
pub(super) fn write_fetch(seq: u32, items: &[FetchData], out: &mut Vec<u8>) {
    let mut encoder = FetchEncoder::begin(seq, out);
    for item in items {
        encoder.item(item, out);
    }
    encoder.finish(out);
}
