//! Why input was refused, and the one place where such a refusal becomes
//! a response (RFC 3501 §7.1.3 BAD; RFC 5530 response codes TOOBIG and
//! LIMIT; RFC 7162 §4 long command lines; RFC 7888 §4 literals over the
//! limit; RFC 7889 APPEND over the limit).
//!
//! Owns: [`ParseError`], [`CommandError`] and their responses:
//! - no readable tag (or an empty line) → `* BAD …`;
//! - unknown command → `tag BAD Unknown command`;
//! - known command, bad arguments → `tag BAD Error in IMAP command
//!   <NAME>: <reason>`;
//! - line too long, literal too large → `BAD [TOOBIG]`, except an APPEND
//!   whose synchronising message literal was refused before it was sent
//!   → `NO [TOOBIG]`; too many literals or nesting too deep →
//!   `BAD [LIMIT]`.
//!
//! Must not: log or close connections; the session decides.

use super::response::{Code, Completion, Condition, RespText, Response};
use super::token::Tag;

/// Input the codec refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An empty command line.
    #[error("empty command line")]
    Empty,
    /// The line does not start with a valid tag.
    #[error("missing or invalid tag")]
    BadTag,
    /// A tag but no command name.
    #[error("missing command")]
    MissingCommand,
    /// A command name this codec does not know.
    #[error("unknown command")]
    UnknownCommand,
    /// A known command with malformed arguments.
    #[error("error in {command} command: {reason}")]
    Syntax {
        /// The command name (`UID FETCH`), empty if unknown.
        command: &'static str,
        /// What was wrong, for the client.
        reason: &'static str,
    },
    /// Parentheses, NOT or OR nested deeper than [`super::MAX_NESTING`].
    #[error("{command} command nested too deeply")]
    TooDeep {
        /// The command name.
        command: &'static str,
    },
    /// The command text outside literals is over [`super::Limits::line`].
    #[error("command line longer than {limit} octets")]
    LineTooLong {
        /// The limit crossed.
        limit: usize,
    },
    /// A literal would take the command over its literal limit.
    #[error("literal of {size} octets over the limit of {limit}")]
    LiteralTooLarge {
        /// Literal octets the command would hold with this literal.
        size: u64,
        /// The limit crossed.
        limit: u32,
        /// The command is APPEND.
        append: bool,
        /// The literal was synchronising: the client has not sent it.
        sync: bool,
    },
    /// More literals in one command than [`super::Limits::literals`].
    #[error("more than {limit} literals in one command")]
    TooManyLiterals {
        /// The limit crossed.
        limit: usize,
    },
    /// An AUTHENTICATE response line that is neither base64 nor `*`.
    #[error("invalid base64 in an AUTHENTICATE response")]
    BadBase64,
    /// A line other than `DONE` during IDLE.
    #[error("expected DONE")]
    ExpectedDone,
}

impl ParseError {
    /// The response for this error: tagged with `tag` when given, else
    /// an untagged `BAD`.
    pub fn response(&self, tag: Option<&Tag>) -> Response {
        let (completion, code, text) = match self {
            ParseError::Empty => (Completion::Bad, None, "Empty command line".into()),
            ParseError::BadTag => (Completion::Bad, None, "Invalid tag".into()),
            ParseError::MissingCommand => (Completion::Bad, None, "Missing command".into()),
            ParseError::UnknownCommand => (Completion::Bad, None, "Unknown command".into()),
            ParseError::Syntax {
                command: "",
                reason,
            } => (Completion::Bad, None, format!("Syntax error: {reason}")),
            ParseError::Syntax { command, reason } => (
                Completion::Bad,
                None,
                format!("Error in IMAP command {command}: {reason}"),
            ),
            ParseError::TooDeep { command } => (
                Completion::Bad,
                Some(Code::Limit),
                format!("Error in IMAP command {command}: nested too deeply"),
            ),
            ParseError::LineTooLong { .. } => (
                Completion::Bad,
                Some(Code::TooBig),
                "Command line too long".into(),
            ),
            ParseError::LiteralTooLarge {
                append: true,
                sync: true,
                ..
            } => (
                Completion::No,
                Some(Code::TooBig),
                "Message too large".into(),
            ),
            ParseError::LiteralTooLarge { .. } => (
                Completion::Bad,
                Some(Code::TooBig),
                "Literal too large".into(),
            ),
            ParseError::TooManyLiterals { .. } => (
                Completion::Bad,
                Some(Code::Limit),
                "Too many literals".into(),
            ),
            ParseError::BadBase64 => (Completion::Bad, None, "Invalid base64 data".into()),
            ParseError::ExpectedDone => (Completion::Bad, None, "Expected DONE".into()),
        };
        let text = RespText { code, text };
        match tag {
            Some(tag) => Response::Tagged(tag.clone(), completion, text),
            None => Response::Status(Condition::Bad, text),
        }
    }
}

/// A refused command, with its tag when one could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct CommandError {
    /// The command's tag; `None` when none could be read.
    pub tag: Option<Tag>,
    /// What was wrong.
    pub error: ParseError,
}

impl CommandError {
    /// An error for the command tagged `tag`.
    pub fn new(tag: Option<Tag>, error: ParseError) -> Self {
        CommandError { tag, error }
    }

    /// An error without a tag.
    pub fn untagged(error: ParseError) -> Self {
        CommandError { tag: None, error }
    }

    /// The response to send: `tag BAD …`, `tag NO [TOOBIG] …` or
    /// `* BAD …`.
    pub fn response(&self) -> Response {
        self.error.response(self.tag.as_ref())
    }
}
