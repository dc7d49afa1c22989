//! COPY and MOVE between folders of one account.
//!
//! Copy hard-links each file under a fresh unique name into the
//! destination's `cur/` (falling back to copy + fsync + rename where links
//! are impossible), then registers the new files like APPEND does, with
//! the source's flags, keywords and internal date.
//!
//! Move renames each file (same base name: it is the same message) into
//! the destination's `cur/`, and in the same transaction deletes the
//! source rows and inserts destination rows, holding both folder rows
//! locked (in name order, so two moves in opposite directions cannot
//! deadlock). A crash between rename and commit leaves the file in the
//! destination only; the next syncs expunge it from the source and give
//! it a new UID in the destination: never two UIDs, never lost.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::Store;
use super::cache::{FolderCache, refresh};
use super::error::{Result, StoreError, blocking, io_err};
use super::index::{self, MailboxRow, MessageRow};
use super::maildir::{find_file, fsync_dir};
use super::name::FolderName;
use super::quota;
use super::register::NewItem;
use super::types::{CopyResult, EventKind};
use super::unique::{split_name, unique_name, with_info};
use crate::db::WriteTx;

/// A source message to copy or move.
#[derive(Debug, Clone)]
struct Source {
    uid: u32,
    row: MessageRow,
    file: String,
}

fn pick(cache: &FolderCache, uids: &[u32]) -> Vec<Source> {
    let wanted: BTreeSet<u32> = uids.iter().copied().collect();
    let Some(state) = cache.state.as_ref() else {
        return Vec::new();
    };
    wanted
        .into_iter()
        .filter_map(|uid| {
            state.by_uid.get(&uid).map(|e| Source {
                uid,
                row: e.row.clone(),
                file: e.file.clone(),
            })
        })
        .collect()
}

fn require_dir(dir: &Path, folder: &FolderName) -> Result<()> {
    if dir.join("cur").is_dir() {
        Ok(())
    } else {
        Err(StoreError::NoSuchFolder(folder.to_string()))
    }
}

impl Store {
    /// Copies messages `uids` of `from` into `to` (IMAP COPY / UID COPY).
    /// Unknown UIDs are skipped. Returns the destination's UIDVALIDITY and
    /// the `(source, destination)` UID pairs (COPYUID). The quota is not
    /// checked (copies are hard links where possible) but its usage is
    /// updated.
    ///
    /// # Errors
    /// Folder errors ([`StoreError::NoSuchFolder`] for either), I/O and
    /// database errors.
    pub async fn copy(
        &self,
        account: &str,
        from: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<CopyResult> {
        let (from, to) = (FolderName::new(from)?, FolderName::new(to)?);
        let (src_dir, dst_dir) = (
            self.folder_dir(account, &from)?,
            self.folder_dir(account, &to)?,
        );
        let account_dir = self.account_dir(account)?;
        let sources = {
            let slot = self.folder_slot(account, &from)?;
            let mut cache = slot.lock().await;
            self.sync_in(&mut cache, account, &from).await?;
            pick(&cache, uids)
        };
        let host = self.escaped_host().to_string();
        let (to2, jobs) = (to.clone(), sources.clone());
        let placed = blocking(move || {
            require_dir(&dst_dir, &to2)?;
            let mut out = Vec::with_capacity(jobs.len());
            let mut bytes = 0u64;
            for s in &jobs {
                let base = unique_name(&host, s.row.size);
                let file = with_info(&base, &s.row.flags.maildir_info());
                let placed = link_or_copy(&src_dir, &s.row.base, &s.file, &dst_dir, &base, &file)?;
                if let Some(len) = placed {
                    bytes += len;
                }
                out.push(placed.map(|_| (base, file)));
            }
            fsync_dir(&dst_dir.join("cur"))?;
            let count = out.iter().flatten().count();
            quota::record(
                &account_dir,
                i64::try_from(bytes).unwrap_or(0),
                count as i64,
            );
            Ok(out)
        })
        .await?;
        let mut pairs_src = Vec::new();
        let mut items = Vec::new();
        for (s, placed) in sources.into_iter().zip(placed) {
            if let Some((base, file)) = placed {
                pairs_src.push(s.uid);
                items.push(NewItem {
                    base,
                    file,
                    flags: s.row.flags,
                    size: s.row.size,
                    internal_date: s.row.internal_date,
                });
            }
        }
        let (uidvalidity, new_uids) = self.register(account, &to, items).await?;
        if !new_uids.is_empty() {
            self.notify(account, to.as_str(), EventKind::NewMessages);
        }
        Ok(CopyResult {
            uidvalidity,
            pairs: pairs_src.into_iter().zip(new_uids).collect(),
        })
    }

    /// Moves messages `uids` of `from` into `to` (IMAP MOVE, RFC 6851):
    /// same result shape as [`Store::copy`]; the source UIDs are expunged.
    ///
    /// # Errors
    /// As [`Store::copy`].
    pub async fn move_messages(
        &self,
        account: &str,
        from: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<CopyResult> {
        let (src, dst) = (FolderName::new(from)?, FolderName::new(to)?);
        if src == dst {
            let result = self.copy(account, from, uids, to).await?;
            let moved: Vec<u32> = result.pairs.iter().map(|p| p.0).collect();
            self.expunge(account, from, &moved).await?;
            return Ok(result);
        }
        let (slot_s, slot_d) = (
            self.folder_slot(account, &src)?,
            self.folder_slot(account, &dst)?,
        );
        let (mut cs, mut cd) = if src < dst {
            let a = slot_s.lock().await;
            (a, slot_d.lock().await)
        } else {
            let b = slot_d.lock().await;
            (slot_s.lock().await, b)
        };
        let result = self
            .move_in(&mut cs, &mut cd, account, (&src, &dst), uids)
            .await;
        if result.is_err() {
            cs.state = None;
            cd.state = None;
        }
        let result = result?;
        if !result.pairs.is_empty() {
            self.notify(account, src.as_str(), EventKind::Expunged);
            self.notify(account, dst.as_str(), EventKind::NewMessages);
        }
        Ok(result)
    }

    async fn move_in(
        &self,
        cs: &mut FolderCache,
        cd: &mut FolderCache,
        account: &str,
        (src, dst): (&FolderName, &FolderName),
        uids: &[u32],
    ) -> Result<CopyResult> {
        let (src_dir, dst_dir) = (
            self.folder_dir(account, src)?,
            self.folder_dir(account, dst)?,
        );
        self.sync_in(cs, account, src).await?;
        self.sync_in(cd, account, dst).await?;
        let mut wtx = self.db().begin_write().await?;
        let (rs, rd) = self.lock_pair(&mut wtx, account, src, dst).await?;
        refresh(&mut wtx.tx, cs, rs).await?;
        let ds = refresh(&mut wtx.tx, cd, rd).await?;
        let sources = pick(cs, uids);
        let moved = move_files(src_dir, dst_dir, dst, &sources).await?;
        let (mut ms, mut md) = (rs, rd);
        ms.highest_modseq += 1;
        md.highest_modseq += 1;
        let (mut pairs, mut gone, mut inserts) = (Vec::new(), Vec::new(), Vec::new());
        for (s, file) in sources.into_iter().zip(moved) {
            let Some(file) = file else { continue };
            gone.push(s.uid);
            let mut row = s.row;
            row.modseq = md.highest_modseq;
            if let Some(existing) = ds.by_base(&row.base) {
                // Left over by an interrupted move: same message, keep its UID.
                row.uid = existing.row.uid;
                index::update_flags(&mut wtx.tx, md.id, row.uid, &row.flags, row.modseq).await?;
            } else {
                row.uid = md.uidnext;
                md.uidnext = md.uidnext.saturating_add(1);
                inserts.push(row.clone());
            }
            pairs.push((s.uid, row.uid));
            ds.upsert(row.clone());
            if let Some(e) = ds.by_uid.get_mut(&row.uid) {
                e.file = file;
            }
        }
        index::delete_messages(&mut wtx.tx, ms.id, &gone).await?;
        index::insert_messages(&mut wtx.tx, md.id, &inserts).await?;
        index::set_counters(&mut wtx.tx, &ms).await?;
        index::set_counters(&mut wtx.tx, &md).await?;
        wtx.commit().await?;
        ds.mailbox = md;
        if let Some(ss) = cs.state.as_mut() {
            for uid in &gone {
                ss.remove(*uid);
            }
            ss.mailbox = ms;
        }
        Ok(CopyResult {
            uidvalidity: md.uidvalidity,
            pairs,
        })
    }
    /// Locks both folder rows, in name order (so two moves in opposite
    /// directions cannot deadlock on PostgreSQL).
    async fn lock_pair(
        &self,
        wtx: &mut WriteTx,
        account: &str,
        src: &FolderName,
        dst: &FolderName,
    ) -> Result<(MailboxRow, MailboxRow)> {
        let lock = self.db().for_update();
        let (first, second) = if src < dst { (src, dst) } else { (dst, src) };
        let mut rows = Vec::with_capacity(2);
        for name in [first, second] {
            let row = index::mailbox(&mut wtx.tx, account, name.as_str(), lock).await?;
            rows.push(row.ok_or_else(|| StoreError::NoSuchFolder(name.to_string()))?);
        }
        Ok(if src < dst {
            (rows[0], rows[1])
        } else {
            (rows[1], rows[0])
        })
    }
}

/// Renames the sources' files into `dst_dir/cur/` (see [`move_file`]) and
/// fsyncs it; one entry per source, `None` where the file is gone.
async fn move_files(
    src_dir: PathBuf,
    dst_dir: PathBuf,
    dst: &FolderName,
    sources: &[Source],
) -> Result<Vec<Option<String>>> {
    let (jobs, dst) = (sources.to_vec(), dst.clone());
    blocking(move || {
        require_dir(&dst_dir, &dst)?;
        let mut out = Vec::with_capacity(jobs.len());
        for s in &jobs {
            out.push(move_file(&src_dir, &s.row.base, &s.file, &dst_dir)?);
        }
        fsync_dir(&dst_dir.join("cur"))?;
        Ok(out)
    })
    .await
}

/// Places a copy of a source message at `dst_dir/cur/file`: a hard link,
/// or a real copy (fsynced, same mtime) where linking fails. Returns the
/// size, or `None` if the source is gone.
fn link_or_copy(
    src_dir: &Path,
    src_base: &str,
    src_file: &str,
    dst_dir: &Path,
    base: &str,
    file: &str,
) -> Result<Option<u64>> {
    let mut src = src_dir.join("cur").join(src_file);
    let target = dst_dir.join("cur").join(file);
    for attempt in 0..2 {
        let len = match std::fs::metadata(&src) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == ErrorKind::NotFound && attempt == 0 => {
                match find_file(src_dir, src_base)? {
                    Some((p, _)) => {
                        src = p;
                        continue;
                    }
                    None => return Ok(None),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&src)(e)),
        };
        match std::fs::hard_link(&src, &target) {
            Ok(()) => return Ok(Some(len)),
            Err(e) if e.kind() == ErrorKind::NotFound && attempt == 0 => {
                if let Some((p, _)) = find_file(src_dir, src_base)? {
                    src = p;
                    continue;
                }
                return Ok(None);
            }
            Err(_) => return copy_file(&src, dst_dir, base, &target).map(Some),
        }
    }
    Ok(None)
}

fn copy_file(src: &Path, dst_dir: &Path, base: &str, target: &Path) -> Result<u64> {
    let tmp = dst_dir.join("tmp").join(base);
    let bytes = std::fs::read(src).map_err(io_err(src))?;
    let mtime = std::fs::metadata(src).and_then(|m| m.modified()).ok();
    super::maildir::write_durable(&tmp, &bytes, mtime)?;
    if let Err(e) = std::fs::rename(&tmp, target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(target)(e));
    }
    Ok(bytes.len() as u64)
}

/// Renames a message file into `dst_dir/cur/` keeping its name; looks it
/// up by base name if it was renamed. `None` if it is gone.
fn move_file(src_dir: &Path, base: &str, file: &str, dst_dir: &Path) -> Result<Option<String>> {
    let cur = dst_dir.join("cur");
    match std::fs::rename(src_dir.join("cur").join(file), cur.join(file)) {
        Ok(()) => return Ok(Some(file.to_string())),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&src_dir.join("cur").join(file))(e)),
    }
    let Some((path, found)) = find_file(src_dir, base)? else {
        return Ok(None);
    };
    let name = if split_name(&found).1.is_some() {
        found
    } else {
        with_info(base, "")
    };
    match std::fs::rename(&path, cur.join(&name)) {
        Ok(()) => Ok(Some(name)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::maildir::create_subdirs;

    #[test]
    fn copy_fallback_is_complete_and_keeps_mtime() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        for d in [&src, &dst] {
            std::fs::create_dir(d).map_err(io_err(d))?;
            create_subdirs(d, true)?;
        }
        let from = src.join("cur/a:2,S");
        std::fs::write(&from, b"Subject: x\r\n\r\nbody\r\n").map_err(io_err(&from))?;
        let target = dst.join("cur/b:2,S");
        assert_eq!(copy_file(&from, &dst, "b", &target)?, 20);
        let read = |p: &Path| std::fs::read(p).map_err(io_err(p));
        assert_eq!(read(&target)?, read(&from)?);
        let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        assert_eq!(mtime(&target), mtime(&from));
        assert_eq!(
            std::fs::read_dir(dst.join("tmp")).map(|d| d.count()).ok(),
            Some(0)
        );
        // A source renamed meanwhile is found by its base name.
        std::fs::rename(&from, src.join("cur/a:2,FS")).map_err(io_err(&from))?;
        let placed = link_or_copy(&src, "a", "a:2,S", &dst, "c", "c:2,FS")?;
        assert_eq!(placed, Some(20));
        assert_eq!(
            link_or_copy(&src, "gone", "gone:2,", &dst, "d", "d:2,")?,
            None
        );
        Ok(())
    }
}
