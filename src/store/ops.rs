//! Reading messages, changing flags, expunging.
//!
//! Flag changes and expunges run under the folder's write lock: rename or
//! unlink the files first, then update the rows and commit. If the
//! process dies in between, the files (the truth) already show the
//! change and the next sync brings the rows in step. If another program
//! renamed a file meanwhile, the file is looked up again by its base name
//! and the change is applied to the flags that file has now.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::Path;

use super::Store;
use super::cache::{FolderCache, refresh};
use super::error::{Result, StoreError, blocking, io_err};
use super::flags::{FlagMode, Flags};
use super::index::{self, MailboxRow};
use super::maildir::{find_file, read_message};
use super::name::FolderName;
use super::quota;
use super::types::{EventKind, FlagChange};
use super::unique::{split_name, to_crlf, with_info};
use crate::db::WriteTx;

impl Store {
    /// The message with UID `uid`, with CRLF line endings: files other
    /// programs wrote with bare LF are converted, so the length always
    /// equals the RFC822.SIZE the index reports.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such UID or its file is
    /// gone; [`StoreError::NoSuchFolder`], I/O and database errors.
    pub async fn read(&self, account: &str, folder: &str, uid: u32) -> Result<Vec<u8>> {
        let folder = FolderName::new(folder)?;
        let dir = self.folder_dir(account, &folder)?;
        let slot = self.folder_slot(account, &folder)?;
        let file = {
            let mut cache = slot.lock().await;
            let known = |c: &FolderCache| {
                c.state
                    .as_ref()
                    .and_then(|s| s.by_uid.get(&uid))
                    .map(|e| e.file.clone())
            };
            match known(&cache) {
                Some(f) => f,
                None => {
                    self.sync_in(&mut cache, account, &folder).await?;
                    known(&cache).ok_or(StoreError::NotFound)?
                }
            }
        };
        let bytes = blocking(move || read_message(&dir, &file))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(match to_crlf(&bytes) {
            std::borrow::Cow::Owned(fixed) => fixed,
            std::borrow::Cow::Borrowed(_) => bytes,
        })
    }

    /// Opens the write transaction with the folder row locked (creating
    /// the row by a sync if needed). The cache must be loaded by the
    /// caller with [`refresh`] afterwards.
    pub(crate) async fn begin_locked(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
    ) -> Result<(WriteTx, MailboxRow)> {
        self.begin_locked_as(cache, account, folder, Durability::Flushed)
            .await
    }

    /// [`Store::begin_locked`] with a choice of [`Durability`].
    async fn begin_locked_as(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
        durability: Durability,
    ) -> Result<(WriteTx, MailboxRow)> {
        if cache.state.is_none() {
            // Load the rows outside the lock (no scan: that could index a
            // file the caller is about to register); the locked refresh
            // is then cheap.
            let mut conn = self.db().pool().acquire().await?;
            if let Some(row) = index::mailbox(&mut conn, account, folder.as_str(), "").await? {
                refresh(&mut conn, cache, row).await?;
            }
        }
        for _ in 0..2 {
            let mut wtx = match durability {
                Durability::Flushed => self.db().begin_write().await?,
                Durability::Relaxed => self.db().begin_write_relaxed().await?,
            };
            let lock = self.db().for_update();
            if let Some(row) = index::mailbox(&mut wtx.tx, account, folder.as_str(), lock).await? {
                return Ok((wtx, row));
            }
            drop(wtx);
            self.sync_in(cache, account, folder).await?;
        }
        Err(StoreError::NoSuchFolder(folder.to_string()))
    }

    /// Changes flags of the messages `uids` (IMAP STORE). With
    /// `unchanged_since` (CONDSTORE), messages whose modseq is higher are
    /// left alone. Renames each file whose system flags change.
    ///
    /// Returns one entry per message that exists and passed the
    /// `unchanged_since` test, in UID order, with its flags and modseq
    /// afterwards (an unchanged message keeps its modseq). UIDs missing
    /// from the result do not exist or failed the test (MODIFIED).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] for bad keywords, folder, I/O and
    /// database errors.
    pub async fn set_flags(
        &self,
        account: &str,
        folder: &str,
        uids: &[u32],
        mode: FlagMode,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<Vec<FlagChange>> {
        flags.validate()?;
        let folder = FolderName::new(folder)?;
        let slot = self.folder_slot(account, &folder)?;
        let mut cache = slot.lock().await;
        let args = (uids, mode, flags, unchanged_since);
        let result = self.set_flags_in(&mut cache, account, &folder, args).await;
        if result.is_err() {
            cache.state = None;
        }
        let changes = result?;
        if changes.iter().any(|c| c.1) {
            self.notify(account, folder.as_str(), EventKind::FlagsChanged);
        }
        Ok(changes.into_iter().map(|c| c.0).collect())
    }

    async fn set_flags_in(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
        (uids, mode, given, since): (&[u32], FlagMode, &Flags, Option<u64>),
    ) -> Result<Vec<(FlagChange, bool)>> {
        let dir = self.folder_dir(account, folder)?;
        // Flag changes are not flushed on their own (like Dovecot's), see
        // `Db::begin_write_relaxed`: a power failure may forget the last
        // ones, a crash of the process does not.
        let (mut wtx, row) = self
            .begin_locked_as(cache, account, folder, Durability::Relaxed)
            .await?;
        let state = refresh(&mut wtx.tx, cache, row).await?;
        let wanted: BTreeSet<u32> = uids.iter().copied().collect();
        let mut todo = Vec::new();
        for uid in wanted {
            let Some(e) = state.by_uid.get(&uid) else {
                continue;
            };
            if since.is_some_and(|s| e.row.modseq > s) {
                continue;
            }
            todo.push((uid, e.row.base.clone(), e.file.clone(), e.row.flags.clone()));
        }
        let (d, g) = (dir.clone(), given.clone());
        let jobs = todo.clone();
        let outcomes = blocking(move || {
            jobs.iter()
                .map(|(_, base, file, old)| {
                    let new = old.apply(mode, &g);
                    if new.same_system(old) {
                        return Ok(Some((file.clone(), None)));
                    }
                    rename_flags(&d, base, file, &new.maildir_info(), |disk| {
                        disk.apply(mode, &g).maildir_info()
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .await?;
        let mut mb = state.mailbox;
        let modseq = mb.highest_modseq + 1;
        let mut out = Vec::new();
        for ((uid, _, _, old), outcome) in todo.into_iter().zip(outcomes) {
            let Some((file, on_disk)) = outcome else {
                continue; // file gone: the next sync expunges it
            };
            let current = match &on_disk {
                Some(disk) => old.with_system_of(disk),
                None => old.clone(),
            };
            let new = current.apply(mode, given);
            let changed = new != old;
            if changed {
                index::update_flags(&mut wtx.tx, mb.id, uid, &new, modseq).await?;
            }
            out.push((uid, file, new, changed));
        }
        let any = out.iter().any(|c| c.3);
        if any {
            mb.highest_modseq = modseq;
            index::set_counters(&mut wtx.tx, &mb).await?;
        }
        wtx.commit().await?;
        state.mailbox = mb;
        let mut result = Vec::with_capacity(out.len());
        for (uid, file, flags, changed) in out {
            if let Some(e) = state.by_uid.get_mut(&uid) {
                e.file = file;
                if changed {
                    e.row.flags = flags.clone();
                    e.row.modseq = modseq;
                }
                let modseq = e.row.modseq;
                result.push((FlagChange { uid, flags, modseq }, changed));
            }
        }
        Ok(result)
    }

    /// Removes the messages `uids` (IMAP EXPUNGE / UID EXPUNGE): unlinks
    /// their files, deletes their rows, updates `maildirsize`. Returns the
    /// UIDs removed, ascending; unknown UIDs are ignored. It does not look
    /// at `\Deleted`: the caller chooses the UIDs.
    ///
    /// # Errors
    /// Folder, I/O and database errors.
    pub async fn expunge(&self, account: &str, folder: &str, uids: &[u32]) -> Result<Vec<u32>> {
        let folder = FolderName::new(folder)?;
        let slot = self.folder_slot(account, &folder)?;
        let mut cache = slot.lock().await;
        let result = self.expunge_in(&mut cache, account, &folder, uids).await;
        if result.is_err() {
            cache.state = None;
        }
        let removed = result?;
        if !removed.is_empty() {
            self.notify(account, folder.as_str(), EventKind::Expunged);
        }
        Ok(removed)
    }

    async fn expunge_in(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
        uids: &[u32],
    ) -> Result<Vec<u32>> {
        let dir = self.folder_dir(account, folder)?;
        let account_dir = self.account_dir(account)?;
        let (mut wtx, row) = self.begin_locked(cache, account, folder).await?;
        let state = refresh(&mut wtx.tx, cache, row).await?;
        let wanted: BTreeSet<u32> = uids.iter().copied().collect();
        let victims: Vec<(u32, String)> = wanted
            .into_iter()
            .filter_map(|u| state.by_uid.get(&u).map(|e| (u, e.file.clone())))
            .collect();
        if victims.is_empty() {
            return Ok(Vec::new());
        }
        let files: Vec<String> = victims.iter().map(|v| v.1.clone()).collect();
        blocking(move || {
            let (mut bytes, mut count) = (0u64, 0i64);
            for file in files {
                if let Some(size) = unlink_message(&dir, &file)? {
                    bytes += size;
                    count += 1;
                }
            }
            quota::record(&account_dir, -i64::try_from(bytes).unwrap_or(0), -count);
            // The removals are durable before the caller reports them
            // (IMAP EXPUNGE, POP3 QUIT).
            for sub in ["cur", "new"] {
                super::maildir::fsync_dir(&dir.join(sub))?;
            }
            Ok(())
        })
        .await?;
        let gone: Vec<u32> = victims.iter().map(|v| v.0).collect();
        let mut mb = state.mailbox;
        mb.highest_modseq += 1;
        index::delete_messages(&mut wtx.tx, mb.id, &gone).await?;
        index::set_counters(&mut wtx.tx, &mb).await?;
        wtx.commit().await?;
        for uid in &gone {
            state.remove(*uid);
        }
        state.mailbox = mb;
        Ok(gone)
    }
}

/// Renames a message file to carry `info`. If it is not where the cache
/// said, finds it by base name and renames it to the info `recompute`
/// derives from its current flags. Returns the new file name and, when
/// the file had other flags than expected, those flags; `None` when the
/// message is gone.
pub(crate) fn rename_flags(
    dir: &Path,
    base: &str,
    file: &str,
    info: &str,
    recompute: impl Fn(&Flags) -> String,
) -> Result<Option<(String, Option<Flags>)>> {
    let cur = dir.join("cur");
    let target = with_info(base, info);
    match std::fs::rename(cur.join(file), cur.join(&target)) {
        Ok(()) => return Ok(Some((target, None))),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&cur.join(file))(e)),
    }
    let Some((path, found)) = find_file(dir, base)? else {
        return Ok(None);
    };
    let disk = Flags::from_maildir_info(split_name(&found).1.unwrap_or(""));
    let target = with_info(base, &recompute(&disk));
    match std::fs::rename(&path, cur.join(&target)) {
        Ok(()) => Ok(Some((target, Some(disk)))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Unlinks a message file (found by base name if renamed); returns its
/// size, or `None` if it was already gone.
fn unlink_message(dir: &Path, file: &str) -> Result<Option<u64>> {
    let path = dir.join("cur").join(file);
    let (path, size) = match std::fs::metadata(&path) {
        Ok(m) => (path, m.len()),
        Err(e) if e.kind() == ErrorKind::NotFound => match find_file(dir, split_name(file).0)? {
            Some((p, _)) => {
                let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                (p, len)
            }
            None => return Ok(None),
        },
        Err(e) => return Err(io_err(&path)(e)),
    };
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(Some(size)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Whether a write transaction's commit is flushed to disk before it
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Flushed: everything that records mail, UIDs or folders.
    Flushed,
    /// Flushed by the next flushed commit: flag changes.
    Relaxed,
}
