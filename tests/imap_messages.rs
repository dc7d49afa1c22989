//! IMAP message commands with Python's imaplib: FETCH of every item,
//! SEARCH, STORE, COPY, MOVE, EXPUNGE and their UID forms.

mod common;
mod imap_util;

use common::server::{TestServer, builder};
use imap_util::run_python;

const ACCOUNT: &str = "alice@example.org";

const MULTIPART: &str = "From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@remote.test>\r\n\
To: Alice <alice@example.org>, bob@example.org\r\n\
Cc: carol@remote.test\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and photos\r\n\
Date: Tue, 5 Mar 2024 10:15:00 +0100\r\n\
Message-ID: <multi@remote.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\
\r\n\
preamble\r\n\
--XX\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Sch=C3=B6ne Gr=C3=BC=C3=9Fe aus Berlin\r\n\
--XX\r\n\
Content-Type: application/octet-stream; name=\"a.bin\"\r\n\
Content-Disposition: attachment; filename=\"a.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAECAwQ=\r\n\
--XX--\r\n";

async fn server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice"]).await;
    let store = &s.services.store;
    store
        .deliver(ACCOUNT, "INBOX", MULTIPART.as_bytes(), 0)
        .await
        .expect("deliver");
    for i in 1..5 {
        let m = format!(
            "From: s{i}@remote.test\r\nTo: alice@example.org\r\nSubject: plain {i}\r\n\
             Date: Mon, {i} Jan 2024 12:00:00 +0000\r\n\r\nline {i}\r\n{}\r\n",
            "x".repeat(i * 100)
        );
        store
            .deliver(ACCOUNT, "INBOX", m.as_bytes(), 0)
            .await
            .expect("deliver");
    }
    s
}

#[tokio::test]
async fn fetch_every_item_and_sections() {
    let s = server().await;
    let multipart_len = MULTIPART.len();
    let script = format!(
        r#"
size = {multipart_len}
c = tls()
c.select("INBOX")
d = ok(c.fetch("1", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"))[0]
assert b"UID 1 " in d and b"RFC822.SIZE %d" % size in d and b"INTERNALDATE \"" in d, d
assert b'"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and photos"' in d, d
assert b'(("Alice" NIL "alice" "example.org")(NIL NIL "bob" "example.org"))' in d, d
assert b'"<multi@remote.test>"' in d, d
d = ok(c.fetch("1", "BODYSTRUCTURE"))[0]
assert b'(("text" "plain" ("charset" "utf-8")' in d.lower(), d
assert b'"plain" ("charset" "utf-8") NIL NIL "quoted-printable" 38 0' in d, d
assert b'"mixed" ("boundary" "XX")' in d and b'("attachment" ("filename" "a.bin"))' in d, d
d = ok(c.fetch("1", "BODY"))[0]
assert b'body (("text" "plain"' in d.lower() and b"attachment" not in d, d
# Sections; BODY.PEEK leaves \Seen alone.
r = ok(c.fetch("1", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (Subject Date)] FLAGS)"))
parts = {{}}
for item in r:
    if isinstance(item, tuple):
        parts[re.search(rb"(BODY\[[^\]]*\](<\d+>)?) \{{\d+\}}$", item[0]).group(1)] = item[1]
assert parts[b"BODY[1]"] == b"Sch=C3=B6ne Gr=C3=BC=C3=9Fe aus Berlin", parts
assert parts[b"BODY[2.MIME]"].startswith(b"Content-Type: application/octet-stream"), parts
h = [p for k, p in parts.items() if k.startswith(b"BODY[HEADER.FIELDS")][0]
assert h == b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and photos\r\nDate: Tue, 5 Mar 2024 10:15:00 +0100\r\n\r\n", h
assert b"\\Seen" not in r[-1] if isinstance(r[-1], bytes) else True
d = ok(c.fetch("1", "FLAGS"))[0]
assert b"\\Seen" not in d, d
# Partial.
d = ok(c.fetch("1", "BODY.PEEK[]<6.10>"))[0]
assert d[0].endswith(b"BODY[]<6> {{10}}") and d[1] == b"=?UTF-8?Q?", d
d = ok(c.fetch("1", "BODY.PEEK[]<100000.10>"))[0]
assert d[0].endswith(b"BODY[]<100000> {{0}}") and d[1] == b"", d
# RFC822 forms; RFC822 (not .PEEK) sets \Seen and reports it.
d = ok(c.fetch("1", "RFC822.HEADER"))[0]
assert d[1].endswith(b"\r\n\r\n") and b"preamble" not in d[1], d
d = ok(c.fetch("1", "RFC822"))
assert len(d[0][1]) == size and b"\\Seen" in d[1], d
d = ok(c.fetch("1", "RFC822.TEXT"))[0]
assert d[1].startswith(b"preamble\r\n--XX"), d
# BODY[TEXT] of message 2 sets \Seen too.
d = ok(c.fetch("2", "BODY[TEXT]"))
assert d[0][1].startswith(b"line 1"), d
assert b"\\Seen" in b"".join(x if isinstance(x, bytes) else x[0] for x in d), d
d = ok(c.fetch("1:*", "FAST"))
assert len(d) == 5, d
d = ok(c.fetch("2:3", "ALL"))
assert len(d) == 2 and b"ENVELOPE" in d[0], d
d = ok(c.fetch("3", "FULL"))
assert b"BODY (" in d[0], d
# A sequence number beyond EXISTS is BAD; UID FETCH ignores unknown UIDs.
bad(c.fetch, "9", "FLAGS")
typ, d = c.uid("FETCH", "100:200", "FLAGS")
assert typ == "OK" and d == [None], d
d = ok(c.uid("FETCH", "2", "(FLAGS)"))[0]
assert d.startswith(b"2 (UID 2 FLAGS"), d
c.logout()
print("ok")
"#
    );
    run_python(&s, &script).await;
    let snap = s.services.store.sync(ACCOUNT, "INBOX").await.expect("sync");
    let seen: Vec<bool> = snap.messages.iter().map(|m| m.flags.seen).collect();
    assert_eq!(seen, vec![true, true, false, false, false]);
    s.stop().await;
}

#[tokio::test]
async fn large_bodies_stream_and_read_back_exactly() {
    let s = server().await;
    // 3 MB of varied lines: bigger than any output buffer.
    let mut big = String::from("From: big@remote.test\r\nSubject: big\r\n\r\n");
    let mut i = 0u64;
    while big.len() < 3_000_000 {
        big.push_str(&format!(
            "line {i} {}\r\n",
            "abcdefghij".repeat((i % 13) as usize)
        ));
        i += 1;
    }
    s.services
        .store
        .deliver(ACCOUNT, "INBOX", big.as_bytes(), 0)
        .await
        .expect("deliver");
    let path = s.data_dir.join("big.eml");
    std::fs::write(&path, &big).expect("write");
    let script = format!(
        r#"
want = open({path:?}, "rb").read()
c = tls()
c.select("INBOX")
d = ok(c.fetch("6", "(BODY.PEEK[] UID)"))
assert d[0][1] == want, (len(d[0][1]), len(want))
d = ok(c.fetch("1:6", "(BODY.PEEK[] RFC822.SIZE)"))
bodies = [x[1] for x in d if isinstance(x, tuple)]
assert len(bodies) == 6 and bodies[5] == want
d = ok(c.fetch("6", "BODY.PEEK[TEXT]<1000000.200000>"))
assert d[0][1] == want[want.index(b"\r\n\r\n") + 4:][1000000:1200000]
print("ok")
"#,
        path = path.display().to_string()
    );
    run_python(&s, &script).await;
    s.stop().await;
}

#[tokio::test]
async fn search_every_kind_of_key() {
    let s = server().await;
    run_python(
        &s,
        r#"
c = tls()
c.select("INBOX")
def search(*crit, charset=None):
    return ok(c.search(charset, *crit))[0].split()
def chk(got, want):
    assert got == want, (got, want)
def search_literal(key, text):
    c.literal = text.encode()
    return ok(c.search("UTF-8", key))[0].split()
chk(search("ALL"), [b"1", b"2", b"3", b"4", b"5"])
ok(c.store("2,4", "+FLAGS", "(\\Flagged $Important)"))
chk(search("FLAGGED"), [b"2", b"4"])
chk(search("UNFLAGGED"), [b"1", b"3", b"5"])
chk(search("KEYWORD", "$important"), [b"2", b"4"])
chk(search("NOT", "KEYWORD", "$Important"), [b"1", b"3", b"5"])
chk(search("OR", "SUBJECT", '"plain 1"', "SUBJECT", '"plain 3"'), [b"2", b"4"])
chk(search("FROM", "s2@remote"), [b"3"])
chk(search_literal("FROM", "jürgen"), [b"1"])
chk(search_literal("SUBJECT", "GRÜSSE"), [])
chk(search_literal("SUBJECT", "GRÜßE"), [b"1"])
chk(search_literal("BODY", "schöne"), [b"1"])
chk(search("BODY", '"sch\xc3\xb6ne"'.encode("latin-1"), charset="UTF-8"), [b"1"])
chk(search("TEXT", "berlin"), [b"1"])
chk(search("TEXT", "s3@remote.test"), [b"4"])
chk(search("TO", "bob@example.org"), [b"1"])
chk(search("CC", "carol"), [b"1"])
chk(search("BCC", "x"), [])
chk(search("HEADER", "Message-ID", "multi@"), [b"1"])
chk(search("HEADER", "Cc", '""'), [b"1"])
chk(search("LARGER", "350"), [b"1", b"4", b"5"])
chk(search("SMALLER", "300"), [b"2"])
chk(search("SENTBEFORE", "1-Feb-2024"), [b"2", b"3", b"4", b"5"])
chk(search("SENTON", "3-Jan-2024"), [b"4"])
chk(search("SENTSINCE", "1-Mar-2024"), [b"1"])
chk(search("SINCE", "1-Jan-2020"), [b"1", b"2", b"3", b"4", b"5"])
chk(search("BEFORE", "1-Jan-2020"), [])
chk(search("ON", time.strftime("%d-%b-%Y", time.gmtime())), [b"1", b"2", b"3", b"4", b"5"])
chk(search("2:3"), [b"2", b"3"])
chk(search("UID", "4:*"), [b"4", b"5"])
chk(search("NEW"), [b"1", b"2", b"3", b"4", b"5"])
chk(search("RECENT", "UNSEEN", "OLD"), [])
chk(search("(FLAGGED SUBJECT plain)"), [b"2", b"4"])
chk(search("OR (FLAGGED SMALLER 300) LARGER 500"), [b"1", b"2", b"5"])
chk(search("ANSWERED") == [] and search("DELETED") == [] and search("DRAFT"), [])
chk(search("UNANSWERED", "UNDELETED", "UNDRAFT", "UNSEEN"), [b"1", b"2", b"3", b"4", b"5"])
d = ok(c.uid("SEARCH", "FLAGGED"))
assert d == [b"2 4"], d
typ, d = c.search("KOI8-R", "ALL")
assert typ == "NO" and b"BADCHARSET" in d[0], d
print("ok")
"#,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn store_copy_move_expunge_and_uid_forms() {
    let s = server().await;
    run_python(
        &s,
        r#"
c = tls()
c.select("INBOX")
d = ok(c.store("1", "+FLAGS", "(\\Seen \\Answered work)"))
assert b"FLAGS (\\Answered \\Seen work \\Recent)" in d[0], d
d = ok(c.store("1", "-FLAGS", "(\\Answered)"))
assert b"FLAGS (\\Seen work \\Recent)" in d[0], d
d = ok(c.store("1", "FLAGS", "(\\Draft)"))
assert b"FLAGS (\\Draft \\Recent)" in d[0], d
d = ok(c.store("1", "+FLAGS.SILENT", "(\\Flagged)"))
assert d == [None], d
bad(c.store, "1", "+FLAGS", "(\\Recent)")
d = ok(c.uid("STORE", "2:3", "+FLAGS", "(\\Deleted)"))
assert len(d) == 2 and b"UID 2" in d[0], d
# COPY with COPYUID; TRYCREATE for a missing mailbox.
typ, d = c.copy("1:2", "Archive")
assert typ == "OK" and re.search(rb"\[COPYUID \d+ 1:2 1:2\]", d[0]), d
typ, d = c.copy("1", "Nowhere")
assert typ == "NO" and b"TRYCREATE" in d[0], d
# MOVE: untagged COPYUID, then EXPUNGEs.
tag = c._new_tag()
c.send(tag + b" MOVE 4 Trash\r\n")
lines = []
while True:
    l = c.readline()
    lines.append(l)
    if l.startswith(tag):
        break
assert lines[0].startswith(b"* OK [COPYUID ") and lines[1] == b"* 4 EXPUNGE\r\n", lines
assert lines[-1].startswith(tag + b" OK"), lines
# UID EXPUNGE only touches the given UID.
ok(c.uid("EXPUNGE", "2"))
d = c.untagged_responses.pop("EXPUNGE")
assert d == [b"2"], d
d = ok(c.expunge())
assert d == [b"2"], d
d = ok(c.uid("SEARCH", "ALL"))
assert d == [b"1 5"], d
typ, d = c.uid("MOVE", "5", "Archive")
assert typ == "OK", d
d = ok(c._simple_command("UID", "COPY", "1", "Archive"))
assert b"COPYUID" in d[0], d
st = ok(c.status("Archive", "(MESSAGES)"))
assert b"MESSAGES 4" in st[0], st
st = ok(c.status("Trash", "(MESSAGES)"))
assert b"MESSAGES 1" in st[0], st
c.select("Archive")
d = ok(c.fetch("1:*", "(UID FLAGS)"))
assert len(d) == 4 and b"\\Draft" in d[0] and b"\\Deleted" in d[1], d
c.close()
print("ok")
"#,
    )
    .await;
    let archive = s
        .services
        .store
        .sync(ACCOUNT, "Archive")
        .await
        .expect("sync");
    // CLOSE expunged the copy that carried \Deleted.
    assert_eq!(archive.messages.len(), 3);
    assert_eq!(s.messages(ACCOUNT, "Archive").len(), 3);
    assert_eq!(s.messages(ACCOUNT, "INBOX").len(), 1);
    s.stop().await;
}
