//! IMAP extensions over real connections: CONDSTORE, QUOTA, ESEARCH,
//! SORT, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, NAMESPACE, ID, ENABLE,
//! UNSELECT, SASL-IR, LITERAL+; and the limits (line length, APPEND
//! size, quota, autologout).

mod common;
mod imap_util;

use common::server::{TestServer, builder};
use imap_util::{Raw, run_python};

const ACCOUNT: &str = "alice@example.org";

async fn server_with(config: &str, messages: usize) -> TestServer {
    let s = builder()
        .config(&format!(
            "[imap]\nallow_plaintext_auth_on_loopback = true\n{config}"
        ))
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    for i in 0..messages {
        let m = format!(
            "From: User{} <{}@remote.test>\r\nTo: alice@example.org\r\n\
             Subject: {}topic {}\r\nDate: Mon, {} Jan 2024 12:00:00 +0000\r\n\r\n{}\r\n",
            (b'Z' - i as u8) as char,
            (b'a' + i as u8) as char,
            if i % 2 == 0 { "Re: " } else { "" },
            i % 3,
            10 - i,
            "x".repeat(10 * (i % 4))
        );
        s.services
            .store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
    s
}

async fn login(s: &TestServer) -> Raw {
    let (mut raw, _) = Raw::connect(s.imap).await;
    let r = raw.cmd("l", "LOGIN alice@example.org password").await;
    assert!(r.last().is_some_and(|l| l.starts_with("l OK")), "{r:?}");
    raw
}

fn tagged(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or_default()
}

#[tokio::test]
async fn condstore_modseq_changedsince_unchangedsince() {
    let s = server_with("", 3).await;
    let mut c = login(&s).await;
    let r = c.cmd("a", "SELECT INBOX (CONDSTORE)").await;
    let hms = r
        .iter()
        .find_map(|l| l.strip_prefix("* OK [HIGHESTMODSEQ "))
        .and_then(|l| l.split(']').next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("HIGHESTMODSEQ");
    let r = c.cmd("b", "FETCH 1:* (FLAGS) (CHANGEDSINCE 0)").await;
    assert_eq!(r.len(), 4, "{r:?}");
    assert!(r[0].contains("MODSEQ ("), "{r:?}");
    let r = c.cmd("c", "STORE 2 +FLAGS (\\Seen)").await;
    assert!(
        r[0].starts_with("* 2 FETCH (FLAGS (\\Seen \\Recent) MODSEQ ("),
        "{r:?}"
    );
    let r = c
        .cmd("d", &format!("FETCH 1:* (UID) (CHANGEDSINCE {hms})"))
        .await;
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[0].starts_with("* 2 FETCH (UID 2 MODSEQ"), "{r:?}");
    let r = c
        .cmd(
            "e",
            &format!("UID STORE 1:3 (UNCHANGEDSINCE {hms}) +FLAGS (\\Flagged)"),
        )
        .await;
    assert_eq!(
        tagged(&r),
        "e OK [MODIFIED 2] Conditional STORE failed\r\n",
        "{r:?}"
    );
    let r = c.cmd("f", "SEARCH MODSEQ 1").await;
    assert!(r[0].starts_with("* SEARCH 1 2 3 (MODSEQ "), "{r:?}");
    let r = c.cmd("g", "STATUS INBOX (HIGHESTMODSEQ MESSAGES)").await;
    assert!(
        r[0].starts_with("* STATUS \"INBOX\" (HIGHESTMODSEQ "),
        "{r:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn esearch_sort_namespace_id_enable_unselect() {
    let s = server_with("", 5).await;
    let mut c = login(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    let r = c
        .cmd("b", "SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT topic")
        .await;
    assert_eq!(
        r[0], "* ESEARCH (TAG \"b\") MIN 1 MAX 5 COUNT 5 ALL 1:5\r\n",
        "{r:?}"
    );
    let r = c.cmd("c", "UID SEARCH RETURN () NOT SUBJECT topic").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"c\") UID\r\n", "{r:?}");
    let r = c.cmd("d", "SEARCH RETURN (COUNT) 2,4").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"d\") COUNT 2\r\n", "{r:?}");
    // Base subjects: "Re: topic 0" sorts with "topic 0"; ties by number.
    let r = c.cmd("e", "SORT (SUBJECT) UTF-8 ALL").await;
    assert_eq!(r[0], "* SORT 1 4 2 5 3\r\n", "{r:?}");
    let r = c.cmd("f", "SORT (REVERSE DATE) UTF-8 ALL").await;
    assert_eq!(r[0], "* SORT 1 2 3 4 5\r\n", "{r:?}");
    let r = c.cmd("g", "UID SORT (FROM) UTF-8 SINCE 1-Jan-2000").await;
    assert_eq!(r[0], "* SORT 1 2 3 4 5\r\n", "{r:?}");
    let r = c.cmd("h", "SORT (SIZE ARRIVAL) US-ASCII ALL").await;
    // Message 5's Date line is one octet shorter ("6 Jan" vs "10 Jan").
    assert_eq!(r[0], "* SORT 5 1 2 3 4\r\n", "{r:?}");
    let r = c.cmd("i", "SORT (DATE) KOI8-R ALL").await;
    assert!(tagged(&r).starts_with("i NO [BADCHARSET"), "{r:?}");
    let r = c.cmd("j", "NAMESPACE").await;
    assert_eq!(r[0], "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", "{r:?}");
    let r = c.cmd("k", "ID (\"name\" \"test\")").await;
    assert!(r[0].starts_with("* ID (\"name\" \"Postel\""), "{r:?}");
    let r = c.cmd("l", "ENABLE CONDSTORE X-UNKNOWN").await;
    assert_eq!(r[0], "* ENABLED CONDSTORE\r\n", "{r:?}");
    let r = c.cmd("m", "UNSELECT").await;
    assert_eq!(tagged(&r), "m OK UNSELECT completed\r\n");
    let r = c.cmd("n", "FETCH 1 FLAGS").await;
    assert!(tagged(&r).starts_with("n BAD"), "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn list_extended_status_special_use_and_children() {
    let s = server_with("", 2).await;
    let mut c = login(&s).await;
    c.cmd("a", "CREATE Work/Reports").await;
    c.cmd("b", "SUBSCRIBE Work/Reports").await;
    c.cmd("b2", "SUBSCRIBE Gone").await;
    let r = c.cmd("c", "LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(
        r.contains(&"* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Work/Reports\"\r\n".into()),
        "{r:?}"
    );
    assert!(
        r.contains(
            &"* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" \"Gone\"\r\n".into()
        ),
        "{r:?}"
    );
    assert_eq!(r.len(), 3, "{r:?}");
    let r = c
        .cmd(
            "d",
            "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)",
        )
        .await;
    assert!(
        r.contains(
            &"* LIST (\\HasChildren) \"/\" \"Work\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n".into()
        ),
        "{r:?}"
    );
    let r = c.cmd("e", "LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert_eq!(r.len(), 6, "{r:?}");
    assert!(
        r.iter()
            .any(|l| l.contains("\\Junk") && l.contains("\"Junk\"")),
        "{r:?}"
    );
    let r = c
        .cmd(
            "f",
            "LIST \"\" (INBOX Work) RETURN (STATUS (MESSAGES UNSEEN SIZE))",
        )
        .await;
    assert!(
        r[0].starts_with("* LIST (\\HasNoChildren) \"/\" \"INBOX\""),
        "{r:?}"
    );
    assert!(
        r[1].starts_with("* STATUS \"INBOX\" (MESSAGES 2 UNSEEN 2 SIZE "),
        "{r:?}"
    );
    assert!(
        r[2].starts_with("* LIST (\\HasChildren) \"/\" \"Work\""),
        "{r:?}"
    );
    assert!(
        r[3].starts_with("* STATUS \"Work\" (MESSAGES 0 UNSEEN 0 SIZE 0)"),
        "{r:?}"
    );
    let r = c
        .cmd("g", "LIST \"\" \"Work/%\" RETURN (SUBSCRIBED SPECIAL-USE)")
        .await;
    assert_eq!(
        r[0],
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Work/Reports\"\r\n"
    );
    s.stop().await;
}

#[tokio::test]
async fn quota_and_append_over_quota() {
    let s = server_with("", 0).await;
    s.services
        .directory
        .set_quota(ACCOUNT, 10 * 1024)
        .await
        .expect("quota");
    let mut c = login(&s).await;
    let r = c.cmd("a", "GETQUOTAROOT INBOX").await;
    assert_eq!(r[0], "* QUOTAROOT \"INBOX\" \"\"\r\n", "{r:?}");
    assert_eq!(r[1], "* QUOTA \"\" (STORAGE 0 10)\r\n", "{r:?}");
    let r = c.cmd("b", "GETQUOTA \"\"").await;
    assert_eq!(r[0], "* QUOTA \"\" (STORAGE 0 10)\r\n", "{r:?}");
    let r = c.cmd("c", "GETQUOTA \"other\"").await;
    assert!(tagged(&r).starts_with("c NO"), "{r:?}");
    let body = format!("Subject: big\r\n\r\n{}\r\n", "y".repeat(6000));
    c.send(format!("d APPEND INBOX {{{}+}}\r\n{body}\r\n", body.len()).as_bytes())
        .await;
    let r = c.until("d").await;
    assert!(tagged(&r).starts_with("d OK [APPENDUID "), "{r:?}");
    c.send(format!("e APPEND INBOX {{{}+}}\r\n{body}\r\n", body.len()).as_bytes())
        .await;
    let r = c.until("e").await;
    assert_eq!(tagged(&r), "e NO [OVERQUOTA] Quota exceeded\r\n", "{r:?}");
    let r = c.cmd("f", "GETQUOTA \"\"").await;
    assert_eq!(r[0], "* QUOTA \"\" (STORAGE 6 10)\r\n", "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn limits_keep_the_session_in_sync() {
    let s = server_with("max_line_length = 2048\nmax_append_size = 1000\n", 1).await;
    let mut c = login(&s).await;
    // A line over the limit: BAD [TOOBIG], then the next command works.
    let long = format!("a SEARCH SUBJECT {}\r\nb NOOP\r\n", "x".repeat(5000));
    c.send(long.as_bytes()).await;
    let r = c.until("b").await;
    assert!(r[0].starts_with("a BAD [TOOBIG]"), "{r:?}");
    assert_eq!(tagged(&r), "b OK NOOP completed\r\n");
    // A synchronising APPEND literal over APPENDLIMIT is refused before
    // it is sent; a non-synchronising one is skipped.
    let r = c.cmd("c", "APPEND INBOX {5000}").await;
    assert!(r[0].starts_with("c NO [TOOBIG]"), "{r:?}");
    let big = "z".repeat(5000);
    c.send(format!("d APPEND INBOX {{5000+}}\r\n{big}\r\ne NOOP\r\n").as_bytes())
        .await;
    let r = c.until("e").await;
    assert!(
        r[0].starts_with("d BAD [TOOBIG]") || r[0].starts_with("d NO [TOOBIG]"),
        "{r:?}"
    );
    assert_eq!(tagged(&r), "e OK NOOP completed\r\n");
    // A synchronising literal within the limits gets "+".
    c.send(b"f LOGIN {5}\r\n").await;
    assert!(c.line().await.starts_with("+ "));
    c.send(b"alice password\r\n").await;
    let r = c.until("f").await;
    assert!(tagged(&r).starts_with("f BAD"), "{r:?}");
    let caps = c.cmd("g", "CAPABILITY").await;
    assert!(caps[0].contains(" APPENDLIMIT=1000"), "{caps:?}");
    s.stop().await;
}

#[tokio::test]
async fn autologout_after_the_idle_timeout() {
    let s = server_with("idle_timeout = \"1s\"\n", 0).await;
    let mut c = login(&s).await;
    c.cmd("a", "SELECT INBOX").await;
    let started = std::time::Instant::now();
    let bye = c.line().await;
    assert_eq!(bye, "* BYE Autologout; idle for too long\r\n");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(c.line().await, "", "connection closed after BYE");
    s.stop().await;
}

#[tokio::test]
async fn authenticate_plain_with_and_without_initial_response() {
    let s = server_with("", 0).await;
    run_python(
        &s,
        r#"
import base64
def raw():
    sock = socket.create_connection(("127.0.0.1", p143))
    f = sock.makefile("rb")
    f.readline()
    return sock, f
cred = base64.b64encode(b"\0alice@example.org\0password")
sock, f = raw()
sock.sendall(b"a AUTHENTICATE PLAIN " + cred + b"\r\n")
line = f.readline()
assert line.startswith(b"a OK [CAPABILITY IMAP4rev1"), line
sock.close()
sock, f = raw()
sock.sendall(b"a AUTHENTICATE PLAIN\r\n")
assert f.readline() == b"+ \r\n"
sock.sendall(cred + b"\r\n")
assert f.readline().startswith(b"a OK"), "login"
sock.close()
sock, f = raw()
sock.sendall(b"a AUTHENTICATE PLAIN\r\n")
f.readline()
sock.sendall(b"*\r\n")
assert f.readline().startswith(b"a BAD"), "cancel"
sock.sendall(b"b AUTHENTICATE CRAM-MD5\r\n")
assert f.readline().startswith(b"b NO"), "mechanism"
sock.close()
print("ok")
"#,
    )
    .await;
    s.stop().await;
}
