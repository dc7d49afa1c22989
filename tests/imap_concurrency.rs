//! Many sessions on one mailbox at once: 50 IMAP sessions append, flag
//! and expunge in the same INBOX concurrently; afterwards every
//! session's view (as told by EXISTS/EXPUNGE and a final FETCH), the
//! index and the Maildir agree. And IMAP and POP3 on one maildrop.

mod common;
mod imap_util;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::server::{TestServer, builder};
use imap_util::{Raw, run_python};
use tokio::sync::{Barrier, Semaphore};

const ACCOUNT: &str = "alice@example.org";
const SESSIONS: usize = 50;
const ROUNDS: usize = 4;

/// What one client knows from the responses it read: the message count
/// (EXISTS minus EXPUNGEs since).
#[derive(Default)]
struct Model {
    exists: i64,
}

impl Model {
    fn absorb(&mut self, lines: &[String]) {
        for l in lines {
            let mut words = l.split_ascii_whitespace();
            if words.next() != Some("*") {
                continue;
            }
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<i64>() else { continue };
            match what {
                "EXISTS" => self.exists = n,
                "EXPUNGE" => {
                    assert!(n >= 1 && n <= self.exists, "EXPUNGE {n} of {}", self.exists);
                    self.exists -= 1;
                }
                _ => {}
            }
        }
    }
}

async fn cmd(c: &mut Raw, m: &mut Model, tag: &str, command: &str) -> Vec<String> {
    let lines = c.cmd(tag, command).await;
    m.absorb(&lines);
    let last = lines.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with(&format!("{tag} OK")),
        "{command}: {lines:?}"
    );
    lines
}

/// `(seq, uid, flags)` of a FETCH (UID FLAGS) line.
fn parse_fetch(l: &str) -> Option<(u32, u32, String)> {
    let rest = l.strip_prefix("* ")?;
    let (seq, rest) = rest.split_once(" FETCH (")?;
    let uid = rest
        .split("UID ")
        .nth(1)?
        .split([' ', ')'])
        .next()?
        .parse()
        .ok()?;
    let flags = rest.split("FLAGS (").nth(1)?.split(')').next()?.to_string();
    Some((seq.parse().ok()?, uid, flags))
}

async fn worker(
    s: Arc<TestServer>,
    i: usize,
    logins: Arc<Semaphore>,
    barrier: Arc<Barrier>,
) -> Vec<(u32, u32, String)> {
    let (mut c, _) = Raw::connect(s.imap).await;
    let mut m = Model::default();
    {
        // Password hashing is slow in debug builds; log in a few at a
        // time, then let everyone loose at once.
        let _permit = logins.acquire().await.expect("semaphore");
        cmd(&mut c, &mut m, "l", "LOGIN alice@example.org password").await;
    }
    barrier.wait().await;
    cmd(&mut c, &mut m, "s", "SELECT INBOX").await;
    for k in 0..ROUNDS {
        let body = format!("Subject: s{i} r{k}\r\n\r\nfrom session {i}\r\n");
        let append = format!("APPEND INBOX {{{}+}}\r\n{body}", body.len());
        cmd(&mut c, &mut m, "a", &append).await;
        cmd(&mut c, &mut m, "n", "NOOP").await;
        if m.exists > 0 {
            let seq = (i * 7 + k) as i64 % m.exists + 1;
            cmd(
                &mut c,
                &mut m,
                "f",
                &format!("STORE {seq} +FLAGS (\\Flagged)"),
            )
            .await;
            if k % 2 == 1 {
                let seq = (i * 3 + k * 5) as i64 % m.exists + 1;
                let store = format!("STORE {seq} +FLAGS.SILENT (\\Deleted)");
                cmd(&mut c, &mut m, "d", &store).await;
            }
        }
        if k % 2 == 1 {
            cmd(&mut c, &mut m, "e", "EXPUNGE").await;
        } else {
            cmd(&mut c, &mut m, "u", "UID EXPUNGE 1:*").await;
        }
    }
    barrier.wait().await;
    // Everyone is done changing things; now every view must settle.
    cmd(&mut c, &mut m, "z", "NOOP").await;
    barrier.wait().await;
    let lines = cmd(&mut c, &mut m, "x", "FETCH 1:* (UID FLAGS)").await;
    let rows: Vec<(u32, u32, String)> = lines.iter().filter_map(|l| parse_fetch(l)).collect();
    assert_eq!(rows.len() as i64, m.exists, "session {i}: {lines:?}");
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row.0 as usize, n + 1, "session {i}: {lines:?}");
    }
    cmd(&mut c, &mut m, "o", "LOGOUT").await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_sessions_append_flag_expunge_and_agree() {
    let s = builder()
        .config("[imap]\nallow_plaintext_auth_on_loopback = true\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    let s = Arc::new(s);
    let barrier = Arc::new(Barrier::new(SESSIONS));
    let logins = Arc::new(Semaphore::new(2));
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|i| tokio::spawn(worker(s.clone(), i, logins.clone(), barrier.clone())))
        .collect();
    let mut views = Vec::new();
    for t in tasks {
        views.push(t.await.expect("session task"));
    }
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let index: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
    for (i, v) in views.iter().enumerate() {
        let uids: Vec<u32> = v.iter().map(|r| r.1).collect();
        assert_eq!(uids, index, "session {i} disagrees with the index");
    }
    // Flags agree between sessions (ignoring \Recent, which is per session).
    let strip = |f: &str| {
        let mut w: Vec<&str> = f
            .split(' ')
            .filter(|x| !x.is_empty() && *x != "\\Recent")
            .collect();
        w.sort();
        w.join(" ")
    };
    let first: BTreeMap<u32, String> = views[0].iter().map(|r| (r.1, strip(&r.2))).collect();
    for v in &views {
        let other: BTreeMap<u32, String> = v.iter().map(|r| (r.1, strip(&r.2))).collect();
        assert_eq!(other, first);
    }
    for m in &snap.messages {
        assert_eq!(first[&m.uid].contains("\\Flagged"), m.flags.flagged);
        assert_eq!(first[&m.uid].contains("\\Deleted"), m.flags.deleted);
    }
    // The Maildir holds exactly those messages.
    assert_eq!(s.messages(ACCOUNT, "INBOX").len(), snap.messages.len());
    let appended = SESSIONS * ROUNDS;
    assert!(snap.messages.len() < appended, "some expunges happened");
    assert!(!snap.messages.is_empty(), "some messages are left");
    let s = Arc::into_inner(s).expect("sole owner");
    s.stop().await;
}

async fn pop3_server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice"]).await;
    for i in 0..3 {
        let m = format!("Subject: pop {i}\r\n\r\nbody {i}\r\n");
        s.services
            .store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
    s
}

fn pop_args(s: &TestServer) -> String {
    format!("p995 = {}\n", s.pop3s.port())
}

#[tokio::test]
async fn imap_expunge_during_a_pop3_session() {
    let s = pop3_server().await;
    let script = format!(
        r#"
import poplib
{}
p = poplib.POP3_SSL("127.0.0.1", p995, context=ctx, timeout=10)
p.user("alice@example.org"); p.pass_("password")
assert p.stat()[0] == 3
c = tls()
c.select("INBOX")
ok(c.store("1", "+FLAGS", "(\\Deleted)"))
ok(c.expunge())
# POP3 keeps its snapshot: the message IMAP removed cannot be retrieved.
try:
    p.retr(1)
    raise SystemExit("RETR of an expunged message succeeded")
except poplib.error_proto as e:
    assert b"-ERR" in e.args[0], e
assert p.retr(2)[1][0] == b"Subject: pop 1"
p.dele(3)
p.quit()
ok(c.noop())
d = ok(c.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
subjects = [x[1] for x in d if isinstance(x, tuple)]
assert subjects == [b"Subject: pop 1\r\n\r\n"], subjects
print("ok")
"#,
        pop_args(&s)
    );
    run_python(&s, &script).await;
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(snap.messages.len(), 1);
    assert!(snap.messages[0].flags.seen, "RETR set \\Seen");
    s.stop().await;
}

#[tokio::test]
async fn pop3_delete_is_seen_by_an_idle_imap_session() {
    let s = pop3_server().await;
    let script = format!(
        r#"
import poplib
{}
c = tls()
c.select("INBOX")
tag = c._new_tag()
c.send(tag + b" IDLE\r\n")
assert c.readline().startswith(b"+ ")
p = poplib.POP3_SSL("127.0.0.1", p995, context=ctx, timeout=10)
p.user("alice@example.org"); p.pass_("password")
p.dele(2)
start = time.monotonic()
p.quit()
c.sock.settimeout(10)
line = c.readline()
assert line == b"* 2 EXPUNGE\r\n", line
assert time.monotonic() - start < 1.0
c.send(b"DONE\r\n")
assert c.readline().startswith(tag + b" OK")
d = ok(c.fetch("1:*", "UID"))
assert d == [b"1 (UID 1)", b"2 (UID 3)"], d
print("ok")
"#,
        pop_args(&s)
    );
    run_python(&s, &script).await;
    s.stop().await;
}
