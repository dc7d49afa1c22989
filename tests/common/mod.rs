//! Shared helpers for the integration tests.
//!
//! Every test that touches the database runs against SQLite; when
//! `POSTEL_TEST_POSTGRES_URL` is set (CI sets it) the same test also runs
//! against a fresh database on that PostgreSQL server.
#![allow(dead_code)]

pub mod dkim;
pub mod dns;
pub mod postfix;
pub mod server;
pub mod smtp_client;

use std::path::PathBuf;

use postel::db::Db;
use sqlx::Connection;

/// One database a test runs against, with a private data dir.
pub struct TestDb {
    /// "sqlite" or "postgres", for assertion messages.
    pub label: &'static str,
    /// The database URL.
    pub url: String,
    /// The open database (migrated).
    pub db: Db,
    /// A private, empty directory for Maildirs etc.
    pub dir: tempfile::TempDir,
    /// For PostgreSQL: the server's admin URL and this test's database,
    /// dropped when the test is done.
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    /// Drops the per-test PostgreSQL database so runs don't pile them up.
    /// `Drop` cannot await, and the test's runtime may be the one calling
    /// us, so the drop runs on a thread with a runtime of its own.
    fn drop(&mut self) {
        let Some((admin, name)) = self.drop_pg.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut c = sqlx::AnyConnection::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let r = sqlx::query(&sql).execute(&mut c).await;
                c.close().await.ok();
                r.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop test database (left for .ci/run to clean)");
        }
    }
}

impl TestDb {
    /// `dir/mail`, the Maildir root tests use.
    pub fn mail_root(&self) -> PathBuf {
        self.dir.path().join("mail")
    }
}

/// True when a skipped test must fail instead (`POSTEL_REQUIRE_ALL=1`).
pub fn require_all() -> bool {
    std::env::var("POSTEL_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Prints why a test is skipped, or panics when everything is required.
pub fn skip(reason: &str) {
    assert!(!require_all(), "POSTEL_REQUIRE_ALL=1 but: {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// A fresh SQLite database in a temp dir.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/postel.db", dir.path().display());
    let db = Db::open(&url).await.expect("open sqlite");
    TestDb {
        label: "sqlite",
        url,
        db,
        dir,
        drop_pg: None,
    }
}

/// A fresh database on the PostgreSQL server named by
/// `POSTEL_TEST_POSTGRES_URL`, or `None` (with a printed reason) without it.
pub async fn postgres() -> Option<TestDb> {
    let Ok(base) = std::env::var("POSTEL_TEST_POSTGRES_URL") else {
        skip("POSTEL_TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("postel_t_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::AnyConnection::connect(&base)
        .await
        .expect("connect to POSTEL_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let url = match base.rfind('/') {
        Some(i) if base[..i].ends_with(|c: char| c != '/') && base[..i].contains("//") => {
            let query = base[i..].find('?').map(|q| &base[i + q..]).unwrap_or("");
            format!("{}/{name}{query}", &base[..i])
        }
        _ => format!("{}/{name}", base.trim_end_matches('/')),
    };
    let db = Db::open(&url).await.expect("open postgres test database");
    Some(TestDb {
        label: "postgres",
        url,
        db,
        dir: tempfile::tempdir().expect("tempdir"),
        drop_pg: Some((base, name)),
    })
}

/// SQLite, plus PostgreSQL when configured.
pub async fn all_dbs() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

/// The `postel` binary built for these tests.
pub fn postel_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_postel"))
}

/// Runs a Python 3 snippet (`python3 -c SCRIPT ARGS…`) off the async
/// runtime; returns whether it exited 0 and its stdout+stderr.
pub async fn python(script: impl Into<String>, args: Vec<String>) -> (bool, String) {
    let script = script.into();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(&script)
            .args(&args)
            .output()
            .expect("python3 runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    })
    .await
    .expect("join python task")
}
