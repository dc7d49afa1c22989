//! Inbound SMTP protocol behaviour over real loopback sockets.

mod common;

use common::server::{TestServer, builder};
use common::smtp_client::Client;

const MSG: &str = "From: <sender@remote.test>\r\nTo: <alice@example.org>\r\nSubject: hello\r\n\r\nHello Alice.\r\n";

async fn server() -> TestServer {
    let s = builder().start().await;
    s.with_users("example.org", &["alice", "bob"]).await;
    s
}

#[tokio::test]
async fn greeting_ehlo_and_basic_delivery() {
    let s = server().await;
    let (mut c, greeting) = Client::connect(s.smtp).await;
    assert_eq!(greeting.code, 220);
    assert_eq!(greeting.text(), "mail.test ESMTP Postel");
    let ehlo = c.expect("EHLO client.test", 250).await;
    let caps = ehlo.text();
    for cap in [
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
        "CHUNKING",
    ] {
        assert!(caps.lines().any(|l| l == cap), "EHLO lacks {cap}: {caps}");
    }
    assert!(!caps.contains("AUTH"), "no AUTH on port 25: {caps}");
    let r = c
        .send_mail("sender@remote.test", &["alice@example.org"], MSG)
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    assert!(r.text().starts_with("2.0.0 "), "{r:?}");
    c.expect("QUIT", 221).await;
    let msgs = s.messages("alice@example.org", "INBOX");
    assert_eq!(msgs.len(), 1);
    let text = String::from_utf8_lossy(&msgs[0]);
    assert!(
        text.starts_with("Return-Path: <sender@remote.test>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Authentication-Results: mail.test;"),
        "{text}"
    );
    assert!(text.contains("Received: from client.test"), "{text}");
    assert!(text.ends_with("Hello Alice.\r\n"), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn pipelined_transaction_replies_in_order() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    c.send(
        "MAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.org>\r\n\
         RCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n",
    )
    .await;
    let codes = [250, 250, 550, 250, 354];
    for code in codes {
        let r = c.reply().await;
        assert_eq!(r.code, code, "{r:?}");
    }
    c.send(format!("{MSG}.\r\nQUIT\r\n")).await;
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 221);
    assert_eq!(s.messages("alice@example.org", "INBOX").len(), 1);
    assert_eq!(s.messages("bob@example.org", "INBOX").len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn bdat_chunks_deliver_a_message() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    c.expect("MAIL FROM:<sender@remote.test>", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 250).await;
    let (first, second) = MSG.split_at(20);
    c.send(format!("BDAT {}\r\n{first}", first.len())).await;
    assert_eq!(c.reply().await.code, 250);
    c.send(format!("BDAT {} LAST\r\n{second}", second.len()))
        .await;
    let r = c.reply().await;
    assert_eq!(r.code, 250, "{r:?}");
    let msgs = s.messages("alice@example.org", "INBOX");
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].ends_with(MSG.as_bytes()));
    s.stop().await;
}

#[tokio::test]
async fn bare_lf_smuggling_attempt_delivers_nothing_smuggled() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    c.expect("MAIL FROM:<sender@remote.test>", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 250).await;
    c.expect("DATA", 354).await;
    c.send(
        "Subject: first\r\n\r\nfirst body\n.\r\nMAIL FROM:<evil@remote.test>\r\n\
         RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n",
    )
    .await;
    let r = c.reply().await;
    assert_eq!(r.code, 550, "the whole thing is one refused message: {r:?}");
    assert!(r.text().starts_with("5.5.2"), "{r:?}");
    // The session is still in sync and usable.
    c.expect("NOOP", 250).await;
    assert!(s.messages("alice@example.org", "INBOX").is_empty());
    assert!(
        s.messages("bob@example.org", "INBOX").is_empty(),
        "smuggled message delivered"
    );
    s.stop().await;
}

#[tokio::test]
async fn dot_stuffing_is_undone() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let body = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n";
    // send_mail stuffs; the stored message must equal what we meant.
    let meant = body.trim_end_matches(".\r\n");
    let r = c
        .send_mail(
            "sender@remote.test",
            &["alice@example.org"],
            meant.trim_end_matches("\r\n"),
        )
        .await;
    assert_eq!(r.code, 250);
    let stored = String::from_utf8_lossy(&s.messages("alice@example.org", "INBOX")[0]).into_owned();
    assert!(
        stored.ends_with("\r\n\r\n.leading dot\r\n..two dots\r\n"),
        "{stored:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn limits_give_the_right_codes_and_the_session_goes_on() {
    let s = builder()
        .config("[smtp]\nmax_message_size = 2000\nmax_recipients = 2\n")
        .start()
        .await;
    s.with_users("example.org", &["alice", "bob", "carol"])
        .await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    // Command line over 512 octets.
    let r = c.cmd(&format!("NOOP {}", "x".repeat(600))).await;
    assert_eq!(r.code, 500, "{r:?}");
    c.expect("NOOP", 250).await;
    // SIZE= over the limit.
    c.expect("MAIL FROM:<s@remote.test> SIZE=999999", 552).await;
    // Too many recipients.
    c.expect("MAIL FROM:<s@remote.test>", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 250).await;
    c.expect("RCPT TO:<bob@example.org>", 250).await;
    let r = c.cmd("RCPT TO:<carol@example.org>").await;
    assert_eq!(r.code, 452, "{r:?}");
    // Message over the limit.
    c.expect("DATA", 354).await;
    c.send(format!(
        "Subject: big\r\n\r\n{}\r\n.\r\n",
        "y".repeat(900) + &"\r\nz".repeat(900)
    ))
    .await;
    let r = c.reply().await;
    assert_eq!(r.code, 552, "{r:?}");
    // A data line over 998 octets.
    c.expect("MAIL FROM:<s@remote.test>", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 250).await;
    c.expect("DATA", 354).await;
    c.send(format!(
        "Subject: long\r\n\r\n{}\r\n.\r\n",
        "w".repeat(1200)
    ))
    .await;
    let r = c.reply().await;
    assert!(r.code >= 500, "{r:?}");
    c.expect("RSET", 250).await;
    assert!(s.messages("alice@example.org", "INBOX").is_empty());
    s.stop().await;
}

#[tokio::test]
async fn unknown_user_relay_and_sequence_errors() {
    let s = builder()
        .config("[smtp]\nrelay_networks = [\"127.0.0.1/32\"]\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    // From 127.0.0.2: not a relay client.
    let (mut c, _) = Client::connect_from(s.smtp, "127.0.0.2".parse().expect("ip")).await;
    c.expect("MAIL FROM:<s@remote.test>", 503).await;
    c.expect("EHLO client.test", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 503).await;
    c.expect("DATA", 503).await;
    c.expect("MAIL FROM:<s@remote.test>", 250).await;
    let r = c.cmd("RCPT TO:<nobody@example.org>").await;
    assert_eq!(r.code, 550, "{r:?}");
    assert!(r.text().starts_with("5.1.1"), "{r:?}");
    let r = c.cmd("RCPT TO:<victim@elsewhere.test>").await;
    assert_eq!(r.code, 554, "{r:?}");
    assert!(r.text().starts_with("5.7.1"), "{r:?}");
    c.expect("RCPT TO:<alice+tag@example.org>", 250).await;
    c.expect("VRFY alice", 252).await;
    c.expect("HELP", 214).await;
    c.expect("FOO", 500).await;
    // From a relay network, a remote recipient is accepted (for the queue).
    let (mut c2, _) = Client::connect(s.smtp).await;
    c2.expect("EHLO client.test", 250).await;
    c2.expect("MAIL FROM:<s@example.org>", 250).await;
    let r = c2.cmd("RCPT TO:<friend@elsewhere.test>").await;
    assert_eq!(r.code, 250, "{r:?}");
    s.stop().await;
}

#[tokio::test]
async fn too_many_errors_close_with_421() {
    // The tarpit grows by error_delay per error: keep it short here.
    let s = builder()
        .config("[smtp]\nerror_delay = \"10ms\"")
        .start()
        .await;
    let (mut c, _) = Client::connect(s.smtp).await;
    let mut last = 0;
    for _ in 0..25 {
        let r = c.cmd("BOGUS").await;
        last = r.code;
        if r.code == 421 {
            break;
        }
    }
    assert_eq!(last, 421);
    assert!(c.is_closed().await);
    s.stop().await;
}

#[tokio::test]
async fn postmaster_always_exists() {
    let s = server().await;
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    c.expect("MAIL FROM:<>", 250).await;
    c.expect("RCPT TO:<postmaster@example.org>", 250).await;
    c.expect("RCPT TO:<Postmaster>", 250).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_sessions_lose_nothing() {
    let s = server().await;
    let mut tasks = Vec::new();
    for session in 0..100 {
        let addr = s.smtp;
        tasks.push(tokio::spawn(async move {
            let (mut c, _) = Client::connect(addr).await;
            c.expect("EHLO load.test", 250).await;
            for n in 0..10 {
                let body =
                    format!("Subject: s{session} m{n}\r\nX-Id: {session}-{n}\r\n\r\nbody\r\n");
                let r = c
                    .send_mail("load@remote.test", &["alice@example.org"], &body)
                    .await;
                assert_eq!(r.code, 250, "{r:?}");
            }
            c.expect("QUIT", 221).await;
        }));
    }
    for t in tasks {
        t.await.expect("session task");
    }
    let msgs = s.messages("alice@example.org", "INBOX");
    assert_eq!(msgs.len(), 1000);
    let mut ids: Vec<String> = msgs
        .iter()
        .map(|m| {
            let t = String::from_utf8_lossy(m);
            t.lines()
                .find_map(|l| l.strip_prefix("X-Id: ").map(str::to_string))
                .expect("X-Id")
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "every message exactly once");
    s.stop().await;
}
