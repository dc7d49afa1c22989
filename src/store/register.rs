//! Registering files this process just placed in `cur/` (APPEND, COPY):
//! under the folder lock, each gets the next UID — unless a concurrent
//! sync (maybe in another process) saw the file first and already gave
//! it one, in which case that UID is kept and only the flags and
//! keywords, which the sync could not know, are corrected.

use std::time::SystemTime;

use sqlx::AnyConnection;

use super::Store;
use super::cache::{FolderCache, refresh};
use super::error::{Result, StoreError};
use super::flags::Flags;
use super::index::{self, MessageRow};
use super::name::FolderName;
use super::types::{EventKind, secs_of};

/// A file in `cur/` to give a UID.
#[derive(Debug, Clone)]
pub(crate) struct NewItem {
    pub base: String,
    pub file: String,
    pub flags: Flags,
    pub size: u64,
    pub internal_date: i64,
}

impl Store {
    /// IMAP APPEND: stores the message in `cur/` with `flags` (and
    /// `internal_date`, default now, as its mtime), durably, then assigns
    /// its UID at once. Returns `(uidvalidity, uid)` for APPENDUID.
    ///
    /// # Errors
    /// As [`Store::prepare`]; [`StoreError::InvalidName`] for keywords
    /// that are not IMAP atoms; database errors (the message is then
    /// stored and gets its UID at the next sync).
    pub async fn append(
        &self,
        account: &str,
        folder: &str,
        bytes: &[u8],
        flags: &Flags,
        internal_date: Option<SystemTime>,
        quota_bytes: u64,
    ) -> Result<(u32, u32)> {
        flags.validate()?;
        let folder = FolderName::new(folder)?;
        let date = internal_date.unwrap_or_else(SystemTime::now);
        let prepared = self
            .prepare_with(
                account,
                folder.clone(),
                bytes,
                quota_bytes,
                Some(flags.maildir_info()),
                Some(date),
            )
            .await?;
        let delivered = prepared.commit_inner(false).await?;
        let item = NewItem {
            base: delivered.base_name,
            file: delivered.file_name,
            flags: flags.clone(),
            size: delivered.size,
            internal_date: secs_of(date),
        };
        let (uidvalidity, uids) = self.register(account, &folder, vec![item]).await?;
        self.notify(account, folder.as_str(), EventKind::NewMessages);
        let uid = uids.first().copied().ok_or(StoreError::NotFound)?;
        Ok((uidvalidity, uid))
    }

    /// Gives UIDs to `items` (in order); returns the folder's UIDVALIDITY
    /// and one UID per item.
    pub(crate) async fn register(
        &self,
        account: &str,
        folder: &FolderName,
        items: Vec<NewItem>,
    ) -> Result<(u32, Vec<u32>)> {
        let slot = self.folder_slot(account, folder)?;
        let mut cache = slot.lock().await;
        let result = self.register_in(&mut cache, account, folder, items).await;
        if result.is_err() {
            cache.state = None;
        }
        result
    }

    async fn register_in(
        &self,
        cache: &mut FolderCache,
        account: &str,
        folder: &FolderName,
        items: Vec<NewItem>,
    ) -> Result<(u32, Vec<u32>)> {
        // A missing row is created by a sync first (which may also index
        // our files; then their UIDs are kept below).
        let (mut wtx, row) = self.begin_locked(cache, account, folder).await?;
        let conn: &mut AnyConnection = &mut wtx.tx;
        let state = refresh(conn, cache, row).await?;
        let mut mb = state.mailbox;
        let modseq = mb.highest_modseq + 1;
        let mut uids = Vec::with_capacity(items.len());
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for item in &items {
            if let Some(e) = state.by_base(&item.base) {
                uids.push(e.row.uid);
                if e.row.flags != item.flags {
                    updates.push((e.row.uid, item.flags.clone()));
                }
                continue;
            }
            uids.push(mb.uidnext);
            inserts.push((
                MessageRow {
                    uid: mb.uidnext,
                    base: item.base.clone(),
                    flags: item.flags.clone(),
                    size: item.size,
                    internal_date: item.internal_date,
                    modseq,
                },
                item.file.clone(),
            ));
            mb.uidnext = mb.uidnext.saturating_add(1);
        }
        if inserts.is_empty() && updates.is_empty() {
            return Ok((mb.uidvalidity, uids));
        }
        let rows: Vec<MessageRow> = inserts.iter().map(|(r, _)| r.clone()).collect();
        index::insert_messages(conn, mb.id, &rows).await?;
        for (uid, flags) in &updates {
            index::update_flags(conn, mb.id, *uid, flags, modseq).await?;
        }
        mb.highest_modseq = modseq;
        index::set_counters(conn, &mb).await?;
        wtx.commit().await?;
        for (row, file) in inserts {
            let uid = row.uid;
            state.upsert(row);
            if let Some(e) = state.by_uid.get_mut(&uid) {
                e.file = file;
            }
        }
        for (uid, flags) in updates {
            if let Some(e) = state.by_uid.get_mut(&uid) {
                e.row.flags = flags;
                e.row.modseq = modseq;
            }
        }
        state.mailbox = mb;
        Ok((mb.uidvalidity, uids))
    }
}
