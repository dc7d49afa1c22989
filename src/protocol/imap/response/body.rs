//! The BODY and BODYSTRUCTURE structures (RFC 3501 §7.4.2 "BODY",
//! "BODYSTRUCTURE"; grammar `body`, `body-type-1part`, `body-type-mpart`,
//! `body-fields`, `body-ext-1part`, `body-ext-mpart` in §9).
//!
//! Owns: [`BodyStructure`] (basic, text, message/rfc822 and multipart
//! parts) with [`BodyFields`] and the extension data
//! ([`SinglePartExtension`], [`MultipartExtension`], [`Disposition`]),
//! and its exact wire form. `BODY` is the same tree written without
//! extension data; `BODYSTRUCTURE` writes the extension data of every
//! part that has it. Multipart children are written back to back with
//! no space between them, as the grammar says. The bytes are Dovecot
//! 2.3's: media types keep the case the message gave them (a text part
//! without Content-Type is `"text" "plain"`, message/rfc822 is always
//! `"message" "rfc822"`), strings are message strings (`wire.rs`: quoted
//! unless 8-bit, CR, LF or more than four `"`/`\`), empty parameter and
//! language lists are `NIL`, and languages are always a list, even one.
//!
//! Must not: parse messages; the message layer builds these values.

use super::envelope::Envelope;
use crate::protocol::imap::wire::Writer;

/// `body-fields`: what every non-multipart part carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFields {
    /// Content-Type parameters (`charset`, `name`…), attribute/value.
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    /// Content-ID.
    pub id: Option<Vec<u8>>,
    /// Content-Description.
    pub description: Option<Vec<u8>>,
    /// Content-Transfer-Encoding (`7BIT` when absent).
    pub encoding: Vec<u8>,
    /// Size of the body in its transfer encoding, in octets.
    pub octets: u32,
}

/// `body-fld-dsp`: Content-Disposition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disposition {
    /// `inline`, `attachment`…
    pub kind: Vec<u8>,
    /// Its parameters (`filename`…).
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Extension data of a non-multipart part (`body-ext-1part`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinglePartExtension {
    /// Content-MD5.
    pub md5: Option<Vec<u8>>,
    /// Content-Disposition.
    pub disposition: Option<Disposition>,
    /// Content-Language tags.
    pub language: Vec<Vec<u8>>,
    /// Content-Location.
    pub location: Option<Vec<u8>>,
}

/// Extension data of a multipart part (`body-ext-mpart`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultipartExtension {
    /// Content-Type parameters (`boundary`…).
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    /// Content-Disposition.
    pub disposition: Option<Disposition>,
    /// Content-Language tags.
    pub language: Vec<Vec<u8>>,
    /// Content-Location.
    pub location: Option<Vec<u8>>,
}

/// One part of a message's MIME structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    /// Any non-multipart, non-text, non-message/rfc822 part.
    Basic {
        /// Media type (`APPLICATION`).
        media_type: Vec<u8>,
        /// Media subtype (`PDF`).
        subtype: Vec<u8>,
        /// The common fields.
        fields: BodyFields,
        /// Extension data, for BODYSTRUCTURE.
        extension: Option<SinglePartExtension>,
    },
    /// A `text/*` part (or one without Content-Type).
    Text {
        /// Media type as the message wrote it (`text`, `TEXT`…).
        media_type: Vec<u8>,
        /// Media subtype (`PLAIN`).
        subtype: Vec<u8>,
        /// The common fields.
        fields: BodyFields,
        /// Size in lines.
        lines: u32,
        /// Extension data, for BODYSTRUCTURE.
        extension: Option<SinglePartExtension>,
    },
    /// A `message/rfc822` part (written `"message" "rfc822"` whatever
    /// the case of its Content-Type, as Dovecot does).
    Message {
        /// The common fields.
        fields: BodyFields,
        /// The encapsulated message's envelope.
        envelope: Box<Envelope>,
        /// The encapsulated message's structure.
        body: Box<BodyStructure>,
        /// Size in lines.
        lines: u32,
        /// Extension data, for BODYSTRUCTURE.
        extension: Option<SinglePartExtension>,
    },
    /// A `multipart/*` part.
    Multipart {
        /// The children (at least one).
        parts: Vec<BodyStructure>,
        /// Media subtype (`MIXED`).
        subtype: Vec<u8>,
        /// Extension data, for BODYSTRUCTURE.
        extension: Option<MultipartExtension>,
    },
}

fn write_params(w: &mut Writer<'_>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        return w.str("NIL");
    }
    w.str("(");
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        w.message_string(name);
        w.sp();
        w.message_string(value);
    }
    w.str(")");
}

fn write_nstring(w: &mut Writer<'_>, s: Option<&Vec<u8>>) {
    w.message_nstring(s.map(Vec::as_slice));
}

/// ` dsp lang loc`: the tail both extension kinds share.
fn write_ext_tail(
    w: &mut Writer<'_>,
    dsp: Option<&Disposition>,
    lang: &[Vec<u8>],
    loc: Option<&Vec<u8>>,
) {
    w.sp();
    match dsp {
        Some(d) => {
            w.str("(");
            w.message_string(&d.kind);
            w.sp();
            write_params(w, &d.params);
            w.str(")");
        }
        None => w.str("NIL"),
    }
    w.sp();
    if lang.is_empty() {
        w.str("NIL");
    } else {
        w.list(lang, |w, l| w.message_string(l));
    }
    w.sp();
    write_nstring(w, loc);
}

fn write_fields(w: &mut Writer<'_>, f: &BodyFields) {
    write_params(w, &f.params);
    w.sp();
    write_nstring(w, f.id.as_ref());
    w.sp();
    write_nstring(w, f.description.as_ref());
    w.sp();
    w.message_string(&f.encoding);
    w.sp();
    w.num(f.octets);
}

fn write_single_ext(w: &mut Writer<'_>, ext: Option<&SinglePartExtension>, extended: bool) {
    if let (true, Some(ext)) = (extended, ext) {
        w.sp();
        write_nstring(w, ext.md5.as_ref());
        write_ext_tail(
            w,
            ext.disposition.as_ref(),
            &ext.language,
            ext.location.as_ref(),
        );
    }
}

impl BodyStructure {
    /// Writes the part: with extension data for BODYSTRUCTURE
    /// (`extended`), without for BODY.
    pub(in crate::protocol::imap) fn write(&self, w: &mut Writer<'_>, extended: bool) {
        w.str("(");
        match self {
            BodyStructure::Basic {
                media_type,
                subtype,
                fields,
                extension,
            } => {
                w.message_string(media_type);
                w.sp();
                w.message_string(subtype);
                w.sp();
                write_fields(w, fields);
                write_single_ext(w, extension.as_ref(), extended);
            }
            BodyStructure::Text {
                media_type,
                subtype,
                fields,
                lines,
                extension,
            } => {
                w.message_string(media_type);
                w.sp();
                w.message_string(subtype);
                w.sp();
                write_fields(w, fields);
                w.sp();
                w.num(lines);
                write_single_ext(w, extension.as_ref(), extended);
            }
            BodyStructure::Message {
                fields,
                envelope,
                body,
                lines,
                extension,
            } => {
                w.str("\"message\" \"rfc822\" ");
                write_fields(w, fields);
                w.sp();
                envelope.write(w);
                w.sp();
                body.write(w, extended);
                w.sp();
                w.num(lines);
                write_single_ext(w, extension.as_ref(), extended);
            }
            BodyStructure::Multipart {
                parts,
                subtype,
                extension,
            } => {
                for part in parts {
                    part.write(w, extended);
                }
                w.sp();
                w.message_string(subtype);
                if let (true, Some(ext)) = (extended, extension) {
                    w.sp();
                    write_params(w, &ext.params);
                    write_ext_tail(
                        w,
                        ext.disposition.as_ref(),
                        &ext.language,
                        ext.location.as_ref(),
                    );
                }
            }
        }
        w.str(")");
    }
}
