//! `sync`: bring the index in step with the Maildir.
//!
//! 1. Read the folder row (no lock) and refresh the cache to it. If a
//!    refresh was needed, read the row again: if it moved meanwhile, the
//!    cache may hold rows newer than its label, and step 3 is skipped.
//! 2. Scan: move `new/` to `cur/`, list `cur/`.
//! 3. If the cache is labelled with that row and lists exactly those
//!    files, nothing changed: return the cached snapshot. This is the warm
//!    path — one indexed query, two `readdir`s, no write transaction.
//! 4. Otherwise open the write transaction and lock the folder row
//!    (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE` on PostgreSQL), so one
//!    process at a time assigns UIDs. If the row changed since step 1,
//!    another process committed in between: refresh and list again, now
//!    under the lock, so the listing is not older than the index.
//! 5. Diff ([`super::diff`]), assign UIDs to new files in the order of
//!    their name's timestamp, delete rows of vanished files (after a
//!    confirming second listing: a file renamed by another program during
//!    `readdir` may be missed once), update changed flags; one new modseq
//!    for the whole transaction; commit.
//!
//! A folder directory without a row gets one here; if it holds a
//! `dovecot-uidlist`, its UIDVALIDITY and UIDs are imported.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sqlx::AnyConnection;

use super::Store;
use super::cache::{FolderCache, FolderState, refresh};
use super::diff::{Plan, plan};
use super::dovecot::{keywords_of_info, read_keywords, read_uidlist};
use super::error::{Result, StoreError, blocking, io_err};
use super::index::{self, MailboxRow, MessageRow};
use super::maildir::scan;
use super::name::FolderName;
use super::types::{AdoptedFolder, EventKind, FolderSnapshot, secs_of};
use super::unique::{crlf_size_of_file, field, name_time, split_name, unique_name, with_info};

/// UIDs and sizes imported from `dovecot-uidlist` (empty when the new
/// folder row has none).
#[derive(Debug, Default)]
pub(crate) struct Import {
    uids: HashMap<String, u32>,
    vsizes: HashMap<String, u64>,
}

/// A file found by a scan that is not indexed yet.
#[derive(Debug)]
struct NewFile {
    base: String,
    file: String,
    flags: super::flags::Flags,
    size: u64,
    date: i64,
    key: (u64, u32),
}

impl Store {
    /// Synchronises the index of `folder` with its Maildir and returns the
    /// folder's state. Files that appeared get UIDs, vanished ones are
    /// expunged, renamed ones update flags (see the module docs of
    /// `store::sync` for how several processes stay consistent).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`], [`StoreError::NoSuchFolder`] when the
    /// directory does not exist, I/O and database errors.
    pub async fn sync(&self, account: &str, folder: &str) -> Result<FolderSnapshot> {
        let folder = FolderName::new(folder)?;
        let slot = self.folder_slot(account, &folder)?;
        let mut cache = slot.lock().await;
        Ok(self.sync_in(&mut cache, account, &folder).await?.0)
    }

    /// [`Store::sync`] with the folder's cache slot already locked.
    /// Also reports what was imported when the folder row was created.
    pub(crate) async fn sync_in(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
    ) -> Result<(FolderSnapshot, Option<AdoptedFolder>)> {
        let dir = self.folder_dir(account, folder)?;
        // `trusted`: the cache holds exactly the rows of `pre`. A refresh
        // outside the lock may have read rows committed after `pre`; then
        // the counters moved and only the locked path may answer.
        let (pre, trusted) = {
            let mut conn = self.db().pool().acquire().await?;
            let pre = index::mailbox(&mut conn, account, folder.as_str(), "").await?;
            let mut trusted = pre.is_some();
            if let Some(row) = pre
                && cache.state.as_ref().is_none_or(|s| s.mailbox != row)
            {
                refresh(&mut conn, cache, row).await?;
                let post = index::mailbox(&mut conn, account, folder.as_str(), "").await?;
                trusted = post == pre;
            }
            (pre, trusted)
        };
        let listing = self.scan_folder(cache, folder, &dir).await?;
        if trusted
            && cache.matches(&listing)
            && let Some(state) = cache.state.as_ref()
        {
            return Ok((state.snapshot(), None));
        }
        let result = self
            .sync_write(cache, account, folder, &dir, pre, listing)
            .await;
        if result.is_err() {
            cache.state = None;
        }
        result
    }

    async fn scan_folder(
        &self,
        cache: &mut FolderCache,
        folder: &FolderName,
        dir: &Path,
    ) -> Result<Vec<String>> {
        let clean = cache.tmp_clean_due();
        let d = dir.to_path_buf();
        blocking(move || scan(&d, clean))
            .await?
            .ok_or_else(|| StoreError::NoSuchFolder(folder.to_string()))
    }

    async fn sync_write(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
        dir: &Path,
        pre: Option<MailboxRow>,
        mut listing: Vec<String>,
    ) -> Result<(FolderSnapshot, Option<AdoptedFolder>)> {
        cache.forget_listing();
        let mut wtx = self.db().begin_write().await?;
        let conn: &mut AnyConnection = &mut wtx.tx;
        let lock = self.db().for_update();
        let (row, import) = match index::mailbox(conn, account, folder.as_str(), lock).await? {
            Some(row) => (row, None),
            None => self.create_row(conn, account, folder, dir).await?,
        };
        if Some(row) != pre {
            listing = self.scan_folder(cache, folder, dir).await?;
        }
        let state = refresh(conn, cache, row).await?;
        let mut plan = plan(state, &listing);
        if !plan.gone.is_empty() {
            listing = self.scan_folder(cache, folder, dir).await?;
            plan = super::diff::plan(cache_state(cache)?, &listing);
        }
        let state = cache_state(cache)?;
        for (uid, file) in std::mem::take(&mut plan.renamed) {
            if let Some(e) = state.by_uid.get_mut(&uid) {
                e.file = file;
            }
        }
        if !plan.needs_write() && import.is_none() {
            drop(wtx);
            return Ok((state.snapshot(), None));
        }
        let new = self.stat_new(dir, &mut plan, import.as_ref()).await?;
        let report = apply(conn, state, plan, new, import.as_ref()).await?;
        wtx.commit().await?;
        let kinds = report.1;
        for kind in kinds {
            self.notify(account, folder.as_str(), kind);
        }
        let adopted = import.map(|_| AdoptedFolder {
            name: folder.to_string(),
            uidvalidity: state.mailbox.uidvalidity,
            messages: state.by_uid.len(),
            kept_uids: report.0,
            new_uids: state.by_uid.len() - report.0,
        });
        Ok((state.snapshot(), adopted))
    }

    /// Creates the folder row for an existing directory, importing
    /// `dovecot-uidlist` if there is one. If another process created the
    /// row meanwhile, returns (and locks) that one.
    async fn create_row(
        &self,
        conn: &mut AnyConnection,
        account: &str,
        folder: &FolderName,
        dir: &Path,
    ) -> Result<(MailboxRow, Option<Import>)> {
        let d = dir.to_path_buf();
        let uidlist = blocking(move || read_uidlist(&d)).await?;
        let lock = self.db().for_update();
        let imported = uidlist.as_ref().map(|l| l.uidvalidity);
        let uidvalidity = index::allocate_uidvalidity(conn, lock, account, imported).await?;
        let uidnext = uidlist.as_ref().map_or(1, |l| {
            let max = l.uids.values().copied().max().unwrap_or(0);
            l.nextuid.max(max.saturating_add(1))
        });
        match index::create_mailbox(conn, account, folder.as_str(), uidvalidity, uidnext).await? {
            Some(row) => {
                let import = uidlist.map_or_else(Import::default, |l| Import {
                    uids: l.uids,
                    vsizes: l.vsizes,
                });
                Ok((row, Some(import)))
            }
            None => {
                let row = index::mailbox(conn, account, folder.as_str(), lock).await?;
                let row = row.ok_or_else(|| StoreError::NoSuchFolder(folder.to_string()))?;
                Ok((row, None))
            }
        }
    }

    /// Renames duplicates to fresh names, then stats every new file (size,
    /// date, keyword letters). Files that vanished meanwhile are dropped.
    async fn stat_new(
        &self,
        dir: &Path,
        plan: &mut Plan,
        import: Option<&Import>,
    ) -> Result<Vec<NewFile>> {
        let cur = dir.join("cur");
        let dir = dir.to_path_buf();
        let files = std::mem::take(&mut plan.new_files);
        let dups = std::mem::take(&mut plan.duplicates);
        let vsizes = import.map(|i| i.vsizes.clone()).unwrap_or_default();
        let host = self.escaped_host().to_string();
        blocking(move || {
            let mut files = files;
            for dup in dups {
                if let Some(renamed) = rename_duplicate(&cur, &dup, &host)? {
                    files.push(renamed);
                }
            }
            let needs_kw = files.iter().any(|f| {
                split_name(f)
                    .1
                    .is_some_and(|i| i.bytes().any(|b| b.is_ascii_lowercase()))
            });
            let keywords = if needs_kw {
                read_keywords(&dir)?
            } else {
                Vec::new()
            };
            let mut out = Vec::with_capacity(files.len());
            for file in files {
                if let Some(nf) = stat_one(&cur, file, &vsizes, &keywords)? {
                    out.push(nf);
                }
            }
            out.sort_by(|a, b| (a.key, &a.base).cmp(&(b.key, &b.base)));
            Ok(out)
        })
        .await
    }
}

fn cache_state(cache: &mut FolderCache) -> Result<&mut FolderState> {
    cache.state.as_mut().ok_or_else(|| StoreError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other("folder index vanished during sync"),
    })
}

fn rename_duplicate(cur: &Path, file: &str, host: &str) -> Result<Option<String>> {
    let (base, info) = split_name(file);
    let path = cur.join(file);
    let size = match field(base, 'W') {
        Some(w) => w,
        None => match crlf_size_of_file(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        },
    };
    let fresh = with_info(&unique_name(host, size), info.unwrap_or(""));
    match std::fs::rename(&path, cur.join(&fresh)) {
        Ok(()) => {
            tracing::warn!(
                file,
                renamed = fresh,
                "duplicate Maildir base name, renamed"
            );
            Ok(Some(fresh))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn stat_one(
    cur: &Path,
    file: String,
    vsizes: &HashMap<String, u64>,
    keywords: &[Option<String>],
) -> Result<Option<NewFile>> {
    let path = cur.join(&file);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let (base, info) = split_name(&file);
    let info = info.unwrap_or("");
    let size = match field(base, 'W').or_else(|| vsizes.get(base).copied()) {
        Some(w) => w,
        None => crlf_size_of_file(&path).map_err(io_err(&path))?,
    };
    let mtime = meta.modified().map(secs_of).unwrap_or(0);
    let mut flags = super::flags::Flags::from_maildir_info(info);
    flags.keywords.extend(keywords_of_info(info, keywords));
    let key = name_time(base).unwrap_or((u64::try_from(mtime).unwrap_or(0), 0));
    Ok(Some(NewFile {
        base: base.to_string(),
        file: file.clone(),
        flags,
        size,
        date: mtime,
        key,
    }))
}

/// Writes the plan to the database and the cache state. Returns how many
/// new files kept an imported UID and which events to send.
async fn apply(
    conn: &mut AnyConnection,
    state: &mut FolderState,
    plan: Plan,
    new: Vec<NewFile>,
    import: Option<&Import>,
) -> Result<(usize, Vec<EventKind>)> {
    let mut mb = state.mailbox;
    let modseq = mb.highest_modseq + 1;
    let mut kinds = Vec::new();
    if !plan.gone.is_empty() {
        index::delete_messages(conn, mb.id, &plan.gone).await?;
        kinds.push(EventKind::Expunged);
    }
    for (uid, _, flags) in &plan.changed {
        index::update_flags(conn, mb.id, *uid, flags, modseq).await?;
    }
    if !plan.changed.is_empty() {
        kinds.push(EventKind::FlagsChanged);
    }
    let mut used: HashSet<u32> = state.by_uid.keys().copied().collect();
    let mut kept = 0;
    let mut rows = Vec::with_capacity(new.len());
    let mut files = Vec::with_capacity(new.len());
    for nf in new {
        let imported = import
            .and_then(|i| i.uids.get(&nf.base).copied())
            .filter(|u| *u < mb.uidnext && !used.contains(u));
        let uid = match imported {
            Some(u) => {
                kept += 1;
                u
            }
            None => {
                let u = mb.uidnext;
                mb.uidnext = mb.uidnext.saturating_add(1);
                u
            }
        };
        used.insert(uid);
        files.push(nf.file);
        rows.push(MessageRow {
            uid,
            base: nf.base,
            flags: nf.flags,
            size: nf.size,
            internal_date: nf.date,
            modseq,
        });
    }
    index::insert_messages(conn, mb.id, &rows).await?;
    if !rows.is_empty() {
        kinds.push(EventKind::NewMessages);
    }
    mb.highest_modseq = modseq;
    index::set_counters(conn, &mb).await?;
    for uid in plan.gone {
        state.remove(uid);
    }
    for (uid, file, flags) in plan.changed {
        if let Some(e) = state.by_uid.get_mut(&uid) {
            e.row.flags = flags;
            e.row.modseq = modseq;
            e.file = file;
        }
    }
    for (row, file) in rows.into_iter().zip(files) {
        let uid = row.uid;
        state.upsert(row);
        if let Some(e) = state.by_uid.get_mut(&uid) {
            e.file = file;
        }
    }
    state.mailbox = mb;
    Ok((kept, kinds))
}
