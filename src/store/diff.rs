//! Comparing a `cur/` listing with the index: the pure half of a sync.
//!
//! A message's identity is its base name (the file name before `:2,`):
//! it survives flag changes and the move from `new/` to `cur/`. So a
//! listed base the index lacks is a new message, an indexed base no
//! longer listed is an expunged one, and a base listed with other system
//! flag letters had its flags changed (the file name is the truth for
//! system flags). Two files with the same base (another program copied
//! one) cannot share an identity: all but one are renamed to fresh names
//! and then count as new, as Dovecot does.

use std::collections::{BTreeMap, HashSet};

use super::cache::FolderState;
use super::flags::Flags;
use super::unique::split_name;

/// What a sync must change.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Listed files whose base is not indexed.
    pub new_files: Vec<String>,
    /// Extra files with an already-taken base; they get fresh names.
    pub duplicates: Vec<String>,
    /// Indexed UIDs whose file is gone.
    pub gone: Vec<u32>,
    /// `(uid, file, new flags)` where the file's system flags differ.
    pub changed: Vec<(u32, String, Flags)>,
    /// `(uid, file)` renamed without a flag change (cache only).
    pub renamed: Vec<(u32, String)>,
}

impl Plan {
    /// Whether the index (database) must change.
    pub fn needs_write(&self) -> bool {
        !(self.new_files.is_empty()
            && self.duplicates.is_empty()
            && self.gone.is_empty()
            && self.changed.is_empty())
    }
}

/// Computes the plan for `listing` (file names in `cur/`).
pub(crate) fn plan(state: &FolderState, listing: &[String]) -> Plan {
    let mut by_base: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for file in listing {
        by_base.entry(split_name(file).0).or_default().push(file);
    }
    let mut plan = Plan::default();
    let mut seen: HashSet<u32> = HashSet::with_capacity(listing.len());
    for (base, mut files) in by_base {
        files.sort();
        let entry = state.by_base(base);
        let keep = entry
            .and_then(|e| files.iter().position(|f| **f == e.file))
            .unwrap_or(0);
        let kept = files.remove(keep);
        plan.duplicates.extend(files.into_iter().cloned());
        let Some(entry) = entry else {
            plan.new_files.push(kept.clone());
            continue;
        };
        seen.insert(entry.row.uid);
        if *kept == entry.file {
            continue;
        }
        let on_disk = Flags::from_maildir_info(split_name(kept).1.unwrap_or(""));
        if on_disk.same_system(&entry.row.flags) {
            plan.renamed.push((entry.row.uid, kept.clone()));
        } else {
            let flags = entry.row.flags.with_system_of(&on_disk);
            plan.changed.push((entry.row.uid, kept.clone(), flags));
        }
    }
    plan.gone = state
        .by_uid
        .keys()
        .filter(|u| !seen.contains(u))
        .copied()
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::{MailboxRow, MessageRow};

    fn state() -> FolderState {
        let mb = MailboxRow {
            id: 1,
            uidvalidity: 1,
            uidnext: 4,
            highest_modseq: 1,
        };
        let row = |uid, base: &str, flags: Flags| MessageRow {
            uid,
            base: base.into(),
            flags,
            size: 1,
            internal_date: 0,
            modseq: 1,
        };
        FolderState::from_rows(
            mb,
            vec![
                row(1, "a", Flags::from_columns("S", "work")),
                row(2, "b", Flags::default()),
                row(3, "c", Flags::default()),
            ],
        )
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unchanged_listing_needs_nothing() {
        let p = plan(&state(), &names(&["a:2,S", "b:2,", "c:2,"]));
        assert!(!p.needs_write());
        assert!(p.renamed.is_empty());
    }

    #[test]
    fn new_gone_changed() {
        let p = plan(&state(), &names(&["a:2,FS", "b:2,", "d:2,T"]));
        assert_eq!(p.new_files, ["d:2,T"]);
        assert_eq!(p.gone, [3]);
        assert_eq!(p.changed.len(), 1);
        let (uid, file, flags) = &p.changed[0];
        assert_eq!((*uid, file.as_str()), (1, "a:2,FS"));
        assert_eq!(*flags, Flags::from_columns("FS", "work"));
    }

    #[test]
    fn keyword_letters_alone_are_a_rename() {
        let p = plan(&state(), &names(&["a:2,Sa", "b:2,", "c:2,"]));
        assert!(!p.needs_write());
        assert_eq!(p.renamed, [(1, "a:2,Sa".to_string())]);
    }

    #[test]
    fn duplicate_bases_are_split() {
        let p = plan(
            &state(),
            &names(&["a:2,F", "a:2,S", "b:2,", "c:2,", "x:2,", "x:2,S"]),
        );
        assert_eq!(p.duplicates, ["a:2,F", "x:2,S"]);
        assert_eq!(p.new_files, ["x:2,"]);
        assert!(p.changed.is_empty() && p.gone.is_empty());
    }
}
