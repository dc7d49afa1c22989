//! Helpers shared by the outbound queue's integration tests: a server
//! whose MX port is the sinks' port, sending over port 25, waiting for
//! mailboxes and for the queue to drain, reading a DSN.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use mail_parser::MimeHeaders;

use super::common;
use super::common::dns::{a, mx};
use super::common::server::{TestServer, builder};
use super::common::smtp_client::Client;
use super::sink::{self, Sink};

/// A server for `example.org` (alice, bob) whose queue retries every
/// second and whose MX port is the sinks' port, plus `extra` config.
pub async fn server(
    sinks: &[Sink],
    records: Vec<common::dns::TestRecord>,
    extra: &str,
) -> TestServer {
    server_on(None, sinks, records, extra).await
}

/// [`server`] on a chosen database.
pub async fn server_on(
    db: Option<common::TestDb>,
    sinks: &[Sink],
    records: Vec<common::dns::TestRecord>,
    extra: &str,
) -> TestServer {
    let mut queue = String::from("[queue]\n");
    if !extra.contains("retry") {
        queue.push_str("retry = [\"1s\"]\n");
    }
    if !extra.contains("max_age") {
        queue.push_str("max_age = \"1h\"\n");
    }
    if !extra.contains("warn_after") {
        queue.push_str("warn_after = \"0s\"\n");
    }
    let config = format!("{queue}{extra}\n[relay]\nmx_port = {}\n", sink::port(sinks));
    let mut b = builder().config(&config).records(records);
    if let Some(db) = db {
        b = b.db(db);
    }
    let s = b.start().await;
    s.with_users("example.org", &["alice", "bob"]).await;
    s
}

/// The usual remote domain: `remote.test`, MX `mx1.remote.test` = 127.0.0.2.
pub fn remote_records() -> Vec<common::dns::TestRecord> {
    vec![
        mx("remote.test", 10, "mx1.remote.test"),
        a("mx1.remote.test", "127.0.0.2"),
    ]
}

pub fn message(subject: &str) -> String {
    format!(
        "From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\n\r\nHello from {subject}.\r\n.leading dot\r\n"
    )
}

/// Sends one message over port 25 (127.0.0.1 is in relay_networks).
pub async fn send(s: &TestServer, from: &str, to: &[&str], subject: &str) {
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let r = c.send_mail(from, to, &message(subject)).await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("QUIT", 221).await;
}

/// Waits until `account`'s INBOX holds `n` messages.
pub async fn inbox(s: &TestServer, account: &str, n: usize, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let msgs = s.messages(account, "INBOX");
        if msgs.len() >= n || Instant::now() >= deadline {
            return msgs
                .iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the queue is empty (every message finished).
pub async fn drained(s: &TestServer) -> bool {
    for _ in 0..100 {
        if s.services.queue.list().await.expect("list").is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The delivery-status part of a DSN, checked to be a proper report.
pub fn report(dsn: &str) -> (String, String) {
    let parsed = mail_parser::MessageParser::new()
        .parse(dsn.as_bytes())
        .expect("DSN parses");
    let ct = parsed.content_type().expect("content type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("report")),
        "{dsn}"
    );
    assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
    let part = |i: usize| String::from_utf8_lossy(parsed.parts[i].contents()).into_owned();
    assert!(
        dsn.contains("From: Mail Delivery System <MAILER-DAEMON@mail.test>"),
        "{dsn}"
    );
    assert!(dsn.contains("Auto-Submitted: auto-replied"), "{dsn}");
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "null sender: {dsn}");
    (part(2), part(3))
}
