//! mbsync (Debian package `isync`) against the IMAPS listener: a full
//! two-way sync of an INBOX of 1,000 messages and nested folders, a
//! second sync with nothing to do, then flag changes and deletions on
//! either side propagating.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::{TestServer, builder};
use postel::store::{FlagMode, Flags};

const ACCOUNT: &str = "alice@example.org";

fn have_mbsync() -> bool {
    Command::new("mbsync").arg("--version").output().is_ok()
}

fn message(side: &str, i: usize) -> String {
    format!(
        "From: {side}{i}@remote.test\r\nTo: alice@example.org\r\nSubject: {side} {i}\r\n\
         Message-ID: <{side}{i}@remote.test>\r\nDate: Mon, 1 Jan 2024 12:00:00 +0000\r\n\r\n\
         {side} body {i}\r\n"
    )
}

/// Writes a message into a local Maildir folder's `cur/` with `flags`.
fn put_local(dir: &Path, name: &str, body: &str, flags: &str) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).expect("maildir");
    }
    let file = dir.join("cur").join(format!("{name}:2,{flags}"));
    std::fs::write(file, body.replace("\r\n", "\n")).expect("write");
}

/// Files of a local Maildir folder, `(name, flags)` sorted.
fn local_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let (base, flags) = name.split_once(":2,").unwrap_or((&name, ""));
            out.push((base.to_string(), flags.to_string()));
        }
    }
    out.sort();
    out
}

struct Sync {
    config: PathBuf,
    local: PathBuf,
}

impl Sync {
    fn new(s: &TestServer) -> Sync {
        let root = s.data_dir.join("mbsync");
        let local = root.join("local");
        std::fs::create_dir_all(&local).expect("dir");
        let (cert, _) = postel::tls::self_signed_paths(&s.data_dir);
        let config = root.join("mbsyncrc");
        let text = format!(
            "IMAPAccount postel\nHost 127.0.0.1\nPort {port}\nUser {ACCOUNT}\nPass password\n\
             SSLType IMAPS\nCertificateFile {cert}\n\n\
             IMAPStore remote\nAccount postel\n\n\
             MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n\
             Expunge Both\nSyncState *\n",
            port = s.imaps.port(),
            cert = cert.display(),
            local = local.display(),
        );
        std::fs::write(&config, text).expect("mbsyncrc");
        Sync { config, local }
    }

    /// Runs `mbsync -a`; returns its output.
    async fn run(&self) -> String {
        let config = self.config.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("mbsync")
                .arg("-c")
                .arg(&config)
                .arg("-V")
                .arg("-a")
                .output()
                .expect("mbsync")
        })
        .await
        .expect("join");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "mbsync failed:\n{text}");
        text
    }
}

async fn server_count(s: &TestServer, folder: &str) -> usize {
    s.services
        .store
        .sync(ACCOUNT, folder)
        .await
        .expect("sync")
        .messages
        .len()
}

#[tokio::test]
async fn two_way_sync_of_a_thousand_messages_and_nested_folders() {
    if !have_mbsync() {
        common::skip("mbsync (Debian package isync) is not installed");
        return;
    }
    let s = builder().start().await;
    s.with_users("example.org", &["alice"]).await;
    let store = &s.services.store;
    for i in 0..500 {
        store
            .deliver(ACCOUNT, "INBOX", message("server", i).as_bytes(), 0)
            .await
            .expect("deliver");
    }
    store
        .create_folder(ACCOUNT, "Projects/2024")
        .await
        .expect("create");
    for i in 0..5 {
        let flags = Flags::default();
        let m = message("project", i);
        store
            .append(ACCOUNT, "Projects/2024", m.as_bytes(), &flags, None, 0)
            .await
            .expect("append");
    }
    let sync = Sync::new(&s);
    let inbox = sync.local.join("INBOX");
    for i in 0..500 {
        let flags = if i % 10 == 0 { "S" } else { "" };
        put_local(
            &inbox,
            &format!("1700000000.{i}.local"),
            &message("local", i),
            flags,
        );
    }
    put_local(
        &sync.local.join("Lists/Rust"),
        "1700000000.x.local",
        &message("list", 0),
        "F",
    );

    sync.run().await;
    assert_eq!(server_count(&s, "INBOX").await, 1000);
    assert_eq!(server_count(&s, "Lists/Rust").await, 1);
    assert_eq!(local_files(&inbox).len(), 1000);
    assert_eq!(local_files(&sync.local.join("Projects/2024")).len(), 5);
    let snap = store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(snap.messages.iter().filter(|m| m.flags.seen).count(), 50);
    let list = store.sync(ACCOUNT, "Lists/Rust").await.expect("sync");
    assert!(list.messages[0].flags.flagged);

    // Nothing to do the second time: no message moves either way.
    let before_local = local_files(&inbox);
    let before = store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let out = sync.run().await;
    assert_eq!(local_files(&inbox), before_local, "{out}");
    let after = store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(after, before, "{out}");

    // Flags and deletions on either side propagate.
    let flagged = Flags {
        flagged: true,
        ..Flags::default()
    };
    let uids: Vec<u32> = after.messages.iter().take(3).map(|m| m.uid).collect();
    store
        .set_flags(ACCOUNT, "INBOX", &uids, FlagMode::Add, &flagged, None)
        .await
        .expect("flag");
    let gone = after.messages[10].uid;
    store
        .expunge(ACCOUNT, "INBOX", &[gone])
        .await
        .expect("expunge");
    let (victim, _) = before_local
        .iter()
        .find(|(n, f)| n.contains(".local") && f.is_empty())
        .cloned()
        .expect("a local message");
    let cur = inbox.join("cur");
    std::fs::rename(
        cur.join(format!("{victim}:2,")),
        cur.join(format!("{victim}:2,RS")),
    )
    .expect("local flag change");
    sync.run().await;
    let local = local_files(&inbox);
    assert_eq!(local.len(), 999);
    assert_eq!(local.iter().filter(|(_, f)| f.contains('F')).count(), 3);
    let snap = store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(snap.messages.len(), 999);
    assert_eq!(snap.messages.iter().filter(|m| m.flags.answered).count(), 1);
    assert_eq!(snap.messages.iter().filter(|m| m.flags.seen).count(), 51);
    s.stop().await;
}
