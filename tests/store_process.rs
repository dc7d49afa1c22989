//! Several processes on one Maildir root and database, and a delivery
//! process killed with SIGKILL. The test binary re-executes itself
//! (`--exact <test> --nocapture`) with `POSTEL_STORE_TEST_ROLE` set to act
//! as the child.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use postel::db::Db;
use postel::store::{FlagMode, Flags, Store};

type TestResult = Result<(), Box<dyn Error>>;

const ACCOUNT: &str = "dave@example.com";
const ROLE: &str = "POSTEL_STORE_TEST_ROLE";
const PER_CHILD: usize = 60;

fn child(test: &str, role: &str, t: &common::TestDb, id: usize) -> Result<Command, Box<dyn Error>> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("POSTEL_STORE_TEST_DB", &t.url)
        .env("POSTEL_STORE_TEST_ROOT", t.mail_root())
        .env("POSTEL_STORE_TEST_ID", id.to_string());
    Ok(cmd)
}

/// The child's store, from the environment the parent set.
async fn child_store() -> Result<(Store, usize), Box<dyn Error>> {
    let url = std::env::var("POSTEL_STORE_TEST_DB")?;
    let root = PathBuf::from(std::env::var("POSTEL_STORE_TEST_ROOT")?);
    let id: usize = std::env::var("POSTEL_STORE_TEST_ID")?.parse()?;
    let db = Db::open(&url).await?;
    Ok((Store::new(db, root, &format!("node{id}")), id))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Child: deliver, append (UID at once) and sync, interleaved.
async fn deliver_and_sync() -> TestResult {
    let (store, id) = child_store().await?;
    for i in 0..PER_CHILD {
        let body = format!("Subject: p{id} m{i}\r\n\r\nx\r\n");
        if i % 6 == 0 {
            let (uv, uid) = store
                .append(
                    ACCOUNT,
                    "INBOX",
                    body.as_bytes(),
                    &Flags::default(),
                    None,
                    0,
                )
                .await?;
            // Leading newline: libtest may have left "test … " unterminated.
            println!("\nAPPENDED {uv} {uid} p{id} m{i}");
        } else {
            store.deliver(ACCOUNT, "INBOX", body.as_bytes(), 0).await?;
        }
        if i % 3 == 0 {
            let snap = store.sync(ACCOUNT, "INBOX").await?;
            if i % 9 == 0 {
                // Flag renames racing with the other process's syncs.
                let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).step_by(2).collect();
                let flag = Flags {
                    flagged: id == 0,
                    seen: id == 1,
                    ..Flags::default()
                };
                store
                    .set_flags(ACCOUNT, "INBOX", &uids, FlagMode::Add, &flag, None)
                    .await?;
            }
        }
    }
    store.sync(ACCOUNT, "INBOX").await?;
    Ok(())
}

#[test]
fn two_processes_deliver_and_sync_concurrently() -> TestResult {
    let rt = runtime()?;
    if std::env::var(ROLE).as_deref() == Ok("deliver-sync") {
        return rt.block_on(deliver_and_sync());
    }
    rt.block_on(async {
        for t in common::all_dbs().await {
            let store = Store::new(t.db.clone(), t.mail_root(), "parent");
            store.create_account(ACCOUNT).await?;
            let name = "two_processes_deliver_and_sync_concurrently";
            let mut kids = Vec::new();
            for id in 0..2 {
                kids.push(
                    child(name, "deliver-sync", &t, id)?
                        .stdout(Stdio::piped())
                        .spawn()?,
                );
            }
            let mut appended = Vec::new();
            for kid in kids {
                let out = kid.wait_with_output()?;
                assert!(out.status.success(), "{}: child failed: {out:?}", t.label);
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                appended.extend(
                    text.lines()
                        .filter_map(|l| l.strip_prefix("APPENDED ").map(String::from)),
                );
            }
            check_index(&store, &t, &appended).await?;
        }
        Ok(())
    })
}

async fn check_index(store: &Store, t: &common::TestDb, appended: &[String]) -> TestResult {
    let snap = store.sync(ACCOUNT, "INBOX").await?;
    let total = 2 * PER_CHILD;
    let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
    let expect: Vec<u32> = (1..=total as u32).collect();
    assert_eq!(
        uids, expect,
        "{}: every message one UID, none skipped",
        t.label
    );
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT m.uid, m.basename, m.flags FROM messages m \
         JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account = $1 AND b.name = 'INBOX'",
    )
    .bind(ACCOUNT)
    .fetch_all(t.db.pool())
    .await?;
    let bases: HashSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();

    assert_eq!((rows.len(), bases.len()), (total, total), "{}", t.label);
    let cur = store.account_dir(ACCOUNT)?.join("cur");
    let files: Vec<String> = std::fs::read_dir(&cur)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(files.len(), total);
    let row_flags: BTreeMap<&str, &str> =
        rows.iter().map(|r| (r.1.as_str(), r.2.as_str())).collect();
    let mut flagged = 0;
    for f in &files {
        let (base, info) = f.split_once(":2,").unwrap_or((f, ""));
        // The file name is the truth for system flags; the row follows it.
        assert_eq!(row_flags.get(base), Some(&info), "{}: row of {f}", t.label);
        flagged += usize::from(!info.is_empty());
    }
    assert!(flagged > 0, "{}: no flag change happened", t.label);
    // APPEND's UID names the message it stored.
    assert_eq!(appended.len(), 2 * PER_CHILD.div_ceil(6));
    for line in appended {
        let mut parts = line.splitn(3, ' ');
        let (uv, uid, subject) = (parts.next(), parts.next(), parts.next());
        assert_eq!(uv, Some(snap.uidvalidity.to_string().as_str()));
        let uid: u32 = uid.ok_or("no uid")?.parse()?;
        let body = store.read(ACCOUNT, "INBOX", uid).await?;
        let want = format!("Subject: {}\r\n", subject.ok_or("no subject")?);
        assert!(String::from_utf8_lossy(&body).starts_with(&want), "{line}");
    }
    Ok(())
}

/// Message `seq` of the crash test: a header, ~48 KiB, and a trailer.
fn crash_message(seq: u64) -> Vec<u8> {
    let mut m = format!("X-Seq: {seq}\nSubject: crash test\n\n").into_bytes();
    for line in 0..1200 {
        m.extend_from_slice(
            format!("line {line:05} of message {seq:08}, padding text\n").as_bytes(),
        );
    }
    m.extend_from_slice(format!("END-OF-MESSAGE {seq}\n").as_bytes());
    m
}

/// Child: deliver from four tasks until killed (bounded, in case no kill
/// comes), printing each acknowledged file name after commit.
async fn deliver_until_killed() -> TestResult {
    let (store, _) = child_store().await?;
    let mut tasks = Vec::new();
    for task in 0..4u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..500u64 {
                let seq = task * 1_000_000 + i;
                let d = store
                    .deliver(ACCOUNT, "INBOX", &crash_message(seq), 0)
                    .await?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "\nACK {}", d.file_name)?;
                out.flush()?;
            }
            Ok::<_, Box<dyn Error + Send + Sync>>(())
        }));
    }
    for t in tasks {
        t.await?.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn killed_delivery_leaves_no_partial_message() -> TestResult {
    let rt = runtime()?;
    if std::env::var(ROLE).as_deref() == Ok("crash") {
        return rt.block_on(deliver_until_killed());
    }
    rt.block_on(async {
        for t in common::all_dbs().await {
            let store = Store::new(t.db.clone(), t.mail_root(), "parent");
            store.create_account(ACCOUNT).await?;
            let name = "killed_delivery_leaves_no_partial_message";
            let mut kid = child(name, "crash", &t, 0)?
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = kid.stdout.take().ok_or("no stdout")?;
            let mut lines = BufReader::new(stdout).lines();
            let mut acked = Vec::new();
            while acked.len() < 40 {
                let Some(line) = lines.next() else { break };
                if let Some(f) = line?.strip_prefix("ACK ") {
                    acked.push(f.to_string());
                }
            }
            kid.kill()?; // SIGKILL
            kid.wait()?;
            for line in lines {
                if let Some(f) = line?.strip_prefix("ACK ") {
                    acked.push(f.to_string());
                }
            }
            assert!(acked.len() >= 40, "{}: child died early", t.label);
            check_after_crash(&store, &t, &acked).await?;
        }
        Ok(())
    })
}

fn seq_of(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes.get(..40)?).ok()?;
    text.strip_prefix("X-Seq: ")?
        .split('\r')
        .next()?
        .parse()
        .ok()
}

async fn check_after_crash(store: &Store, t: &common::TestDb, acked: &[String]) -> TestResult {
    let root = store.account_dir(ACCOUNT)?;
    let mut complete = BTreeMap::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(root.join(sub))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let bytes = std::fs::read(e.path())?;
            let seq = seq_of(&bytes).ok_or_else(|| format!("{name}: no X-Seq header"))?;
            let want = String::from_utf8_lossy(&crash_message(seq)).replace('\n', "\r\n");
            assert!(
                bytes == want.as_bytes(),
                "{}: {name} is partial or corrupt",
                t.label
            );
            complete.insert(name, seq);
        }
    }
    for name in acked {
        assert!(
            complete.contains_key(name),
            "{}: acknowledged {name} is missing",
            t.label
        );
    }
    let seqs: HashSet<u64> = complete.values().copied().collect();
    assert_eq!(
        seqs.len(),
        complete.len(),
        "{}: a message stored twice",
        t.label
    );
    // Whatever is left in tmp/ is never indexed.
    let snap = store.sync(ACCOUNT, "INBOX").await?;
    assert_eq!(snap.messages.len(), complete.len(), "{}", t.label);
    let leftovers = tmp_files(&root.join("tmp"));
    eprintln!(
        "{}: {} acknowledged, {} complete, {} left in tmp/",
        t.label,
        acked.len(),
        complete.len(),
        leftovers.len()
    );
    Ok(())
}

fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}
