//! The in-process cache of one folder's index, so a sync of an unchanged
//! folder needs one small query and two `readdir`s instead of loading
//! every row.
//!
//! A [`FolderState`] is labelled with the `mailboxes` row (id,
//! UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ) it corresponds to. Every change of
//! a folder's messages also changes UIDNEXT (new rows) or HIGHESTMODSEQ
//! (flag changes, expunges), in the same transaction; so when the label
//! equals the row in the database, the cached rows equal the table. When
//! it differs, [`refresh`] fetches only rows with a newer modseq and drops
//! rows that disappeared. The label is always the row read *before* the
//! messages were, so a refresh racing with another writer leaves a state
//! that the next comparison sees as stale, never one that looks fresh.
//!
//! Owns: that state and the cached file name of each message. Must not:
//! write to the database or the filesystem.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::AnyConnection;

use super::error::Result;
use super::index::{self, MailboxRow, MessageRow};
use super::types::{FolderSnapshot, MessageMeta, time_of};
use super::unique::{split_name, with_info};

/// How often a scan also cleans the folder's `tmp/`.
const TMP_CLEAN_INTERVAL: Duration = Duration::from_secs(3600);

/// One indexed message and the name its file had when last seen.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub row: MessageRow,
    pub file: String,
}

/// A folder's index rows, labelled with the folder row they match.
#[derive(Debug)]
pub(crate) struct FolderState {
    pub mailbox: MailboxRow,
    pub by_uid: BTreeMap<u32, Entry>,
    pub by_base: HashMap<String, u32>,
}

/// Per-folder cache slot; its async mutex also serialises this process's
/// work on the folder.
#[derive(Debug, Default)]
pub(crate) struct FolderCache {
    pub state: Option<FolderState>,
    /// The last `cur/` listing found to match the state, in `readdir`
    /// order, with the label the state had then. An unchanged directory
    /// lists in the same order, so comparing against it is a cheap first
    /// check before [`FolderState::listing_matches`].
    verified: Option<(MailboxRow, Vec<String>)>,
    last_tmp_clean: Option<Instant>,
}

impl FolderCache {
    /// Whether this scan should clean `tmp/` (once an hour per process).
    pub fn tmp_clean_due(&mut self) -> bool {
        let due = self
            .last_tmp_clean
            .is_none_or(|t| t.elapsed() >= TMP_CLEAN_INTERVAL);
        if due {
            self.last_tmp_clean = Some(Instant::now());
        }
        due
    }

    /// Whether `listing` is exactly the state's files (see
    /// [`FolderState::listing_matches`]); remembers a match.
    pub fn matches(&mut self, listing: &[String]) -> bool {
        let Some(state) = self.state.as_ref() else {
            return false;
        };
        if let Some((label, seen)) = &self.verified
            && *label == state.mailbox
            && seen.as_slice() == listing
        {
            return true;
        }
        if !state.listing_matches(listing) {
            return false;
        }
        self.verified = Some((state.mailbox, listing.to_vec()));
        true
    }

    /// Forgets the remembered listing (the state's file names are about
    /// to change without a change of label).
    pub fn forget_listing(&mut self) {
        self.verified = None;
    }
}

impl FolderState {
    /// A state for `mailbox` holding `rows`.
    pub fn from_rows(mailbox: MailboxRow, rows: Vec<MessageRow>) -> FolderState {
        let mut s = FolderState {
            mailbox,
            by_uid: BTreeMap::new(),
            by_base: HashMap::with_capacity(rows.len()),
        };
        for row in rows {
            s.upsert(row);
        }
        s
    }

    /// Whether `row` is the same folder incarnation (same id and
    /// UIDVALIDITY), so an incremental refresh is possible.
    pub fn same_mailbox(&self, row: &MailboxRow) -> bool {
        self.mailbox.id == row.id && self.mailbox.uidvalidity == row.uidvalidity
    }

    /// Inserts or replaces a row, keeping the known file name when the
    /// file's part of the flags did not change.
    pub fn upsert(&mut self, row: MessageRow) {
        let guess = with_info(&row.base, &row.flags.maildir_info());
        let file = match self.by_uid.get(&row.uid) {
            Some(old) if old.row.base == row.base && old.row.flags.same_system(&row.flags) => {
                old.file.clone()
            }
            Some(old) => {
                self.by_base.remove(&old.row.base);
                guess
            }
            None => guess,
        };
        self.by_base.insert(row.base.clone(), row.uid);
        self.by_uid.insert(row.uid, Entry { row, file });
    }

    /// Forgets a message.
    pub fn remove(&mut self, uid: u32) -> Option<Entry> {
        let e = self.by_uid.remove(&uid)?;
        self.by_base.remove(&e.row.base);
        Some(e)
    }

    /// The entry whose base name is `base`.
    pub fn by_base(&self, base: &str) -> Option<&Entry> {
        self.by_base.get(base).and_then(|u| self.by_uid.get(u))
    }

    /// Whether `cur/` holds exactly the cached files, name for name.
    pub fn listing_matches(&self, listing: &[String]) -> bool {
        listing.len() == self.by_uid.len()
            && listing
                .iter()
                .all(|f| self.by_base(split_name(f).0).is_some_and(|e| e.file == *f))
    }

    /// The API view of the state.
    pub fn snapshot(&self) -> FolderSnapshot {
        FolderSnapshot {
            uidvalidity: self.mailbox.uidvalidity,
            uidnext: self.mailbox.uidnext,
            highest_modseq: self.mailbox.highest_modseq,
            messages: self
                .by_uid
                .values()
                .map(|e| MessageMeta {
                    uid: e.row.uid,
                    flags: e.row.flags.clone(),
                    size: e.row.size,
                    internal_date: time_of(e.row.internal_date),
                    modseq: e.row.modseq,
                })
                .collect(),
        }
    }
}

/// Brings `cache` in step with the folder row `row` (read before this
/// call): incrementally when it holds the same folder incarnation, by a
/// full load otherwise.
///
/// # Errors
/// Database errors.
pub(crate) async fn refresh<'a>(
    conn: &mut AnyConnection,
    cache: &'a mut FolderCache,
    row: MailboxRow,
) -> Result<&'a mut FolderState> {
    let state = match cache.state.take() {
        Some(s) if s.same_mailbox(&row) => cache.state.insert(s),
        _ => {
            let rows = index::messages(conn, row.id, None).await?;
            return Ok(cache.state.insert(FolderState::from_rows(row, rows)));
        }
    };
    if state.mailbox == row {
        return Ok(state);
    }
    for changed in index::messages(conn, row.id, Some(state.mailbox.highest_modseq)).await? {
        state.upsert(changed);
    }
    if index::count(conn, row.id).await? != state.by_uid.len() {
        let live: HashSet<u32> = index::uids(conn, row.id).await?.into_iter().collect();
        let gone: Vec<u32> = state
            .by_uid
            .keys()
            .filter(|u| !live.contains(u))
            .copied()
            .collect();
        for uid in gone {
            state.remove(uid);
        }
    }
    state.mailbox = row;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::flags::Flags;

    fn row(uid: u32, base: &str, info: &str) -> MessageRow {
        MessageRow {
            uid,
            base: base.into(),
            flags: Flags::from_maildir_info(info),
            size: 10,
            internal_date: 1,
            modseq: 1,
        }
    }

    #[test]
    fn listing_comparison() {
        let mb = MailboxRow {
            id: 1,
            uidvalidity: 5,
            uidnext: 3,
            highest_modseq: 1,
        };
        let mut s = FolderState::from_rows(mb, vec![row(1, "a", "S"), row(2, "b", "")]);
        assert!(s.listing_matches(&["b:2,".into(), "a:2,S".into()]));
        assert!(!s.listing_matches(&["b:2,".into(), "a:2,FS".into()]));
        assert!(!s.listing_matches(&["b:2,".into()]));
        assert!(!s.listing_matches(&["b:2,".into(), "a:2,S".into(), "c:2,".into()]));
        assert!(!s.listing_matches(&["a:2,S".into(), "a:2,F".into()]));
        s.upsert(row(1, "a", "FS"));
        assert_eq!(s.by_base("a").map(|e| e.file.as_str()), Some("a:2,FS"));
        assert_eq!(s.snapshot().messages.len(), 2);
        assert!(s.remove(2).is_some());
        assert!(s.by_base("b").is_none());
    }
}
