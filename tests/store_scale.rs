//! Many concurrent deliveries, and a warm sync of a 100,000-message
//! folder.

mod common;

use std::collections::HashSet;
use std::error::Error;
use std::time::{Duration, Instant};

use postel::store::{Store, StoreError};

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "erin@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_get_distinct_names_and_uids() -> TestResult {
    for t in common::all_dbs().await {
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        store.create_account(ACCOUNT).await?;
        let mut tasks = Vec::new();
        for task in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut names = Vec::new();
                for i in 0..10 {
                    let body = format!("Subject: t{task} m{i}\r\n\r\nbody\r\n");
                    names.push(
                        store
                            .deliver(ACCOUNT, "INBOX", body.as_bytes(), 0)
                            .await?
                            .base_name,
                    );
                    if i % 5 == 4 {
                        store.sync(ACCOUNT, "INBOX").await?;
                    }
                }
                Ok::<_, StoreError>(names)
            }));
        }
        let mut names = HashSet::new();
        for task in tasks {
            for n in task.await?? {
                assert!(names.insert(n), "{}: duplicate file name", t.label);
            }
        }
        assert_eq!(names.len(), 640);
        let snap = store.sync(ACCOUNT, "INBOX").await?;
        let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
        let expect: Vec<u32> = (1..=640).collect();
        assert_eq!(uids, expect, "{}", t.label);
        assert_eq!(snap.uidnext, 641);
        // A second store instance (another process) sees the same index.
        let other = Store::new(t.db.clone(), t.mail_root(), "mx2.example");
        assert_eq!(other.sync(ACCOUNT, "INBOX").await?, snap);
    }
    Ok(())
}

const BIG: usize = 100_000;

fn fill_big(cur: &std::path::Path) -> std::io::Result<()> {
    let body = b"Subject: bulk\r\n\r\nx\r\n";
    for i in 0..BIG {
        let name = format!(
            "{}.M{}P1Q{i}R0.bulk,S={2},W={2}:2,S",
            1_600_000_000 + i / 1000,
            i % 1000,
            body.len()
        );
        std::fs::write(cur.join(name), body)?;
    }
    Ok(())
}

/// A warm sync of an unchanged 100,000-message folder must stay well
/// under 200 ms (optimised build; a debug build gets 3× the budget).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_sync_of_100k_folder_is_fast() -> TestResult {
    for t in common::all_dbs().await {
        let store = Store::new(t.db.clone(), t.mail_root(), "mx.example");
        store.create_account(ACCOUNT).await?;
        let cur = store.account_dir(ACCOUNT)?.join("cur");
        tokio::task::spawn_blocking(move || fill_big(&cur)).await??;
        let started = Instant::now();
        let cold = store.sync(ACCOUNT, "INBOX").await?;
        let cold_time = started.elapsed();
        assert_eq!(cold.messages.len(), BIG, "{}", t.label);
        assert_eq!(cold.messages.last().map(|m| m.uid), Some(BIG as u32));
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let warm = store.sync(ACCOUNT, "INBOX").await?;
            best = best.min(started.elapsed());
            assert_eq!(warm.highest_modseq, cold.highest_modseq);
            assert_eq!(warm.messages.len(), BIG);
        }
        // A new Store loads the index once, then is warm too.
        let other = Store::new(t.db.clone(), t.mail_root(), "mx2.example");
        let started = Instant::now();
        assert_eq!(other.sync(ACCOUNT, "INBOX").await?.messages.len(), BIG);
        let reload_time = started.elapsed();
        eprintln!(
            "{}: cold {cold_time:?}, warm {best:?}, reload {reload_time:?}",
            t.label
        );
        let budget = if cfg!(debug_assertions) { 600 } else { 200 };
        assert!(
            best < Duration::from_millis(budget),
            "{}: warm sync took {best:?}",
            t.label
        );
    }
    Ok(())
}
