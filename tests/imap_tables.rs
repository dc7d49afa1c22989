//! IMAP's own tables on SQLite and PostgreSQL: `\Recent` claims race
//! safely, subscriptions follow RENAME; and a short IMAP session against
//! a server on each database.

mod common;
mod imap_util;

use common::server::builder;
use postel::imap::tables;

const ACCOUNT: &str = "alice@example.org";

#[tokio::test]
async fn recent_claims_are_exclusive_under_concurrency() {
    for t in common::all_dbs().await {
        let db = t.db.clone();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(
                    async move { tables::claim_recent(&db, ACCOUNT, "INBOX", 7, 10).await },
                )
            })
            .collect();
        let mut befores = Vec::new();
        for task in tasks {
            befores.push(task.await.expect("join").expect("claim"));
        }
        befores.sort_unstable();
        assert_eq!(befores[0], 0, "{}: one session claims", t.label);
        assert!(
            befores[1..].iter().all(|&b| b == 10),
            "{}: {befores:?}",
            t.label
        );
        // More mail: only the new UIDs are claimed.
        assert_eq!(
            tables::claim_recent(&db, ACCOUNT, "INBOX", 7, 12)
                .await
                .ok(),
            Some(10)
        );
        assert_eq!(
            tables::recent_mark(&db, ACCOUNT, "INBOX", 7).await.ok(),
            Some(12)
        );
        // A new UIDVALIDITY starts again.
        assert_eq!(
            tables::recent_mark(&db, ACCOUNT, "INBOX", 8).await.ok(),
            Some(0)
        );
        assert_eq!(
            tables::claim_recent(&db, ACCOUNT, "INBOX", 8, 3).await.ok(),
            Some(0)
        );
        assert_eq!(
            tables::claim_recent(&db, ACCOUNT, "INBOX", 8, 3).await.ok(),
            Some(3)
        );
    }
}

#[tokio::test]
async fn subscriptions_follow_rename() {
    for t in common::all_dbs().await {
        let db = &t.db;
        for name in ["a", "a/b", "ab", "c"] {
            tables::subscribe(db, ACCOUNT, name)
                .await
                .expect("subscribe");
        }
        tables::subscribe(db, ACCOUNT, "a")
            .await
            .expect("idempotent");
        tables::rename(db, ACCOUNT, "a", "z/a")
            .await
            .expect("rename");
        let subs = tables::subscriptions(db, ACCOUNT).await.expect("list");
        assert_eq!(subs, ["ab", "c", "z/a", "z/a/b"], "{}", t.label);
        assert!(
            tables::unsubscribe(db, ACCOUNT, "c")
                .await
                .expect("unsubscribe")
        );
        assert!(!tables::unsubscribe(db, ACCOUNT, "c").await.expect("again"));
        let other = tables::subscriptions(db, "bob@example.org")
            .await
            .expect("list");
        assert!(other.is_empty());
    }
}

#[tokio::test]
async fn imap_session_on_each_database() {
    for t in common::all_dbs().await {
        let label = t.label;
        let s = builder().db(t).start().await;
        s.with_users("example.org", &["alice"]).await;
        imap_util::run_python(
            &s,
            r#"
c = tls()
ok(c.create("Folder/Sub"))
ok(c.subscribe("Folder/Sub"))
ok(c.append("Folder/Sub", "(\\Seen)", None, b"Subject: x\r\n\r\ny\r\n"))
typ, data = c.select("Folder/Sub")
assert data == [b"1"] and c.untagged_responses["RECENT"] == [b"1"], c.untagged_responses
ok(c.rename("Folder", "Renamed"))
lsub = ok(c.lsub('""', "*"))
assert any(b"Renamed/Sub" in l for l in lsub), lsub
print("ok")
"#,
        )
        .await;
        eprintln!("{label}: ok");
        s.stop().await;
    }
}
