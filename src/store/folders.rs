//! Folder operations: LIST, CREATE, DELETE, RENAME.
//!
//! The filesystem decides which folders exist (a folder is a `.name`
//! directory with a `cur/`, whoever made it); the index holds their
//! UIDVALIDITY and messages. Creating a folder builds it under a staging
//! name and renames it into place, while holding the index write lock, so
//! a half-made folder is never visible and two creators cannot both
//! succeed. Deleting renames the directory to a trash name before
//! removing it. A recreated folder gets a new UIDVALIDITY (RFC 3501
//! §2.3.1.1); a renamed one keeps its own.

use std::path::Path;

use super::Store;
use super::error::{Result, StoreError, blocking, io_err};
use super::index;
use super::maildir::{create_folder_dir, folder_dirs, internal_dir};
use super::name::FolderName;
use super::quota;
use super::types::{EventKind, FolderInfo};

fn invalid(name: &FolderName, reason: &'static str) -> StoreError {
    StoreError::InvalidName {
        name: name.to_string(),
        reason,
    }
}

/// The folders below an account root, from its directories.
pub(crate) fn disk_folders(account_dir: &Path) -> Result<Vec<FolderName>> {
    let mut out = Vec::new();
    for dir in folder_dirs(account_dir)? {
        match FolderName::from_dir_name(&dir) {
            Some(f) if account_dir.join(&dir).join("cur").is_dir() => out.push(f),
            Some(_) => {}
            None => tracing::debug!(dir, "ignoring directory that is not a folder name"),
        }
    }
    Ok(out)
}

impl Store {
    /// Every folder of the account: INBOX first, then by name.
    ///
    /// # Errors
    /// [`StoreError::NoSuchFolder`] if the account has no Maildir; I/O.
    pub async fn list_folders(&self, account: &str) -> Result<Vec<FolderInfo>> {
        let root = self.account_dir(account)?;
        let mut names = blocking(move || {
            if !root.join("cur").is_dir() {
                return Err(StoreError::NoSuchFolder("INBOX".into()));
            }
            disk_folders(&root)
        })
        .await?;
        names.sort();
        let mut out = vec![FolderInfo {
            name: "INBOX".into(),
            special_use: None,
        }];
        out.extend(names.into_iter().map(|f| FolderInfo {
            special_use: f.special_use(),
            name: f.to_string(),
        }));
        Ok(out)
    }

    /// Creates a folder (and missing parents, RFC 3501 §6.3.3) with a
    /// fresh UIDVALIDITY.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`], [`StoreError::InvalidName`],
    /// [`StoreError::NoSuchFolder`] if the account has no Maildir, I/O and
    /// database errors.
    pub async fn create_folder(&self, account: &str, folder: &str) -> Result<()> {
        let folder = FolderName::new(folder)?;
        if folder.is_inbox() {
            return Err(StoreError::AlreadyExists(folder.to_string()));
        }
        let root = self.account_dir(account)?;
        if !tokio::fs::metadata(root.join("cur"))
            .await
            .is_ok_and(|m| m.is_dir())
        {
            return Err(StoreError::NoSuchFolder("INBOX".into()));
        }
        let mut ancestors = Vec::new();
        let mut p = folder.parent();
        while let Some(a) = p {
            p = a.parent();
            ancestors.push(a);
        }
        for a in ancestors.into_iter().rev().filter(|a| !a.is_inbox()) {
            match self.create_one(account, &a).await {
                Ok(()) | Err(StoreError::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.create_one(account, &folder).await?;
        self.notify(account, folder.as_str(), EventKind::FoldersChanged);
        Ok(())
    }

    pub(crate) async fn create_one(&self, account: &str, folder: &FolderName) -> Result<()> {
        let dir = self.folder_dir(account, folder)?;
        let slot = self.folder_slot(account, folder)?;
        let mut cache = slot.lock().await;
        if tokio::fs::metadata(&dir).await.is_ok() {
            return Err(StoreError::AlreadyExists(folder.to_string()));
        }
        let mut wtx = self.db().begin_write().await?;
        let lock = self.db().for_update();
        let uv = index::allocate_uidvalidity(&mut wtx.tx, lock, account, None).await?;
        if let Some(stale) = index::mailbox(&mut wtx.tx, account, folder.as_str(), lock).await? {
            index::delete_mailbox(&mut wtx.tx, stale.id).await?;
        }
        if index::create_mailbox(&mut wtx.tx, account, folder.as_str(), uv, 1)
            .await?
            .is_none()
        {
            return Err(StoreError::AlreadyExists(folder.to_string()));
        }
        let d = dir.clone();
        if !blocking(move || create_folder_dir(&d)).await? {
            return Err(StoreError::AlreadyExists(folder.to_string()));
        }
        wtx.commit().await?;
        cache.state = None;
        Ok(())
    }

    /// Deletes a folder, its messages and its index rows. Folders below
    /// it stay (Maildir++ folders are independent directories).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] for the INBOX,
    /// [`StoreError::NoSuchFolder`], I/O and database errors.
    pub async fn delete_folder(&self, account: &str, folder: &str) -> Result<()> {
        let folder = FolderName::new(folder)?;
        if folder.is_inbox() {
            return Err(invalid(&folder, "the INBOX cannot be deleted"));
        }
        let dir = self.folder_dir(account, &folder)?;
        let root = self.account_dir(account)?;
        let slot = self.folder_slot(account, &folder)?;
        let mut cache = slot.lock().await;
        cache.state = None;
        let mut wtx = self.db().begin_write().await?;
        let lock = self.db().for_update();
        let row = index::mailbox(&mut wtx.tx, account, folder.as_str(), lock).await?;
        let (d, r) = (dir.clone(), root.clone());
        let trash = blocking(move || {
            if !d.is_dir() {
                return Ok(None);
            }
            let trash = internal_dir(&r, "deleted");
            std::fs::rename(&d, &trash).map_err(io_err(&d))?;
            Ok(Some(trash))
        })
        .await?;
        if trash.is_none() && row.is_none() {
            return Err(StoreError::NoSuchFolder(folder.to_string()));
        }
        if let Some(row) = row {
            index::delete_mailbox(&mut wtx.tx, row.id).await?;
        }
        wtx.commit().await?;
        blocking(move || {
            if let Some(t) = trash {
                std::fs::remove_dir_all(&t).map_err(io_err(&t))?;
            }
            quota::invalidate(&root);
            Ok(())
        })
        .await?;
        self.notify(account, folder.as_str(), EventKind::FoldersChanged);
        Ok(())
    }

    /// Renames a folder and every folder below it, keeping their
    /// UIDVALIDITY and UIDs. Renaming the INBOX moves its messages into
    /// the new folder and leaves an empty INBOX (RFC 3501 §6.3.5).
    ///
    /// # Errors
    /// [`StoreError::NoSuchFolder`], [`StoreError::AlreadyExists`],
    /// [`StoreError::InvalidName`] (also for renaming a folder below
    /// itself), I/O and database errors. A crash half-way can leave some
    /// children renamed; their next sync gives them a new UIDVALIDITY.
    pub async fn rename_folder(&self, account: &str, from: &str, to: &str) -> Result<()> {
        let (from, to) = (FolderName::new(from)?, FolderName::new(to)?);
        if to.is_inbox() || from == to {
            return Err(StoreError::AlreadyExists(to.to_string()));
        }
        if to.is_below(&from) {
            return Err(invalid(&to, "cannot rename a folder below itself"));
        }
        let root = self.account_dir(account)?;
        let to_dir = self.folder_dir(account, &to)?;
        if tokio::fs::metadata(&to_dir).await.is_ok() {
            return Err(StoreError::AlreadyExists(to.to_string()));
        }
        if from.is_inbox() {
            self.rename_inbox(account, &to).await?;
        } else {
            self.rename_tree(account, &root, &from, &to).await?;
        }
        self.forget_folder(account, &from);
        self.forget_folder(account, &to);
        self.notify(account, from.as_str(), EventKind::FoldersChanged);
        Ok(())
    }

    async fn rename_tree(
        &self,
        account: &str,
        root: &Path,
        from: &FolderName,
        to: &FolderName,
    ) -> Result<()> {
        let r = root.to_path_buf();
        let mut moves: Vec<(FolderName, FolderName)> = blocking(move || disk_folders(&r))
            .await?
            .into_iter()
            .filter(|f| f.is_below(from))
            .map(|f| (f.rebase(from, to), f))
            .map(|(new, old)| (old, new))
            .collect();
        moves.insert(0, (from.clone(), to.clone()));
        for (_, new) in &moves {
            let d = self.folder_dir(account, new)?;
            if tokio::fs::metadata(&d).await.is_ok() {
                return Err(StoreError::AlreadyExists(new.to_string()));
            }
        }
        if !tokio::fs::metadata(self.folder_dir(account, from)?)
            .await
            .is_ok_and(|m| m.is_dir())
        {
            return Err(StoreError::NoSuchFolder(from.to_string()));
        }
        let mut p = to.parent();
        while let Some(a) = p {
            p = a.parent();
            if !a.is_inbox()
                && tokio::fs::metadata(self.folder_dir(account, &a)?)
                    .await
                    .is_err()
            {
                match self.create_one(account, &a).await {
                    Ok(()) | Err(StoreError::AlreadyExists(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let slot = self.folder_slot(account, from)?;
        let _guard = slot.lock().await;
        let mut wtx = self.db().begin_write().await?;
        let lock = self.db().for_update();
        for (old, new) in &moves {
            let row = index::mailbox(&mut wtx.tx, account, old.as_str(), lock).await?;
            if let Some(stale) = index::mailbox(&mut wtx.tx, account, new.as_str(), lock).await? {
                index::delete_mailbox(&mut wtx.tx, stale.id).await?;
            }
            let (a, b) = (
                self.folder_dir(account, old)?,
                self.folder_dir(account, new)?,
            );
            blocking(move || std::fs::rename(&a, &b).map_err(io_err(&a))).await?;
            if let Some(row) = row {
                index::rename_mailbox(&mut wtx.tx, row.id, new.as_str()).await?;
            }
        }
        wtx.commit().await?;
        let r = root.to_path_buf();
        blocking(move || super::maildir::fsync_dir(&r)).await
    }

    async fn rename_inbox(&self, account: &str, to: &FolderName) -> Result<()> {
        let inbox = FolderName::inbox();
        let (src, dst) = (
            self.folder_dir(account, &inbox)?,
            self.folder_dir(account, to)?,
        );
        let slot = self.folder_slot(account, &inbox)?;
        let _guard = slot.lock().await;
        let mut wtx = self.db().begin_write().await?;
        let lock = self.db().for_update();
        let uv = index::allocate_uidvalidity(&mut wtx.tx, lock, account, None).await?;
        let row = index::mailbox(&mut wtx.tx, account, inbox.as_str(), lock).await?;
        if let Some(stale) = index::mailbox(&mut wtx.tx, account, to.as_str(), lock).await? {
            index::delete_mailbox(&mut wtx.tx, stale.id).await?;
        }
        blocking(move || {
            if !src.join("cur").is_dir() {
                return Err(StoreError::NoSuchFolder("INBOX".into()));
            }
            if !create_folder_dir(&dst)? {
                return Err(StoreError::AlreadyExists(dst.display().to_string()));
            }
            for sub in ["cur", "new"] {
                let (from, into) = (src.join(sub), dst.join(sub));
                for name in super::maildir::list_files(&from).map_err(io_err(&from))? {
                    match std::fs::rename(from.join(&name), into.join(&name)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err(&from.join(&name))(e)),
                    }
                }
                super::maildir::fsync_dir(&into)?;
            }
            Ok(())
        })
        .await?;
        if let Some(row) = row {
            index::rename_mailbox(&mut wtx.tx, row.id, to.as_str()).await?;
            index::create_mailbox(&mut wtx.tx, account, inbox.as_str(), uv, 1).await?;
        }
        wtx.commit().await?;
        Ok(())
    }
}
