//! The queue's SQL on SQLite and, when `POSTEL_TEST_POSTGRES_URL` is set,
//! PostgreSQL: claims are exclusive, whole messages are claimed, leases
//! expire and are released, outcomes need the lease, finished messages go.

use super::*;
use crate::db::testing::databases;
use crate::queue::{Outbound, OutboundRecipient};

fn outbound(rcpts: &[&str]) -> Outbound {
    Outbound {
        sender: Some("alice@example.org".into()),
        recipients: rcpts
            .iter()
            .map(|r| OutboundRecipient {
                address: r.to_string(),
                original: None,
            })
            .collect(),
        smtputf8: false,
    }
}

fn deferred() -> Outcome {
    Outcome {
        kind: OutcomeKind::Deferred,
        status: "4.4.1".into(),
        diagnostic: String::new(),
        message: "no answer".into(),
        remote: "mx.test".into(),
    }
}

#[tokio::test]
async fn claims_are_exclusive_whole_messages_and_expire() {
    for (db, _dir) in databases().await {
        let label = db.backend_name();
        insert(
            &db,
            "m1",
            &outbound(&["a@x.test", "b@x.test", "c@y.test"]),
            10,
        )
        .await
        .expect("insert m1");
        insert(&db, "m2", &outbound(&["d@x.test"]), 10)
            .await
            .expect("insert m2");
        let soon = now_ms() + 60_000;
        let mut doms = domains(&db, now_ms()).await.expect("domains");
        doms.sort_by(|a, b| a.domain.cmp(&b.domain));
        assert_eq!(doms.len(), 2, "{label}");
        assert_eq!(
            (doms[0].domain.as_str(), doms[0].due),
            ("x.test", 3),
            "{label}"
        );

        let a = claim(&db, "x.test", "n:a", soon, 1).await.expect("claim a");
        let got: Vec<&str> = a.iter().map(|c| c.recipient.as_str()).collect();
        assert_eq!(got, ["a@x.test", "b@x.test"], "{label}: one whole message");
        let b = claim(&db, "x.test", "n:b", soon, 10)
            .await
            .expect("claim b");
        assert_eq!(b.len(), 1, "{label}: the other message only");
        assert_eq!(b[0].message_id, "m2");
        assert!(
            claim(&db, "x.test", "n:c", soon, 10)
                .await
                .expect("claim c")
                .is_empty()
        );

        // Only the holder may record; the outcome is kept.
        let rows = [(a[0].id, deferred(), now_ms() - 1)];
        assert_eq!(
            record(&db, "n:b", &rows).await.expect("record"),
            0,
            "{label}"
        );
        assert_eq!(
            record(&db, "n:a", &rows).await.expect("record"),
            1,
            "{label}"
        );

        // A lease that ran out is anyone's; a released one too.
        renew(&db, "n:a", now_ms() - 1).await.expect("expire a");
        release(&db, "n:b").await.expect("release b");
        let c = claim(&db, "x.test", "other:c", soon, 10)
            .await
            .expect("claim c");
        assert_eq!(
            c.len(),
            3,
            "{label}: m1 (a deferred and due, b) and m2 again"
        );
        assert_eq!(
            c.iter().find(|r| r.id == a[0].id).map(|r| r.attempts),
            Some(1)
        );
        assert_eq!(
            release_node(&db, "other").await.expect("release"),
            3,
            "{label}"
        );
        assert_eq!(release_node(&db, "n").await.expect("release"), 0, "{label}");
        let d = claim(&db, "x.test", "n:d", soon, 10)
            .await
            .expect("claim d");
        assert_eq!(d.len(), 3, "{label}");
    }
}

#[tokio::test]
async fn concurrent_claims_never_share_a_row() {
    for (db, _dir) in databases().await {
        for i in 0..20 {
            let rcpts = [format!("u{i}@x.test")];
            let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
            insert(&db, &format!("m{i:02}"), &outbound(&refs), 1)
                .await
                .expect("insert");
        }
        let soon = now_ms() + 60_000;
        let claims = (0..4).map(|w| {
            let db = db.clone();
            tokio::spawn(async move { claim(&db, "x.test", &format!("n:{w}"), soon, 3).await })
        });
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        for c in claims {
            for row in c.await.expect("join").expect("claim") {
                assert!(seen.insert(row.id), "row {} claimed twice", row.id);
                total += 1;
            }
        }
        assert!((3..=12).contains(&total), "{}: {total}", db.backend_name());
    }
}

#[tokio::test]
async fn finished_messages_are_removed_and_failures_wait_for_their_notice() {
    for (db, _dir) in databases().await {
        let label = db.backend_name();
        insert(&db, "m1", &outbound(&["a@x.test", "b@x.test"]), 10)
            .await
            .expect("insert");
        let soon = now_ms() + 60_000;
        let rows = claim(&db, "x.test", "n:a", soon, 10).await.expect("claim");
        let delivered = Outcome {
            kind: OutcomeKind::Delivered,
            ..deferred()
        };
        let failed = Outcome {
            kind: OutcomeKind::Failed,
            ..deferred()
        };
        let now = now_ms();
        let results = [(rows[0].id, delivered, now), (rows[1].id, failed, now)];
        assert_eq!(record(&db, "n:a", &results).await.expect("record"), 2);
        assert!(
            !finish_if_done(&db, "m1").await.expect("finish"),
            "{label}: a notice is due"
        );
        release(&db, "n:a").await.expect("release");
        let f = claim_failed(&db, "n:s", soon, 10)
            .await
            .expect("claim failed");
        assert_eq!(f.len(), 1, "{label}");
        assert!(finished_messages(&db).await.expect("list").is_empty());
        mark_bounced(&db, "n:s", &[f[0].id]).await.expect("bounced");
        assert_eq!(
            finished_messages(&db).await.expect("list"),
            vec!["m1".to_string()]
        );
        assert!(finish_if_done(&db, "m1").await.expect("finish"), "{label}");
        assert!(!exists(&db, "m1").await.expect("exists"));
        assert!(recipients(&db, "m1").await.expect("rows").is_empty());
        assert!(set_warned(&db, "nope").await.is_ok_and(|w| !w));
    }
}
