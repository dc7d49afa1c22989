//! Response codes, the bracketed part of a status response (RFC 3501
//! §7.1; UIDPLUS RFC 4315 §3; CONDSTORE RFC 7162 §3.1.2, §3.2.10,
//! §3.1.3 MODIFIED; RFC 5530 §3 error codes; CLOSED of RFC 7162 §3.2.11;
//! LIMIT, TOOBIG and friends of RFC 5530; RFC 9208 OVERQUOTA).
//!
//! Owns: [`Code`] and its wire form, `[NAME args]`.
//! Must not: choose codes; the session and `error.rs` do.

use crate::protocol::imap::flag::Flag;
use crate::protocol::imap::sequence::SequenceSet;
use crate::protocol::imap::wire::Writer;

/// A response code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `ALERT`: show the text to the user.
    Alert,
    /// `BADCHARSET (charsets)`: the charsets the server supports.
    BadCharset(Vec<String>),
    /// `CAPABILITY …`.
    Capability(Vec<String>),
    /// `PARSE`: a message could not be parsed.
    Parse,
    /// `PERMANENTFLAGS (…)`; `any_keyword` adds `\*`.
    PermanentFlags {
        /// Flags the client can change permanently.
        flags: Vec<Flag>,
        /// New keywords may be created (`\*`).
        any_keyword: bool,
    },
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n`: the first unseen message.
    Unseen(u32),
    /// `APPENDUID uidvalidity uids` (RFC 4315).
    AppendUid {
        /// The destination's UIDVALIDITY.
        uid_validity: u32,
        /// The UID(s) given.
        uids: SequenceSet,
    },
    /// `COPYUID uidvalidity source destination` (RFC 4315).
    CopyUid {
        /// The destination's UIDVALIDITY.
        uid_validity: u32,
        /// Source UIDs, in the same order as `destination`.
        source: SequenceSet,
        /// Destination UIDs.
        destination: SequenceSet,
    },
    /// `UIDNOTSTICKY` (RFC 4315).
    UidNotSticky,
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(u64),
    /// `NOMODSEQ` (RFC 7162).
    NoModSeq,
    /// `MODIFIED set`: messages STORE did not change (RFC 7162).
    Modified(SequenceSet),
    /// `CLOSED`: the previous mailbox was closed (RFC 7162).
    Closed,
    /// `TOOBIG` (RFC 5530).
    TooBig,
    /// `CLIENTBUG` (RFC 5530).
    ClientBug,
    /// `LIMIT` (RFC 5530).
    Limit,
    /// `NONEXISTENT` (RFC 5530).
    Nonexistent,
    /// `ALREADYEXISTS` (RFC 5530).
    AlreadyExists,
    /// `INUSE` (RFC 5530).
    InUse,
    /// `OVERQUOTA` (RFC 5530, RFC 9208).
    OverQuota,
    /// `AUTHENTICATIONFAILED` (RFC 5530).
    AuthenticationFailed,
    /// `AUTHORIZATIONFAILED` (RFC 5530).
    AuthorizationFailed,
    /// `EXPIRED` (RFC 5530).
    Expired,
    /// `PRIVACYREQUIRED` (RFC 5530).
    PrivacyRequired,
    /// `CONTACTADMIN` (RFC 5530).
    ContactAdmin,
    /// `NOPERM` (RFC 5530).
    NoPerm,
    /// `SERVERBUG` (RFC 5530).
    ServerBug,
    /// `CANNOT` (RFC 5530).
    Cannot,
    /// `EXPUNGEISSUED` (RFC 5530).
    ExpungeIssued,
    /// `UNAVAILABLE` (RFC 5530).
    Unavailable,
    /// `CORRUPTION` (RFC 5530).
    Corruption,
    /// `USEATTR` (RFC 6154).
    UseAttr,
    /// Any other code: an atom name and optional text (without `]`).
    Other {
        /// The name.
        name: String,
        /// Text after the name.
        text: Option<String>,
    },
}

const SIMPLE: [(Code, &str); 27] = [
    (Code::Alert, "ALERT"),
    (Code::Parse, "PARSE"),
    (Code::ReadOnly, "READ-ONLY"),
    (Code::ReadWrite, "READ-WRITE"),
    (Code::TryCreate, "TRYCREATE"),
    (Code::UidNotSticky, "UIDNOTSTICKY"),
    (Code::NoModSeq, "NOMODSEQ"),
    (Code::Closed, "CLOSED"),
    (Code::TooBig, "TOOBIG"),
    (Code::ClientBug, "CLIENTBUG"),
    (Code::Limit, "LIMIT"),
    (Code::Nonexistent, "NONEXISTENT"),
    (Code::AlreadyExists, "ALREADYEXISTS"),
    (Code::InUse, "INUSE"),
    (Code::OverQuota, "OVERQUOTA"),
    (Code::AuthenticationFailed, "AUTHENTICATIONFAILED"),
    (Code::AuthorizationFailed, "AUTHORIZATIONFAILED"),
    (Code::Expired, "EXPIRED"),
    (Code::PrivacyRequired, "PRIVACYREQUIRED"),
    (Code::ContactAdmin, "CONTACTADMIN"),
    (Code::NoPerm, "NOPERM"),
    (Code::ServerBug, "SERVERBUG"),
    (Code::Cannot, "CANNOT"),
    (Code::ExpungeIssued, "EXPUNGEISSUED"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::Corruption, "CORRUPTION"),
    (Code::UseAttr, "USEATTR"),
];

/// Writes ` name` for each atom of a space-separated list.
pub(super) fn write_atoms(w: &mut Writer<'_>, atoms: &[String]) {
    for atom in atoms {
        w.sp();
        w.atom(atom);
    }
}

impl Code {
    /// Writes `[NAME args]`.
    pub(super) fn write(&self, w: &mut Writer<'_>) {
        w.str("[");
        self.write_inner(w);
        w.str("]");
    }

    fn write_inner(&self, w: &mut Writer<'_>) {
        if let Some((_, name)) = SIMPLE.iter().find(|(c, _)| c == self) {
            return w.str(name);
        }
        match self {
            Code::BadCharset(charsets) => {
                w.str("BADCHARSET");
                if !charsets.is_empty() {
                    w.sp();
                    w.list(charsets, |w, c| w.astring(c.as_bytes()));
                }
            }
            Code::Capability(caps) => {
                w.str("CAPABILITY");
                write_atoms(w, caps);
            }
            Code::PermanentFlags { flags, any_keyword } => {
                let mut all: Vec<String> = flags.iter().map(Flag::to_string).collect();
                if *any_keyword {
                    all.push("\\*".into());
                }
                w.str("PERMANENTFLAGS ");
                w.list(&all, |w, f| w.str(f));
            }
            Code::UidNext(n) => w.str(&format!("UIDNEXT {n}")),
            Code::UidValidity(n) => w.str(&format!("UIDVALIDITY {n}")),
            Code::Unseen(n) => w.str(&format!("UNSEEN {n}")),
            Code::AppendUid { uid_validity, uids } => {
                w.str(&format!("APPENDUID {uid_validity} {uids}"));
            }
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            } => w.str(&format!("COPYUID {uid_validity} {source} {destination}")),
            Code::HighestModSeq(n) => w.str(&format!("HIGHESTMODSEQ {n}")),
            Code::Modified(set) => w.str(&format!("MODIFIED {set}")),
            Code::Other { name, text } => {
                w.atom(name);
                if let Some(text) = text {
                    let clean: String = text
                        .chars()
                        .filter(|&ch| ch != ']' && !ch.is_control())
                        .collect();
                    w.sp();
                    w.str(&clean);
                }
            }
            _ => {}
        }
    }
}
