//! Outbound delivery through the queue to scripted MX hosts (the sink):
//! submission with STARTTLS, relay rules, MX order and fallback, implicit
//! MX, null MX, retries, the remote's recipient limit, forwarding, and
//! the same on PostgreSQL.

mod common;
#[path = "common/outbound.rs"]
mod outbound;
#[path = "common/sink.rs"]
mod sink;

use std::process::Command;
use std::time::{Duration, Instant};

use common::dns::{a, mx};
use common::smtp_client::Client;
use outbound::{drained, inbox, message, remote_records, report, send, server, server_on};
use sink::{Behaviour, answer};

#[tokio::test]
async fn python_submission_goes_out_over_starttls_once() {
    let sinks = sink::start(
        &["127.0.0.2"],
        Behaviour {
            starttls: true,
            ..Behaviour::default()
        },
    )
    .await;
    // relay_networks excludes 127.0.0.1: only the login allows relaying.
    let s = server(
        &sinks,
        remote_records(),
        "[smtp]\nrelay_networks = [\"192.0.2.1\"]\n",
    )
    .await;
    let records = common::dkim::rsa_and_ed25519_keys(&s, "example.org").await;
    let script = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
ctx = ssl._create_unverified_context()
m = EmailMessage()
m["From"] = "Alice <alice@example.org>"
m["To"] = "bob@remote.test"
m["Subject"] = "outbound via 587"
m.set_content("Original body line.\n.dot line\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="laptop.test", timeout=10) as c:
    c.starttls(context=ctx)
    c.login("alice@example.org", "password")
    c.send_message(m)
print("ok")
"#;
    let port = s.submission.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", script, &port])
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let t = &got[0];
    assert!(t.tls, "STARTTLS was offered, so it is used");
    assert_eq!(t.helo, "mail.test");
    assert_eq!(t.from, "alice@example.org");
    assert_eq!(t.rcpts, vec!["bob@remote.test".to_string()]);
    let data = String::from_utf8_lossy(&t.data);
    assert!(data.contains("Subject: outbound via 587"), "{data}");
    assert!(
        data.contains("Original body line.\r\n.dot line\r\n"),
        "{data}"
    );
    assert!(data.contains("with ESMTPSA"), "our Received header: {data}");
    assert!(
        !data.contains("Return-Path"),
        "no Return-Path leaves: {data}"
    );
    // It left DKIM-signed, and an independent verifier agrees.
    match common::dkim::dkimpy_verify(&records, &t.data) {
        Some(report) => common::dkim::assert_both_pass(&report, "example.org"),
        None => common::skip("python3-dkim/python3-nacl missing: remote DKIM not verified"),
    }
    assert!(drained(&s).await, "the queue empties");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sinks[0].delivered().len(), 1, "delivered exactly once");
    s.stop().await;
}

#[tokio::test]
async fn relay_network_client_is_accepted_and_others_are_refused() {
    let sinks = sink::start(&["127.0.0.2"], Behaviour::default()).await;
    let s = server(
        &sinks,
        remote_records(),
        "[smtp]\nrelay_networks = [\"127.0.0.1/32\"]\n",
    )
    .await;
    send(&s, "alice@example.org", &["bob@remote.test"], "relayed").await;
    let (mut c, _) = Client::connect_from(s.smtp, sink::ip(5)).await;
    c.expect("EHLO outsider.test", 250).await;
    c.expect("MAIL FROM:<someone@outsider.test>", 250).await;
    let r = c.expect("RCPT TO:<bob@remote.test>", 554).await;
    assert!(r.text().starts_with("5.7.1"), "{r:?}");
    // Mail for local users is still welcome from outside.
    c.expect("RCPT TO:<bob@example.org>", 250).await;
    c.expect("QUIT", 221).await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "alice@example.org");
    s.stop().await;
}

#[tokio::test]
async fn mx_order_fallback_implicit_mx_and_null_mx() {
    let sinks = sink::start(&["127.0.0.2", "127.0.0.3"], Behaviour::default()).await;
    let records = vec![
        // Preference 5 has nothing listening: the next MX gets it.
        mx("fallback.test", 5, "dead.fallback.test"),
        a("dead.fallback.test", "127.0.0.9"),
        mx("fallback.test", 20, "live.fallback.test"),
        a("live.fallback.test", "127.0.0.2"),
        // No MX at all: the domain's own address.
        a("implicit.test", "127.0.0.3"),
        // Null MX: no mail, at once.
        mx("nullmx.test", 0, "."),
    ];
    let s = server(&sinks, records, "").await;
    send(&s, "alice@example.org", &["x@fallback.test"], "fallback").await;
    send(&s, "alice@example.org", &["y@implicit.test"], "implicit").await;
    let started = Instant::now();
    send(&s, "alice@example.org", &["z@nullmx.test"], "nullmx").await;
    let a2 = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    let a3 = sinks[1].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(a2.len(), 1);
    assert_eq!(a2[0].rcpts, vec!["x@fallback.test".to_string()]);
    assert_eq!(a3.len(), 1);
    assert_eq!(a3[0].rcpts, vec!["y@implicit.test".to_string()]);
    let bounces = inbox(&s, "alice@example.org", 1, Duration::from_secs(20)).await;
    assert_eq!(bounces.len(), 1, "one bounce, for the null MX");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no retries for a null MX"
    );
    let (status, headers) = report(&bounces[0]);
    assert!(
        status.contains("Final-Recipient: rfc822; z@nullmx.test"),
        "{status}"
    );
    assert!(
        status.contains("Action: failed") && status.contains("Status: 5.1.10"),
        "{status}"
    );
    assert!(headers.contains("Subject: nullmx"), "{headers}");
    assert!(drained(&s).await);
    s.stop().await;
}

#[tokio::test]
async fn temporary_failure_is_retried_and_delivered_once() {
    let mut b = Behaviour::default();
    b.rcpt.insert(
        "bob@remote.test".into(),
        [answer(451, "4.7.1 Greylisted, try later")].into(),
    );
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "").await;
    send(&s, "alice@example.org", &["bob@remote.test"], "retry").await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert!(drained(&s).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sinks[0].delivered().len(), 1, "exactly once");
    assert!(sinks[0].connections() >= 2, "a second attempt was made");
    assert!(
        s.messages("alice@example.org", "INBOX").is_empty(),
        "no bounce, no delay notice"
    );
    s.stop().await;
}

#[tokio::test]
async fn recipients_over_the_remote_limit_follow_on_the_same_connection() {
    let b = Behaviour {
        max_rcpts: Some(2),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "").await;
    let rcpts = [
        "r1@remote.test",
        "r2@remote.test",
        "r3@remote.test",
        "r4@remote.test",
        "r5@remote.test",
    ];
    send(&s, "alice@example.org", &rcpts, "many").await;
    assert!(drained(&s).await, "all delivered");
    let got = sinks[0].delivered();
    let mut all: Vec<String> = got.iter().flat_map(|t| t.rcpts.clone()).collect();
    all.sort();
    assert_eq!(all, rcpts.map(String::from).to_vec(), "each exactly once");
    assert_eq!(got.len(), 3, "2 + 2 + 1");
    assert_eq!(sinks[0].connections(), 1, "one connection for all");
    s.stop().await;
}

#[tokio::test]
async fn alias_forwarding_keeps_the_envelope_sender() {
    let sinks = sink::start(&["127.0.0.2"], Behaviour::default()).await;
    let s = server(
        &sinks,
        remote_records(),
        "[smtp]\nrelay_networks = [\"127.0.0.1/32\"]\n",
    )
    .await;
    s.services
        .directory
        .add_alias(
            "team@example.org",
            &["bob@example.org".into(), "carol@remote.test".into()],
        )
        .await
        .expect("alias");
    // From outside the relay networks: forwarding is not relaying.
    let (mut c, _) = Client::connect_from(s.smtp, sink::ip(5)).await;
    c.expect("EHLO outsider.test", 250).await;
    let r = c
        .send_mail(
            "someone@outsider.test",
            &["team@example.org"],
            &message("fwd"),
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "someone@outsider.test");
    assert_eq!(got[0].rcpts, vec!["carol@remote.test".to_string()]);
    assert_eq!(
        s.messages("bob@example.org", "INBOX").len(),
        1,
        "the local member too"
    );
    s.stop().await;
}

#[tokio::test]
async fn retry_and_bounce_on_every_database() {
    for db in common::all_dbs().await {
        let label = db.label;
        let mut b = Behaviour::default();
        b.rcpt.insert(
            "bob@remote.test".into(),
            [answer(451, "4.7.1 Later")].into(),
        );
        b.rcpt.insert(
            "gone@remote.test".into(),
            [answer(550, "5.1.1 Gone")].into(),
        );
        let sinks = sink::start(&["127.0.0.2"], b).await;
        let s = server_on(Some(db), &sinks, remote_records(), "").await;
        send(
            &s,
            "alice@example.org",
            &["bob@remote.test", "gone@remote.test"],
            "db",
        )
        .await;
        let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
        assert_eq!(got.len(), 1, "{label}");
        assert_eq!(got[0].rcpts, vec!["bob@remote.test".to_string()], "{label}");
        let bounces = inbox(&s, "alice@example.org", 1, Duration::from_secs(20)).await;
        assert_eq!(bounces.len(), 1, "{label}");
        assert!(
            bounces[0].contains("Final-Recipient: rfc822; gone@remote.test"),
            "{label}"
        );
        assert!(drained(&s).await, "{label}");
        assert_eq!(sinks[0].delivered().len(), 1, "{label}: once");
        s.stop().await;
    }
}

#[tokio::test]
async fn messages_due_together_share_one_connection() {
    let b = Behaviour {
        rcpt_default: Some(answer(451, "4.3.0 Not yet")),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "retry = [\"1h\"]\n").await;
    for i in 0..3 {
        let to = format!("r{i}@remote.test");
        send(&s, "alice@example.org", &[&to], &format!("reuse{i}")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = s.services.queue.list().await.expect("list");
        let tried = list
            .iter()
            .filter(|m| m.recipients[0].attempts == 1)
            .count();
        if tried == 3 || Instant::now() >= deadline {
            assert_eq!(tried, 3, "each was tried once");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = sinks[0].connections();
    sinks[0].set(|b| b.rcpt_default = None);
    assert_eq!(s.services.queue.flush(None).await.expect("flush"), 3);
    assert_eq!(
        sinks[0]
            .wait_delivered(3, Duration::from_secs(20))
            .await
            .len(),
        3
    );
    assert_eq!(
        sinks[0].connections(),
        before + 1,
        "the three went over one connection"
    );
    assert!(drained(&s).await);
    s.stop().await;
}

/// A message several times larger than the chunk the queue streams in
/// (64 KiB), with 8-bit text and leading dots on many lines, arrives
/// unchanged: dot-stuffing across chunk borders, SIZE= and BODY=8BITMIME
/// computed from the spool file without holding the message.
#[tokio::test]
async fn a_large_message_is_streamed_unchanged() {
    let b = Behaviour {
        smtputf8: true,
        size: Some(10 << 20),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "").await;
    let mut body = String::new();
    for i in 0..6000 {
        // Lines of varying length so dots fall on every offset of a chunk.
        let dots = ".".repeat(i % 3);
        let fill = "x".repeat(i % 97);
        body.push_str(&format!("{dots}line {i} größe {fill}\r\n"));
    }
    let message =
        format!("From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: large\r\n\r\n{body}");
    assert!(message.len() > 4 * 64 * 1024, "{}", message.len());
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let r = c
        .send_mail("alice@example.org", &["bob@remote.test"], &message)
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("QUIT", 221).await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let t = &got[0];
    assert!(
        t.data.ends_with(message.as_bytes()),
        "the message arrived changed ({} octets sent, {} received)",
        message.len(),
        t.data.len()
    );
    let size = format!("SIZE={}", t.data.len());
    assert!(t.mail_line.contains(&size), "{} / {size}", t.mail_line);
    assert!(t.mail_line.contains("BODY=8BITMIME"), "{}", t.mail_line);
    assert!(drained(&s).await);
    s.stop().await;
}
