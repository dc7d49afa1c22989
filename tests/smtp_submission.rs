//! Message submission (587 STARTTLS, 465 implicit TLS) with AUTH, driven
//! by Python's smtplib and by raw sessions.

mod common;

use common::server::{TestServer, builder};
use common::smtp_client::Client;

async fn server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice", "bob"]).await;
    s.services
        .directory
        .add_alias("sales@example.org", &["alice@example.org".to_string()])
        .await
        .expect("alias");
    s
}

/// Runs a Python snippet with `sys.argv[1:]` = submission port,
/// submissions port; returns (success, output).
async fn python(script: &'static str, s: &TestServer) -> (bool, String) {
    let ports = vec![
        s.submission.port().to_string(),
        s.submissions.port().to_string(),
    ];
    common::python(script, ports).await
}

const PRELUDE: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
p587, p465 = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl._create_unverified_context()
def msg(frm, to, subject, extra=True):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m.set_content("body of " + subject + "\n")
    return m
"#;

#[tokio::test]
async fn starttls_auth_plain_and_implicit_tls_auth_login() {
    let s = server().await;
    let script = Box::leak(format!("{PRELUDE}{}", r#"
with smtplib.SMTP("127.0.0.1", p587, local_hostname="laptop.test", timeout=10) as c:
    c.starttls(context=ctx)
    c.ehlo("laptop.test")
    assert "PLAIN" in c.esmtp_features.get("auth", ""), c.esmtp_features
    c.login("alice@example.org", "password")   # smtplib prefers PLAIN here
    c.send_message(msg("Alice <alice@example.org>", "bob@example.org", "via 587"))
with smtplib.SMTP_SSL("127.0.0.1", p465, local_hostname="laptop.test", context=ctx, timeout=10) as c:
    c.ehlo("laptop.test")
    c.user, c.password = "alice@example.org", "password"
    code, text = c.auth("LOGIN", c.auth_login, initial_response_ok=False)
    assert code == 235, (code, text)
    c.send_message(msg("alice+news@example.org", "bob@example.org", "via 465"))
print("ok")
"#).into_boxed_str());
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    let msgs = s.messages("bob@example.org", "INBOX");
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        let t = String::from_utf8_lossy(m);
        assert!(t.contains("with ESMTPSA"), "{t}");
        assert!(t.contains("auth=pass smtp.auth=alice@example.org"), "{t}");
        assert!(
            t.contains("Message-ID: <") && t.contains("\r\nDate: "),
            "added headers: {t}"
        );
        assert!(t.contains("[127.0.0.1]"), "client IP kept by default: {t}");
    }
    s.stop().await;
}

#[tokio::test]
async fn auth_requires_tls_and_mail_requires_auth() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.submission).await;
    let ehlo = c.expect("EHLO laptop.test", 250).await;
    assert!(
        ehlo.text().contains("STARTTLS") && !ehlo.text().contains("AUTH"),
        "{ehlo:?}"
    );
    let r = c
        .expect("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHBhc3N3b3Jk", 530)
        .await;
    assert!(
        r.text().contains("Must issue a STARTTLS command first"),
        "{r:?}"
    );
    let r = c.expect("MAIL FROM:<alice@example.org>", 530).await;
    assert!(r.text().starts_with("5.7.0"), "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn wrong_password_and_foreign_senders_are_refused() {
    let s = server().await;
    let script = Box::leak(format!("{PRELUDE}{}", r#"
with smtplib.SMTP_SSL("127.0.0.1", p465, context=ctx, timeout=30) as c:
    try:
        c.login("alice@example.org", "wrong")
        raise SystemExit("wrong password accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535 and e.smtp_error.startswith(b"5.7.8"), e
    try:
        c.login("nobody@example.org", "password")
        raise SystemExit("unknown user accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
with smtplib.SMTP_SSL("127.0.0.1", p465, context=ctx, timeout=30) as c:
    c.login("alice@example.org", "password")
    try:
        c.sendmail("bob@example.org", ["bob@example.org"], b"Subject: x\r\n\r\nx\r\n")
        raise SystemExit("sending as bob accepted")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 553 and e.smtp_error.startswith(b"5.7.1"), e
    # An alias that delivers to alice is hers to use.
    c.send_message(msg("sales@example.org", "bob@example.org", "as alias"))
    # Envelope fine, header From someone else's: refused at end of data.
    try:
        c.send_message(msg("bob@example.org", "bob@example.org", "forged"), from_addr="alice@example.org")
        raise SystemExit("forged From accepted")
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 553, e
print("ok")
"#).into_boxed_str());
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    let msgs = s.messages("bob@example.org", "INBOX");
    assert_eq!(msgs.len(), 1, "only the alias message");
    assert!(String::from_utf8_lossy(&msgs[0]).contains("Subject: as alias"));
    s.stop().await;
}

/// Submitted mail of a domain with DKIM keys is signed (RSA and Ed25519,
/// dual), and dkimpy, an independent verifier, accepts both signatures
/// against the records `postel dkim` would print.
#[tokio::test]
async fn submitted_mail_is_dkim_signed() {
    let s = server().await;
    let records = common::dkim::rsa_and_ed25519_keys(&s, "example.org").await;
    let script = Box::leak(
        format!(
            "{PRELUDE}{}",
            r#"
with smtplib.SMTP_SSL("127.0.0.1", p465, context=ctx, timeout=10) as c:
    c.login("alice@example.org", "password")
    c.send_message(msg("Alice <alice@example.org>", "bob@example.org", "signed"))
print("ok")
"#
        )
        .into_boxed_str(),
    );
    let (ok, out) = python(script, &s).await;
    assert!(ok, "{out}");
    let stored = s
        .messages("bob@example.org", "INBOX")
        .pop()
        .expect("delivered");
    let text = String::from_utf8_lossy(&stored);
    assert_eq!(text.matches("DKIM-Signature:").count(), 2, "{text}");
    match common::dkim::dkimpy_verify(&records, &stored) {
        Some(report) => common::dkim::assert_both_pass(&report, "example.org"),
        None => common::skip("python3-dkim/python3-nacl missing: DKIM signing not verified"),
    }
    s.stop().await;
}
