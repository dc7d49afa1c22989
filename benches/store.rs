//! Store benchmark: durable Maildir deliveries per second and index scan
//! time, next to the raw fsync-bound rate of the same disk measured with
//! the same harness.
//!
//! Run: `cargo bench --bench store -- [--count N] [--scan N] [--dir DIR]`
//! (defaults: 2000 deliveries per case, a 100000-message scan folder,
//! a scratch directory under `target/`). Prints a Markdown table.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use postel::db::Db;
use postel::store::Store;

struct Args {
    count: usize,
    scan: usize,
    dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        count: 2000,
        scan: 100_000,
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-store"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--count" => a.count = value_or(it.next(), a.count),
            "--scan" => a.scan = value_or(it.next(), a.scan),
            "--dir" => a.dir = it.next().map(PathBuf::from).unwrap_or(a.dir.clone()),
            _ => {} // cargo passes --bench
        }
    }
    a
}

fn value_or(v: Option<String>, default: usize) -> usize {
    v.and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn message(n: u64) -> Vec<u8> {
    let mut m =
        format!("From: bench@remote.test\r\nTo: alice@bench.test\r\nSubject: message {n}\r\n\r\n")
            .into_bytes();
    while m.len() < 4096 - 2 {
        m.extend_from_slice(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n");
    }
    m.truncate(4094);
    m.extend_from_slice(b"\r\n");
    m
}

/// The raw bound: create in tmp/, write, fsync, rename into new/, fsync new/.
fn raw_write(dir: &Path, n: u64, body: &[u8]) -> std::io::Result<()> {
    let name = format!("raw.{}.{n}", std::process::id());
    let tmp = dir.join("tmp").join(&name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join("new").join(&name))?;
    std::fs::File::open(dir.join("new"))?.sync_all()
}

async fn raw_rate(dir: &Path, writers: usize, count: usize) -> f64 {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (dir, next) = (dir.to_path_buf(), next.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let body = message(0);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count as u64 {
                    return;
                }
                raw_write(&dir, n, &body).expect("raw write");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    count as f64 / start.elapsed().as_secs_f64()
}

async fn store_rate(store: &Store, account: &str, writers: usize, count: usize) -> (f64, Duration) {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    let lat = Arc::new(AtomicU64::new(0));
    for _ in 0..writers {
        let (store, next, lat, account) = (
            store.clone(),
            next.clone(),
            lat.clone(),
            account.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count as u64 {
                    return;
                }
                let t = Instant::now();
                store
                    .deliver(&account, "INBOX", &message(n), 0)
                    .await
                    .expect("deliver");
                lat.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    (
        rate,
        Duration::from_micros(lat.load(Ordering::Relaxed) / count as u64),
    )
}

/// Fills a folder with `n` messages quickly (no fsync: this measures the
/// scan, not the writes), in Dovecot's file-name form.
fn fill(dir: &Path, n: usize) {
    let cur = dir.join("cur");
    let body = message(0);
    for i in 0..n {
        let name = format!("1700000000.M{i}P1Q{i}.bench,S={}:2,S", body.len());
        std::fs::write(cur.join(name), &body).expect("fill");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(&a.dir).expect("bench dir");
    let db = Db::open(&format!("sqlite://{}/postel.db", a.dir.display()))
        .await
        .expect("db");
    let store = Store::new(db, a.dir.join("mail"), "bench.test");
    println!("| case | writers | result |");
    println!("|---|---|---|");
    for writers in [1usize, 16] {
        let raw = raw_rate(&a.dir.join(format!("raw{writers}")), writers, a.count).await;
        let account = format!("w{writers}@bench.test");
        store.create_account(&account).await.expect("account");
        let (rate, lat) = store_rate(&store, &account, writers, a.count).await;
        println!("| raw durable Maildir write (4 KiB) | {writers} | {raw:.0} msg/s |");
        println!(
            "| Postel store deliver (4 KiB) | {writers} | {rate:.0} msg/s ({:.0} % of raw), mean latency {:.2} ms |",
            100.0 * rate / raw,
            lat.as_secs_f64() * 1000.0
        );
    }
    let account = "scan@bench.test";
    store.create_account(account).await.expect("account");
    let root = store.account_dir(account).expect("dir");
    fill(&root, a.scan);
    let t = Instant::now();
    let snap = store.sync(account, "INBOX").await.expect("first sync");
    let first = t.elapsed();
    assert_eq!(snap.messages.len(), a.scan);
    let mut warm = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let snap = store.sync(account, "INBOX").await.expect("warm sync");
        warm.push(t.elapsed());
        assert_eq!(snap.messages.len(), a.scan);
    }
    warm.sort();
    println!(
        "| index: first sync (assigns {} UIDs) | 1 | {:.0} ms |",
        a.scan,
        first.as_secs_f64() * 1000.0
    );
    println!(
        "| index: warm sync, unchanged folder (median of 5) | 1 | {:.1} ms |",
        warm[2].as_secs_f64() * 1000.0
    );
    let _ = std::fs::remove_dir_all(&a.dir);
}
