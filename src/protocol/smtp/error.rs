//! Why a command line could not be parsed, and the one place where such a
//! failure becomes a reply (RFC 5321 §4.2.4 "500 vs 501", §4.1.1.11 for
//! parameters; enhanced codes from RFC 3463 §3.2 and §3.6).
//!
//! Owns: [`ParseError`] and its mapping to [`Reply`]:
//! - empty line, unknown verb → `500 5.5.2`;
//! - known verb, malformed arguments → `501 5.5.4 Syntax: <usage>`;
//! - malformed sender → `501 5.1.7`, malformed recipient → `501 5.1.3`;
//! - malformed parameter list or known parameter → `501 5.5.4`;
//! - malformed BDAT → `521 5.5.4` and close: the chunk length is unknown,
//!   so the next command cannot be found.
//!
//! Unknown-but-well-formed parameters are not parse errors (see
//! `params.rs`): they become `555 5.5.4` in `validate`.

use super::address::AddressError;
use super::command::Verb;
use super::reply::{EnhancedStatus, Reply};

/// A command line the parser refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The line was empty (or only spaces).
    #[error("empty command line")]
    Empty,
    /// The first word is not a command this codec knows.
    #[error("unknown command")]
    UnknownCommand,
    /// A known command with missing, extra or malformed arguments.
    #[error("syntax error in {0} arguments")]
    Syntax(Verb),
    /// The `MAIL FROM` path is malformed.
    #[error("bad sender address: {0}")]
    BadSender(AddressError),
    /// The `RCPT TO` path is malformed.
    #[error("bad recipient address: {0}")]
    BadRecipient(AddressError),
    /// The text after the path is not a list of `keyword[=value]`.
    #[error("malformed parameter list")]
    BadParamList,
    /// A known parameter (SIZE, BODY, SMTPUTF8, AUTH) has a bad value.
    #[error("bad {0} parameter")]
    BadParam(&'static str),
    /// A known parameter was given twice.
    #[error("duplicate {0} parameter")]
    DuplicateParam(&'static str),
}

impl ParseError {
    /// Whether the session cannot continue after this error: only a
    /// malformed BDAT, whose chunk it cannot skip.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ParseError::Syntax(Verb::Bdat))
    }

    /// The reply for this error; for a fatal one it closes the
    /// connection ([`Reply::closes_connection`]).
    pub fn reply(&self) -> Reply {
        let syntax = |text: String| Reply::new(501, Some(EnhancedStatus::new(5, 5, 4)), text);
        match self {
            ParseError::Empty | ParseError::UnknownCommand => Reply::syntax(),
            ParseError::Syntax(Verb::Bdat) => Reply::bdat_desync(),
            ParseError::Syntax(verb) => Reply::usage(verb.usage()),
            ParseError::BadSender(_) => Reply::bad_sender_syntax(),
            ParseError::BadRecipient(_) => Reply::bad_recipient_syntax(),
            ParseError::BadParamList => Reply::param_syntax(),
            ParseError::BadParam(keyword) => syntax(format!("Bad {keyword} parameter syntax")),
            ParseError::DuplicateParam(keyword) => syntax(format!("Duplicate {keyword} parameter")),
        }
    }
}
