//! The message store: Maildir++ folders on disk plus a message index in
//! SQL (UIDs, flags, keywords, modseq).
//!
//! Owns: everything under `mail_root/<domain>/<localpart>/` and the
//! tables `mailboxes`, `messages`, `mailbox_uidvalidity`. Must not: know
//! protocol types (IMAP sequence numbers, SMTP replies), accounts'
//! passwords or quotas' origin (callers pass the quota in).
//!
//! # Layout
//! Each account is one Maildir++ root, readable by Dovecot: the INBOX is
//! the root's `cur/ new/ tmp/`; every other folder is a directory
//! `.<name>` with components joined by `.` and encoded in IMAP modified
//! UTF-7 (`Archive/Entwürfe` → `.Archive.Entw&APw-rfe`), holding an empty
//! `maildirfolder`. File names are Dovecot's:
//! `<secs>.M<usecs>P<pid>Q<n>R<rand>.<host>,S=<size>,W=<vsize>:2,<flags>`.
//! Messages are stored with CRLF line endings, so `S=` is the
//! RFC822.SIZE. Files other programs wrote with bare LF are left as they
//! are: their size is `W=` when the name has it, else counted, and
//! [`Store::read`] hands them out with CRLF.
//!
//! # Why an SQL index
//! Maildir has no UIDs; Dovecot keeps them in `dovecot-uidlist` guarded by
//! a lock file. Postel keeps them in the database every node already
//! shares: the write transaction (`BEGIN IMMEDIATE` on SQLite, a
//! `SELECT … FOR UPDATE` on the folder row on PostgreSQL) is the lock,
//! UIDNEXT/HIGHESTMODSEQ/UIDVALIDITY live in the folder row, and flags,
//! size and date in the message row, so IMAP never stats a file to answer
//! FETCH FLAGS or RFC822.SIZE.
//!
//! # Identity
//! A message is its Maildir base name (the file name before `:2,`). It
//! survives flag changes (a rename of the info part) and the move from
//! `new/` to `cur/`; it is unique per folder in the index. The file name
//! is the truth for system flags (`D F P R S T`; `P` is the keyword
//! `$Forwarded`) — another program renaming a file changes the flags at
//! the next sync. Keywords live only in the row; Postel writes no keyword
//! letters into file names.
//!
//! # Dovecot
//! [`Store::adopt_maildir`] (and a sync of a folder that has no row yet)
//! imports `dovecot-uidlist` and `dovecot-keywords`, so clients keep
//! their UIDVALIDITY, UIDs and keywords. From then on the SQL index is the
//! truth and Dovecot's files are not kept up to date.
//!
//! # Delivery and durability
//! Two phases: [`Store::prepare`] writes `tmp/<unique>` and fsyncs it;
//! [`Prepared::commit`] renames it into `new/` (or `cur/` with flags for
//! APPEND) and fsyncs the directory. A crash leaves no message or one
//! complete message (rename is atomic), never two; stray `tmp/` files are
//! removed by a sync once they are 36 hours old, like Dovecot does.
//! [`Store::deliver`] (the SMTP path) does not touch the database at
//! all: UIDs are assigned by the next sync, so inbound mail never waits
//! for the index lock, and mail still arrives when the database is slow.
//! [`Store::append`] registers the UID at once, because APPEND must
//! return it (RFC 4315 APPENDUID).
//!
//! # Several processes, several nodes
//! Only the holder of the folder's row lock assigns UIDs or changes rows,
//! and it re-reads the directory under the lock when the row changed
//! since its unlocked look, so no file gets two UIDs and no UID is used
//! twice. Every change of rows bumps UIDNEXT or HIGHESTMODSEQ in the same
//! transaction, which is what lets a process trust its in-memory cache
//! (see `cache`). Flag renames, expunges and moves happen while holding
//! the lock, before the commit; a crash in between is repaired by the
//! next sync because the files are the truth. Within one process, an
//! async mutex per folder serialises work and protects the cache.
//!
//! # Warm syncs
//! A sync of an unchanged folder costs one indexed query, two `readdir`s
//! and a comparison with the cached listing, without a write
//! transaction: about 50–65 ms for 100,000 messages in a release build on
//! the development machine (`tests/store_scale.rs`).
//!
//! # Change notification
//! [`Store::subscribe`] gives a broadcast receiver per account; every
//! operation of this process sends a [`StoreEvent`]. Events from other
//! processes or nodes are not seen yet; that will come through PostgreSQL
//! `LISTEN/NOTIFY`. Until then, IDLE sessions should also sync
//! periodically.
//!
//! # Group commit
//! Deliveries renamed into the same directory at about the same time
//! share one directory fsync (`commit`): each waits for an fsync that
//! started after its rename, and a failed fsync fails all of them.

mod account;
mod cache;
mod commit;
mod delivery;
mod diff;
mod dovecot;
mod error;
mod flags;
mod folders;
mod index;
mod maildir;
mod name;
mod ops;
mod quota;
mod register;
mod sync;
mod transfer;
mod types;
mod unique;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

pub use delivery::{Delivered, Prepared};
pub use error::{Result, StoreError};
pub use flags::{FORWARDED, FlagMode, Flags};
pub use name::{DEFAULT_FOLDERS, FolderName, SpecialUse};
pub use quota::QuotaUsage;
pub use types::{
    AdoptReport, AdoptedFolder, CopyResult, EventKind, FlagChange, FolderInfo, FolderSnapshot,
    MessageMeta, StoreEvent,
};

use crate::db::Db;
use cache::FolderCache;

/// How many events a slow subscriber may lag behind before it sees
/// `RecvError::Lagged` (and should resync).
const EVENT_CAPACITY: usize = 1024;

type Slot = Arc<tokio::sync::Mutex<FolderCache>>;

/// The message store; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    root: PathBuf,
    host: String,
    folders: Mutex<HashMap<(String, FolderName), Slot>>,
    events: Mutex<HashMap<String, broadcast::Sender<StoreEvent>>>,
    syncs: Arc<commit::DirSyncs>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("mail_root", &self.inner.root)
            .field("host", &self.inner.host)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `mail_root` (created on demand) indexed in `db`.
    /// `hostname` goes into new file names, escaped as Dovecot does.
    pub fn new(db: Db, mail_root: PathBuf, hostname: &str) -> Store {
        Store {
            inner: Arc::new(Inner {
                db,
                root: mail_root,
                host: unique::escape_hostname(hostname),
                folders: Mutex::new(HashMap::new()),
                events: Mutex::new(HashMap::new()),
                syncs: commit::DirSyncs::new(Arc::new(|dir: &Path| {
                    std::fs::File::open(dir).and_then(|d| d.sync_all())
                })),
            }),
        }
    }

    /// The index database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The directory holding every account's Maildir.
    pub fn mail_root(&self) -> &Path {
        &self.inner.root
    }

    /// How many directory fsyncs deliveries have made so far; fewer than
    /// deliveries when concurrent ones shared them (group commit).
    pub fn directory_fsyncs(&self) -> u64 {
        self.inner.syncs.fsyncs()
    }

    /// The directories' commit queues (group commit).
    pub(crate) fn dir_syncs(&self) -> &Arc<commit::DirSyncs> {
        &self.inner.syncs
    }

    pub(crate) fn escaped_host(&self) -> &str {
        &self.inner.host
    }

    /// The Maildir++ root of `account` (`local@domain` →
    /// `mail_root/domain/local`). Does not create it.
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] for names that could escape the root:
    /// no `@`, empty parts, `/`, `\`, `.`/`..`, NUL or other control
    /// characters.
    pub fn account_dir(&self, account: &str) -> Result<PathBuf> {
        let (domain, local) = name::account_parts(account)?;
        Ok(self.inner.root.join(domain).join(local))
    }

    /// The directory of `folder` in `account`.
    pub(crate) fn folder_dir(&self, account: &str, folder: &FolderName) -> Result<PathBuf> {
        let root = self.account_dir(account)?;
        Ok(match folder.dir_name() {
            Some(d) => root.join(d),
            None => root,
        })
    }

    /// The cache slot (and in-process lock) of a folder.
    pub(crate) fn folder_slot(&self, account: &str, folder: &FolderName) -> Result<Slot> {
        name::account_parts(account)?;
        let mut map = self
            .inner
            .folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(map
            .entry((account.to_string(), folder.clone()))
            .or_default()
            .clone())
    }

    /// Drops the cache of a folder and every folder below it.
    pub(crate) fn forget_folder(&self, account: &str, folder: &FolderName) {
        let mut map = self
            .inner
            .folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.retain(|(a, f), _| !(a == account && (f == folder || f.is_below(folder))));
    }

    /// Drops the caches of every folder of an account.
    pub(crate) fn forget_account(&self, account: &str) {
        let mut map = self
            .inner
            .folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.retain(|(a, _), _| a != account);
    }

    /// Subscribes to the changes this process makes to `account`'s
    /// folders (see the module docs: other processes' changes are not
    /// reported yet).
    pub fn subscribe(&self, account: &str) -> broadcast::Receiver<StoreEvent> {
        let mut map = self
            .inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(account.to_string())
            .or_insert_with(|| broadcast::channel(EVENT_CAPACITY).0)
            .subscribe()
    }

    /// Sends an event to the account's subscribers, if any.
    pub(crate) fn notify(&self, account: &str, folder: &str, kind: EventKind) {
        let mut map = self
            .inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = map.get(account) {
            if tx.receiver_count() == 0 {
                map.remove(account);
                return;
            }
            let _ = tx.send(StoreEvent {
                folder: folder.to_string(),
                kind,
            });
        }
    }

    /// Current usage of the account's Maildir++ quota (`maildirsize`,
    /// recalculated when stale).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] and I/O errors.
    pub async fn quota_usage(&self, account: &str) -> Result<QuotaUsage> {
        let dir = self.account_dir(account)?;
        error::blocking(move || quota::usage(&dir, None)).await
    }
}
