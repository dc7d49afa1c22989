//! POP3 over loopback with Python's poplib and fetchmail.

mod common;

use std::process::Command;

use common::server::{TestServer, builder};

const ACCOUNT: &str = "alice@example.org";

async fn server_with(messages: usize) -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice"]).await;
    for i in 0..messages {
        let m = format!(
            "From: <s@remote.test>\r\nSubject: message {i}\r\n\r\nline one of {i}\r\n.dotted line\r\nlast\r\n"
        );
        s.services
            .store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
    s
}

async fn python(script: String, s: &TestServer) -> (bool, String) {
    let ports = vec![s.pop3.port().to_string(), s.pop3s.port().to_string()];
    common::python(script, ports).await
}

const PRELUDE: &str = r#"
import poplib, ssl, sys
p110, p995 = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl._create_unverified_context()
def tls():
    c = poplib.POP3_SSL("127.0.0.1", p995, context=ctx, timeout=10)
    c.user("alice@example.org"); c.pass_("password")
    return c
"#;

#[tokio::test]
async fn poplib_stat_list_uidl_retr_top_over_both_listeners() {
    let s = server_with(3).await;
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let uidls: Vec<String> = snap
        .messages
        .iter()
        .map(|m| format!("{:08X}{:08X}", m.uid, snap.uidvalidity))
        .collect();
    let sizes: Vec<u64> = snap.messages.iter().map(|m| m.size).collect();
    let script = format!(
        "{PRELUDE}
uidls, sizes = {uidls:?}, {sizes:?}
c = poplib.POP3('127.0.0.1', p110, timeout=10)
caps = c.capa()
assert 'STLS' in caps and 'USER' not in caps, caps
try:
    c.user('alice@example.org'); raise SystemExit('USER accepted before TLS')
except poplib.error_proto as e:
    assert b'[AUTH]' in e.args[0], e
c.stls(context=ctx)
caps = c.capa()
for k in ('TOP', 'UIDL', 'USER', 'SASL', 'RESP-CODES', 'PIPELINING', 'IMPLEMENTATION'):
    assert k in caps, (k, caps)
assert 'STLS' not in caps
c.user('alice@example.org'); c.pass_('password')
n, total = c.stat()
assert n == 3 and total == sum(sizes), (n, total)
resp, lines, _ = c.list()
assert [int(l.split()[1]) for l in lines] == sizes, lines
resp, lines, _ = c.uidl()
assert [l.split()[1].decode() for l in lines] == uidls, lines
assert c.uidl(2).split()[2].decode() == uidls[1]
resp, lines, octets = c.retr(1)
body = b'\\r\\n'.join(lines) + b'\\r\\n'
assert body.endswith(b'.dotted line\\r\\nlast\\r\\n'), body
assert len(body) == sizes[0], (len(body), sizes[0])
resp, lines, _ = c.top(2, 1)
assert lines[-1] == b'line one of 1' and b'Subject: message 1' in lines, lines
c.quit()
c = tls()
assert c.stat()[0] == 3
c.quit()
print('ok')
"
    );
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    // RETR set \Seen on message 1 only.
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let seen: Vec<bool> = snap.messages.iter().map(|m| m.flags.seen).collect();
    assert_eq!(seen, vec![true, false, false]);
    s.stop().await;
}

#[tokio::test]
async fn dele_quit_removes_dropped_connection_keeps_rset_restores() {
    let s = server_with(4).await;
    let script = format!(
        "{PRELUDE}
import socket
c = tls(); c.dele(1); c.rset(); c.dele(2); c.quit()
c = tls(); assert c.stat()[0] == 3
c.dele(1); c.dele(2)
try:
    c.dele(1); raise SystemExit('double DELE accepted')
except poplib.error_proto: pass
c.sock.shutdown(socket.SHUT_RDWR); c.sock.close()   # no QUIT
c = tls(); assert c.stat()[0] == 3, 'dropped connection must delete nothing'
c.quit()
print('ok')
"
    );
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(snap.messages.len(), 3);
    assert_eq!(
        s.messages(ACCOUNT, "INBOX").len(),
        3,
        "the file is gone from the Maildir"
    );
    s.stop().await;
}

#[tokio::test]
async fn second_session_is_in_use_and_wrong_password_fails() {
    let s = server_with(1).await;
    let script = format!(
        "{PRELUDE}
a = tls()
b = poplib.POP3_SSL('127.0.0.1', p995, context=ctx, timeout=10)
b.user('alice@example.org')
try:
    b.pass_('password'); raise SystemExit('second session got the maildrop')
except poplib.error_proto as e:
    assert b'[IN-USE]' in e.args[0], e
a.quit()
b = poplib.POP3_SSL('127.0.0.1', p995, context=ctx, timeout=10)
b.user('alice@example.org')
try:
    b.pass_('wrong'); raise SystemExit('wrong password accepted')
except poplib.error_proto as e:
    assert b'[AUTH]' in e.args[0], e
print('ok')
"
    );
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    s.stop().await;
}

/// A message expunged by another session (IMAP, here the store itself)
/// makes only that RETR fail; the POP3 session goes on.
#[tokio::test]
async fn message_expunged_elsewhere_fails_only_its_retr() {
    let s = server_with(2).await;
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let first = snap.messages[0].uid;
    let marker = s.data_dir.join("expunge-now");
    let store = s.services.store.clone();
    let m2 = marker.clone();
    let expunger = tokio::spawn(async move {
        for _ in 0..200 {
            if m2.exists() {
                store
                    .expunge(ACCOUNT, "INBOX", &[first])
                    .await
                    .expect("expunge");
                let _ = std::fs::write(m2.with_extension("done"), b"");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let script = format!(
        "{PRELUDE}
import os, time
c = tls()
open({marker:?}, 'w').close()
while not os.path.exists({done:?}): time.sleep(0.05)
try:
    c.retr(1); raise SystemExit('RETR of an expunged message succeeded')
except poplib.error_proto as e:
    assert e.args[0].startswith(b'-ERR'), e
resp, lines, _ = c.retr(2)
assert b'Subject: message 1' in lines
c.quit()
print('ok')
",
        marker = marker.display().to_string(),
        done = marker.with_extension("done").display().to_string()
    );
    let (ok, out) = python(script, &s).await;
    expunger.await.expect("expunger");
    assert!(ok, "{out}");
    s.stop().await;
}

#[tokio::test]
async fn fetchmail_keep_then_delete_500_messages() {
    if Command::new("fetchmail").arg("--version").output().is_err() {
        common::skip("fetchmail is not installed (apt-get install fetchmail)");
        return;
    }
    let s = server_with(500).await;
    let work = tempfile::tempdir().expect("tempdir");
    let out_dir = work.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let rc = work.path().join("fetchmailrc");
    let idfile = work.path().join("ids");
    let run = |keep: bool| {
        let text = format!(
            "set no bouncemail\npoll 127.0.0.1 service {} protocol pop3 uidl\n  user \"{ACCOUNT}\" there password \"password\" is \"tester\" here\n  ssl no sslcertck {}\n  mda \"/bin/sh -c 'cat > {}/$$.$(date +%s%N)'\"\n",
            s.pop3s.port(),
            if keep { "keep" } else { "nokeep" },
            out_dir.display()
        );
        std::fs::write(&rc, text).expect("rc");
        let mut perms = std::fs::metadata(&rc).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        std::fs::set_permissions(&rc, perms).expect("chmod");
        (rc.clone(), idfile.clone())
    };
    let fetch = |rc: std::path::PathBuf, idfile: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || {
            Command::new("fetchmail")
                .arg("-f")
                .arg(&rc)
                .arg("-i")
                .arg(&idfile)
                .args(["--nodetach", "--silent", "--norewrite"])
                .env("HOME", rc.parent().expect("dir"))
                .output()
                .expect("fetchmail runs")
        })
        .await
        .expect("join")
    };
    let count = || std::fs::read_dir(&out_dir).expect("out").count();
    let (rc1, id1) = run(true);
    let out = fetch(rc1.clone(), id1.clone()).await;
    assert_eq!(
        count(),
        500,
        "keep run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = fetch(rc1, id1).await;
    assert_eq!(count(), 500, "second keep run fetches nothing new");
    assert_eq!(
        s.messages(ACCOUNT, "INBOX").len(),
        500,
        "keep mode leaves the mail"
    );
    let (rc2, id2) = run(false);
    let _ = std::fs::remove_file(&id2);
    let out = fetch(rc2, id2).await;
    assert_eq!(
        count(),
        1000,
        "delete run fetches all again (fresh id file): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.messages(ACCOUNT, "INBOX").is_empty(),
        "nokeep mode deletes on the server"
    );
    let left = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert!(left.messages.is_empty());
    s.stop().await;
}

/// `[pop3] exclusive = false` lets two sessions share the maildrop.
#[tokio::test]
async fn exclusive_access_can_be_turned_off() {
    let s = builder()
        .config("[pop3]\nexclusive = false\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    let script = format!(
        "{PRELUDE}
a = tls()
b = tls()
assert a.stat() == b.stat()
a.quit(); b.quit()
print('ok')
"
    );
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    s.stop().await;
}
