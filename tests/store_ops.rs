//! Expunge, quota, change events and `tmp/` cleaning on every database.

mod common;

use std::error::Error;
use std::time::{Duration, SystemTime};

use postel::store::{EventKind, FlagMode, Flags, Store, StoreError, StoreEvent};
use tokio::sync::broadcast::Receiver;

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "carol@example.org";

async fn store_for(t: &common::TestDb) -> Result<Store, StoreError> {
    let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
    store.create_account(ACCOUNT).await?;
    Ok(store)
}

/// A CRLF message of exactly `size` octets.
fn sized(size: usize) -> Vec<u8> {
    let mut m = b"Subject: q\r\n\r\n".to_vec();
    m.resize(size - 2, b'x');
    m.extend_from_slice(b"\r\n");
    m
}

#[tokio::test]
async fn expunge_removes_files_and_rows() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        for _ in 0..4 {
            store.deliver(ACCOUNT, "INBOX", &sized(100), 0).await?;
        }
        let before = store.sync(ACCOUNT, "INBOX").await?;
        let removed = store.expunge(ACCOUNT, "INBOX", &[3, 1, 3, 77]).await?;
        assert_eq!(removed, [1, 3], "{}", t.label);
        let after = store.sync(ACCOUNT, "INBOX").await?;
        let uids: Vec<u32> = after.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [2, 4]);
        assert!(after.highest_modseq > before.highest_modseq);
        let cur = store.account_dir(ACCOUNT)?.join("cur");
        assert_eq!(std::fs::read_dir(&cur)?.count(), 2);
        assert!(matches!(
            store.read(ACCOUNT, "INBOX", 1).await,
            Err(StoreError::NotFound)
        ));
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id \
             WHERE b.account = $1 AND b.name = 'INBOX'",
        )
        .bind(ACCOUNT)
        .fetch_one(t.db.pool())
        .await?;
        assert_eq!(n, 2);
        // New messages never reuse expunged UIDs.
        store.deliver(ACCOUNT, "INBOX", &sized(100), 0).await?;
        let last = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(last.messages.last().map(|m| m.uid), Some(5));
    }
    Ok(())
}

#[tokio::test]
async fn quota_refuses_and_frees() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let quota = 1000;
        for _ in 0..4 {
            store.deliver(ACCOUNT, "INBOX", &sized(200), quota).await?;
        }
        let usage = store.quota_usage(ACCOUNT).await?;
        assert_eq!((usage.bytes, usage.messages), (800, 4), "{}", t.label);
        let over = store.deliver(ACCOUNT, "INBOX", &sized(300), quota).await;
        match over {
            Err(StoreError::OverQuota {
                limit,
                used,
                needed,
            }) => {
                assert_eq!((limit, used, needed), (1000, 800, 300));
            }
            other => panic!("{}: expected OverQuota, got {other:?}", t.label),
        }
        let appended = store
            .append(ACCOUNT, "Sent", &sized(300), &Flags::default(), None, quota)
            .await;
        assert!(matches!(appended, Err(StoreError::OverQuota { .. })));
        // Exactly up to the limit is fine; unlimited ignores it.
        store.deliver(ACCOUNT, "INBOX", &sized(200), quota).await?;
        store.deliver(ACCOUNT, "INBOX", &sized(50), 0).await?;
        assert_eq!(store.quota_usage(ACCOUNT).await?.bytes, 1050);
        store.sync(ACCOUNT, "INBOX").await?;
        store.expunge(ACCOUNT, "INBOX", &[1, 2, 6]).await?;
        let usage = store.quota_usage(ACCOUNT).await?;
        assert_eq!((usage.bytes, usage.messages), (600, 3));
        store.deliver(ACCOUNT, "INBOX", &sized(300), quota).await?;
        let text = std::fs::read_to_string(store.account_dir(ACCOUNT)?.join("maildirsize"))?;
        assert!(text.starts_with("1000S\n"), "{text}");
        // Deleting a folder frees its messages too.
        store.copy(ACCOUNT, "INBOX", &[3], "Archive").await?;
        assert_eq!(store.quota_usage(ACCOUNT).await?.bytes, 1100);
        store.delete_folder(ACCOUNT, "Archive").await?;
        assert_eq!(store.quota_usage(ACCOUNT).await?.bytes, 900);
    }
    Ok(())
}

async fn next(rx: &mut Receiver<StoreEvent>) -> Option<StoreEvent> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .ok()?
        .ok()
}

#[tokio::test]
async fn operations_send_events() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let mut rx = store.subscribe(ACCOUNT);
        let mut other = store.subscribe("someone@else.example");
        let ev = |folder: &str, kind| {
            Some(StoreEvent {
                folder: folder.into(),
                kind,
            })
        };
        store.deliver(ACCOUNT, "INBOX", &sized(40), 0).await?;
        assert_eq!(
            next(&mut rx).await,
            ev("INBOX", EventKind::NewMessages),
            "{}",
            t.label
        );
        store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(next(&mut rx).await, ev("INBOX", EventKind::NewMessages));
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        store
            .set_flags(ACCOUNT, "INBOX", &[1], FlagMode::Add, &seen, None)
            .await?;
        assert_eq!(next(&mut rx).await, ev("INBOX", EventKind::FlagsChanged));
        store
            .append(ACCOUNT, "Sent", &sized(40), &seen, None, 0)
            .await?;
        assert_eq!(next(&mut rx).await, ev("Sent", EventKind::NewMessages));
        store.copy(ACCOUNT, "INBOX", &[1], "Archive").await?;
        assert_eq!(next(&mut rx).await, ev("Archive", EventKind::NewMessages));
        store
            .move_messages(ACCOUNT, "Archive", &[1], "Junk")
            .await?;
        assert_eq!(next(&mut rx).await, ev("Archive", EventKind::Expunged));
        assert_eq!(next(&mut rx).await, ev("Junk", EventKind::NewMessages));
        store.expunge(ACCOUNT, "INBOX", &[1]).await?;
        assert_eq!(next(&mut rx).await, ev("INBOX", EventKind::Expunged));
        store.create_folder(ACCOUNT, "New").await?;
        assert_eq!(next(&mut rx).await, ev("New", EventKind::FoldersChanged));
        store.rename_folder(ACCOUNT, "New", "Newer").await?;
        assert_eq!(next(&mut rx).await, ev("New", EventKind::FoldersChanged));
        store.delete_folder(ACCOUNT, "Newer").await?;
        assert_eq!(next(&mut rx).await, ev("Newer", EventKind::FoldersChanged));
        assert!(other.try_recv().is_err(), "events stay within the account");
    }
    Ok(())
}

#[tokio::test]
async fn sync_cleans_old_tmp_files_only() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let tmp = store.account_dir(ACCOUNT)?.join("tmp");
        let old = tmp.join("1.M1P1.crashed");
        let fresh = tmp.join("2.M2P2.in-progress");
        std::fs::write(&old, b"partial")?;
        std::fs::write(&fresh, b"partial")?;
        let f = std::fs::File::options().write(true).open(&old)?;
        f.set_modified(SystemTime::now() - Duration::from_secs(37 * 3600))?;
        drop(f);
        // A new Store: the clean-up runs on a process's first scan.
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        store.sync(ACCOUNT, "INBOX").await?;
        assert!(!old.exists(), "{}", t.label);
        assert!(fresh.exists());
        assert!(store.sync(ACCOUNT, "INBOX").await?.messages.is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn account_delete_and_purge() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        store.deliver(ACCOUNT, "INBOX", &sized(40), 0).await?;
        let before = store.sync(ACCOUNT, "INBOX").await?;
        store.delete_account(ACCOUNT, false).await?;
        let root = store.account_dir(ACCOUNT)?;
        assert!(root.join("cur").is_dir(), "{}: files kept", t.label);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mailboxes WHERE account = $1")
            .bind(ACCOUNT)
            .fetch_one(t.db.pool())
            .await?;
        assert_eq!(n, 0);
        let again = store.sync(ACCOUNT, "INBOX").await?;
        assert!(again.uidvalidity > before.uidvalidity);
        assert_eq!(again.messages.len(), 1);
        store.delete_account(ACCOUNT, true).await?;
        assert!(!root.exists());
        assert!(matches!(
            store.list_folders(ACCOUNT).await,
            Err(StoreError::NoSuchFolder(_))
        ));
    }
    Ok(())
}
