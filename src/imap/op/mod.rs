//! The commands, one file per family, each handler `handle_<verb>`:
//! - `any.rs`: CAPABILITY, NOOP, LOGOUT, ID, ENABLE, NAMESPACE;
//! - `auth.rs`: STARTTLS, LOGIN, AUTHENTICATE;
//! - `mailbox.rs`: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
//!   UNSUBSCRIBE, STATUS;
//! - `list.rs`: LIST (basic, LIST-EXTENDED, LIST-STATUS), LSUB;
//! - `append.rs`: APPEND;
//! - `selected.rs`: CHECK, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE;
//! - `fetch.rs` (+ `section.rs`): FETCH;
//! - `store.rs`: STORE;
//! - `copy.rs`: COPY, MOVE;
//! - `search.rs` (+ `sort.rs`): SEARCH, ESEARCH, SORT;
//! - `idle.rs`: IDLE;
//! - `quota.rs`: GETQUOTA, GETQUOTAROOT.
//!
//! This file dispatches by state (RFC 3501 §6: which commands each state
//! accepts) and holds the conversions every family shares: flags between
//! the wire and the store, mailbox names from the wire to the store.

mod any;
mod append;
mod auth;
mod copy;
mod fetch;
mod idle;
mod list;
mod mailbox;
mod quota;
mod search;
mod section;
mod selected;
mod sort;
mod store;

use super::error::{ImapError, Result};
use super::names;
use super::session::{Session, State};
use crate::net::Transport;
use crate::protocol::imap::{
    Atom, Code, CommandBody, Condition, Data, Flag, MailboxName, RespText, Response, Tag,
};
use crate::store::Flags;

impl<S: Transport> Session<S> {
    /// Runs one command; returns the text of its tagged `OK`.
    pub(super) async fn dispatch(&mut self, tag: &Tag, body: CommandBody) -> Result<RespText> {
        use CommandBody as C;
        match body {
            C::Capability => self.handle_capability(),
            C::Noop => self.handle_noop().await,
            C::Logout => self.handle_logout(),
            C::Id(_) => self.handle_id(),
            C::StartTls | C::Login { .. } | C::Authenticate { .. } => {
                self.dispatch_auth(tag, body).await
            }
            _ if self.account().is_none() => Err(ImapError::bad("Log in first")),
            C::Enable(caps) => self.handle_enable(&caps),
            C::Namespace => self.handle_namespace(),
            C::Select { mailbox, condstore } => {
                self.handle_select(&mailbox, false, condstore).await
            }
            C::Examine { mailbox, condstore } => {
                self.handle_select(&mailbox, true, condstore).await
            }
            C::Create { mailbox } => self.handle_create(&mailbox).await,
            C::Delete { mailbox } => self.handle_delete(&mailbox).await,
            C::Rename { from, to } => self.handle_rename(&from, &to).await,
            C::Subscribe { mailbox } => self.handle_subscribe(&mailbox).await,
            C::Unsubscribe { mailbox } => self.handle_unsubscribe(&mailbox).await,
            C::List(list) => self.handle_list(list).await,
            C::Lsub { reference, pattern } => self.handle_lsub(&reference, &pattern).await,
            C::Status { mailbox, items } => self.handle_status(&mailbox, &items).await,
            C::Append(append) => self.handle_append(append).await,
            C::Idle => self.handle_idle(tag).await,
            C::GetQuota { root } => self.handle_getquota(&root).await,
            C::GetQuotaRoot { mailbox } => self.handle_getquotaroot(&mailbox).await,
            _ if self.selected().is_none() => Err(ImapError::bad("No mailbox selected")),
            C::Check => self.handle_check().await,
            C::Close => self.handle_close().await,
            C::Unselect => self.handle_unselect(),
            C::Expunge => self.handle_expunge(None).await,
            C::UidExpunge(set) => self.handle_expunge(Some(&set)).await,
            C::Fetch(fetch) => self.handle_fetch(fetch).await,
            C::Store(store) => self.handle_store(store).await,
            C::Copy { uid, set, mailbox } => self.handle_copy(uid, &set, &mailbox, false).await,
            C::Move { uid, set, mailbox } => self.handle_copy(uid, &set, &mailbox, true).await,
            C::Search(search) => self.handle_search(tag, search).await,
            C::Sort(sort) => self.handle_sort(sort).await,
        }
    }

    /// The logged-in account's address (the store's account name).
    pub(super) fn address(&self) -> Result<String> {
        self.account()
            .map(|a| a.user.address.clone())
            .ok_or_else(|| ImapError::bad("Log in first"))
    }

    /// Leaves the selected state (CLOSE, UNSELECT, a new SELECT).
    pub(super) fn deselect(&mut self) -> bool {
        match std::mem::replace(&mut self.state, State::Logout) {
            State::Selected(account, _) => {
                self.state = State::Authenticated(account);
                true
            }
            other => {
                self.state = other;
                false
            }
        }
    }
}

/// The store's name for a mailbox the client named: UTF-8, `/`
/// separated, INBOX canonical; a trailing delimiter is dropped (RFC 3501
/// §6.3.3 `CREATE foo/`).
///
/// # Errors
/// `BAD` for names that are not valid modified UTF-7, `NO` for the empty
/// name.
pub(super) fn store_name(name: &MailboxName) -> Result<String> {
    let Some(text) = name.as_str() else {
        return Err(ImapError::bad("Mailbox name is not valid modified UTF-7"));
    };
    let text = text.strip_suffix(names::DELIMITER).unwrap_or(text);
    if text.is_empty() {
        return Err(ImapError::no_code(
            crate::protocol::imap::Code::Cannot,
            "Invalid mailbox name",
        ));
    }
    Ok(names::canonical_inbox(text))
}

/// Flags as FETCH shows them (`\Recent` last when set).
pub(super) fn flags_to_wire(flags: &Flags, recent: bool) -> Vec<Flag> {
    let mut out = Vec::new();
    for (on, flag) in [
        (flags.answered, Flag::Answered),
        (flags.flagged, Flag::Flagged),
        (flags.deleted, Flag::Deleted),
        (flags.seen, Flag::Seen),
        (flags.draft, Flag::Draft),
    ] {
        if on {
            out.push(flag);
        }
    }
    out.extend(flags.keywords.iter().filter_map(|k| Flag::keyword(k)));
    if recent {
        out.push(Flag::Recent);
    }
    out
}

/// Flags from the wire for STORE and APPEND. `\Recent` cannot be set
/// (RFC 3501 §2.3.2) and unknown `\`-flags are not permanent: both are
/// refused, as Dovecot does.
///
/// # Errors
/// `BAD` naming the flag.
pub(super) fn flags_from_wire(flags: &[Flag]) -> Result<Flags> {
    let mut out = Flags::default();
    for flag in flags {
        match flag {
            Flag::Seen => out.seen = true,
            Flag::Answered => out.answered = true,
            Flag::Flagged => out.flagged = true,
            Flag::Deleted => out.deleted = true,
            Flag::Draft => out.draft = true,
            Flag::Keyword(k) => {
                out.keywords.insert(k.as_str().to_string());
            }
            Flag::Recent | Flag::Extension(_) => {
                return Err(ImapError::bad(format!("Invalid system flag {flag}")));
            }
        }
    }
    Ok(out)
}

/// The system flags, as FLAGS and PERMANENTFLAGS list them.
const SYSTEM_FLAGS: [Flag; 5] = [
    Flag::Answered,
    Flag::Flagged,
    Flag::Deleted,
    Flag::Seen,
    Flag::Draft,
];

/// `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]` for a mailbox whose
/// messages use `keywords` (SELECT, and again when a keyword comes into
/// use, RFC 3501 §7.2.6). Read-only: nothing is permanent.
pub(super) fn flag_responses<'a>(
    keywords: impl Iterator<Item = &'a String>,
    read_only: bool,
) -> [Response; 2] {
    let mut flags = SYSTEM_FLAGS.to_vec();
    flags.extend(keywords.filter_map(|k| Atom::new(k).map(Flag::Keyword)));
    let permanent = Code::PermanentFlags {
        flags: if read_only { Vec::new() } else { flags.clone() },
        any_keyword: !read_only,
    };
    [
        Response::Data(Data::Flags(flags)),
        Response::status(Condition::Ok, Some(permanent), "Flags permitted"),
    ]
}
