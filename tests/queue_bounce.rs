//! What the sender hears back: bounces (DSN, RFC 3464) for permanent
//! failures, expiry and size limits, and the one-time delay notice.

mod common;
#[path = "common/outbound.rs"]
mod outbound;
#[path = "common/sink.rs"]
mod sink;

use std::time::{Duration, Instant};

use common::dns::{a, mx};
use outbound::{drained, inbox, remote_records, report, send, server};
use sink::{Behaviour, answer};

#[tokio::test]
async fn permanent_failure_bounces_to_the_local_sender() {
    let b = Behaviour {
        rcpt_default: Some(answer(550, "5.1.1 No such user here")),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "").await;
    send(
        &s,
        "alice@example.org",
        &["bob@remote.test"],
        "unknown-user",
    )
    .await;
    let got = inbox(&s, "alice@example.org", 1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "one bounce");
    let (status, headers) = report(&got[0]);
    for want in [
        "Reporting-MTA: dns; mail.test",
        "Arrival-Date: ",
        "Final-Recipient: rfc822; bob@remote.test",
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mx1.remote.test",
        "Diagnostic-Code: smtp; 550 5.1.1 No such user here",
    ] {
        assert!(status.contains(want), "{want} missing:\n{status}");
    }
    assert!(headers.contains("Subject: unknown-user"), "{headers}");
    assert!(
        headers.contains("Message-ID: <unknown-user@example.org>"),
        "{headers}"
    );
    assert!(
        !got[0].contains("Hello from unknown-user"),
        "no body in the bounce"
    );
    assert!(drained(&s).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        s.messages("alice@example.org", "INBOX").len(),
        1,
        "one bounce only"
    );
    s.stop().await;
}

#[tokio::test]
async fn unreachable_mx_is_retried_then_bounced_at_max_age() {
    let sinks = sink::start(&["127.0.0.2"], Behaviour::default()).await;
    let records = vec![
        mx("down.test", 10, "mx.down.test"),
        a("mx.down.test", "127.0.0.9"),
    ];
    let s = server(&sinks, records, "max_age = \"3s\"\n").await;
    let started = Instant::now();
    send(&s, "alice@example.org", &["x@down.test"], "unreachable").await;
    let got = inbox(&s, "alice@example.org", 1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "bounced");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "not before max_age"
    );
    let (status, _) = report(&got[0]);
    assert!(
        status.contains("Action: failed") && status.contains("Status: 4.4.7"),
        "{status}"
    );
    let human = &got[0];
    let attempts: u32 = human
        .split("gave up after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        attempts >= 3,
        "retried before giving up ({attempts}): {human}"
    );
    assert!(drained(&s).await);
    s.stop().await;
}

#[tokio::test]
async fn delay_notice_is_sent_once_then_delivery_succeeds() {
    let b = Behaviour {
        rcpt_default: Some(answer(451, "4.3.0 Try again later")),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "warn_after = \"2s\"\n").await;
    send(&s, "alice@example.org", &["bob@remote.test"], "slow").await;
    let got = inbox(&s, "alice@example.org", 1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let (status, _) = report(&got[0]);
    assert!(
        status.contains("Action: delayed") && status.contains("Status: 4.3.0"),
        "{status}"
    );
    assert!(status.contains("Will-Retry-Until: "), "{status}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        s.messages("alice@example.org", "INBOX").len(),
        1,
        "only once"
    );
    sinks[0].set(|b| b.rcpt_default = None);
    assert_eq!(
        sinks[0]
            .wait_delivered(1, Duration::from_secs(20))
            .await
            .len(),
        1
    );
    assert!(drained(&s).await);
    assert_eq!(s.messages("alice@example.org", "INBOX").len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn oversized_for_the_remote_is_a_permanent_failure() {
    let b = Behaviour {
        size: Some(200),
        ..Behaviour::default()
    };
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let s = server(&sinks, remote_records(), "").await;
    send(
        &s,
        "alice@example.org",
        &["bob@remote.test"],
        "too-big-for-them",
    )
    .await;
    let got = inbox(&s, "alice@example.org", 1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let (status, _) = report(&got[0]);
    assert!(status.contains("Status: 5.3.4"), "{status}");
    assert!(sinks[0].transactions().is_empty(), "never sent");
    s.stop().await;
}
