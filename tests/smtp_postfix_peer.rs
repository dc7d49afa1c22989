//! Postfix from Debian as a peer: a private Postfix instance sends from
//! another loopback address (127.0.0.5) to Postel's port-25 listener, the
//! way an Internet MTA would, and the message is delivered.
//!
//! Routing is the real thing: Postfix looks up the MX of the recipient
//! domain in the test DNS server (through its chrooted resolver, see
//! `common/postfix.rs`) and connects to the MX host's address on the test
//! port (`smtp_tcp_port`), with opportunistic STARTTLS
//! (`smtp_tls_security_level = may`) against Postel's self-signed
//! certificate.

mod common;
use common::postfix;

use std::time::{Duration, Instant};

use common::dns::{a, mx, ptr, txt};
use common::server::builder;
use hickory_server::proto::rr::RecordType;
use postfix::Postfix;

const PEER_IP: &str = "127.0.0.5";
const PEER_NAME: &str = "mx.peer.test";

/// The message as handed to Postfix's sendmail (LF line ends, as a local
/// program writes it). The lone-dot and leading-dot lines check SMTP
/// transparency (dot-stuffing by Postfix, unstuffing by Postel).
const MESSAGE: &str = "From: Sender <sender@peer.test>\n\
To: Alice <alice@example.org>\n\
Subject: relayed by Postfix\n\
Message-ID: <postfix-peer-1@peer.test>\n\
Date: Tue, 25 Nov 2025 07:20:00 +0000\n\
\n\
Hello Alice,\n\
.\n\
.leading dot\n\
this came through a Debian Postfix.\n";

#[tokio::test]
async fn postfix_relays_over_starttls_via_mx_lookup() {
    if let Some(why) = postfix::unavailable() {
        common::skip(&why);
        return;
    }
    let s = builder()
        // 127.0.0.5 is an ordinary Internet client, not a trusted relay.
        .config("[smtp]\nrelay_networks = [\"127.0.0.1/32\"]")
        .records([
            mx("example.org", 10, "mx.example.org"),
            a("mx.example.org", "127.0.0.1"),
            ptr(PEER_IP, PEER_NAME),
            a(PEER_NAME, PEER_IP),
            txt("peer.test", "v=spf1 ip4:127.0.0.5 -all"),
        ])
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;

    let peer = Postfix::start(&postfix::Config {
        hostname: PEER_NAME,
        source: PEER_IP.parse().expect("ip"),
        nameserver: s.dns.addr(),
        smtp_port: s.smtp.port(),
        main_cf: "",
    })
    .await;
    peer.sendmail(
        "sender@peer.test",
        &["alice@example.org"],
        MESSAGE.as_bytes(),
    )
    .await;

    // Delivered, and Postfix has logged the outcome (it logs after
    // Postel's 250, so wait for both).
    let deadline = Instant::now() + Duration::from_secs(30);
    let (msgs, log) = loop {
        let msgs = s.messages("alice@example.org", "INBOX");
        let log = peer.log();
        if !msgs.is_empty() && log.contains("status=sent") {
            break (msgs, log);
        }
        assert!(!log.contains("status=bounced"), "refused:\n{log}");
        assert!(
            Instant::now() < deadline,
            "not delivered within 30 s ({} message(s) stored); Postfix log:\n{log}",
            msgs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    peer.stop();
    assert_eq!(msgs.len(), 1, "{log}");
    let m = String::from_utf8_lossy(&msgs[0]).into_owned();

    // Postfix routed by MX to the MX host's address and used TLS.
    let port = s.smtp.port();
    assert!(
        log.contains(&format!("relay=mx.example.org[127.0.0.1]:{port},")),
        "{log}"
    );
    assert!(log.contains("status=sent (250 2.0.0 "), "{log}");
    // Accepted at the first attempt (Postfix would retry a 4xx quietly).
    assert!(!log.contains("status=deferred"), "{log}");
    assert!(
        log.contains(&format!(
            "TLS connection established to mx.example.org[127.0.0.1]:{port}: TLSv1."
        )),
        "{log}"
    );
    let queries = s.dns.queries();
    assert!(
        queries.contains(&("example.org".into(), RecordType::MX)),
        "{queries:?}"
    );

    // Envelope, Postel's trace header for the 127.0.0.5 client (its
    // forward-confirmed name, ESMTPS), then Postfix's own below it.
    assert!(m.starts_with("Return-Path: <sender@peer.test>\r\n"), "{m}");
    let ours = m
        .find(&format!(
            "Received: from {PEER_NAME} ({PEER_NAME} [{PEER_IP}])\r\n\
             \tby mail.test (Postel) with ESMTPS id "
        ))
        .unwrap_or_else(|| panic!("no Received header by Postel for {PEER_IP}:\n{m}"));
    assert!(m[ours..].contains("\r\n\t(using TLSv1."), "{m}");
    assert!(m[ours..].contains("\r\n\tfor <alice@example.org>;"), "{m}");
    let theirs = m
        .find(&format!(
            "Received: by {PEER_NAME} (Postfix, from userid 0)\r\n"
        ))
        .unwrap_or_else(|| panic!("no Received header by Postfix:\n{m}"));
    assert!(ours < theirs, "Postel's Received must be on top:\n{m}");
    assert_eq!(m.matches("Received: ").count(), 2, "{m}");

    // What Postel checked about the peer.
    assert!(m.contains("Authentication-Results: mail.test;"), "{m}");
    assert!(m.contains("spf=pass smtp.mailfrom=sender@peer.test"), "{m}");
    assert!(
        m.contains(&format!("iprev=pass policy.iprev={PEER_IP} ({PEER_NAME})")),
        "{m}"
    );

    // The message itself, intact (CRLF on the wire and in the store).
    let headers = &m[..m.find("\r\n\r\n").expect("header/body separator")];
    assert!(
        headers.contains("\r\nSubject: relayed by Postfix\r\n"),
        "{m}"
    );
    assert!(
        headers.contains("\r\nMessage-ID: <postfix-peer-1@peer.test>\r\n"),
        "{m}"
    );
    assert!(
        m.ends_with(
            "\r\n\r\nHello Alice,\r\n.\r\n.leading dot\r\n\
             this came through a Debian Postfix.\r\n"
        ),
        "{m}"
    );
    s.stop().await;
}
