//! IMAP commands: [`Command`] values, parsing one complete command and
//! printing it back (RFC 3501 §6 and §9 `command`, with the extensions
//! the server advertises; each family file cites its RFCs).
//!
//! Owns: the tag, the command name (case-insensitive, `UID` prefix),
//! dispatch to the family parsers, and the mapping of syntax failures to
//! [`ParseError`]. [`Command::parse`] takes one whole command (tag to the
//! final line ending, literals inline) and is total; the streaming
//! [`super::Parser`] frames commands and calls it. Printing
//! ([`Command::to_bytes`]) gives a canonical form that parses back to an
//! equal value.
//!
//! Must not: check whether a command is allowed in the current state,
//! or interpret mailbox names and search criteria.

mod append;
mod auth;
mod dispatch;
mod ext;
mod fetch;
mod list;
mod mailbox;
mod search;
mod sort;
mod store;

pub use append::Append;
pub use auth::{AuthenticateLine, parse_authenticate_line};
pub use fetch::{Fetch, FetchAttribute, FetchItems, HeaderName, Partial, Section, SectionText};
pub use list::{List, ListReturn, ListSelect};
pub use mailbox::StatusItem;
pub use search::{EntryType, Search, SearchKey, SearchReturn};
pub use sort::{Sort, SortCriterion, SortKey};
pub use store::{Store, StoreAction};

pub(super) use dispatch::{Outcome, leading_tag, run};

use super::error::{CommandError, ParseError};
use super::mailbox::MailboxName;
use super::sequence::SequenceSet;
use super::token::{Atom, Secret, Tag};
use super::wire::Writer;

/// One command: its tag and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The client's tag, echoed in the completion response.
    pub tag: Tag,
    /// The command and its arguments.
    pub body: CommandBody,
}

/// Every command this codec parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    /// `CAPABILITY`.
    Capability,
    /// `NOOP`.
    Noop,
    /// `LOGOUT`.
    Logout,
    /// `STARTTLS`.
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR, RFC 4959).
    Authenticate {
        /// The mechanism name as sent (match it case-insensitively).
        mechanism: String,
        /// The initial response: base64 text, or `=` for an empty one.
        initial: Option<Secret>,
    },
    /// `LOGIN user password`.
    Login {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `SELECT mailbox [(CONDSTORE)]`.
    Select {
        /// The mailbox.
        mailbox: MailboxName,
        /// The CONDSTORE select parameter was given (RFC 7162 §3.1.8).
        condstore: bool,
    },
    /// `EXAMINE mailbox [(CONDSTORE)]`.
    Examine {
        /// The mailbox.
        mailbox: MailboxName,
        /// The CONDSTORE select parameter was given.
        condstore: bool,
    },
    /// `CREATE mailbox`.
    Create {
        /// The mailbox.
        mailbox: MailboxName,
    },
    /// `DELETE mailbox`.
    Delete {
        /// The mailbox.
        mailbox: MailboxName,
    },
    /// `RENAME from to`.
    Rename {
        /// The existing name.
        from: MailboxName,
        /// The new name.
        to: MailboxName,
    },
    /// `SUBSCRIBE mailbox`.
    Subscribe {
        /// The mailbox.
        mailbox: MailboxName,
    },
    /// `UNSUBSCRIBE mailbox`.
    Unsubscribe {
        /// The mailbox.
        mailbox: MailboxName,
    },
    /// `LIST`, basic or extended.
    List(List),
    /// `LSUB reference pattern`.
    Lsub {
        /// The reference name.
        reference: MailboxName,
        /// The pattern (`*`, `%` wildcards).
        pattern: MailboxName,
    },
    /// `STATUS mailbox (items)`.
    Status {
        /// The mailbox.
        mailbox: MailboxName,
        /// The items asked for (at least one).
        items: Vec<StatusItem>,
    },
    /// `APPEND`.
    Append(Append),
    /// `CHECK`.
    Check,
    /// `CLOSE`.
    Close,
    /// `EXPUNGE`.
    Expunge,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `IDLE` (RFC 2177); read the `DONE` line with
    /// [`super::Parser::next_idle_done`].
    Idle,
    /// `NAMESPACE` (RFC 2342).
    Namespace,
    /// `UID EXPUNGE set` (UIDPLUS, RFC 4315).
    UidExpunge(SequenceSet),
    /// `SEARCH` / `UID SEARCH`.
    Search(Search),
    /// `FETCH` / `UID FETCH`.
    Fetch(Fetch),
    /// `STORE` / `UID STORE`.
    Store(Store),
    /// `COPY` / `UID COPY`.
    Copy {
        /// `UID COPY`: the set holds UIDs.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// The destination.
        mailbox: MailboxName,
    },
    /// `MOVE` / `UID MOVE` (RFC 6851).
    Move {
        /// `UID MOVE`: the set holds UIDs.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// The destination.
        mailbox: MailboxName,
    },
    /// `SORT` / `UID SORT` (RFC 5256).
    Sort(Sort),
    /// `ID NIL` or `ID (field value …)` (RFC 2971).
    Id(Option<Vec<(String, Option<String>)>>),
    /// `ENABLE capability…` (RFC 5161).
    Enable(Vec<Atom>),
    /// `GETQUOTA root` (RFC 9208).
    GetQuota {
        /// The quota root name.
        root: String,
    },
    /// `GETQUOTAROOT mailbox` (RFC 9208).
    GetQuotaRoot {
        /// The mailbox.
        mailbox: MailboxName,
    },
}

impl Command {
    /// Parses one complete command: tag to final line ending (CRLF or
    /// LF), with any literals inline.
    ///
    /// # Errors
    /// A [`CommandError`] naming the tag when one could be read.
    pub fn parse(input: &[u8]) -> Result<Command, CommandError> {
        match run(input) {
            Outcome::Parsed(command) => Ok(command),
            Outcome::Failed(e) => Err(e),
            Outcome::Incomplete => Err(CommandError::new(
                leading_tag(input),
                ParseError::Syntax {
                    command: "",
                    reason: "literal data missing",
                },
            )),
        }
    }

    /// The canonical wire form, literals synchronising (`{n}`); a client
    /// must wait for `+` after each literal announcement.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out, false);
        out
    }

    /// Appends the canonical wire form to `out`; `literal_plus` writes
    /// non-synchronising literals (`{n+}`, RFC 7888).
    pub fn write_to(&self, out: &mut Vec<u8>, literal_plus: bool) {
        let mut w = Writer::new(out, literal_plus);
        w.str(self.tag.as_str());
        w.sp();
        self.body.write(&mut w);
        w.str("\r\n");
    }
}

impl CommandBody {
    /// The command name as written, e.g. `UID FETCH`.
    pub fn name(&self) -> &'static str {
        let uid = |uid: bool, with: &'static str, without: &'static str| match uid {
            true => with,
            false => without,
        };
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate { .. } => "AUTHENTICATE",
            CommandBody::Login { .. } => "LOGIN",
            CommandBody::Select { .. } => "SELECT",
            CommandBody::Examine { .. } => "EXAMINE",
            CommandBody::Create { .. } => "CREATE",
            CommandBody::Delete { .. } => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe { .. } => "SUBSCRIBE",
            CommandBody::Unsubscribe { .. } => "UNSUBSCRIBE",
            CommandBody::List(_) => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append(_) => "APPEND",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Idle => "IDLE",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::UidExpunge(_) => "UID EXPUNGE",
            CommandBody::Search(s) => uid(s.uid, "UID SEARCH", "SEARCH"),
            CommandBody::Fetch(f) => uid(f.uid, "UID FETCH", "FETCH"),
            CommandBody::Store(s) => uid(s.uid, "UID STORE", "STORE"),
            CommandBody::Copy { uid: u, .. } => uid(*u, "UID COPY", "COPY"),
            CommandBody::Move { uid: u, .. } => uid(*u, "UID MOVE", "MOVE"),
            CommandBody::Sort(s) => uid(s.uid, "UID SORT", "SORT"),
            CommandBody::Id(_) => "ID",
            CommandBody::Enable(_) => "ENABLE",
            CommandBody::GetQuota { .. } => "GETQUOTA",
            CommandBody::GetQuotaRoot { .. } => "GETQUOTAROOT",
        }
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.str(self.name());
        match self {
            CommandBody::Authenticate { .. } | CommandBody::Login { .. } => auth::write(self, w),
            CommandBody::Select { .. }
            | CommandBody::Examine { .. }
            | CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. }
            | CommandBody::Subscribe { .. }
            | CommandBody::Unsubscribe { .. }
            | CommandBody::Lsub { .. }
            | CommandBody::Status { .. } => mailbox::write(self, w),
            CommandBody::List(list) => list.write(w),
            CommandBody::Append(append) => append.write(w),
            CommandBody::Search(search) => search.write(w),
            CommandBody::Fetch(fetch) => fetch.write(w),
            CommandBody::Store(store) => store.write(w),
            CommandBody::Sort(sort) => sort.write(w),
            CommandBody::UidExpunge(_) | CommandBody::Copy { .. } | CommandBody::Move { .. } => {
                store::write(self, w);
            }
            CommandBody::Id(_)
            | CommandBody::Enable(_)
            | CommandBody::GetQuota { .. }
            | CommandBody::GetQuotaRoot { .. } => ext::write(self, w),
            _ => {}
        }
    }
}
