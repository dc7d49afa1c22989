//! Store basics on every database: delivery → sync → read, flags in file
//! names and rows, UIDs across restarts, foreign Maildir files, APPEND,
//! and names that must not escape the mail root.

mod common;

use std::error::Error;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postel::store::{FlagMode, Flags, FolderName, Store, StoreError};

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "alice@example.com";

async fn store_for(t: &common::TestDb) -> Result<Store, StoreError> {
    let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
    store.create_account(ACCOUNT).await?;
    Ok(store)
}

fn message(n: usize) -> Vec<u8> {
    format!("From: a@example.org\nSubject: test {n}\n\nbody {n}\nmore\n").into_bytes()
}

fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replace('\n', "\r\n")
        .into_bytes()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn inbox(store: &Store) -> Result<PathBuf, StoreError> {
    store.account_dir(ACCOUNT)
}

#[tokio::test]
async fn delivery_sync_read_round_trip() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let raw = message(1);
        let d = store.deliver(ACCOUNT, "INBOX", &raw, 0).await?;
        assert_eq!(d.size, crlf(&raw).len() as u64, "{}", t.label);
        assert!(d.file_name.ends_with(&format!(",S={0},W={0}", d.size)));
        let dir = inbox(&store)?;
        assert_eq!(
            files_in(&dir.join("new")),
            std::slice::from_ref(&d.file_name)
        );
        let snap = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(snap.messages.len(), 1, "{}", t.label);
        let m = &snap.messages[0];
        assert_eq!((m.uid, m.size), (1, d.size));
        assert_eq!(snap.uidnext, 2);
        assert!(files_in(&dir.join("new")).is_empty());
        assert_eq!(files_in(&dir.join("cur")), [format!("{}:2,", d.file_name)]);
        assert_eq!(store.read(ACCOUNT, "INBOX", 1).await?, crlf(&raw));
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(
            mode(&dir.join("cur").join(format!("{}:2,", d.file_name)))?,
            0o600
        );
        assert_eq!(mode(&dir)?, 0o700, "mail is private");
        assert!(matches!(
            store.read(ACCOUNT, "INBOX", 2).await,
            Err(StoreError::NotFound)
        ));
        store.deliver(ACCOUNT, "inbox", &message(2), 0).await?;
        let snap2 = store.sync(ACCOUNT, "INBOX").await?;
        let uids: Vec<u32> = snap2.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [1, 2]);
        assert_eq!(snap2.uidvalidity, snap.uidvalidity);
        assert!(snap2.highest_modseq > snap.highest_modseq);
    }
    Ok(())
}

#[tokio::test]
async fn prepare_then_abort_or_drop_leaves_nothing() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let tmp = inbox(&store)?.join("tmp");
        let p = store
            .prepare(ACCOUNT, "INBOX", b"Subject: x\r\n\r\nx\r\n", 0)
            .await?;
        assert_eq!(files_in(&tmp), [p.base_name().to_string()]);
        p.abort().await;
        assert!(files_in(&tmp).is_empty());
        let p = store
            .prepare(ACCOUNT, "INBOX", b"Subject: y\r\n\r\ny\r\n", 0)
            .await?;
        drop(p);
        assert!(files_in(&tmp).is_empty());
        assert!(store.sync(ACCOUNT, "INBOX").await?.messages.is_empty());
        let missing = store.prepare(ACCOUNT, "Nope", b"x", 0).await;
        assert!(
            matches!(missing, Err(StoreError::NoSuchFolder(_))),
            "{}",
            t.label
        );
    }
    Ok(())
}

#[tokio::test]
async fn deliver_does_not_touch_the_database() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        t.db.close().await;
        // Delivery (the SMTP path) works with no database at all ...
        let d = store.deliver(ACCOUNT, "INBOX", &message(1), 0).await?;
        assert!(d.path.is_file(), "{}", t.label);
        // ... while anything that needs the index does not.
        assert!(matches!(
            store.sync(ACCOUNT, "INBOX").await,
            Err(StoreError::Db(_))
        ));
        let db = postel::db::Db::open(&t.url).await?;
        let reopened = Store::new(db, t.mail_root(), "mx.example");
        assert_eq!(reopened.sync(ACCOUNT, "INBOX").await?.messages.len(), 1);
    }
    Ok(())
}

/// Group commit: many deliveries into one mailbox at once all succeed,
/// each is complete in `new/` when its `deliver` returns, and together
/// they needed at most one directory fsync each (usually far fewer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_share_directory_fsyncs() -> TestResult {
    const N: usize = 64;
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let before = store.directory_fsyncs();
        let mut tasks = Vec::new();
        for n in 0..N {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let d = store.deliver(ACCOUNT, "INBOX", &message(n), 0).await?;
                // Acknowledged means already in new/, complete.
                let on_disk = std::fs::read(&d.path).map_err(|e| StoreError::Io {
                    path: d.path.clone(),
                    source: e,
                })?;
                Ok::<_, StoreError>((n, on_disk))
            }));
        }
        for task in tasks {
            let (n, on_disk) = task.await??;
            assert_eq!(on_disk, crlf(&message(n)), "{}", t.label);
        }
        let fsyncs = store.directory_fsyncs() - before;
        assert!((1..=N as u64).contains(&fsyncs), "{}: {fsyncs}", t.label);
        assert_eq!(files_in(&inbox(&store)?.join("new")).len(), N);
        assert!(files_in(&inbox(&store)?.join("tmp")).is_empty());
        assert_eq!(store.sync(ACCOUNT, "INBOX").await?.messages.len(), N);
    }
    Ok(())
}

async fn db_flags(t: &common::TestDb, uid: u32) -> Result<(String, String, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT m.flags, m.keywords, m.modseq FROM messages m \
         JOIN mailboxes b ON b.id = m.mailbox_id \
         WHERE b.account = $1 AND b.name = 'INBOX' AND m.uid = $2",
    )
    .bind(ACCOUNT)
    .bind(i64::from(uid))
    .fetch_one(t.db.pool())
    .await
}

#[tokio::test]
async fn flags_persist_in_file_name_and_database() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let d = store.deliver(ACCOUNT, "INBOX", &message(1), 0).await?;
        store.sync(ACCOUNT, "INBOX").await?;
        let mut add = Flags {
            seen: true,
            flagged: true,
            ..Flags::default()
        };
        add.keywords.insert("work".into());
        add.keywords.insert("$Forwarded".into());
        let ch = store
            .set_flags(ACCOUNT, "INBOX", &[1, 99], FlagMode::Add, &add, None)
            .await?;
        assert_eq!(ch.len(), 1, "{}: unknown UID 99 is skipped", t.label);
        assert_eq!(ch[0].flags, add);
        let cur = inbox(&store)?.join("cur");
        assert_eq!(files_in(&cur), [format!("{}:2,FPS", d.file_name)]);
        let (letters, keywords, modseq) = db_flags(&t, 1).await?;
        assert_eq!((letters.as_str(), keywords.as_str()), ("FPS", "work"));
        assert_eq!(modseq as u64, ch[0].modseq);
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        let ch2 = store
            .set_flags(ACCOUNT, "INBOX", &[1], FlagMode::Remove, &seen, None)
            .await?;
        assert!(ch2[0].modseq > ch[0].modseq);
        assert_eq!(files_in(&cur), [format!("{}:2,FP", d.file_name)]);
        // CONDSTORE: a stale UNCHANGEDSINCE leaves the message alone.
        let stale = store
            .set_flags(
                ACCOUNT,
                "INBOX",
                &[1],
                FlagMode::Add,
                &seen,
                Some(ch[0].modseq),
            )
            .await?;
        assert!(stale.is_empty());
        // A fresh store (another process, or after a restart) agrees.
        let again = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        let snap = again.sync(ACCOUNT, "INBOX").await?;
        let mut expect = add.clone();
        expect.seen = false;
        assert_eq!(snap.messages[0].flags, expect, "{}", t.label);
        assert_eq!(snap.messages[0].modseq, ch2[0].modseq);
    }
    Ok(())
}

#[tokio::test]
async fn uids_and_uidvalidity_survive_restart() -> TestResult {
    for t in common::all_dbs().await {
        let before = {
            let store = store_for(&t).await?;
            for i in 0..3 {
                store.deliver(ACCOUNT, "INBOX", &message(i), 0).await?;
            }
            store.sync(ACCOUNT, "INBOX").await?
        };
        let store = Store::new(t.db.clone(), t.mail_root(), "other.host");
        let after = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(before, after, "{}", t.label);
        store.deliver(ACCOUNT, "INBOX", &message(9), 0).await?;
        let later = store.sync(ACCOUNT, "INBOX").await?;
        let uids: Vec<u32> = later.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [1, 2, 3, 4]);
        assert_eq!(later.uidvalidity, before.uidvalidity);
        store.create_account(ACCOUNT).await?;
        assert_eq!(
            store.sync(ACCOUNT, "INBOX").await?.uidvalidity,
            before.uidvalidity
        );
    }
    Ok(())
}

fn write_with_mtime(path: &Path, bytes: &[u8], secs: u64) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    let f = std::fs::File::options().write(true).open(path)?;
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
}

#[tokio::test]
async fn foreign_maildir_files_get_uids() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let dir = inbox(&store)?;
        let a = b"Subject: a\n\nfirst by mtime\n".to_vec();
        let b = b"Subject: b\r\n\r\nsecond\r\n".to_vec();
        let c = b"Subject: c\n\nthird, in cur with flags\n".to_vec();
        write_with_mtime(&dir.join("new/zzz-foreign-name"), &a, 1_600_000_000)?;
        write_with_mtime(&dir.join("new/aaa-later"), &b, 1_600_000_100)?;
        write_with_mtime(&dir.join("cur/mmm.courier:2,RS"), &c, 1_600_000_200)?;
        let snap = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(snap.messages.len(), 3, "{}", t.label);
        let sizes: Vec<u64> = snap.messages.iter().map(|m| m.size).collect();
        assert_eq!(
            sizes,
            [crlf(&a).len() as u64, b.len() as u64, crlf(&c).len() as u64]
        );
        let m3 = &snap.messages[2];
        assert!(m3.flags.seen && m3.flags.answered && !m3.flags.flagged);
        assert_eq!(
            m3.internal_date,
            UNIX_EPOCH + Duration::from_secs(1_600_000_200)
        );
        // Foreign files are not rewritten, but read with CRLF.
        assert_eq!(store.read(ACCOUNT, "INBOX", 1).await?, crlf(&a));
        assert_eq!(store.read(ACCOUNT, "INBOX", 3).await?, crlf(&c));
        assert_eq!(std::fs::read(dir.join("cur/zzz-foreign-name:2,"))?, a);
    }
    Ok(())
}

#[tokio::test]
async fn external_renames_and_deletions_are_synced() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        for i in 0..3 {
            store.deliver(ACCOUNT, "INBOX", &message(i), 0).await?;
        }
        let first = store.sync(ACCOUNT, "INBOX").await?;
        let cur = inbox(&store)?.join("cur");
        let files = files_in(&cur);
        std::fs::rename(cur.join(&files[0]), cur.join(format!("{}ST", files[0])))?;
        std::fs::remove_file(cur.join(&files[1]))?;
        let snap = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(snap.messages.len(), 2, "{}", t.label);
        let m1 = &snap.messages[0];
        assert_eq!(m1.uid, 1);
        assert!(m1.flags.seen && m1.flags.deleted);
        assert!(m1.modseq > first.highest_modseq);
        assert_eq!(snap.messages[1].uid, 3);
        assert!(snap.highest_modseq > first.highest_modseq);
        let unchanged = store.sync(ACCOUNT, "INBOX").await?;
        assert_eq!(unchanged, snap);
    }
    Ok(())
}

#[tokio::test]
async fn append_assigns_uid_at_once() -> TestResult {
    for t in common::all_dbs().await {
        let store = store_for(&t).await?;
        let mut flags = Flags {
            seen: true,
            draft: true,
            ..Flags::default()
        };
        flags.keywords.insert("$Label1".into());
        let date = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
        let (uv, uid) = store
            .append(
                ACCOUNT,
                "Drafts",
                b"Subject: d\n\ndraft\n",
                &flags,
                Some(date),
                0,
            )
            .await?;
        assert_eq!(uid, 1, "{}", t.label);
        let (uv2, uid2) = store
            .append(
                ACCOUNT,
                "Drafts",
                b"Subject: e\n\n",
                &Flags::default(),
                None,
                0,
            )
            .await?;
        assert_eq!((uv2, uid2), (uv, 2));
        let snap = store.sync(ACCOUNT, "Drafts").await?;
        assert_eq!(snap.uidvalidity, uv);
        assert_eq!(snap.messages[0].flags, flags);
        assert_eq!(snap.messages[0].internal_date, date);
        assert!(snap.messages[1].internal_date > SystemTime::now() - Duration::from_secs(60));
        let cur = store.account_dir(ACCOUNT)?.join(".Drafts/cur");
        assert!(files_in(&cur)[..].iter().any(|f| f.ends_with(":2,DS")));
        let mut bad = Flags::default();
        bad.keywords.insert("two words".into());
        let r = store.append(ACCOUNT, "Drafts", b"x", &bad, None, 0).await;
        assert!(matches!(r, Err(StoreError::InvalidName { .. })));
    }
    Ok(())
}

#[tokio::test]
async fn names_that_escape_the_root_are_refused() -> TestResult {
    let t = common::sqlite().await;
    let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
    for bad in [
        "",
        "alice",
        "@example.com",
        "alice@",
        "../x@example.com",
        "alice@..",
        "a/b@example.com",
        "alice@ex/ample",
        "al\0ice@example.com",
        "alice@example.com\n",
        "..@example.com",
        "alice@.",
        "a\\b@example.com",
    ] {
        assert!(
            matches!(store.account_dir(bad), Err(StoreError::InvalidName { .. })),
            "{bad:?}"
        );
        assert!(store.create_account(bad).await.is_err(), "{bad:?}");
    }
    store.create_account(ACCOUNT).await?;
    for bad in [
        "../etc",
        "a/../../b",
        ".",
        "..",
        "a.b",
        "x/",
        "/x",
        "a//b",
        "tab\t",
        "nul\0",
        "*",
        "%",
    ] {
        let r = store.deliver(ACCOUNT, bad, b"x", 0).await;
        assert!(
            matches!(r, Err(StoreError::InvalidName { .. })),
            "{bad:?}: {r:?}"
        );
        let r = store.create_folder(ACCOUNT, bad).await;
        assert!(matches!(r, Err(StoreError::InvalidName { .. })), "{bad:?}");
        assert!(FolderName::new(bad).is_err());
    }
    let inside: Vec<PathBuf> = walk(&t.dir.path().join("mail"));
    assert!(inside.iter().all(|p| p.starts_with(t.mail_root())));
    assert!(!t.dir.path().join("etc").exists());
    Ok(())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}
