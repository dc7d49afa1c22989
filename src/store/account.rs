//! Account-wide operations: creating an account's Maildir with the
//! default folders, deleting it, and adopting an existing Dovecot
//! Maildir++ tree.
//!
//! Adoption keeps what IMAP clients have cached: every folder's
//! UIDVALIDITY and every message's UID come from `dovecot-uidlist`,
//! keywords from `dovecot-keywords` (lowercase info letters). Files the
//! uidlist does not know (delivered after Dovecot's last look) get fresh
//! UIDs from its `N` (next UID) on. Afterwards the SQL index is the truth;
//! Dovecot's files are left as they were and no longer maintained.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::Store;
use super::error::{Result, StoreError, blocking, io_err};
use super::folders::disk_folders;
use super::index;
use super::maildir::{create_subdirs, fsync_dir, list_files, mkdir, remove_tree};
use super::name::{DEFAULT_FOLDERS, FolderName};
use super::types::{AdoptReport, EventKind};

impl Store {
    /// Creates the account's Maildir++ root and its default folders
    /// (INBOX, Sent, Drafts, Trash, Junk, Archive) with their index rows.
    /// Idempotent: what exists is left alone. If the directory already
    /// holds a Dovecot Maildir, its `dovecot-uidlist` files are imported
    /// (as by [`Store::sync`]).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`], I/O and database errors.
    pub async fn create_account(&self, account: &str) -> Result<()> {
        let root = self.account_dir(account)?;
        let r = root.clone();
        blocking(move || {
            mkdir(&r, true).map_err(io_err(&r))?;
            create_subdirs(&r, false)?;
            fsync_dir(&r)?;
            if let Some(parent) = r.parent() {
                fsync_dir(parent)?;
            }
            Ok(())
        })
        .await?;
        self.sync(account, "INBOX").await?;
        let mut created = false;
        for (name, _) in DEFAULT_FOLDERS {
            let folder = FolderName::new(name)?;
            match self.create_one(account, &folder).await {
                Ok(()) => created = true,
                Err(StoreError::AlreadyExists(_)) => {
                    self.sync(account, name).await?;
                }
                Err(e) => return Err(e),
            }
        }
        if created {
            self.notify(account, "", EventKind::FoldersChanged);
        }
        Ok(())
    }

    /// Forgets the account's index rows; with `purge_files`, also removes
    /// its Maildir. (The UIDVALIDITY high-water mark is kept, so a
    /// recreated account never repeats a UIDVALIDITY.)
    ///
    /// # Errors
    /// [`StoreError::InvalidName`], I/O and database errors.
    pub async fn delete_account(&self, account: &str, purge_files: bool) -> Result<()> {
        let root = self.account_dir(account)?;
        self.forget_account(account);
        let mut wtx = self.db().begin_write().await?;
        index::delete_account(&mut wtx.tx, account).await?;
        wtx.commit().await?;
        self.forget_account(account);
        if purge_files {
            blocking(move || remove_tree(&root)).await?;
        }
        self.notify(account, "", EventKind::FoldersChanged);
        Ok(())
    }

    /// Adopts the Dovecot Maildir++ tree at `path` for `account`, keeping
    /// every UID, UIDVALIDITY and keyword. If `path` is not the account
    /// directory it is moved there (a rename: same filesystem only); if
    /// it is, it is imported in place. Any previous index of the account
    /// is replaced. Missing default folders are created afterwards.
    ///
    /// # Errors
    /// [`StoreError::NoSuchFolder`] if `path` is not a Maildir,
    /// [`StoreError::AlreadyExists`] if the account directory already
    /// holds messages, [`StoreError::Corrupt`] for an unreadable
    /// `dovecot-uidlist`, I/O (e.g. `EXDEV`) and database errors.
    pub async fn adopt_maildir(&self, account: &str, path: &Path) -> Result<AdoptReport> {
        let target = self.account_dir(account)?;
        let (src, dst) = (path.to_path_buf(), target.clone());
        let moved = blocking(move || place_tree(&src, &dst)).await?;
        self.forget_account(account);
        let mut wtx = self.db().begin_write().await?;
        index::delete_account(&mut wtx.tx, account).await?;
        wtx.commit().await?;
        let t = target.clone();
        let mut folders = vec![FolderName::inbox()];
        folders.extend(blocking(move || disk_folders(&t)).await?);
        let mut report = AdoptReport {
            moved,
            folders: Vec::new(),
        };
        for folder in folders {
            let slot = self.folder_slot(account, &folder)?;
            let mut cache = slot.lock().await;
            cache.state = None;
            if let (_, Some(adopted)) = self.sync_in(&mut cache, account, &folder).await? {
                report.folders.push(adopted);
            }
        }
        self.create_account(account).await?;
        self.notify(account, "", EventKind::FoldersChanged);
        Ok(report)
    }
}

/// Puts the tree at `src` at `dst`; returns whether it was moved.
fn place_tree(src: &Path, dst: &Path) -> Result<bool> {
    if !src.join("cur").is_dir() {
        return Err(StoreError::NoSuchFolder(src.display().to_string()));
    }
    let canon = |p: &Path| std::fs::canonicalize(p).map_err(io_err(p));
    if dst.exists() {
        if canon(src)? == canon(dst)? {
            return Ok(false);
        }
        if has_messages(dst)? {
            return Err(StoreError::AlreadyExists(dst.display().to_string()));
        }
        remove_tree(dst)?;
    }
    let parent: PathBuf = dst.parent().map(Path::to_path_buf).unwrap_or_default();
    mkdir(&parent, true).map_err(io_err(&parent))?;
    std::fs::rename(src, dst).map_err(io_err(src))?;
    fsync_dir(&parent)?;
    Ok(true)
}

/// Whether any folder of the Maildir at `root` holds a message file.
fn has_messages(root: &Path) -> Result<bool> {
    let mut dirs = vec![root.to_path_buf()];
    dirs.extend(
        super::maildir::folder_dirs(root)?
            .into_iter()
            .map(|d| root.join(d)),
    );
    for dir in dirs {
        for sub in ["cur", "new"] {
            let d = dir.join(sub);
            match list_files(&d) {
                Ok(v) if !v.is_empty() => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&d)(e)),
            }
        }
    }
    Ok(false)
}
