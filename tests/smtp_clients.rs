//! Real SMTP clients against the inbound listener: Python's smtplib (with
//! and without STARTTLS), swaks, and a STARTTLS plaintext-injection probe.

mod common;

use std::process::Command;

use common::server::{TestServer, builder};

async fn server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice"]).await;
    s
}

const SMTPLIB: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
port = int(sys.argv[1])
for tls in (False, True):
    m = EmailMessage()
    m["From"] = "Sender <sender@remote.test>"
    m["To"] = "alice@example.org"
    m["Subject"] = "smtplib tls=%s" % tls
    m.set_content("Grüße from smtplib\n")
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10) as s:
        if tls:
            s.starttls(context=ssl._create_unverified_context())
            s.ehlo("client.test")
            assert not s.has_extn("starttls"), "STARTTLS still offered after TLS"
        refused = s.send_message(m)
        assert not refused, refused
print("ok")
"#;

#[tokio::test]
async fn python_smtplib_plain_and_starttls() {
    let s = server().await;
    let port = s.smtp.port();
    let (ok, out) = common::python(SMTPLIB, vec![port.to_string()]).await;
    assert!(ok, "{out}");
    let msgs = s.messages("alice@example.org", "INBOX");
    assert_eq!(msgs.len(), 2);
    let all: Vec<String> = msgs
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    let tls = all
        .iter()
        .find(|m| m.contains("smtplib tls=True"))
        .expect("TLS message");
    assert!(tls.contains("with ESMTPS"), "{tls}");
    assert!(tls.contains("using TLSv1."), "{tls}");
    let plain = all
        .iter()
        .find(|m| m.contains("smtplib tls=False"))
        .expect("plain message");
    assert!(plain.contains("with ESMTP id"), "{plain}");
    for m in &all {
        assert!(m.contains("Authentication-Results: mail.test;"), "{m}");
    }
    s.stop().await;
}

const INJECTION: &str = r#"
import socket, ssl, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l)
        if l[3:4] != "-":
            return lines
reply()
s.sendall(b"EHLO client.test\r\n"); reply()
# Plaintext pipelined after STARTTLS must be discarded, not executed.
s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n")
r = reply()
assert r[0].startswith("220"), r
t = ssl._create_unverified_context().wrap_socket(s, server_hostname="mail.test")
tf = t.makefile("rb")
def treply():
    lines = []
    while True:
        l = tf.readline().decode()
        lines.append(l)
        if l[3:4] != "-":
            return lines
t.sendall(b"EHLO client.test\r\n")
r = treply()
assert r[0].startswith("250"), "first reply after TLS must answer EHLO, got %r" % r
assert not any("STARTTLS" in l for l in r), r
# No transaction may be open: RCPT must be refused as out of sequence.
t.sendall(b"RCPT TO:<alice@example.org>\r\n")
r = treply()
assert r[0].startswith("503"), r
t.sendall(b"QUIT\r\n"); treply()
print("ok")
"#;

#[tokio::test]
async fn starttls_discards_pipelined_plaintext() {
    let s = server().await;
    let port = s.smtp.port();
    let (ok, out) = common::python(INJECTION, vec![port.to_string()]).await;
    assert!(ok, "{out}");
    assert!(s.messages("alice@example.org", "INBOX").is_empty());
    s.stop().await;
}

#[tokio::test]
async fn swaks_delivers() {
    if Command::new("swaks").arg("--version").output().is_err() {
        common::skip("swaks is not installed (apt-get install swaks)");
        return;
    }
    let s = server().await;
    let port = s.smtp.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("swaks")
            .args([
                "--server",
                "127.0.0.1",
                "--port",
                &port,
                "--helo",
                "swaks.test",
            ])
            .args(["--from", "sender@remote.test", "--to", "alice@example.org"])
            .args([
                "--header",
                "Subject: via swaks",
                "--body",
                "hello from swaks",
            ])
            .args(["--pipeline", "--tls"])
            .output()
            .expect("swaks runs")
    })
    .await
    .expect("join");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{log}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs = s.messages("alice@example.org", "INBOX");
    assert_eq!(msgs.len(), 1, "{log}");
    let m = String::from_utf8_lossy(&msgs[0]);
    assert!(
        m.contains("Subject: via swaks") && m.contains("hello from swaks"),
        "{m}"
    );
    assert!(
        m.contains("Received: from swaks.test") && m.contains("ESMTPS"),
        "{m}"
    );
    s.stop().await;
}
