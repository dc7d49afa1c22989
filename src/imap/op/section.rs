//! Writing one FETCH response (RFC 3501 §7.4.2): the items of a [`Plan`]
//! for one message, with `<partial>` ranges applied (§6.4.5).
//!
//! Small literals go through the output buffer; a literal larger than
//! [`FLUSH_AT`] is announced (`BODY[] {n}`), the buffer is flushed and the
//! octets are written straight from the message read for this response,
//! so no second copy of a large message is made.

use std::borrow::Cow;

use time::OffsetDateTime;

use super::super::error::Result;
use super::super::mime::ParsedMessage;
use super::super::session::{FLUSH_AT, Session};
use super::super::view::Msg;
use super::fetch::Plan;
use super::flags_to_wire;
use crate::net::Transport;
use crate::protocol::imap::{
    FetchAttribute, FetchData, FetchEncoder, FetchLiteral, Partial, Section, SectionText,
};

/// `data` cut to a `<partial>` range, with the origin to report.
fn cut<'a>(data: Cow<'a, [u8]>, partial: Option<Partial>) -> (Cow<'a, [u8]>, Option<u32>) {
    let Some(p) = partial else {
        return (data, None);
    };
    let len = data.len();
    let start = usize::try_from(p.offset).unwrap_or(usize::MAX).min(len);
    let end = start
        .saturating_add(usize::try_from(p.length.get()).unwrap_or(usize::MAX))
        .min(len);
    let piece = match data {
        Cow::Borrowed(d) => Cow::Borrowed(&d[start..end]),
        Cow::Owned(d) => Cow::Owned(d[start..end].to_vec()),
    };
    (piece, Some(p.offset))
}

/// The octets of a section: the whole message without a copy for `[]`
/// (unless it holds NUL octets, sent as 0x80).
fn section_data<'a>(parsed: &ParsedMessage<'a>, section: &Section) -> Cow<'a, [u8]> {
    if section.part.is_empty() && section.text.is_none() {
        return parsed.whole();
    }
    Cow::Owned(parsed.section(section))
}

impl<S: Transport> Session<S> {
    /// Writes `* seq FETCH (…)` for one message. `bytes` is the message
    /// (empty when the plan needs no body); `flags_too` adds FLAGS when
    /// the fetch itself changed them and they were not asked for.
    pub(super) async fn write_fetch(
        &mut self,
        seq: u32,
        msg: &Msg,
        plan: &Plan,
        bytes: &[u8],
        flags_too: bool,
    ) -> Result<()> {
        let parsed = ParsedMessage::new(bytes);
        let mut enc = FetchEncoder::begin(seq, &mut self.out);
        for attr in &plan.attrs {
            self.write_item(&mut enc, attr, msg, &parsed).await?;
        }
        if flags_too && !plan.attrs.contains(&FetchAttribute::Flags) {
            let flags = FetchData::Flags(flags_to_wire(&msg.flags, msg.recent));
            enc.item(&flags, &mut self.out);
        }
        enc.finish(&mut self.out);
        self.maybe_flush().await
    }

    async fn write_item(
        &mut self,
        enc: &mut FetchEncoder,
        attr: &FetchAttribute,
        msg: &Msg,
        parsed: &ParsedMessage<'_>,
    ) -> Result<()> {
        use FetchAttribute as A;
        let simple = match attr {
            A::Uid => FetchData::Uid(msg.uid),
            A::Flags => FetchData::Flags(flags_to_wire(&msg.flags, msg.recent)),
            A::InternalDate => FetchData::InternalDate(OffsetDateTime::from(msg.internal_date)),
            A::Rfc822Size => FetchData::Rfc822Size(msg.size),
            A::ModSeq => FetchData::ModSeq(msg.modseq),
            A::Envelope => FetchData::Envelope(Box::new(parsed.envelope())),
            A::Body => FetchData::Body(Box::new(parsed.body_structure(false))),
            A::BodyStructure => FetchData::BodyStructure(Box::new(parsed.body_structure(true))),
            A::Rfc822 => {
                return self
                    .write_literal(enc, FetchLiteral::Rfc822, parsed.whole())
                    .await;
            }
            A::Rfc822Header | A::Rfc822Text => {
                let (text, name) = match attr {
                    A::Rfc822Header => (SectionText::Header, FetchLiteral::Rfc822Header),
                    _ => (SectionText::Text, FetchLiteral::Rfc822Text),
                };
                let section = Section {
                    part: Vec::new(),
                    text: Some(text),
                };
                let data = Cow::Owned(parsed.section(&section));
                return self.write_literal(enc, name, data).await;
            }
            A::BodySection {
                section, partial, ..
            } => {
                let (data, origin) = cut(section_data(parsed, section), *partial);
                let name = FetchLiteral::Section { section, origin };
                return self.write_literal(enc, name, data).await;
            }
        };
        enc.item(&simple, &mut self.out);
        Ok(())
    }

    async fn write_literal(
        &mut self,
        enc: &mut FetchEncoder,
        name: FetchLiteral<'_>,
        data: Cow<'_, [u8]>,
    ) -> Result<()> {
        if data.len() < FLUSH_AT {
            let item = match name {
                FetchLiteral::Section { section, origin } => FetchData::Section {
                    section: section.clone(),
                    origin,
                    data: Some(data.into_owned()),
                },
                FetchLiteral::Rfc822 => FetchData::Rfc822(Some(data.into_owned())),
                FetchLiteral::Rfc822Header => FetchData::Rfc822Header(Some(data.into_owned())),
                FetchLiteral::Rfc822Text => FetchData::Rfc822Text(Some(data.into_owned())),
            };
            enc.item(&item, &mut self.out);
            return Ok(());
        }
        enc.literal_header(name, data.len() as u64, &mut self.out);
        self.write_raw(&data).await
    }
}
