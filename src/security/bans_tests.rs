//! The bans' SQL on SQLite and, when `POSTEL_TEST_POSTGRES_URL` is set,
//! PostgreSQL; and the [`Security`] built on it, across two instances
//! sharing one database (two processes or nodes).

use std::sync::Arc;
use std::time::Duration;

use crate::db::testing::databases;

use super::*;
use crate::config::{Config, HumanDuration};
use crate::security::{BAN_REFRESH, Security};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn targets_are_canonical() {
    let key = |s: &str| target_key(&parse_target(s).expect(s));
    assert_eq!(key("192.0.2.7"), "192.0.2.7");
    assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    assert_eq!(key("192.0.2.7/24"), "192.0.2.0/24");
    assert_eq!(key("2001:db8::1/128"), "2001:db8::1");
    assert!(parse_target("nope").is_err());
}

#[tokio::test]
async fn failures_count_within_the_window_and_start_over_after_it() {
    for (db, _dir) in databases().await {
        let a = ip("192.0.2.1");
        let t = 1_000_000;
        assert_eq!(record_failure(&db, a, t, 1000).await.expect("1"), 1);
        assert_eq!(record_failure(&db, a, t + 10, 1000).await.expect("2"), 2);
        assert_eq!(
            record_failure(&db, ip("192.0.2.2"), t, 1000)
                .await
                .expect("other"),
            1
        );
        assert_eq!(record_failure(&db, a, t + 999, 1000).await.expect("3"), 3);
        // The window began at t; at t + 1000 it is over.
        assert_eq!(
            record_failure(&db, a, t + 1000, 1000).await.expect("new"),
            1
        );
        clear_failures(&db, a).await.expect("clear");
        assert_eq!(
            record_failure(&db, a, t + 1001, 1000).await.expect("after"),
            1
        );
        assert_eq!(purge(&db, t + 5000, 1000).await.expect("purge"), 2);
    }
}

#[tokio::test]
async fn bans_are_listed_replaced_deleted_and_expire() {
    for (db, _dir) in databases().await {
        let net = parse_target("198.51.100.0/24").expect("net");
        let one = parse_target("192.0.2.9").expect("ip");
        add(&db, &net, "manual", 100, None).await.expect("add net");
        add(&db, &one, "first", 100, Some(200)).await.expect("add");
        add(&db, &one, "again", 150, Some(300))
            .await
            .expect("replace");
        let list = active(&db, 250).await.expect("list");
        assert_eq!(list.len(), 2, "{list:?}");
        let b = list.iter().find(|b| b.address == "192.0.2.9").expect("one");
        assert_eq!(
            (b.reason.as_str(), b.since, b.until),
            ("again", 150, Some(300))
        );
        assert_eq!(active(&db, 300).await.expect("later").len(), 1);
        assert!(del(&db, &net).await.expect("del"));
        assert!(!del(&db, &net).await.expect("del again"));
        assert_eq!(purge(&db, 300, 1000).await.expect("purge"), 1);
        assert!(active(&db, 0).await.expect("empty").is_empty());
    }
}

fn config(limit: u32, ban: Duration) -> Arc<Config> {
    let mut c = Config::default();
    c.security.auth_fail_limit = limit;
    c.security.ban_time = HumanDuration(ban);
    c.security.auth_fail_delay = HumanDuration(Duration::from_millis(1));
    c.security.auth_fail_delay_max = HumanDuration(Duration::from_millis(4));
    c.security.ban_exceptions = vec!["203.0.113.0/24".parse().expect("net")];
    Arc::new(c)
}

#[tokio::test]
async fn failures_ban_an_address_and_another_instance_honours_it() {
    for (db, _dir) in databases().await {
        let here = Security::new(db.clone(), config(4, Duration::from_secs(3600)));
        let there = Security::new(db.clone(), config(4, Duration::from_secs(3600)));
        let bad = ip("192.0.2.66");
        assert!(!there.is_banned(bad).await, "loads the (empty) list now");
        let mut delays = Vec::new();
        for _ in 0..4 {
            delays.push(here.login_failed(bad).await.as_millis());
        }
        assert_eq!(delays, [0, 0, 1, 2]);
        assert!(
            here.is_banned(bad).await,
            "the banning instance knows at once"
        );
        assert!(!here.is_banned(ip("192.0.2.67")).await);
        let list = active(&db, now_ms()).await.expect("list");
        assert_eq!(list.len(), 1);
        assert!(list[0].reason.contains("4 failed logins"), "{list:?}");
        // The other instance reloads within BAN_REFRESH.
        tokio::time::sleep(BAN_REFRESH).await;
        assert!(there.is_banned(bad).await);
        // Exempt networks are never banned.
        let exempt = ip("203.0.113.5");
        for _ in 0..6 {
            here.login_failed(exempt).await;
        }
        assert!(!here.is_banned(exempt).await);
        // A success forgets failures.
        let ok = ip("192.0.2.70");
        for _ in 0..3 {
            here.login_failed(ok).await;
        }
        here.login_succeeded(ok).await;
        assert_eq!(here.login_failed(ok).await, Duration::ZERO);
    }
}

#[tokio::test]
async fn a_ban_ends_after_ban_time() {
    for (db, _dir) in databases().await {
        let s = Security::new(db.clone(), config(2, Duration::from_millis(300)));
        let bad = ip("192.0.2.80");
        s.login_failed(bad).await;
        s.login_failed(bad).await;
        assert!(s.is_banned(bad).await);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!s.is_banned(bad).await);
        // And the failures were forgotten with the ban.
        assert_eq!(s.login_failed(bad).await, Duration::ZERO);
        assert!(!s.is_banned(bad).await);
    }
}
