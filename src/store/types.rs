//! The values the store's API hands out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::flags::Flags;
use super::name::SpecialUse;

/// What the index knows about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// The IMAP UID; never reused while the folder's UIDVALIDITY stays.
    pub uid: u32,
    /// System flags and keywords.
    pub flags: Flags,
    /// RFC822.SIZE: octets with CRLF line endings.
    pub size: u64,
    /// IMAP INTERNALDATE (delivery time, file mtime, or APPEND's date).
    pub internal_date: SystemTime,
    /// CONDSTORE mod-sequence of the message's last change.
    pub modseq: u64,
}

/// A folder's state after [`crate::store::Store::sync`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSnapshot {
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The UID the next new message will get.
    pub uidnext: u32,
    /// The highest mod-sequence of the folder (every change bumps it).
    pub highest_modseq: u64,
    /// Every message, sorted by UID.
    pub messages: Vec<MessageMeta>,
}

/// One message's flags after [`crate::store::Store::set_flags`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    /// The message.
    pub uid: u32,
    /// Its flags now.
    pub flags: Flags,
    /// Its mod-sequence now (unchanged if its flags did not change).
    pub modseq: u64,
}

/// The outcome of a copy or move: the destination's UIDVALIDITY and
/// `(source UID, destination UID)` pairs (RFC 4315 COPYUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyResult {
    /// UIDVALIDITY of the destination folder.
    pub uidvalidity: u32,
    /// Source UID → new UID, in source UID order.
    pub pairs: Vec<(u32, u32)>,
}

/// A folder as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// Name, `/`-separated UTF-8 (`INBOX`, `Archive/2024`).
    pub name: String,
    /// RFC 6154 special use, for the default folders.
    pub special_use: Option<SpecialUse>,
}

/// What [`crate::store::Store::adopt_maildir`] found and kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdoptReport {
    /// Whether the tree was moved into the account directory (`false`:
    /// it was already there and was imported in place).
    pub moved: bool,
    /// One entry per folder imported.
    pub folders: Vec<AdoptedFolder>,
}

impl std::fmt::Display for AdoptReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages: usize = self.folders.iter().map(|x| x.messages).sum();
        let kept: usize = self.folders.iter().map(|x| x.kept_uids).sum();
        write!(
            f,
            "{} folders, {messages} messages ({kept} kept their UID, {} new){}",
            self.folders.len(),
            messages.saturating_sub(kept),
            if self.moved {
                ", moved into place"
            } else {
                ", imported in place"
            }
        )
    }
}

/// One folder of an adopted Maildir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptedFolder {
    /// The folder name.
    pub name: String,
    /// Its UIDVALIDITY (Dovecot's, when it had a `dovecot-uidlist`).
    pub uidvalidity: u32,
    /// Messages indexed.
    pub messages: usize,
    /// Messages that kept the UID from `dovecot-uidlist`.
    pub kept_uids: usize,
    /// Messages that got a fresh UID (not in the uidlist).
    pub new_uids: usize,
}

/// What changed, for IDLE and other sessions of the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEvent {
    /// The folder concerned (`""` for account-wide changes).
    pub folder: String,
    /// The kind of change.
    pub kind: EventKind,
}

/// Kinds of [`StoreEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Messages arrived (delivered, appended, copied, moved in, or found
    /// by a sync).
    NewMessages,
    /// Flags of messages changed.
    FlagsChanged,
    /// Messages were removed.
    Expunged,
    /// Folders were created, deleted or renamed.
    FoldersChanged,
}

/// Unix seconds → `SystemTime`.
pub(crate) fn time_of(secs: i64) -> SystemTime {
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH,
    }
}

/// `SystemTime` → Unix seconds (0 before the epoch).
pub(crate) fn secs_of(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
