//! Directory tests: domains, users, aliases, resolution, password checks.
//! Each runs on SQLite and, when configured, on PostgreSQL.

mod common;

use postel::config::DirectoryConfig;
use postel::directory::{Directory, DirectoryError, Resolution, Secret};

fn dir_of(t: &common::TestDb) -> Directory {
    Directory::new(t.db.clone(), DirectoryConfig::default())
}

fn local(v: &[&str]) -> Resolution {
    Resolution {
        local: v.iter().map(|s| s.to_string()).collect(),
        remote: vec![],
    }
}

#[tokio::test]
async fn domains_round_trip() {
    for t in common::all_dbs().await {
        let d = dir_of(&t);
        assert_eq!(
            d.add_domain("Example.ORG").await.expect("add"),
            "example.org"
        );
        assert!(
            matches!(
                d.add_domain("example.org").await,
                Err(DirectoryError::DomainExists(_))
            ),
            "{}",
            t.label
        );
        d.add_domain("b.test").await.expect("add");
        assert_eq!(
            d.list_domains().await.expect("list"),
            vec!["b.test", "example.org"]
        );
        assert!(d.is_local_domain("EXAMPLE.org").await.expect("q"));
        d.delete_domain("b.test").await.expect("del");
        assert!(!d.is_local_domain("b.test").await.expect("q"));
        assert!(matches!(
            d.delete_domain("b.test").await,
            Err(DirectoryError::NoSuchDomain(_))
        ));
        assert!(d.add_domain("bad domain").await.is_err());
    }
}

#[tokio::test]
async fn users_round_trip_and_password_checks() {
    for t in common::all_dbs().await {
        let d = dir_of(&t);
        let pw = Secret::new("s3cret pass");
        assert!(matches!(
            d.add_user("alice@example.org", &pw, 0).await,
            Err(DirectoryError::NoSuchDomain(_))
        ));
        d.add_domain("example.org").await.expect("domain");
        let u = d
            .add_user("Alice@Example.org", &pw, 1000)
            .await
            .expect("add");
        assert_eq!(u.address, "alice@example.org");
        assert!(
            matches!(
                d.add_user("ALICE@example.org", &pw, 0).await,
                Err(DirectoryError::UserExists(_))
            ),
            "{}",
            t.label
        );
        assert!(matches!(
            d.add_user("x@example.org", &Secret::new(""), 0).await,
            Err(DirectoryError::EmptyPassword)
        ));

        let ok = d
            .verify_password("alice@EXAMPLE.org", &pw)
            .await
            .expect("verify");
        assert_eq!(ok.map(|u| u.quota_bytes), Some(1000));
        assert!(
            d.verify_password("alice@example.org", &Secret::new("wrong"))
                .await
                .expect("v")
                .is_none()
        );
        assert!(
            d.verify_password("nobody@example.org", &pw)
                .await
                .expect("v")
                .is_none()
        );
        assert!(
            d.verify_password("not an address", &pw)
                .await
                .expect("v")
                .is_none()
        );

        d.set_password("alice@example.org", &Secret::new("new one"))
            .await
            .expect("passwd");
        assert!(
            d.verify_password("alice@example.org", &pw)
                .await
                .expect("v")
                .is_none()
        );
        assert!(
            d.verify_password("alice@example.org", &Secret::new("new one"))
                .await
                .expect("v")
                .is_some()
        );

        d.set_enabled("alice@example.org", false)
            .await
            .expect("disable");
        assert!(
            d.verify_password("alice@example.org", &Secret::new("new one"))
                .await
                .expect("v")
                .is_none()
        );

        d.set_quota("alice@example.org", 5).await.expect("quota");
        assert_eq!(
            d.get_user("alice@example.org")
                .await
                .expect("get")
                .map(|u| u.quota_bytes),
            Some(5)
        );

        assert!(matches!(
            d.delete_domain("example.org").await,
            Err(DirectoryError::DomainInUse { .. })
        ));
        assert_eq!(
            d.list_users(Some("example.org")).await.expect("list").len(),
            1
        );
        d.delete_user("alice@example.org").await.expect("del");
        assert!(matches!(
            d.delete_user("alice@example.org").await,
            Err(DirectoryError::NoSuchUser(_))
        ));
    }
}

#[tokio::test]
async fn resolution_follows_users_aliases_subaddresses_catchall_and_postmaster() {
    for t in common::all_dbs().await {
        let d = dir_of(&t);
        let pw = Secret::new("pw");
        d.add_domain("example.org").await.expect("domain");
        d.add_domain("other.test").await.expect("domain");
        d.add_user("alice@example.org", &pw, 0)
            .await
            .expect("alice");
        d.add_user("bob@example.org", &pw, 0).await.expect("bob");

        let r = |a: &'static str| {
            let d = d.clone();
            async move { d.resolve(a).await.expect("resolve") }
        };
        assert_eq!(
            r("Alice@example.org").await,
            Some(local(&["alice@example.org"]))
        );
        assert_eq!(
            r("alice+lists@example.org").await,
            Some(local(&["alice@example.org"]))
        );
        assert_eq!(r("nobody@example.org").await, None, "{}", t.label);
        // postmaster exists without being created: the domain's oldest user.
        assert_eq!(
            r("postmaster@example.org").await,
            Some(local(&["alice@example.org"]))
        );
        // other.test has no users: its postmaster goes nowhere yet.
        assert_eq!(r("postmaster@other.test").await, None);

        d.add_alias(
            "team@example.org",
            &[
                "alice@example.org".into(),
                "bob@example.org".into(),
                "ext@remote.test".into(),
            ],
        )
        .await
        .expect("alias");
        assert_eq!(
            r("team@example.org").await,
            Some(Resolution {
                local: vec!["alice@example.org".into(), "bob@example.org".into()],
                remote: vec!["ext@remote.test".into()],
            })
        );
        assert_eq!(
            r("team+x@example.org").await.map(|x| x.local.len()),
            Some(2)
        );

        // Loops are cut, and an alias chain to a user still resolves.
        d.add_alias("a@example.org", &["b@example.org".into()])
            .await
            .expect("a");
        d.add_alias(
            "b@example.org",
            &["a@example.org".into(), "bob@example.org".into()],
        )
        .await
        .expect("b");
        assert_eq!(r("a@example.org").await, Some(local(&["bob@example.org"])));

        // Catch-all takes what nothing else does; users still win.
        d.add_alias("@example.org", &["bob@example.org".into()])
            .await
            .expect("catch-all");
        assert_eq!(
            r("anything@example.org").await,
            Some(local(&["bob@example.org"]))
        );
        assert_eq!(
            r("alice@example.org").await,
            Some(local(&["alice@example.org"]))
        );

        // Aliases need a local source domain; deletion reports misses.
        assert!(matches!(
            d.add_alias("x@nowhere.test", &["bob@example.org".into()])
                .await,
            Err(DirectoryError::NoSuchDomain(_))
        ));
        assert_eq!(d.delete_alias("@example.org", &[]).await.expect("del"), 1);
        assert!(matches!(
            d.delete_alias("@example.org", &[]).await,
            Err(DirectoryError::NoSuchAlias(_))
        ));
        assert_eq!(r("anything@example.org").await, None);
        assert!(
            d.list_aliases()
                .await
                .expect("list")
                .iter()
                .any(|a| a.source == "team@example.org")
        );
    }
}

#[tokio::test]
async fn configured_postmaster_and_case_sensitive_local_parts() {
    for t in common::all_dbs().await {
        let cfg = DirectoryConfig {
            case_sensitive_local_part: true,
            plus_separator: "-".into(),
            postmaster: "Boss@example.org".into(),
        };
        let d = Directory::new(t.db.clone(), cfg);
        d.add_domain("example.org").await.expect("domain");
        d.add_user("Boss@example.org", &Secret::new("pw"), 0)
            .await
            .expect("user");
        assert_eq!(
            d.resolve("postmaster@example.org").await.expect("r"),
            Some(local(&["Boss@example.org"]))
        );
        assert_eq!(
            d.resolve("boss@example.org").await.expect("r"),
            None,
            "{}",
            t.label
        );
        assert_eq!(
            d.resolve("Boss-x@example.org").await.expect("r"),
            Some(local(&["Boss@example.org"]))
        );
    }
}

/// Many concurrent writers never see "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_never_fail_with_locked() {
    for t in common::all_dbs().await {
        let d = dir_of(&t);
        d.add_domain("example.org").await.expect("domain");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let d = d.clone();
            tasks.push(tokio::spawn(async move {
                d.add_alias(
                    &format!("list{}@example.org", i % 20),
                    &[format!("m{i}@remote.test")],
                )
                .await?;
                d.list_aliases().await.map(|_| ())
            }));
        }
        for task in tasks {
            task.await
                .expect("join")
                .unwrap_or_else(|e| panic!("{}: {e}", t.label));
        }
        assert_eq!(d.list_aliases().await.expect("list").len(), 200);
    }
}

/// Verified passwords are remembered for a minute, but never past a
/// password change, a disabled account or a deleted user, even when
/// another process (the CLI, here a second `Directory`) made the change.
#[tokio::test]
async fn remembered_logins_follow_changes_made_elsewhere() {
    for t in common::all_dbs().await {
        let server = dir_of(&t);
        let cli = dir_of(&t);
        server.add_domain("example.org").await.expect("domain");
        let (old, new) = (Secret::new("old pass"), Secret::new("new pass"));
        server
            .add_user("bob@example.org", &old, 0)
            .await
            .expect("user");
        let ok = |r: Result<Option<postel::directory::User>, DirectoryError>| {
            r.expect("verify").is_some()
        };
        assert!(ok(server.verify_password("bob@example.org", &old).await));
        // remembered now; a wrong password is still refused
        assert!(ok(server.verify_password("Bob@Example.org", &old).await));
        assert!(!ok(server.verify_password("bob@example.org", &new).await));

        cli.set_password("bob@example.org", &new).await.expect("pw");
        assert!(
            !ok(server.verify_password("bob@example.org", &old).await),
            "{}: old password still accepted after a change",
            t.label
        );
        assert!(ok(server.verify_password("bob@example.org", &new).await));
        assert!(ok(server.verify_password("bob@example.org", &new).await));

        cli.set_enabled("bob@example.org", false)
            .await
            .expect("off");
        assert!(!ok(server.verify_password("bob@example.org", &new).await));
        cli.set_enabled("bob@example.org", true).await.expect("on");
        assert!(ok(server.verify_password("bob@example.org", &new).await));

        cli.delete_user("bob@example.org").await.expect("delete");
        assert!(!ok(server.verify_password("bob@example.org", &new).await));
        // the same address again with the old password: a new hash
        cli.add_user("bob@example.org", &old, 0)
            .await
            .expect("re-add");
        assert!(!ok(server.verify_password("bob@example.org", &new).await));
        assert!(ok(server.verify_password("bob@example.org", &old).await));
    }
}
