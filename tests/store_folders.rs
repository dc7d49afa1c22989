//! Folder operations and COPY/MOVE on every database.

mod common;

use std::error::Error;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use postel::store::{FlagMode, Flags, FolderInfo, SpecialUse, Store, StoreError};

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "bob@example.net";

async fn store_for(t: &common::TestDb) -> Result<Store, StoreError> {
    let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
    store.create_account(ACCOUNT).await?;
    Ok(store)
}

fn names(list: &[FolderInfo]) -> Vec<&str> {
    list.iter().map(|f| f.name.as_str()).collect()
}

fn message(n: usize) -> Vec<u8> {
    format!("Subject: m{n}\r\n\r\nbody {n}\r\n").into_bytes()
}

async fn fill(store: &Store, folder: &str, n: usize) -> Result<Vec<u32>, StoreError> {
    for i in 0..n {
        store.deliver(ACCOUNT, folder, &message(i), 0).await?;
    }
    let snap = store.sync(ACCOUNT, folder).await?;
    Ok(snap.messages.iter().map(|m| m.uid).collect())
}

#[tokio::test]
async fn default_folders_with_special_use() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let list = store.list_folders(ACCOUNT).await?;
        assert_eq!(
            names(&list),
            ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"],
            "{}",
            t.label
        );
        let sent = list
            .iter()
            .find(|f| f.name == "Sent")
            .and_then(|f| f.special_use);
        assert_eq!(sent, Some(SpecialUse::Sent));
        assert_eq!(sent.map(|s| s.attribute()), Some("\\Sent"));
        assert_eq!(list[0].special_use, None);
        let root = store.account_dir(ACCOUNT)?;
        for dir in [".Sent", ".Drafts", ".Trash", ".Junk", ".Archive"] {
            assert!(root.join(dir).join("maildirfolder").is_file(), "{dir}");
            for sub in ["cur", "new", "tmp"] {
                assert!(root.join(dir).join(sub).is_dir(), "{dir}/{sub}");
            }
        }
        assert!(!root.join("maildirfolder").exists());
        // Every default folder has its own, distinct UIDVALIDITY.
        let mut uvs = Vec::new();
        for f in &list {
            uvs.push(store.sync(ACCOUNT, &f.name).await?.uidvalidity);
        }
        uvs.sort();
        uvs.dedup();
        assert_eq!(uvs.len(), list.len());
    }
    Ok(())
}

#[tokio::test]
async fn create_nested_and_unicode_folders() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        store.create_folder(ACCOUNT, "Projects/2024/Q1").await?;
        store.create_folder(ACCOUNT, "Entwürfe").await?;
        store.create_folder(ACCOUNT, "Tom & Jerry").await?;
        store.create_folder(ACCOUNT, "受信箱/📧").await?;
        let root = store.account_dir(ACCOUNT)?;
        for dir in [
            ".Projects",
            ".Projects.2024",
            ".Projects.2024.Q1",
            ".Entw&APw-rfe",
            ".Tom &- Jerry",
            ".&U9dP4Xux-.&2D3c5w-",
        ] {
            assert!(
                root.join(dir).join("maildirfolder").is_file(),
                "{}: {dir}",
                t.label
            );
        }
        let list = store.list_folders(ACCOUNT).await?;
        for name in [
            "Projects/2024/Q1",
            "Projects/2024",
            "Entwürfe",
            "Tom & Jerry",
            "受信箱/📧",
        ] {
            assert!(names(&list).contains(&name), "{name} in {:?}", names(&list));
        }
        let again = store.create_folder(ACCOUNT, "Entwürfe").await;
        assert!(matches!(again, Err(StoreError::AlreadyExists(_))));
        let inbox = store.create_folder(ACCOUNT, "inbox").await;
        assert!(matches!(inbox, Err(StoreError::AlreadyExists(_))));
        store.deliver(ACCOUNT, "Entwürfe", &message(1), 0).await?;
        assert_eq!(store.sync(ACCOUNT, "Entwürfe").await?.messages.len(), 1);
    }
    Ok(())
}

#[tokio::test]
async fn delete_and_recreate_gives_new_uidvalidity() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let r = store.delete_folder(ACCOUNT, "INBOX").await;
        assert!(
            matches!(r, Err(StoreError::InvalidName { .. })),
            "{}",
            t.label
        );
        store.create_folder(ACCOUNT, "Old").await?;
        fill(&store, "Old", 3).await?;
        let before = store.sync(ACCOUNT, "Old").await?;
        store.delete_folder(ACCOUNT, "Old").await?;
        assert!(!store.account_dir(ACCOUNT)?.join(".Old").exists());
        assert!(!names(&store.list_folders(ACCOUNT).await?).contains(&"Old"));
        let gone = store.sync(ACCOUNT, "Old").await;
        assert!(matches!(gone, Err(StoreError::NoSuchFolder(_))));
        let missing = store.delete_folder(ACCOUNT, "Old").await;
        assert!(matches!(missing, Err(StoreError::NoSuchFolder(_))));
        store.create_folder(ACCOUNT, "Old").await?;
        let after = store.sync(ACCOUNT, "Old").await?;
        assert!(after.uidvalidity > before.uidvalidity, "{}", t.label);
        assert!(after.messages.is_empty());
        assert_eq!(after.uidnext, 1);
    }
    Ok(())
}

#[tokio::test]
async fn rename_keeps_uidvalidity_and_moves_children() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        store.create_folder(ACCOUNT, "Work/Clients").await?;
        fill(&store, "Work", 2).await?;
        fill(&store, "Work/Clients", 3).await?;
        let parent = store.sync(ACCOUNT, "Work").await?;
        let child = store.sync(ACCOUNT, "Work/Clients").await?;
        store.rename_folder(ACCOUNT, "Work", "Jobs/Old").await?;
        let list = store.list_folders(ACCOUNT).await?;
        let n = names(&list);
        assert!(n.contains(&"Jobs") && n.contains(&"Jobs/Old") && n.contains(&"Jobs/Old/Clients"));
        assert!(
            !n.contains(&"Work") && !n.contains(&"Work/Clients"),
            "{n:?}"
        );
        assert_eq!(
            store.sync(ACCOUNT, "Jobs/Old").await?,
            parent,
            "{}",
            t.label
        );
        assert_eq!(store.sync(ACCOUNT, "Jobs/Old/Clients").await?, child);
        let below = store.rename_folder(ACCOUNT, "Jobs", "Jobs/x").await;
        assert!(matches!(below, Err(StoreError::InvalidName { .. })));
        let taken = store.rename_folder(ACCOUNT, "Jobs/Old", "Sent").await;
        assert!(matches!(taken, Err(StoreError::AlreadyExists(_))));
        let none = store.rename_folder(ACCOUNT, "Nothing", "Else").await;
        assert!(matches!(none, Err(StoreError::NoSuchFolder(_))));
    }
    Ok(())
}

#[tokio::test]
async fn renaming_inbox_moves_its_messages() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let uids = fill(&store, "INBOX", 3).await?;
        store.deliver(ACCOUNT, "INBOX", &message(7), 0).await?; // not yet synced
        let before = store.sync(ACCOUNT, "INBOX").await?;
        store.deliver(ACCOUNT, "INBOX", &message(8), 0).await?; // in new/
        store.rename_folder(ACCOUNT, "INBOX", "Old Mail").await?;
        let old = store.sync(ACCOUNT, "Old Mail").await?;
        assert_eq!(old.uidvalidity, before.uidvalidity, "{}", t.label);
        let old_uids: Vec<u32> = old.messages.iter().map(|m| m.uid).collect();
        assert_eq!(&old_uids[..3], &uids[..]);
        assert_eq!(old_uids, [1, 2, 3, 4, 5]);
        let inbox = store.sync(ACCOUNT, "INBOX").await?;
        assert!(inbox.messages.is_empty());
        assert!(inbox.uidvalidity > before.uidvalidity);
        let (_, uid) = store
            .append(ACCOUNT, "INBOX", &message(9), &Flags::default(), None, 0)
            .await?;
        assert_eq!(uid, 1);
    }
    Ok(())
}

fn inode(path: &Path) -> std::io::Result<(u64, u64)> {
    let m = std::fs::metadata(path)?;
    Ok((m.ino(), m.nlink()))
}

#[tokio::test]
async fn copy_links_and_keeps_flags() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        fill(&store, "INBOX", 3).await?;
        let mut flags = Flags {
            flagged: true,
            ..Flags::default()
        };
        flags.keywords.insert("keep".into());
        store
            .set_flags(ACCOUNT, "INBOX", &[2], FlagMode::Add, &flags, None)
            .await?;
        fill(&store, "Archive", 1).await?;
        let res = store.copy(ACCOUNT, "INBOX", &[3, 2, 42], "Archive").await?;
        let archive = store.sync(ACCOUNT, "Archive").await?;
        assert_eq!(res.uidvalidity, archive.uidvalidity, "{}", t.label);
        assert_eq!(res.pairs, [(2, 2), (3, 3)]);
        assert_eq!(archive.messages[1].flags, flags);
        assert_eq!(store.read(ACCOUNT, "Archive", 3).await?, message(2));
        assert_eq!(store.sync(ACCOUNT, "INBOX").await?.messages.len(), 3);
        let cur = store.account_dir(ACCOUNT)?.join(".Archive/cur");
        let linked = std::fs::read_dir(&cur)?
            .flatten()
            .filter(|e| inode(&e.path()).is_ok_and(|(_, n)| n == 2))
            .count();
        assert_eq!(linked, 2, "copies are hard links");
        // Source and copy are independent messages now.
        store.expunge(ACCOUNT, "INBOX", &[2]).await?;
        assert_eq!(store.read(ACCOUNT, "Archive", 2).await?, message(1));
    }
    Ok(())
}

#[tokio::test]
async fn move_transfers_rows_and_files() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        fill(&store, "INBOX", 4).await?;
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        store
            .set_flags(ACCOUNT, "INBOX", &[1], FlagMode::Add, &seen, None)
            .await?;
        let res = store
            .move_messages(ACCOUNT, "INBOX", &[1, 3], "Trash")
            .await?;
        assert_eq!(res.pairs, [(1, 1), (3, 2)], "{}", t.label);
        let inbox = store.sync(ACCOUNT, "INBOX").await?;
        let left: Vec<u32> = inbox.messages.iter().map(|m| m.uid).collect();
        assert_eq!(left, [2, 4]);
        let trash = store.sync(ACCOUNT, "Trash").await?;
        assert_eq!(trash.uidvalidity, res.uidvalidity);
        assert!(trash.messages[0].flags.seen);
        assert_eq!(store.read(ACCOUNT, "Trash", 2).await?, message(2));
        let back = store
            .move_messages(ACCOUNT, "Trash", &[1, 2], "INBOX")
            .await?;
        assert_eq!(back.pairs, [(1, 5), (2, 6)]);
        assert!(store.sync(ACCOUNT, "Trash").await?.messages.is_empty());
        let same = store.move_messages(ACCOUNT, "INBOX", &[2], "INBOX").await?;
        assert_eq!(same.pairs, [(2, 7)]);
        let uids: Vec<u32> = store
            .sync(ACCOUNT, "INBOX")
            .await?
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, [4, 5, 6, 7]);
        let no = store.move_messages(ACCOUNT, "INBOX", &[4], "Nowhere").await;
        assert!(matches!(no, Err(StoreError::NoSuchFolder(_))));
    }
    Ok(())
}
