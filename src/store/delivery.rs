//! Two-phase delivery: [`Store::prepare`] → [`Prepared::commit`] or
//! [`Prepared::abort`].
//!
//! Phase one writes the CRLF-normalised message to `tmp/<unique>` and
//! fsyncs the file; phase two renames it into `new/` (or `cur/` with
//! flags, for APPEND) and waits for an fsync of that directory that
//! started after the rename — shared with concurrent deliveries into the
//! same directory (group commit, see `commit`). Rename is atomic, so at
//! every instant the message is either absent from `new/`+`cur/` or
//! complete there. The SMTP path acknowledges only after `commit`
//! returned. This module never touches the database.

use std::path::PathBuf;
use std::time::SystemTime;

use super::Store;
use super::error::{Result, StoreError, blocking, io_err};
use super::maildir::write_durable;
use super::name::FolderName;
use super::quota;
use super::types::EventKind;
use super::unique::{to_crlf, unique_name, with_info};

/// A message written to `tmp/` and fsynced, not yet visible. Dropping it
/// without [`Prepared::commit`] removes the temporary file.
#[derive(Debug)]
pub struct Prepared {
    store: Store,
    account: String,
    folder: FolderName,
    dir: PathBuf,
    account_dir: PathBuf,
    tmp: PathBuf,
    base: String,
    size: u64,
    info: Option<String>,
    armed: bool,
}

/// A committed (durable) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The folder it went to.
    pub folder: String,
    /// Its Maildir base name (identity).
    pub base_name: String,
    /// Its file name in `new/` or `cur/`.
    pub file_name: String,
    /// The full path of the file.
    pub path: PathBuf,
    /// Its size in octets (CRLF), the RFC822.SIZE.
    pub size: u64,
}

impl Store {
    /// Phase one of a delivery: normalises line endings to CRLF, checks
    /// the quota (`quota_bytes`, 0 = unlimited), writes
    /// `tmp/<unique>` and fsyncs it.
    ///
    /// # Errors
    /// [`StoreError::OverQuota`], [`StoreError::NoSuchFolder`] (also when
    /// the account was never created), [`StoreError::InvalidName`], I/O.
    pub async fn prepare(
        &self,
        account: &str,
        folder: &str,
        bytes: &[u8],
        quota_bytes: u64,
    ) -> Result<Prepared> {
        let folder = FolderName::new(folder)?;
        self.prepare_with(account, folder, bytes, quota_bytes, None, None)
            .await
    }

    /// Delivers in one go (prepare + commit); the SMTP fast path. The UID
    /// is assigned by the next [`Store::sync`] of the folder.
    ///
    /// # Errors
    /// As [`Store::prepare`] and [`Prepared::commit`].
    pub async fn deliver(
        &self,
        account: &str,
        folder: &str,
        bytes: &[u8],
        quota_bytes: u64,
    ) -> Result<Delivered> {
        self.prepare(account, folder, bytes, quota_bytes)
            .await?
            .commit()
            .await
    }

    /// Phase one with the APPEND options: `info` (flag letters) makes the
    /// commit go to `cur/`, `mtime` sets the internal date.
    pub(crate) async fn prepare_with(
        &self,
        account: &str,
        folder: FolderName,
        bytes: &[u8],
        quota_bytes: u64,
        info: Option<String>,
        mtime: Option<SystemTime>,
    ) -> Result<Prepared> {
        let dir = self.folder_dir(account, &folder)?;
        let account_dir = self.account_dir(account)?;
        let data = to_crlf(bytes).into_owned();
        let size = data.len() as u64;
        let base = unique_name(self.escaped_host(), size);
        let tmp = dir.join("tmp").join(&base);
        let (d, a, t, name) = (
            dir.clone(),
            account_dir.clone(),
            tmp.clone(),
            folder.to_string(),
        );
        blocking(move || {
            if !d.join("cur").is_dir() || !d.join("tmp").is_dir() {
                return Err(StoreError::NoSuchFolder(name));
            }
            if quota_bytes > 0 {
                let used = quota::usage(&a, Some(quota_bytes))?.bytes;
                if used.saturating_add(size) > quota_bytes {
                    return Err(StoreError::OverQuota {
                        limit: quota_bytes,
                        used,
                        needed: size,
                    });
                }
            }
            write_durable(&t, &data, mtime)
        })
        .await?;
        Ok(Prepared {
            store: self.clone(),
            account: account.to_string(),
            folder,
            dir,
            account_dir,
            tmp,
            base,
            size,
            info,
            armed: true,
        })
    }
}

impl Prepared {
    /// The message size in octets (CRLF), as it will be stored.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The unique base name the message will have.
    pub fn base_name(&self) -> &str {
        &self.base
    }

    /// Phase two: renames the file into `new/` (or `cur/`) and waits for
    /// an fsync of the directory that started after the rename (one fsync
    /// may serve several concurrent commits). When this returns `Ok`, the
    /// message is durable.
    ///
    /// # Errors
    /// I/O errors. If the rename failed the temporary file is removed; if
    /// only the directory fsync failed, the message may or may not survive
    /// a crash, so the caller must treat it as not delivered (a retry can
    /// then duplicate it, never lose it).
    pub async fn commit(self) -> Result<Delivered> {
        self.commit_inner(true).await
    }

    pub(crate) async fn commit_inner(mut self, notify: bool) -> Result<Delivered> {
        let (sub, file) = match &self.info {
            Some(info) => ("cur", with_info(&self.base, info)),
            None => ("new", self.base.clone()),
        };
        let target_dir = self.dir.join(sub);
        let path = target_dir.join(&file);
        let (tmp, p, acct, size) = (
            self.tmp.clone(),
            path.clone(),
            self.account_dir.clone(),
            self.size,
        );
        self.armed = false;
        blocking(move || {
            if let Err(e) = std::fs::rename(&tmp, &p) {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_err(&p)(e));
            }
            // The file is visible from here on, so it counts against the
            // quota even if the fsync below fails (it may well survive).
            quota::record(&acct, i64::try_from(size).unwrap_or(i64::MAX), 1);
            Ok(())
        })
        .await?;
        self.store.dir_syncs().sync(&target_dir).await?;
        if notify {
            self.store
                .notify(&self.account, self.folder.as_str(), EventKind::NewMessages);
        }
        Ok(Delivered {
            folder: self.folder.to_string(),
            base_name: self.base.clone(),
            file_name: file,
            path,
            size: self.size,
        })
    }

    /// Gives up: removes the temporary file. A failure to remove it is
    /// logged; the file is then cleaned up by a sync after 36 hours.
    pub async fn abort(mut self) {
        self.armed = false;
        let tmp = self.tmp.clone();
        let removed = blocking(move || match std::fs::remove_file(&tmp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&tmp)(e)),
        })
        .await;
        if let Err(e) = removed {
            tracing::warn!(error = %e, "cannot remove aborted delivery");
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if self.armed {
            // Small and local; not worth a blocking task.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
