//! IMAP end to end with Python's imaplib over 993 (implicit TLS) and
//! 143 (STARTTLS): login, mailboxes, APPEND, FETCH, SEARCH, STORE, COPY,
//! MOVE, EXPUNGE, UID commands, IDLE woken by an SMTP delivery.

mod common;
mod imap_util;

use common::server::{TestServer, builder};
use imap_util::{Raw, run_python};

const ACCOUNT: &str = "alice@example.org";

async fn server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice", "bob"]).await;
    s
}

async fn deliver(s: &TestServer, n: usize) {
    for i in 0..n {
        let m = format!(
            "From: Sender {i} <s{i}@remote.test>\r\nTo: alice@example.org\r\n\
             Subject: message {i}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\
             Message-ID: <m{i}@remote.test>\r\n\r\nbody of message {i}\r\n"
        );
        s.services
            .store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
}

#[tokio::test]
async fn greeting_capabilities_and_login_over_both_listeners() {
    let s = server().await;
    run_python(
        &s,
        r#"
c = imaplib.IMAP4("127.0.0.1", p143, timeout=20)
caps = c.capabilities
assert "STARTTLS" in caps and "LOGINDISABLED" in caps, caps
assert not any(x.startswith("AUTH=") for x in caps), caps
try:
    c.login("alice@example.org", "password")
    raise SystemExit("LOGIN accepted in plaintext")
except imaplib.IMAP4.error as e:
    assert "PRIVACYREQUIRED" in str(e), e
c.starttls(ssl_context=ctx)
typ, caps = c.capability()
caps = caps[0].decode().split()
assert "AUTH=PLAIN" in caps and "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
typ, data = c.login("alice@example.org", "password")
assert typ == "OK" and b"CAPABILITY" in data[0] and b"IDLE" in data[0], data
c.logout()
c = imaplib.IMAP4_SSL("127.0.0.1", p993, ssl_context=ctx, timeout=20)
assert "STARTTLS" not in c.capabilities and "AUTH=PLAIN" in c.capabilities
try:
    c.login("alice@example.org", "wrong")
    raise SystemExit("bad password accepted")
except imaplib.IMAP4.error as e:
    assert "AUTHENTICATIONFAILED" in str(e), e
c.authenticate("PLAIN", lambda _: b"\0alice@example.org\0password")
ok(c.noop())
c.logout()
print("ok")
"#,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn starttls_discards_pipelined_plaintext() {
    let s = server().await;
    let (raw, greeting) = Raw::connect(s.imap).await;
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
        "{greeting}"
    );
    drop(raw);
    // A LOGIN pipelined in plaintext behind STARTTLS must never run
    // inside TLS (RFC 3501 §6.2.1; the classic STARTTLS injection).
    run_python(
        &s,
        r#"
sock = socket.create_connection(("127.0.0.1", p143), timeout=10)
f = sock.makefile("rb")
assert f.readline().startswith(b"* OK")
sock.sendall(b"a STARTTLS\r\nb LOGIN alice@example.org password\r\n")
assert f.readline() == b"a OK Begin TLS negotiation now\r\n"
tls = ctx.wrap_socket(sock, server_hostname="mail.test")
f = tls.makefile("rb")
tls.sendall(b"c CAPABILITY\r\n")
caps = f.readline()
assert caps.startswith(b"* CAPABILITY ") and b"AUTH=PLAIN" in caps, caps
assert f.readline() == b"c OK Capability completed\r\n"
tls.sendall(b"d SELECT INBOX\r\n")
assert f.readline() == b"d BAD Log in first\r\n"
print("ok")
"#,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn select_list_append_fetch_store_expunge() {
    let s = server().await;
    deliver(&s, 3).await;
    run_python(
        &s,
        r#"
c = tls()
data = ok(c.list())
names = [d.decode() for d in data]
assert any(n.endswith('"INBOX"') or n.endswith(' INBOX') for n in names), names
assert any("\\Sent" in n and "Sent" in n for n in names), names
typ, data = c.select("INBOX")
assert typ == "OK" and data == [b"3"], (typ, data)
assert c.untagged_responses.get("RECENT") == [b"3"], c.untagged_responses
data = ok(c.fetch("1:3", "(UID FLAGS RFC822.SIZE)"))
assert len(data) == 3 and b"\\Recent" in data[0], data
ok(c.store("2", "+FLAGS", "(\\Deleted)"))
ok(c.expunge())
typ, data = c.select("INBOX")
assert data == [b"2"], data
assert c.untagged_responses.get("RECENT") == [b"0"], c.untagged_responses
msg = b"From: me@example.org\r\nSubject: appended\r\n\r\nhello\r\n"
typ, data = c.append("INBOX", "(\\Seen $Work)", imaplib.Time2Internaldate(time.time()), msg)
assert typ == "OK" and b"APPENDUID" in data[0], data
ok(c.noop())
c.logout()
print("ok")
"#,
    )
    .await;
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(snap.messages.len(), 3);
    let last = snap.messages.last().expect("appended");
    assert!(last.flags.seen && last.flags.keywords.contains("$Work"));
    s.stop().await;
}

#[tokio::test]
async fn mailboxes_nested_and_non_ascii_create_rename_delete_list_lsub_status() {
    let s = server().await;
    run_python(
        &s,
        r#"
c = plain()
def names(pattern="*", ref='""'):
    out = []
    for d in ok(c.list(ref, pattern)):
        m = re.match(rb'\((.*?)\) "/" (.*)$', d)
        assert m, d
        out.append((m.group(2).decode().strip('"'), m.group(1).decode()))
    return dict(out)
ok(c.create("Projects/2024/Q1"))
ok(c.create('"Entw&APw-rfe"'))        # "Entwürfe" in modified UTF-7
ok(c.create("Trailing/"))
no(c.create("INBOX"))
no(c.create("Projects/2024"))        # already made as a parent
all_ = names()
for n in ("INBOX", "Projects", "Projects/2024", "Projects/2024/Q1", "Entw&APw-rfe", "Trailing",
          "Sent", "Drafts", "Trash", "Junk", "Archive"):
    assert n in all_, (n, all_)
assert "\\HasChildren" in all_["Projects"] and "\\HasNoChildren" in all_["Projects/2024/Q1"], all_
assert "\\Trash" in all_["Trash"] and "\\Sent" in all_["Sent"], all_
top = names("%")
assert "Projects" in top and "Projects/2024" not in top, top
assert set(names("Projects/%")) == {"Projects/2024"}, names("Projects/%")
assert set(names("%", '"Projects/"')) == {"Projects/2024"}
assert "INBOX" in names("inbox")
# The delimiter query.
d = ok(c.list('""', '""'))
assert d == [b'(\\Noselect) "/" ""'], d
# Names escaping the Maildir are refused.
for bad in ("../evil", "a/../b", "x.y", "bad*name"):
    typ, data = c.create('"' + bad + '"')
    assert typ == "NO", (bad, typ, data)
# Rename keeps children and UIDs.
c.select("Projects/2024/Q1")
ok(c.append("Projects/2024/Q1", None, None, b"Subject: q1\r\n\r\nx\r\n"))
c.close()
ok(c.rename("Projects", '"Archiv&AOQ-"'))     # "Archivä"
after = names()
assert "Archiv&AOQ-/2024/Q1" in after and "Projects" not in after, after
st = ok(c.status('"Archiv&AOQ-/2024/Q1"', "(MESSAGES UIDNEXT UNSEEN)"))
assert b"MESSAGES 1" in st[0] and b"UIDNEXT 2" in st[0] and b"UNSEEN 1" in st[0], st
# A parent whose folder is deleted stays as \Noselect while children exist.
ok(c.delete('"Archiv&AOQ-/2024"'))
after = names()
assert "\\Noselect" in after["Archiv&AOQ-/2024"] and "Archiv&AOQ-/2024/Q1" in after, after
no(c.delete("INBOX"))
no(c.delete("Nonexistent"))
no(c.select("Nonexistent"))
# Subscriptions.
ok(c.subscribe('"Entw&APw-rfe"'))
ok(c.subscribe("Later/Child"))
lsub = [d.decode() for d in ok(c.lsub('""', "*"))]
assert any("Entw&APw-rfe" in l for l in lsub), lsub
assert any("Later/Child" in l and "\\Noselect" in l for l in lsub), lsub
lsub = [d.decode() for d in ok(c.lsub('""', "%"))]
assert any(l.endswith('"Later"') and "\\Noselect" in l for l in lsub), lsub
ok(c.rename('"Entw&APw-rfe"', "Drafts2"))
lsub = [d.decode() for d in ok(c.lsub('""', "*"))]
assert any("Drafts2" in l for l in lsub) and not any("Entw" in l for l in lsub), lsub
ok(c.unsubscribe("Drafts2"))
c.logout()
print("ok")
"#,
    )
    .await;
    let folders = s.services.store.list_folders(ACCOUNT).await.expect("list");
    let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"Archivä/2024/Q1"), "{names:?}");
    assert!(names.contains(&"Drafts2"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("evil")));
    s.stop().await;
}

#[tokio::test]
async fn inbox_rename_moves_messages_and_leaves_inbox_empty() {
    let s = server().await;
    deliver(&s, 2).await;
    run_python(
        &s,
        r#"
c = tls()
ok(c.rename("INBOX", "Old/Inbox"))
typ, data = c.select("INBOX")
assert data == [b"0"], data
typ, data = c.select("Old/Inbox")
assert data == [b"2"], data
c.logout()
print("ok")
"#,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn idle_is_woken_by_an_smtp_delivery_within_a_second() {
    let s = server().await;
    run_python(
        &s,
        r#"
import threading
c = tls()
c.select("INBOX")
tag = c._new_tag()
c.send(tag + b" IDLE\r\n")
line = c.readline()
assert line.startswith(b"+ "), line
def send():
    with smtplib.SMTP("127.0.0.1", p25, local_hostname="client.test", timeout=10) as m:
        m.sendmail("someone@remote.test", ["alice@example.org"],
                   b"From: someone@remote.test\r\nTo: alice@example.org\r\nSubject: wake up\r\n\r\nhi\r\n")
    global sent_at
    sent_at = time.monotonic()
t = threading.Thread(target=send)
t.start()
c.sock.settimeout(10)
line = c.readline()
got_at = time.monotonic()
t.join()
assert line == b"* 1 EXISTS\r\n", line
assert got_at - sent_at < 1.0, got_at - sent_at
assert c.readline() == b"* 1 RECENT\r\n"
c.send(b"DONE\r\n")
line = c.readline()
assert line.startswith(tag + b" OK"), line
data = ok(c.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
assert b"Subject: wake up" in data[0][1], data
c.logout()
print("ok")
"#,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn core_commands_work_the_same_over_993_and_143_with_starttls() {
    let s = server().await;
    run_python(
        &s,
        r#"
for name, connect in (("Over993", tls), ("Over143", plain)):
    c = connect()
    ok(c.create(name))
    for i in range(3):
        msg = b"Subject: %s %d\r\nFrom: x@remote.test\r\n\r\nbody %d\r\n" % (name.encode(), i, i)
        typ, d = c.append(name, "(\\Flagged)" if i == 1 else None, None, msg)
        assert typ == "OK" and b"APPENDUID" in d[0], d
    typ, d = c.select(name)
    assert d == [b"3"], d
    d = ok(c.fetch("1:3", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)] ENVELOPE BODYSTRUCTURE)"))
    assert len([x for x in d if isinstance(x, tuple)]) == 3, d
    assert ok(c.search(None, "FLAGGED")) == [b"2"]
    assert ok(c.uid("SEARCH", "BODY", '"body 2"')) == [b"3"]
    ok(c.store("1", "+FLAGS", "(\\Deleted)"))
    ok(c.copy("2", "INBOX"))
    ok(c._simple_command("MOVE", "3", "Archive"))
    assert c.untagged_responses.pop("EXPUNGE") == [b"3"]
    d = ok(c.expunge())
    assert d == [b"1"], d
    d = ok(c.uid("FETCH", "1:*", "(FLAGS)"))
    assert d == [b"1 (UID 2 FLAGS (\\Flagged \\Recent))"], d
    ok(c.close())
    assert c.logout()[0] == "BYE"
print("ok")
"#,
    )
    .await;
    let inbox = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    assert_eq!(inbox.messages.len(), 2);
    let archive = s
        .services
        .store
        .sync(ACCOUNT, "Archive")
        .await
        .expect("sync");
    assert_eq!(archive.messages.len(), 2);
    s.stop().await;
}
