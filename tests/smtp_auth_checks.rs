//! SPF, DKIM, DMARC and greylisting end to end: real SMTP sessions from
//! different loopback addresses, DNS answered by a test server, messages
//! signed by an independent signer (dkimpy).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::dns::{TestRecord, txt};
use common::server::{TestServer, builder};
use common::smtp_client::Client;

const SIGNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/pipeline/dkim_sign.py"
);

fn zones() -> Vec<TestRecord> {
    let mut r = Vec::new();
    for d in ["spf.test", "reject.test", "quar.test", "signed.test"] {
        r.push(txt(d, "v=spf1 ip4:127.0.0.2 -all"));
    }
    r.push(txt("_dmarc.reject.test", "v=DMARC1; p=reject"));
    r.push(txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"));
    r.push(txt("_dmarc.signed.test", "v=DMARC1; p=reject"));
    r
}

async fn server(extra: &str) -> TestServer {
    let s = builder()
        .config(&format!(
            "[smtp]\nrelay_networks = [\"127.0.0.1/32\"]\n{extra}"
        ))
        .records(zones())
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    s
}

fn msg(from: &str, subject: &str) -> String {
    format!(
        "From: <{from}>\r\nTo: <alice@example.org>\r\nSubject: {subject}\r\n\
         Date: Tue, 4 Nov 2025 07:05:09 +0000\r\nMessage-ID: <{subject}@test>\r\n\r\nHello.\r\n"
    )
}

/// One message from `ip`; returns the final reply code and text.
async fn send_from(s: &TestServer, ip: &str, from: &str, body: &str) -> (u16, String) {
    let (mut c, _) = Client::connect_from(s.smtp, ip.parse().expect("ip")).await;
    c.expect("EHLO client.test", 250).await;
    let r = c.send_mail(from, &["alice@example.org"], body).await;
    c.cmd("QUIT").await;
    (r.code, r.text())
}

fn auth_results(m: &[u8]) -> String {
    let t = String::from_utf8_lossy(m);
    let start = t.find("Authentication-Results:").expect("A-R header");
    let rest = &t[start..];
    let end = rest.find("\r\nReceived:").unwrap_or(rest.len());
    rest[..end].replace("\r\n\t", " ")
}

#[tokio::test]
async fn spf_pass_and_fail_are_recorded() {
    let s = server("").await;
    let (code, _) = send_from(&s, "127.0.0.2", "a@spf.test", &msg("a@spf.test", "pass")).await;
    assert_eq!(code, 250);
    let (code, _) = send_from(&s, "127.0.0.3", "a@spf.test", &msg("a@spf.test", "fail")).await;
    assert_eq!(code, 250, "spf_fail = mark delivers");
    let inbox = s.messages("alice@example.org", "INBOX");
    assert_eq!(inbox.len(), 2);
    let ars: Vec<String> = inbox.iter().map(|m| auth_results(m)).collect();
    assert!(
        ars.iter()
            .any(|a| a.contains("spf=pass smtp.mailfrom=a@spf.test")),
        "{ars:?}"
    );
    assert!(
        ars.iter()
            .any(|a| a.contains("spf=fail smtp.mailfrom=a@spf.test")),
        "{ars:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn spf_fail_reject_when_configured() {
    let s = server("[auth]\nspf_fail = \"reject\"\n").await;
    let (code, text) = send_from(&s, "127.0.0.3", "a@spf.test", &msg("a@spf.test", "x")).await;
    assert_eq!(code, 550, "{text}");
    assert!(s.messages("alice@example.org", "INBOX").is_empty());
    s.stop().await;
}

#[tokio::test]
async fn dmarc_reject_and_quarantine_policies() {
    let s = server("").await;
    let (code, text) =
        send_from(&s, "127.0.0.3", "a@reject.test", &msg("a@reject.test", "r")).await;
    assert_eq!(code, 550, "{text}");
    assert!(text.starts_with("5.7.1"), "{text}");
    let (code, _) = send_from(&s, "127.0.0.3", "a@quar.test", &msg("a@quar.test", "q")).await;
    assert_eq!(code, 250);
    assert!(s.messages("alice@example.org", "INBOX").is_empty());
    let junk = s.messages("alice@example.org", "Junk");
    assert_eq!(junk.len(), 1, "p=quarantine lands in Junk");
    assert!(
        auth_results(&junk[0]).contains("dmarc=fail"),
        "{}",
        auth_results(&junk[0])
    );
    // The same domain from its authorised address passes DMARC.
    let (code, _) = send_from(
        &s,
        "127.0.0.2",
        "a@reject.test",
        &msg("a@reject.test", "ok"),
    )
    .await;
    assert_eq!(code, 250);
    let inbox = s.messages("alice@example.org", "INBOX");
    assert!(
        auth_results(&inbox[0]).contains("dmarc=pass"),
        "{}",
        auth_results(&inbox[0])
    );
    s.stop().await;
}

fn signer() -> Option<&'static str> {
    let ok = |py: &str| {
        Command::new(py)
            .args(["-c", "import dkim, nacl.signing"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|py| ok(py))
}

fn sign(py: &str, message: &str) -> (String, String) {
    let mut child = Command::new(py)
        .args([SIGNER, "rsa", "signed.test", "sel"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run dkim_sign.py");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "signer failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (public, signature) = text.split_once('\n').expect("two parts");
    (public.to_string(), format!("{signature}{message}"))
}

#[tokio::test]
async fn dkim_signed_mail_passes_and_altered_mail_fails() {
    let Some(py) = signer() else {
        common::skip("python3-dkim/python3-nacl missing: DKIM over SMTP not tested");
        return;
    };
    let body = msg("news@signed.test", "signed");
    let (public, signed) = sign(py, &body);
    let s = server("").await;
    s.dns.add(txt(
        "sel._domainkey.signed.test",
        &format!("v=DKIM1; k=rsa; p={public}"),
    ));
    // From a non-authorised address: SPF fails, aligned DKIM carries DMARC.
    let (code, text) = send_from(&s, "127.0.0.3", "news@signed.test", &signed).await;
    assert_eq!(code, 250, "{text}");
    let inbox = s.messages("alice@example.org", "INBOX");
    let ar = auth_results(&inbox[0]);
    assert!(
        ar.contains("dkim=pass") && ar.contains("header.d=signed.test"),
        "{ar}"
    );
    assert!(ar.contains("dmarc=pass"), "{ar}");
    // The body altered after signing: DKIM fails, and p=reject rejects.
    let altered = signed.replace("Hello.", "Hello, changed.");
    let (code, text) = send_from(&s, "127.0.0.3", "news@signed.test", &altered).await;
    assert_eq!(code, 550, "{text}");
    assert_eq!(s.messages("alice@example.org", "INBOX").len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn greylisting_over_smtp() {
    let s = server("[greylist]\nenabled = true\ndelay = \"2s\"\n").await;
    let body = msg("a@spf.test", "grey");
    let first = send_from(&s, "127.0.0.3", "a@spf.test", &body).await;
    assert_eq!(first.0, 451, "{first:?}");
    assert!(first.1.starts_with("4.7.1"), "{first:?}");
    let early = send_from(&s, "127.0.0.3", "a@spf.test", &body).await;
    assert_eq!(early.0, 451, "{early:?}");
    assert!(
        s.messages("alice@example.org", "INBOX").is_empty(),
        "greylisted mail is never delivered"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let retry = send_from(&s, "127.0.0.3", "a@spf.test", &body).await;
    assert_eq!(retry.0, 250, "{retry:?}");
    let again = send_from(&s, "127.0.0.3", "a@spf.test", &msg("a@spf.test", "again")).await;
    assert_eq!(again.0, 250, "known triplet passes at once: {again:?}");
    // The relay network is exempt.
    let relay = send_from(
        &s,
        "127.0.0.1",
        "other@spf.test",
        &msg("other@spf.test", "r"),
    )
    .await;
    assert_eq!(relay.0, 250, "{relay:?}");
    assert_eq!(s.messages("alice@example.org", "INBOX").len(), 3);
    s.stop().await;
}
