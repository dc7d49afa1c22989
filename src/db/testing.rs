//! Databases for the crate's own unit tests: SQLite in a temp dir, plus a
//! fresh PostgreSQL database when `POSTEL_TEST_POSTGRES_URL` is set (CI
//! sets it), dropped again when the test is done.

use sqlx::Connection;

use super::Db;

/// What a test database leaves behind: its temp dir and, for
/// PostgreSQL, the database itself; both go when this is dropped.
pub(crate) struct Scratch {
    _dir: tempfile::TempDir,
    drop_pg: Option<(String, String)>,
}

impl Drop for Scratch {
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
            eprintln!("note: could not drop a test database (.ci/run clears leftovers)");
        }
    }
}

/// SQLite, plus PostgreSQL when configured (a skip is a failure under
/// `POSTEL_REQUIRE_ALL=1`).
pub(crate) async fn databases() -> Vec<(Db, Scratch)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/postel.db", dir.path().display());
    let sqlite = Db::open(&url).await.expect("sqlite");
    let mut out = vec![(
        sqlite,
        Scratch {
            _dir: dir,
            drop_pg: None,
        },
    )];
    match std::env::var("POSTEL_TEST_POSTGRES_URL") {
        Ok(base) => {
            sqlx::any::install_default_drivers();
            let name = format!("postel_t_{:016x}", rand::random::<u64>());
            let mut admin = sqlx::AnyConnection::connect(&base).await.expect("connect");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create database");
            let _ = admin.close().await;
            let (head, _) = base.rsplit_once('/').expect("URL with a database");
            let db = Db::open(&format!("{head}/{name}")).await.expect("postgres");
            let scratch = Scratch {
                _dir: tempfile::tempdir().expect("tempdir"),
                drop_pg: Some((base, name)),
            };
            out.push((db, scratch));
        }
        Err(_) => {
            assert!(
                std::env::var("POSTEL_REQUIRE_ALL").as_deref() != Ok("1"),
                "POSTEL_REQUIRE_ALL=1 but POSTEL_TEST_POSTGRES_URL is not set"
            );
            eprintln!("SKIPPED: PostgreSQL variant (POSTEL_TEST_POSTGRES_URL unset)");
        }
    }
    out
}
