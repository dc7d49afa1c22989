//! Adopting a real Dovecot Maildir++ tree (tests/fixtures/dovecot-maildir,
//! see its README): every UID, UIDVALIDITY and keyword must be what
//! Dovecot had.

mod common;

use std::collections::BTreeSet;
use std::error::Error;
use std::path::{Path, PathBuf};

use postel::store::{FolderSnapshot, Store};

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "alice@example.com";

/// The MDA file Dovecot never saw (not in dovecot-uidlist).
const UNLISTED: &str = "new/1704103200.M1P1.mda.example";

/// `(uid, system flag letters, keywords, subject)` per folder, from the
/// fixture's dovecot-uidlist / dovecot-keywords files and the commands in
/// generate.sh.
struct Expected {
    folder: &'static str,
    uidvalidity: u32,
    uidnext: u32,
    messages: &'static [(u32, &'static str, &'static [&'static str], &'static str)],
}

const EXPECTED: [Expected; 3] = [
    Expected {
        folder: "INBOX",
        uidvalidity: 1_795_591_469,
        // Dovecot's N7, plus the unlisted MDA message as UID 7.
        uidnext: 8,
        messages: &[
            (1, "S", &[], "Inbox message 1"),
            (3, "FR", &["$Label1", "project-x"], "Inbox message 3"),
            (5, "S", &["$Label1"], "Inbox message 5"),
            (6, "", &[], "Inbox message 6"),
            (7, "", &[], "Delivered behind Dovecot"),
        ],
    },
    Expected {
        folder: "Entwürfe",
        uidvalidity: 1_795_591_470,
        uidnext: 3,
        messages: &[(1, "", &[], "Draft one"), (2, "D", &[], "Draft two")],
    },
    Expected {
        folder: "Archive/2024",
        uidvalidity: 1_795_591_471,
        uidnext: 4,
        messages: &[(2, "", &[], "Archived 2"), (3, "S", &[], "Archived 3")],
    },
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dovecot-maildir/Maildir")
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

async fn check_folder(store: &Store, exp: &Expected, label: &str) -> TestResult {
    let snap: FolderSnapshot = store.sync(ACCOUNT, exp.folder).await?;
    let ctx = format!("{label}: {}", exp.folder);
    assert_eq!(snap.uidvalidity, exp.uidvalidity, "{ctx}");
    assert_eq!(snap.uidnext, exp.uidnext, "{ctx}");
    let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
    let want: Vec<u32> = exp.messages.iter().map(|m| m.0).collect();
    assert_eq!(uids, want, "{ctx}");
    for (meta, (uid, flags, keywords, subject)) in snap.messages.iter().zip(exp.messages) {
        assert_eq!(meta.flags.maildir_info(), *flags, "{ctx} uid {uid}");
        let kw: BTreeSet<String> = keywords.iter().map(|k| k.to_string()).collect();
        assert_eq!(meta.flags.keywords, kw, "{ctx} uid {uid}");
        let body = store.read(ACCOUNT, exp.folder, *uid).await?;
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains(&format!("Subject: {subject}\r\n")),
            "{ctx} uid {uid}"
        );
        assert_eq!(meta.size, body.len() as u64, "{ctx} uid {uid}: RFC822.SIZE");
    }
    Ok(())
}

#[tokio::test]
async fn adopt_moves_tree_and_keeps_uids() -> TestResult {
    for t in common::all_dbs().await {
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        let staged = t.dir.path().join("import/Maildir");
        copy_tree(&fixture(), &staged)?;
        // Dovecot wrote W= (CRLF size) into its names; the MDA file has LF
        // and no W=, so its size must be computed.
        let unlisted = std::fs::read(staged.join(UNLISTED))?;
        let lf = unlisted.iter().filter(|b| **b == b'\n').count();
        let report = store.adopt_maildir(ACCOUNT, &staged).await?;
        assert!(report.moved, "{}", t.label);
        assert!(!staged.exists());
        let root = store.account_dir(ACCOUNT)?;
        assert!(root.join(".Entw&APw-rfe/maildirfolder").is_file());
        let by_name = |n: &str| report.folders.iter().find(|f| f.name == n).cloned();
        let inbox = by_name("INBOX").ok_or("INBOX not in report")?;
        assert_eq!((inbox.messages, inbox.kept_uids, inbox.new_uids), (5, 4, 1));
        assert_eq!(inbox.uidvalidity, 1_795_591_469);
        let archive = by_name("Archive/2024").ok_or("Archive/2024 not in report")?;
        assert_eq!((archive.kept_uids, archive.new_uids), (2, 0));
        for exp in &EXPECTED {
            check_folder(&store, exp, t.label).await?;
        }
        let snap = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(snap.messages[4].size, (unlisted.len() + lf) as u64);
        // Default folders Dovecot lacked are created; life goes on.
        let names: Vec<String> = store
            .list_folders(ACCOUNT)
            .await?
            .into_iter()
            .map(|f| f.name)
            .collect();
        for n in [
            "Sent",
            "Drafts",
            "Trash",
            "Junk",
            "Archive",
            "Archive/2024",
            "Entwürfe",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
        store
            .deliver(ACCOUNT, "INBOX", b"Subject: after\r\n\r\nx\r\n", 0)
            .await?;
        let after = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(after.messages.last().map(|m| m.uid), Some(8));
        assert_eq!(after.uidvalidity, 1_795_591_469);
        // A restart (new Store) changes nothing.
        let again = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        assert_eq!(again.sync(ACCOUNT, "INBOX").await?, after);
    }
    Ok(())
}

#[tokio::test]
async fn tree_placed_at_account_path_is_imported_by_sync() -> TestResult {
    for t in common::all_dbs().await {
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        let root = store.account_dir(ACCOUNT)?;
        copy_tree(&fixture(), &root)?;
        for exp in &EXPECTED {
            check_folder(&store, exp, t.label).await?;
        }
        // create_account on top of it keeps everything.
        store.create_account(ACCOUNT).await?;
        for exp in &EXPECTED {
            check_folder(&store, exp, t.label).await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn adopt_in_place_replaces_an_existing_index() -> TestResult {
    for t in common::all_dbs().await {
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        let root = store.account_dir(ACCOUNT)?;
        copy_tree(&fixture(), &root)?;
        // Simulate an index made before the Dovecot files were consulted.
        std::fs::rename(root.join("dovecot-uidlist"), root.join("uidlist.bak"))?;
        let wrong = store.sync(ACCOUNT, "INBOX").await?;
        assert_ne!(wrong.uidvalidity, 1_795_591_469, "{}", t.label);
        std::fs::rename(root.join("uidlist.bak"), root.join("dovecot-uidlist"))?;
        let report = store.adopt_maildir(ACCOUNT, &root).await?;
        assert!(!report.moved);
        for exp in &EXPECTED {
            check_folder(&store, exp, t.label).await?;
        }
        // Adopting a tree onto an account that already has mail is refused.
        let other = t.dir.path().join("second");
        copy_tree(&fixture(), &other)?;
        let refused = store.adopt_maildir(ACCOUNT, &other).await;
        assert!(
            matches!(refused, Err(postel::store::StoreError::AlreadyExists(_))),
            "{refused:?}"
        );
    }
    Ok(())
}
