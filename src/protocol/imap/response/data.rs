//! Untagged server data (RFC 3501 §7.2–7.4: CAPABILITY, LIST, LSUB,
//! STATUS, SEARCH, FLAGS, EXISTS, RECENT, EXPUNGE, FETCH), with the data
//! responses of the extensions: ESEARCH (RFC 4731 §3.1, MODSEQ of
//! RFC 7162 §3.1.5), SORT (RFC 5256 §4), LIST-EXTENDED CHILDINFO
//! (RFC 5258 §3.5), SPECIAL-USE attributes (RFC 6154 §2), NAMESPACE
//! (RFC 2342 §5), ID (RFC 2971 §3.2), ENABLED (RFC 5161 §3.2), QUOTA and
//! QUOTAROOT (RFC 9208 §5.1–2), STATUS SIZE (RFC 8438).
//!
//! Owns: [`Data`] and the types it carries, and their wire forms.
//! Mailbox names are written as quoted strings in modified UTF-7.
//!
//! Must not: compute any of it.

use super::fetch::{FetchData, write_fetch};
use crate::mutf7;
use crate::protocol::imap::flag::Flag;
use crate::protocol::imap::mailbox::MailboxName;
use crate::protocol::imap::sequence::SequenceSet;
use crate::protocol::imap::token::{Atom, Tag};
use crate::protocol::imap::wire::Writer;

use super::code::write_atoms;

/// Untagged data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `CAPABILITY IMAP4rev1 …`.
    Capability(Vec<String>),
    /// `ENABLED …`.
    Enabled(Vec<String>),
    /// `LIST (attributes) delimiter name [extended items]`.
    List(ListItem),
    /// `LSUB (attributes) delimiter name`.
    Lsub(ListItem),
    /// `STATUS name (items)`.
    Status {
        /// The mailbox.
        mailbox: MailboxName,
        /// The values.
        items: Vec<StatusValue>,
    },
    /// `SEARCH n… [(MODSEQ m)]`.
    Search {
        /// Matching numbers.
        numbers: Vec<u32>,
        /// The highest mod-sequence of the matches (RFC 7162).
        modseq: Option<u64>,
    },
    /// `SORT n… [(MODSEQ m)]`.
    Sort {
        /// Numbers in sorted order.
        numbers: Vec<u32>,
        /// The highest mod-sequence of the matches (RFC 7162).
        modseq: Option<u64>,
    },
    /// `ESEARCH [(TAG "t")] [UID] items…`.
    ESearch {
        /// The SEARCH command's tag.
        tag: Option<Tag>,
        /// The results are UIDs.
        uid: bool,
        /// The return data.
        items: Vec<ESearchItem>,
    },
    /// `FLAGS (…)`.
    Flags(Vec<Flag>),
    /// `n EXISTS`.
    Exists(u32),
    /// `n RECENT`.
    Recent(u32),
    /// `n EXPUNGE`.
    Expunge(u32),
    /// `n FETCH (…)`; use [`super::FetchEncoder`] to stream large ones.
    Fetch {
        /// The message sequence number.
        seq: u32,
        /// The items.
        items: Vec<FetchData>,
    },
    /// `NAMESPACE personal other shared`.
    Namespace {
        /// Personal namespaces (`NIL` if empty).
        personal: Vec<Namespace>,
        /// Other users' namespaces.
        other: Vec<Namespace>,
        /// Shared namespaces.
        shared: Vec<Namespace>,
    },
    /// `ID (…)` or `ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    /// `QUOTA root (resource usage limit …)`.
    Quota {
        /// The quota root.
        root: String,
        /// Its resources.
        resources: Vec<QuotaResource>,
    },
    /// `QUOTAROOT mailbox root…`.
    QuotaRoot {
        /// The mailbox asked about.
        mailbox: MailboxName,
        /// Its quota roots.
        roots: Vec<String>,
    },
}

/// One LIST or LSUB entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Name attributes.
    pub attributes: Vec<MailboxAttribute>,
    /// The hierarchy delimiter (`/` or `.`); `None` for a flat name.
    pub delimiter: Option<char>,
    /// The mailbox.
    pub mailbox: MailboxName,
    /// CHILDINFO extended data (`SUBSCRIBED`), for RECURSIVEMATCH.
    pub child_info: Vec<String>,
}

/// A mailbox name attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the attributes of the same name
pub enum MailboxAttribute {
    NoInferiors,
    NoSelect,
    Marked,
    Unmarked,
    HasChildren,
    HasNoChildren,
    NonExistent,
    Subscribed,
    Remote,
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    /// Another `\`-attribute.
    Other(Atom),
}

const ATTRIBUTES: [(MailboxAttribute, &str); 16] = [
    (MailboxAttribute::NoInferiors, "\\Noinferiors"),
    (MailboxAttribute::NoSelect, "\\Noselect"),
    (MailboxAttribute::Marked, "\\Marked"),
    (MailboxAttribute::Unmarked, "\\Unmarked"),
    (MailboxAttribute::HasChildren, "\\HasChildren"),
    (MailboxAttribute::HasNoChildren, "\\HasNoChildren"),
    (MailboxAttribute::NonExistent, "\\NonExistent"),
    (MailboxAttribute::Subscribed, "\\Subscribed"),
    (MailboxAttribute::Remote, "\\Remote"),
    (MailboxAttribute::All, "\\All"),
    (MailboxAttribute::Archive, "\\Archive"),
    (MailboxAttribute::Drafts, "\\Drafts"),
    (MailboxAttribute::Flagged, "\\Flagged"),
    (MailboxAttribute::Junk, "\\Junk"),
    (MailboxAttribute::Sent, "\\Sent"),
    (MailboxAttribute::Trash, "\\Trash"),
];

/// A STATUS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the STATUS items of the same name
pub enum StatusValue {
    Messages(u32),
    Recent(u32),
    UidNext(u32),
    UidValidity(u32),
    Unseen(u32),
    HighestModSeq(u64),
    Size(u64),
}

/// One item of ESEARCH return data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the variants are the return items of the same name
pub enum ESearchItem {
    Min(u32),
    Max(u32),
    Count(u32),
    All(SequenceSet),
    ModSeq(u64),
}

/// One namespace: a prefix and its delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The prefix (`""` for the personal namespace).
    pub prefix: String,
    /// The hierarchy delimiter.
    pub delimiter: Option<char>,
}

/// One quota resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    /// `STORAGE` (in KiB), `MESSAGE`…
    pub name: String,
    /// Current usage.
    pub usage: u64,
    /// The limit.
    pub limit: u64,
}

fn write_delimiter(w: &mut Writer<'_>, delimiter: Option<char>) {
    match delimiter {
        Some(d) if d.is_ascii_graphic() || d == ' ' => w.string(d.to_string().as_bytes()),
        _ => w.str("NIL"),
    }
}

fn write_list_item(w: &mut Writer<'_>, name: &str, item: &ListItem) {
    w.str(name);
    w.sp();
    w.list(&item.attributes, |w, a| match a {
        MailboxAttribute::Other(atom) => w.str(&format!("\\{atom}")),
        known => w.str(
            ATTRIBUTES
                .iter()
                .find(|(x, _)| x == known)
                .map_or("", |(_, n)| n),
        ),
    });
    w.sp();
    write_delimiter(w, item.delimiter);
    w.sp();
    w.mailbox_quoted(&item.mailbox);
    if !item.child_info.is_empty() {
        w.str(" (\"CHILDINFO\" ");
        w.list(&item.child_info, |w, s| w.string(s.as_bytes()));
        w.str(")");
    }
}

fn write_numbers(w: &mut Writer<'_>, name: &str, numbers: &[u32], modseq: Option<u64>) {
    w.str(name);
    for n in numbers {
        w.str(&format!(" {n}"));
    }
    if let Some(modseq) = modseq {
        w.str(&format!(" (MODSEQ {modseq})"));
    }
}

fn write_namespaces(w: &mut Writer<'_>, list: &[Namespace]) {
    if list.is_empty() {
        return w.str("NIL");
    }
    w.list(list, |w, ns| {
        w.str("(");
        w.string(mutf7::encode(&ns.prefix).as_bytes());
        w.sp();
        write_delimiter(w, ns.delimiter);
        w.str(")");
    });
}

fn status_value(v: &StatusValue) -> String {
    match v {
        StatusValue::Messages(n) => format!("MESSAGES {n}"),
        StatusValue::Recent(n) => format!("RECENT {n}"),
        StatusValue::UidNext(n) => format!("UIDNEXT {n}"),
        StatusValue::UidValidity(n) => format!("UIDVALIDITY {n}"),
        StatusValue::Unseen(n) => format!("UNSEEN {n}"),
        StatusValue::HighestModSeq(n) => format!("HIGHESTMODSEQ {n}"),
        StatusValue::Size(n) => format!("SIZE {n}"),
    }
}

fn esearch_item(item: &ESearchItem) -> String {
    match item {
        ESearchItem::Min(n) => format!("MIN {n}"),
        ESearchItem::Max(n) => format!("MAX {n}"),
        ESearchItem::Count(n) => format!("COUNT {n}"),
        ESearchItem::All(set) => format!("ALL {set}"),
        ESearchItem::ModSeq(n) => format!("MODSEQ {n}"),
    }
}

fn write_id(w: &mut Writer<'_>, id: Option<&Vec<(String, Option<String>)>>) {
    w.str("ID ");
    match id {
        None => w.str("NIL"),
        Some(pairs) => w.list(pairs, |w, (field, value)| {
            w.string(field.as_bytes());
            w.sp();
            w.nstring(value.as_ref().map(|v| v.as_bytes()));
        }),
    }
}

impl Data {
    /// Writes the data after `* ` (FETCH is written by the caller).
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        match self {
            Data::Capability(caps) => {
                w.str("CAPABILITY");
                write_atoms(w, caps);
            }
            Data::Enabled(caps) => {
                w.str("ENABLED");
                write_atoms(w, caps);
            }
            Data::List(item) => write_list_item(w, "LIST", item),
            Data::Lsub(item) => write_list_item(w, "LSUB", item),
            Data::Status { mailbox, items } => {
                w.str("STATUS ");
                w.mailbox_quoted(mailbox);
                w.sp();
                w.list(items, |w, v| w.str(&status_value(v)));
            }
            Data::Search { numbers, modseq } => write_numbers(w, "SEARCH", numbers, *modseq),
            Data::Sort { numbers, modseq } => write_numbers(w, "SORT", numbers, *modseq),
            Data::ESearch { tag, uid, items } => {
                w.str("ESEARCH");
                if let Some(tag) = tag {
                    w.str(" (TAG ");
                    w.string(tag.as_str().as_bytes());
                    w.str(")");
                }
                if *uid {
                    w.str(" UID");
                }
                for item in items {
                    w.str(&format!(" {}", esearch_item(item)));
                }
            }
            Data::Flags(flags) => {
                w.str("FLAGS ");
                w.list(flags, |w, f| w.str(&f.to_string()));
            }
            Data::Exists(n) => w.str(&format!("{n} EXISTS")),
            Data::Recent(n) => w.str(&format!("{n} RECENT")),
            Data::Expunge(n) => w.str(&format!("{n} EXPUNGE")),
            Data::Fetch { seq, items } => {
                let mut out = Vec::new();
                write_fetch(*seq, items, &mut out);
                let body = out.get(2..out.len().saturating_sub(2)).unwrap_or_default();
                w.raw(body);
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                w.str("NAMESPACE ");
                write_namespaces(w, personal);
                w.sp();
                write_namespaces(w, other);
                w.sp();
                write_namespaces(w, shared);
            }
            Data::Id(id) => write_id(w, id.as_ref()),
            Data::Quota { root, resources } => {
                w.str("QUOTA ");
                w.astring(root.as_bytes());
                w.sp();
                w.list(resources, |w, r| {
                    w.atom(&r.name);
                    w.str(&format!(" {} {}", r.usage, r.limit));
                });
            }
            Data::QuotaRoot { mailbox, roots } => {
                w.str("QUOTAROOT ");
                w.mailbox_quoted(mailbox);
                for root in roots {
                    w.sp();
                    w.astring(root.as_bytes());
                }
            }
        }
    }
}
