//! `postel queue list | show | flush | delete` against a running daemon.

mod common;
#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/sink.rs"]
mod sink;

use std::time::Duration;

use common::dns::{TestDns, a, mx};
use common::smtp_client::Client;
use daemon::Daemon;
use sink::{Behaviour, answer};

/// Queue ids in `postel queue list` output (lines not starting with a tab).
fn ids(list: &str) -> Vec<String> {
    list.lines()
        .filter(|l| !l.starts_with('\t') && !l.is_empty() && !l.contains("queue is empty"))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect()
}

/// `postel queue list` once `n` messages had their first attempt.
async fn first_attempts(d: &Daemon, n: usize) -> String {
    let mut list = String::new();
    for _ in 0..100 {
        list = d.cli_ok(&["queue", "list"]);
        if list.matches("attempts=1").count() == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    list
}

/// The test DNS, a sink answering 451 to every RCPT, and the config.
async fn setup() -> (TestDns, Vec<sink::Sink>, String) {
    let dns = TestDns::start([
        mx("remote.test", 10, "mx1.remote.test"),
        a("mx1.remote.test", "127.0.0.2"),
    ])
    .await;
    let sinks = sink::start(
        &["127.0.0.2"],
        Behaviour {
            rcpt_default: Some(answer(451, "4.3.0 Come back later")),
            ..Behaviour::default()
        },
    )
    .await;
    // One attempt now, the next in an hour: only a flush brings it sooner.
    let extra = format!(
        "[queue]\nretry = [\"1h\"]\nwarn_after = \"0s\"\n[relay]\nmx_port = {}\n",
        sink::port(&sinks)
    );
    (dns, sinks, extra)
}

/// Submits one message to each of first@ and second@remote.test.
async fn submit_two(d: &Daemon) {
    for (i, rcpt) in ["first@remote.test", "second@remote.test"]
        .iter()
        .enumerate()
    {
        let (mut c, _) = Client::connect(d.smtp).await;
        c.expect("EHLO client.test", 250).await;
        let msg = format!("From: alice@example.org\r\nSubject: cli {i}\r\n\r\nbody\r\n");
        let r = c.send_mail("alice@example.org", &[rcpt], &msg).await;
        assert_eq!(r.code, 250, "{r:?}");
        // Keep submission order = list order (ids are time-ordered).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_flush_delete_round_trip() {
    let (dns, sinks, extra) = setup().await;
    let mut d = Daemon::new(dns.addr(), &extra);
    d.add_users("example.org", &["alice"]);
    assert!(d.cli_ok(&["queue", "list"]).contains("the queue is empty"));
    d.start();
    submit_two(&d).await;
    let list = first_attempts(&d, 2).await;
    assert_eq!(list.matches("attempts=1").count(), 2, "{list}\n{}", d.log());
    assert!(list.contains("from <alice@example.org>"), "{list}");
    assert!(
        list.contains("<first@remote.test>\tqueued\tattempts=1\tnext="),
        "{list}"
    );
    assert!(
        list.contains("451 4.3.0 Come back later"),
        "last error: {list}"
    );
    let ids = ids(&list);
    assert_eq!(ids.len(), 2, "{list}");

    let show = d.cli_ok(&["queue", "show", &ids[0]]);
    assert!(show.contains("Subject: cli 0"), "headers: {show}");
    assert!(show.contains("status: queued"), "{show}");
    assert!(
        show.contains("diagnostic: 451 4.3.0 Come back later"),
        "{show}"
    );
    assert!(show.contains("remote MTA: mx1.remote.test"), "{show}");

    // Flush one message only: it goes, the other waits for its hour.
    sinks[0].set(|b| b.rcpt_default = None);
    let flushed = d.cli_ok(&["queue", "flush", &ids[0]]);
    assert!(flushed.contains("1 recipient(s) due now"), "{flushed}");
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "{}", d.log());
    assert_eq!(got[0].rcpts, vec!["first@remote.test".to_string()]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sinks[0].delivered().len(), 1, "the other was not flushed");
    let list = d.cli_ok(&["queue", "list"]);
    assert_eq!(self::ids(&list), std::slice::from_ref(&ids[1]), "{list}");

    // Delete the other: gone from the list and from the spool, no bounce.
    let deleted = d.cli_ok(&["queue", "delete", &ids[1]]);
    assert!(
        deleted.contains(&format!("deleted {}", ids[1])),
        "{deleted}"
    );
    assert!(d.cli_ok(&["queue", "list"]).contains("the queue is empty"));
    assert!(d.spool_files().is_empty(), "{:?}", d.spool_files());
    let again = d.cli(&["queue", "delete", &ids[1]], "");
    assert!(!again.status.success(), "deleting twice is an error");
    assert!(String::from_utf8_lossy(&again.stderr).contains("no queued message"));
    let bad = d.cli(&["queue", "show", "../../etc/passwd"], "");
    assert!(!bad.status.success());
    d.cli_ok(&["queue", "flush"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sinks[0].delivered().len(),
        1,
        "the deleted message never went out"
    );
    d.kill();
}
