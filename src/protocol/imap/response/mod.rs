//! Server responses and their wire form (RFC 3501 §7: status responses
//! §7.1, server data §7.2–7.4, continuation requests §7.5), with the
//! data of the extensions the server advertises (each file cites its
//! RFCs).
//!
//! Owns, one file per concern:
//! - this file: [`Response`] — tagged completion, untagged status
//!   (OK/NO/BAD/PREAUTH/BYE), untagged data, continuation — and
//!   [`RespText`];
//! - `code.rs`: [`Code`], the bracketed response codes;
//! - `data.rs`: [`Data`], the untagged data responses;
//! - `fetch.rs`: [`FetchData`] and the streaming [`FetchEncoder`];
//! - `envelope.rs`, `body.rs`: [`Envelope`] and [`BodyStructure`].
//!
//! Safety rules applied whatever the caller passed: status text has
//! control characters (CR, LF, NUL…) replaced by spaces and is never
//! empty, so peer-supplied text cannot inject a line; strings follow
//! `wire.rs` (quoted, else literal); server-chosen atoms lose characters
//! an atom may not hold.
//!
//! Must not: decide which response a situation deserves.

mod body;
mod code;
mod data;
mod envelope;
mod fetch;

pub use body::{BodyFields, BodyStructure, Disposition, MultipartExtension, SinglePartExtension};
pub use code::Code;
pub use data::{
    Data, ESearchItem, ListItem, MailboxAttribute, Namespace, QuotaResource, StatusValue,
};
pub use envelope::{Address, Envelope};
pub use fetch::{FetchData, FetchEncoder, FetchLiteral};

use super::token::Tag;
use super::wire::Writer;

/// The outcome in a tagged response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Completion {
    /// `OK`.
    Ok,
    /// `NO`: the command failed.
    No,
    /// `BAD`: the command was not understood.
    Bad,
}

/// The condition of an untagged status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `* OK`.
    Ok,
    /// `* NO`: a warning.
    No,
    /// `* BAD`: a protocol error not tied to a command.
    Bad,
    /// `* PREAUTH`: greeting of a pre-authenticated connection.
    Preauth,
    /// `* BYE`: the server is closing the connection.
    Bye,
}

/// `[code] text` of a status response or continuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespText {
    /// The response code.
    pub code: Option<Code>,
    /// Human-readable text (control characters are replaced on output).
    pub text: String,
}

impl RespText {
    /// Text without a code.
    pub fn new(text: impl Into<String>) -> RespText {
        RespText {
            code: None,
            text: text.into(),
        }
    }

    /// Text with a code.
    pub fn with_code(code: Code, text: impl Into<String>) -> RespText {
        RespText {
            code: Some(code),
            text: text.into(),
        }
    }

    fn write(&self, w: &mut Writer<'_>) {
        if let Some(code) = &self.code {
            code.write(w);
            w.sp();
        }
        let clean: String = self
            .text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let clean = clean.trim_end();
        w.str(if clean.is_empty() { "Completed" } else { clean });
    }
}

/// A continuation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// `+ [code] text`, e.g. `+ Ready` or `+ idling`.
    Text(RespText),
    /// `+ base64`: a SASL challenge (empty for an empty challenge).
    Base64(String),
}

/// Anything the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `tag OK/NO/BAD [code] text`.
    Tagged(Tag, Completion, RespText),
    /// `* OK/NO/BAD/PREAUTH/BYE [code] text`.
    Status(Condition, RespText),
    /// `* …` server data.
    Data(Data),
    /// `+ …`.
    Continue(Continuation),
}

impl Response {
    /// `tag OK text`.
    pub fn ok(tag: &Tag, text: impl Into<String>) -> Response {
        Response::Tagged(tag.clone(), Completion::Ok, RespText::new(text))
    }

    /// `tag NO text`.
    pub fn no(tag: &Tag, text: impl Into<String>) -> Response {
        Response::Tagged(tag.clone(), Completion::No, RespText::new(text))
    }

    /// `tag BAD text`.
    pub fn bad(tag: &Tag, text: impl Into<String>) -> Response {
        Response::Tagged(tag.clone(), Completion::Bad, RespText::new(text))
    }

    /// A tagged response with a code: `tag NO [TRYCREATE] text`.
    pub fn tagged(
        tag: &Tag,
        completion: Completion,
        code: Code,
        text: impl Into<String>,
    ) -> Response {
        Response::Tagged(tag.clone(), completion, RespText::with_code(code, text))
    }

    /// An untagged status: `* OK [UIDVALIDITY 3] UIDs valid`.
    pub fn status(condition: Condition, code: Option<Code>, text: impl Into<String>) -> Response {
        Response::Status(
            condition,
            RespText {
                code,
                text: text.into(),
            },
        )
    }

    /// `+ text`.
    pub fn continue_text(text: impl Into<String>) -> Response {
        Response::Continue(Continuation::Text(RespText::new(text)))
    }

    /// `+ base64` (a SASL challenge).
    pub fn challenge(base64: impl Into<String>) -> Response {
        Response::Continue(Continuation::Base64(base64.into()))
    }

    /// Appends the wire form, CRLF included.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if let Response::Data(Data::Fetch { seq, items }) = self {
            return fetch::write_fetch(*seq, items, out);
        }
        let mut w = Writer::new(out, false);
        match self {
            Response::Tagged(tag, completion, text) => {
                w.str(tag.as_str());
                w.str(match completion {
                    Completion::Ok => " OK ",
                    Completion::No => " NO ",
                    Completion::Bad => " BAD ",
                });
                text.write(&mut w);
            }
            Response::Status(condition, text) => {
                w.str(match condition {
                    Condition::Ok => "* OK ",
                    Condition::No => "* NO ",
                    Condition::Bad => "* BAD ",
                    Condition::Preauth => "* PREAUTH ",
                    Condition::Bye => "* BYE ",
                });
                text.write(&mut w);
            }
            Response::Data(data) => {
                w.str("* ");
                data.write(&mut w);
            }
            Response::Continue(Continuation::Text(text)) => {
                w.str("+ ");
                text.write(&mut w);
            }
            Response::Continue(Continuation::Base64(data)) => {
                let clean: String = data
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                    .collect();
                w.str("+ ");
                w.str(&clean);
            }
        }
        w.str("\r\n");
    }

    /// The wire form, CRLF included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}
