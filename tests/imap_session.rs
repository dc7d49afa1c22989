//! IMAP sessions over `tokio::io::duplex`, for sequencing that real
//! clients rarely exercise on purpose: expunges by others while the
//! client pipelines FETCH/STORE/SEARCH by sequence number (ghosts),
//! pipelined commands, EXISTS during FETCH, `\Recent` in exactly one
//! session.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::server::{TestServer, builder};
use postel::imap::{ImapSettings, Session};
use postel::server::{ShutdownTrigger, shutdown_channel};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

const ACCOUNT: &str = "alice@example.org";

struct Client {
    io: BufReader<DuplexStream>,
    _stop: ShutdownTrigger,
}

impl Client {
    async fn open(s: &TestServer) -> Client {
        let (mine, theirs) = tokio::io::duplex(1 << 20);
        let (trigger, shutdown) = shutdown_channel();
        let settings = Arc::new(ImapSettings::from_config(&s.services.config));
        let peer = "127.0.0.1:40000".parse().expect("addr");
        let session = Session::new(theirs, peer, s.services.clone(), settings, shutdown);
        tokio::spawn(session.run());
        let mut c = Client {
            io: BufReader::new(mine),
            _stop: trigger,
        };
        assert!(c.line().await.starts_with("* OK"));
        let r = c.cmd("l", "LOGIN alice@example.org password").await;
        assert!(r.last().is_some_and(|l| l.starts_with("l OK")), "{r:?}");
        c
    }

    async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let read = self.io.read_until(b'\n', &mut buf);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("timely")
            .expect("read");
        String::from_utf8_lossy(&buf).into_owned()
    }

    async fn send(&mut self, bytes: &str) {
        self.io
            .get_mut()
            .write_all(bytes.as_bytes())
            .await
            .expect("write");
    }

    async fn until(&mut self, tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            assert!(!l.is_empty(), "EOF: {out:?}");
            let done = l.starts_with(&format!("{tag} "));
            out.push(l);
            if done {
                return out;
            }
        }
    }

    async fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(&format!("{tag} {command}\r\n")).await;
        self.until(tag).await
    }
}

async fn server(messages: usize) -> TestServer {
    let s = builder()
        .config("[imap]\nallow_plaintext_auth_on_loopback = true\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    deliver(&s, messages).await;
    s
}

async fn deliver(s: &TestServer, n: usize) {
    for i in 0..n {
        let m = format!("Subject: m{i}\r\n\r\nbody {i}\r\n");
        s.services
            .store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
}

async fn expunge_elsewhere(s: &TestServer, uids: &[u32]) {
    s.services
        .store
        .expunge(ACCOUNT, "INBOX", uids)
        .await
        .expect("expunge");
}

fn has(lines: &[String], prefix: &str) -> bool {
    lines.iter().any(|l| l.starts_with(prefix))
}

#[tokio::test]
async fn expunges_by_others_wait_for_a_command_that_allows_them() {
    let s = server(4).await;
    let mut c = Client::open(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    expunge_elsewhere(&s, &[2]).await;
    // FETCH, STORE, SEARCH by number: no EXPUNGE, numbers unchanged.
    let r = c.cmd("b", "FETCH 1:* (UID FLAGS)").await;
    assert!(!r.iter().any(|l| l.contains("EXPUNGE")), "{r:?}");
    assert!(
        has(&r, "* 2 FETCH (UID 2 FLAGS") && has(&r, "* 4 FETCH (UID 4"),
        "{r:?}"
    );
    let r = c.cmd("c", "FETCH 2 BODY[]").await;
    assert_eq!(
        r.last().map(String::as_str),
        Some("c NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n")
    );
    let r = c.cmd("d", "STORE 2:3 +FLAGS (\\Flagged)").await;
    assert!(!r.iter().any(|l| l.contains("EXPUNGE")), "{r:?}");
    assert!(has(&r, "* 3 FETCH (FLAGS (\\Flagged \\Recent))"), "{r:?}");
    let r = c.cmd("e", "SEARCH ALL").await;
    assert_eq!(r[0], "* SEARCH 1 3 4\r\n", "{r:?}");
    let r = c.cmd("f", "COPY 4 Archive").await;
    assert!(!r.iter().any(|l| l.contains("EXPUNGE")), "{r:?}");
    // NOOP may say it.
    let r = c.cmd("g", "NOOP").await;
    assert_eq!(r, vec!["* 2 EXPUNGE\r\n", "g OK NOOP completed\r\n"]);
    let r = c.cmd("h", "FETCH 2 UID").await;
    assert_eq!(r[0], "* 2 FETCH (UID 3)\r\n");
    s.stop().await;
}

#[tokio::test]
async fn uid_commands_may_report_expunges() {
    let s = server(3).await;
    let mut c = Client::open(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    expunge_elsewhere(&s, &[1, 3]).await;
    let r = c.cmd("b", "UID FETCH 1:* FLAGS").await;
    let n = r.len();
    assert_eq!(
        &r[n - 3..n - 1],
        ["* 3 EXPUNGE\r\n", "* 1 EXPUNGE\r\n"],
        "{r:?}"
    );
    let r = c.cmd("c", "FETCH 1 UID").await;
    assert_eq!(r[0], "* 1 FETCH (UID 2)\r\n");
    s.stop().await;
}

#[tokio::test]
async fn pipelined_commands_keep_their_numbers_and_order() {
    let s = server(3).await;
    let mut c = Client::open(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    expunge_elsewhere(&s, &[1]).await;
    c.send("b FETCH 3 UID\r\nc STORE 3 +FLAGS.SILENT (\\Seen)\r\nd SEARCH SEEN\r\ne FETCH 3 UID\r\nf NOOP\r\n")
        .await;
    let r = c.until("f").await;
    let tags: Vec<&str> = r
        .iter()
        .filter(|l| !l.starts_with('*'))
        .map(|l| &l[..1])
        .collect();
    assert_eq!(tags, ["b", "c", "d", "e", "f"], "{r:?}");
    assert_eq!(r[0], "* 3 FETCH (UID 3)\r\n");
    assert!(r.contains(&"* SEARCH 3\r\n".to_string()), "{r:?}");
    assert_eq!(
        r.iter().filter(|l| *l == "* 3 FETCH (UID 3)\r\n").count(),
        2,
        "{r:?}"
    );
    let n = r.len();
    assert_eq!(r[n - 2], "* 1 EXPUNGE\r\n", "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn new_mail_is_announced_even_during_fetch() {
    let s = server(1).await;
    let mut c = Client::open(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    deliver(&s, 2).await;
    let r = c.cmd("b", "FETCH 1:* UID").await;
    assert_eq!(
        r,
        [
            "* 1 FETCH (UID 1)\r\n",
            "* 3 EXISTS\r\n",
            "* 3 RECENT\r\n",
            "b OK FETCH completed\r\n"
        ]
    );
    let r = c.cmd("c", "FETCH 2:* (UID FLAGS)").await;
    assert_eq!(r[0], "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n");
    s.stop().await;
}

#[tokio::test]
async fn recent_belongs_to_exactly_one_session() {
    let s = server(2).await;
    let mut a = Client::open(&s).await;
    let mut b = Client::open(&s).await;
    let r = b.cmd("x", "EXAMINE INBOX").await;
    assert!(r.contains(&"* 0 RECENT\r\n".to_string()), "{r:?}");
    let r = a.cmd("x", "SELECT INBOX").await;
    assert!(r.contains(&"* 2 RECENT\r\n".to_string()), "{r:?}");
    let r = b.cmd("y", "SELECT INBOX").await;
    assert!(r.contains(&"* 0 RECENT\r\n".to_string()), "{r:?}");
    let r = b.cmd("z", "STATUS Archive (RECENT)").await;
    assert!(r[0].contains("RECENT 0"), "{r:?}");
    deliver(&s, 1).await;
    let ra = a.cmd("n", "NOOP").await;
    let rb = b.cmd("n", "NOOP").await;
    let recents: Vec<&String> = ra
        .iter()
        .chain(&rb)
        .filter(|l| l.ends_with(" RECENT\r\n"))
        .collect();
    // RECENT counts every message recent in the session: A has all three.
    assert_eq!(
        recents,
        ["* 3 RECENT\r\n", "* 0 RECENT\r\n"],
        "{ra:?} {rb:?}"
    );
    let r = a.cmd("f", "FETCH 3 FLAGS").await;
    assert_eq!(r[0], "* 3 FETCH (FLAGS (\\Recent))\r\n");
    let r = b.cmd("f", "FETCH 3 FLAGS").await;
    assert_eq!(r[0], "* 3 FETCH (FLAGS ())\r\n");
    s.stop().await;
}

#[tokio::test]
async fn flag_changes_by_another_session_are_told_with_uid() {
    let s = server(2).await;
    let mut a = Client::open(&s).await;
    let mut b = Client::open(&s).await;
    a.cmd("x", "SELECT INBOX").await;
    b.cmd("x", "SELECT INBOX").await;
    b.cmd("y", "STORE 2 +FLAGS (\\Answered)").await;
    let r = a.cmd("y", "NOOP").await;
    // A selected first, so both messages are \Recent in A only.
    assert_eq!(
        r[0], "* 2 FETCH (UID 2 FLAGS (\\Answered \\Recent))\r\n",
        "{r:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn literals_synchronising_and_non_synchronising() {
    let s = server(0).await;
    let mut c = Client::open(&s).await;
    c.send("a CREATE {6}\r\n").await;
    assert!(c.line().await.starts_with("+ "));
    c.send("Folder\r\n").await;
    let r = c.until("a").await;
    assert_eq!(r, ["a OK CREATE completed\r\n"]);
    let msg = "Subject: lit\r\n\r\nhi\r\n";
    c.send(&format!(
        "b APPEND {{6+}}\r\nFolder (\\Seen) {{{}+}}\r\n{msg}\r\n",
        msg.len()
    ))
    .await;
    let r = c.until("b").await;
    assert!(r[0].starts_with("b OK [APPENDUID "), "{r:?}");
    let snap = s
        .services
        .store
        .sync(ACCOUNT, "Folder")
        .await
        .expect("sync");
    assert_eq!(snap.messages.len(), 1);
    assert!(snap.messages[0].flags.seen);
    s.stop().await;
}

#[tokio::test]
async fn big_literals_are_refused_before_login() {
    let s = server(0).await;
    let (mine, theirs) = tokio::io::duplex(1 << 20);
    let (trigger, shutdown) = shutdown_channel();
    let settings = Arc::new(ImapSettings::from_config(&s.services.config));
    let peer = "127.0.0.1:40000".parse().expect("addr");
    tokio::spawn(Session::new(theirs, peer, s.services.clone(), settings, shutdown).run());
    let mut c = Client {
        io: BufReader::new(mine),
        _stop: trigger,
    };
    assert!(c.line().await.starts_with("* OK"));
    let r = c.cmd("a", "APPEND INBOX {100000}").await;
    assert_eq!(r, ["a BAD [TOOBIG] Literal too large before login\r\n"]);
    let junk = "j".repeat(100_000);
    c.send(&format!(
        "b APPEND INBOX {{100000+}}\r\n{junk}\r\nc NOOP\r\n"
    ))
    .await;
    let r = c.until("c").await;
    assert_eq!(
        r,
        [
            "b BAD [TOOBIG] Literal too large before login\r\n",
            "c OK NOOP completed\r\n"
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn commands_in_the_wrong_state_and_garbage_are_refused() {
    let s = server(1).await;
    let mut c = Client::open(&s).await;
    let r = c.cmd("a", "FETCH 1 FLAGS").await;
    assert_eq!(r, ["a BAD No mailbox selected\r\n"]);
    let r = c.cmd("b", "LOGIN x y").await;
    assert_eq!(r, ["b BAD Already logged in\r\n"]);
    c.send("\r\n* NOOP\r\nc FOO\r\n").await;
    assert!(c.line().await.starts_with("* BAD"));
    assert!(c.line().await.starts_with("* BAD"));
    assert!(c.line().await.starts_with("c BAD"));
    let r = c.cmd("d", "LOGOUT").await;
    assert_eq!(r, ["* BYE Logging out\r\n", "d OK Logout completed\r\n"]);
    s.stop().await;
}

#[tokio::test]
async fn new_keywords_are_announced_with_flags_before_fetch() {
    let s = server(1).await;
    let mut a = Client::open(&s).await;
    let mut b = Client::open(&s).await;
    a.cmd("x", "SELECT INBOX").await;
    b.cmd("x", "SELECT INBOX").await;
    let r = a.cmd("y", "STORE 1 +FLAGS ($Label1)").await;
    assert_eq!(
        r[0],
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)\r\n"
    );
    assert!(
        r[1].starts_with("* OK [PERMANENTFLAGS (\\Answered"),
        "{r:?}"
    );
    assert!(r[1].contains("$Label1 \\*)]"), "{r:?}");
    assert_eq!(r[2], "* 1 FETCH (FLAGS ($Label1 \\Recent))\r\n");
    let r = b.cmd("y", "NOOP").await;
    assert!(
        r[0].starts_with("* FLAGS (") && r[0].contains("$Label1"),
        "{r:?}"
    );
    assert_eq!(r[2], "* 1 FETCH (UID 1 FLAGS ($Label1))\r\n", "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn idle_tells_flag_changes_and_expunges_of_other_sessions_at_once() {
    let s = server(3).await;
    let mut a = Client::open(&s).await;
    let mut b = Client::open(&s).await;
    b.cmd("x", "SELECT INBOX").await;
    a.cmd("x", "SELECT INBOX").await;
    a.send("i IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling\r\n");
    let started = std::time::Instant::now();
    b.cmd("y", "STORE 2 +FLAGS (\\Flagged)").await;
    // B selected first: the messages are \Recent there, not here.
    assert_eq!(a.line().await, "* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n");
    b.cmd("z", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("w", "EXPUNGE").await;
    // The \Deleted may be told before the EXPUNGE, or not at all if both
    // changes are seen in one sync.
    let mut line = a.line().await;
    if line.starts_with("* 1 FETCH") {
        assert_eq!(line, "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n");
        line = a.line().await;
    }
    assert_eq!(line, "* 1 EXPUNGE\r\n");
    assert!(started.elapsed() < Duration::from_secs(1));
    a.send("DONE\r\n").await;
    assert_eq!(a.line().await, "i OK IDLE terminated\r\n");
    s.stop().await;
}
