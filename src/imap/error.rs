//! The one place where failures of every layer become IMAP responses
//! (RFC 3501 §7.1; response codes of RFC 5530, RFC 9208 OVERQUOTA,
//! RFC 3501 TRYCREATE).
//!
//! Client mistakes and refusals carry their own text; server faults
//! (I/O, database, a panicked task) are logged here with their details
//! and reach the client only as `NO [SERVERBUG]` with generic text.

use crate::db::DbError;
use crate::directory::DirectoryError;
use crate::protocol::imap::Tag;
use crate::protocol::imap::{Code, Completion, RespText, Response};
use crate::store::StoreError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// IMAP's own tables failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The directory failed.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// A refusal: `NO [code] text`.
    #[error("{text}")]
    No {
        /// The response code.
        code: Option<Code>,
        /// The text for the client.
        text: String,
    },
    /// A command the client should not have sent: `BAD text`.
    #[error("{0}")]
    Bad(String),
    /// The connection failed or was closed; the session ends.
    #[error("connection closed")]
    Gone,
    /// The handler already sent the tagged response (STARTTLS sends its
    /// OK before the handshake; IDLE its own).
    #[error("already answered")]
    Handled,
    /// The selected mailbox cannot go on (deleted, UIDVALIDITY changed):
    /// `* BYE text`, then the session ends (RFC 3501 §2.3.1.1).
    #[error("{0}")]
    Bye(String),
}

/// Shorthand for results of the IMAP session.
pub type Result<T, E = ImapError> = std::result::Result<T, E>;

impl ImapError {
    /// `NO text`.
    pub fn no(text: impl Into<String>) -> ImapError {
        ImapError::No {
            code: None,
            text: text.into(),
        }
    }

    /// `NO [code] text`.
    pub fn no_code(code: Code, text: impl Into<String>) -> ImapError {
        ImapError::No {
            code: Some(code),
            text: text.into(),
        }
    }

    /// `BAD text`.
    pub fn bad(text: impl Into<String>) -> ImapError {
        ImapError::Bad(text.into())
    }

    /// For COPY, MOVE and APPEND: a missing destination is
    /// `NO [TRYCREATE]` (RFC 3501 §6.3.11), so clients offer to create it.
    pub fn try_create(self) -> ImapError {
        match self {
            ImapError::Store(StoreError::NoSuchFolder(_)) => {
                ImapError::no_code(Code::TryCreate, "Mailbox doesn't exist")
            }
            other => other,
        }
    }

    /// The tagged response for this error, or `None` for
    /// [`ImapError::Gone`], [`ImapError::Bye`] (the session ends instead)
    /// and [`ImapError::Handled`]. Server faults are logged here.
    pub fn response(&self, tag: &Tag) -> Option<Response> {
        let (completion, code, text) = match self {
            ImapError::Gone | ImapError::Bye(_) | ImapError::Handled => return None,
            ImapError::Bad(text) => (Completion::Bad, None, text.clone()),
            ImapError::No { code, text } => (Completion::No, code.clone(), text.clone()),
            ImapError::Store(e) => store_refusal(e)?,
            ImapError::Db(e) => server_fault(e),
            ImapError::Directory(e) => server_fault(e),
        };
        Some(match code {
            Some(code) => Response::tagged(tag, completion, code, text),
            None => Response::Tagged(tag.clone(), completion, RespText::new(text)),
        })
    }
}

type Refusal = (Completion, Option<Code>, String);

fn server_fault(e: &dyn std::error::Error) -> Refusal {
    tracing::error!(error = %e, "imap command failed");
    (
        Completion::No,
        Some(Code::ServerBug),
        "Internal error occurred; refer to the server log".into(),
    )
}

fn store_refusal(e: &StoreError) -> Option<Refusal> {
    let no = |code, text: String| Some((Completion::No, Some(code), text));
    match e {
        StoreError::InvalidName { reason, .. } => {
            no(Code::Cannot, format!("Invalid name: {reason}"))
        }
        StoreError::NotFound => no(Code::ExpungeIssued, "Message no longer exists".into()),
        StoreError::OverQuota { .. } => no(Code::OverQuota, "Quota exceeded".into()),
        StoreError::AlreadyExists(_) => no(Code::AlreadyExists, "Mailbox already exists".into()),
        StoreError::NoSuchFolder(_) => no(Code::Nonexistent, "Mailbox doesn't exist".into()),
        StoreError::Io { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Db(_)
        | StoreError::Task(_) => Some(server_fault(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(e: ImapError) -> String {
        let tag = Tag::new("a1").expect("tag");
        let bytes = e.response(&tag).map(|r| r.to_bytes()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn store_errors_map_to_codes() {
        assert_eq!(
            wire(StoreError::NoSuchFolder("x".into()).into()),
            "a1 NO [NONEXISTENT] Mailbox doesn't exist\r\n"
        );
        assert_eq!(
            wire(ImapError::from(StoreError::NoSuchFolder("x".into())).try_create()),
            "a1 NO [TRYCREATE] Mailbox doesn't exist\r\n"
        );
        let over = StoreError::OverQuota {
            limit: 1,
            used: 1,
            needed: 1,
        };
        assert_eq!(wire(over.into()), "a1 NO [OVERQUOTA] Quota exceeded\r\n");
        let io = StoreError::Io {
            path: "/secret/path".into(),
            source: std::io::Error::other("disk on fire"),
        };
        let text = wire(io.into());
        assert!(
            text.starts_with("a1 NO [SERVERBUG]") && !text.contains("secret"),
            "{text}"
        );
    }

    #[test]
    fn gone_and_bye_have_no_tagged_response() {
        let tag = Tag::new("a1").expect("tag");
        assert!(ImapError::Gone.response(&tag).is_none());
        assert!(ImapError::Bye("x".into()).response(&tag).is_none());
    }
}
