//! The real daemon killed with SIGKILL while messages wait in the queue
//! (some of them mid-transaction): after a restart every message is
//! delivered, each exactly once.

mod common;
#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/sink.rs"]
mod sink;

use std::collections::BTreeMap;
use std::time::Duration;

use common::dns::{TestDns, a, mx};
use common::smtp_client::Client;
use daemon::Daemon;
use sink::{Behaviour, answer};

const N: usize = 6;

/// Submits `N` messages, one per recipient, over port 25.
async fn submit(d: &Daemon) {
    for i in 0..N {
        let (mut c, _) = Client::connect(d.smtp).await;
        c.expect("EHLO client.test", 250).await;
        let msg = format!(
            "From: alice@example.org\r\nSubject: crash {i}\r\nMessage-ID: <crash{i}@example.org>\r\n\r\nbody {i}\r\n"
        );
        let r = c
            .send_mail("alice@example.org", &[&format!("u{i}@remote.test")], &msg)
            .await;
        assert_eq!(r.code, 250, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_a_full_queue_loses_nothing_and_duplicates_nothing() {
    let dns = TestDns::start([
        mx("remote.test", 10, "mx1.remote.test"),
        a("mx1.remote.test", "127.0.0.2"),
    ])
    .await;
    let sinks = sink::start(
        &["127.0.0.2"],
        Behaviour {
            rcpt_default: Some(answer(451, "4.3.0 Not now")),
            rcpt_delay: Duration::from_millis(300),
            ..Behaviour::default()
        },
    )
    .await;
    let extra = format!(
        "[queue]\nretry = [\"1s\"]\nwarn_after = \"0s\"\n[relay]\nmx_port = {}\n",
        sink::port(&sinks)
    );
    let mut d = Daemon::new(dns.addr(), &extra);
    d.add_users("example.org", &["alice"]);
    d.start();
    submit(&d).await;
    // Let attempts run (and fail with 451), then kill while some are in
    // the middle of a transaction (the sink is slow to answer RCPT).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sinks[0].connections() < N && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        sinks[0].connections() >= 1,
        "attempts were made:\n{}",
        d.log()
    );
    d.kill();
    assert!(
        sinks[0].delivered().is_empty(),
        "nothing was accepted before the kill"
    );
    assert_eq!(
        d.spool_files().len(),
        N,
        "every message spooled: {:?}",
        d.spool_files()
    );

    sinks[0].set(|b| {
        b.rcpt_default = None;
        b.rcpt_delay = Duration::ZERO;
    });
    d.start();
    let got = sinks[0].wait_delivered(N, Duration::from_secs(60)).await;
    assert_eq!(
        got.len(),
        N,
        "all delivered after the restart:\n{}",
        d.log()
    );
    // Give a duplicate every chance to appear.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut by_rcpt: BTreeMap<String, usize> = BTreeMap::new();
    for t in sinks[0].delivered() {
        for r in t.rcpts {
            *by_rcpt.entry(r).or_default() += 1;
        }
    }
    assert_eq!(by_rcpt.len(), N, "{by_rcpt:?}");
    assert!(by_rcpt.values().all(|&n| n == 1), "duplicates: {by_rcpt:?}");
    let list = d.cli_ok(&["queue", "list"]);
    assert!(list.contains("the queue is empty"), "{list}");
    assert!(d.spool_files().is_empty(), "{:?}", d.spool_files());
    d.kill();
}
