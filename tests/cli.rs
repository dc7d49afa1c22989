//! The `postel` binary end to end: subcommands, exit codes, messages.
//! Runs on SQLite and, when configured, on PostgreSQL.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Cli {
    config: PathBuf,
    _t: common::TestDb,
}

impl Cli {
    fn new(t: common::TestDb) -> Cli {
        let config = t.dir.path().join("postel.toml");
        let text = format!(
            "[server]\nhostname = \"mail.test\"\ndata_dir = \"{}\"\n[database]\nurl = \"{}\"\n\
             [listen]\nsmtp = [\"127.0.0.1:0\"]\nsubmission = []\nsubmissions = []\n\
             imap = []\nimaps = []\npop3 = []\npop3s = []\n[dns]\nnameservers = [\"127.0.0.1:9\"]\n",
            t.dir.path().join("data").display(),
            t.url
        );
        std::fs::write(&config, text).expect("write config");
        Cli { config, _t: t }
    }

    fn data(&self) -> PathBuf {
        self._t.dir.path().join("data")
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_with(&self.config, args, stdin)
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "postel {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with one clear line and no panic.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "postel {args:?} should fail");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one line expected: {err}"
        );
        err
    }
}

fn run_with(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(common::postel_bin())
        .arg("-c")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn postel");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn domain_user_alias_round_trips() {
    for t in common::all_dbs().await {
        let label = t.label;
        let c = Cli::new(t);
        assert!(
            c.ok(&["domain", "add", "Example.org"], None)
                .contains("example.org")
        );
        assert!(
            c.fails(&["domain", "add", "example.org"], None)
                .contains("already exists"),
            "{label}"
        );
        assert_eq!(c.ok(&["domain", "list"], None), "example.org\n");

        c.ok(
            &["user", "add", "alice@example.org", "--quota", "1048576"],
            Some("hunter2 long\n"),
        );
        c.ok(&["user", "add", "bob@example.org"], Some("pw\n"));
        assert!(
            c.fails(&["user", "add", "alice@example.org"], Some("x\n"))
                .contains("already exists")
        );
        assert!(
            c.fails(&["user", "add", "eve@nowhere.test"], Some("x\n"))
                .contains("nowhere.test")
        );
        assert!(
            c.fails(&["user", "add", "eve@example.org"], Some("\n"))
                .contains("password")
        );

        let list = c.ok(&["user", "list"], None);
        assert!(
            list.contains("alice@example.org\tquota=1048576\tenabled"),
            "{list}"
        );
        assert!(list.contains("bob@example.org\tquota=unlimited"), "{list}");
        assert!(
            !list.contains("argon2") && !list.contains('$'),
            "hashes must never be printed: {list}"
        );

        // The account's Maildir exists with its default folders.
        let root = c.data().join("mail/example.org/alice");
        for sub in [
            "cur",
            "new",
            "tmp",
            ".Sent/cur",
            ".Drafts/new",
            ".Trash/tmp",
            ".Junk/cur",
            ".Archive/cur",
        ] {
            assert!(root.join(sub).is_dir(), "{label}: missing {sub}");
        }

        c.ok(&["user", "passwd", "alice@example.org"], Some("changed\n"));
        assert!(
            c.fails(&["user", "passwd", "nobody@example.org"], Some("x\n"))
                .contains("nobody@example.org")
        );

        c.ok(
            &[
                "alias",
                "add",
                "team@example.org",
                "alice@example.org",
                "bob@example.org",
            ],
            None,
        );
        c.ok(&["alias", "add", "@example.org", "bob@example.org"], None);
        let aliases = c.ok(&["alias", "list"], None);
        assert!(
            aliases.contains("team@example.org\talice@example.org"),
            "{aliases}"
        );
        assert!(
            aliases.contains("@example.org\tbob@example.org"),
            "{aliases}"
        );
        c.ok(
            &["alias", "del", "team@example.org", "bob@example.org"],
            None,
        );
        assert!(
            !c.ok(&["alias", "list"], None)
                .contains("team@example.org\tbob")
        );
        assert!(
            c.fails(&["alias", "del", "ghost@example.org"], None)
                .contains("no such alias")
        );

        assert!(
            c.fails(&["domain", "del", "example.org"], None)
                .contains("user")
        );
        c.ok(&["user", "del", "bob@example.org"], None);
        c.ok(&["user", "del", "alice@example.org", "--purge"], None);
        assert!(!root.exists(), "purge removes the Maildir");
        c.ok(&["domain", "del", "example.org"], None);
        assert_eq!(c.ok(&["domain", "list"], None), "");
    }
}

/// `postel user|domain sender-policy`: show, set, inherit again; the
/// overrides appear in `list`, and the server honours them (see
/// tests/smtp_sender_policy.rs).
#[tokio::test]
async fn sender_policy_subcommands() {
    for t in common::all_dbs().await {
        let label = t.label;
        let c = Cli::new(t);
        c.ok(&["domain", "add", "example.org"], None);
        c.ok(&["user", "add", "alice@example.org"], Some("pw\n"));
        assert_eq!(
            c.ok(&["user", "sender-policy", "alice@example.org"], None),
            "alice@example.org\tsender_policy=owned (configuration)\t\
             check_header_from=true (configuration)\n",
            "{label}"
        );
        assert_eq!(
            c.ok(
                &[
                    "domain",
                    "sender-policy",
                    "Example.ORG",
                    "domain",
                    "--header-from",
                    "off"
                ],
                None
            ),
            "example.org\tsender_policy=domain (domain)\tcheck_header_from=false (domain)\n",
            "{label}"
        );
        assert_eq!(
            c.ok(&["user", "sender-policy", "Alice@example.org", "any"], None),
            "alice@example.org\tsender_policy=any (user)\tcheck_header_from=false (domain)\n",
            "{label}"
        );
        assert!(
            c.ok(&["user", "list"], None)
                .contains("alice@example.org\tquota=unlimited\tenabled\tsender_policy=any\n"),
            "{label}"
        );
        assert_eq!(
            c.ok(&["domain", "list"], None),
            "example.org\tsender_policy=domain\tcheck_header_from=false\n",
            "{label}"
        );
        // Back to inheriting: the user's override goes, the domain's shows.
        assert_eq!(
            c.ok(
                &["user", "sender-policy", "alice@example.org", "default"],
                None
            ),
            "alice@example.org\tsender_policy=domain (domain)\tcheck_header_from=false (domain)\n",
            "{label}"
        );
        c.ok(
            &[
                "domain",
                "sender-policy",
                "example.org",
                "default",
                "--header-from",
                "default",
            ],
            None,
        );
        assert_eq!(c.ok(&["domain", "list"], None), "example.org\n", "{label}");
        assert!(
            c.fails(
                &["user", "sender-policy", "nobody@example.org", "any"],
                None
            )
            .contains("no such user nobody@example.org")
        );
        assert!(
            c.fails(&["domain", "sender-policy", "nowhere.test"], None)
                .contains("nowhere.test")
        );
        let bad = c.run(
            &["user", "sender-policy", "alice@example.org", "everyone"],
            None,
        );
        assert!(!bad.status.success(), "{label}: unknown policy accepted");
        assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
    }
}

#[tokio::test]
async fn deliver_subcommand_stores_a_message() {
    let c = Cli::new(common::sqlite().await);
    c.ok(&["domain", "add", "example.org"], None);
    c.ok(&["user", "add", "alice@example.org"], Some("pw\n"));
    c.ok(
        &["deliver", "alice+x@example.org"],
        Some("Subject: hi\n\nbody\n"),
    );
    let new = c.data().join("mail/example.org/alice/new");
    let files: Vec<_> = std::fs::read_dir(&new).expect("new/").collect();
    assert_eq!(files.len(), 1);
    assert!(
        c.fails(&["deliver", "nobody@example.org"], Some("x\n"))
            .contains("nobody")
    );
}

#[test]
fn check_config_reports_problems_with_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[server]\nhostname = \"ok.test\"\n\n[greylist]\ndelay = \"5 parsecs\"\n",
    )
    .expect("write");
    let out = run_with(&cfg, &["check-config"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:5:") && err.contains("greylist.delay"),
        "{err}"
    );

    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!("[server]\ndata_dir = \"{}\"\n", dir.path().display()),
    )
    .expect("write");
    let out = run_with(&good, &["check-config"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_config_is_one_clear_line() {
    let out = run_with(
        Path::new("/nonexistent/postel.toml"),
        &["domain", "list"],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/postel.toml"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("x.toml");
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["check-config", "--help"],
        vec!["domain", "add", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "passwd", "--help"],
        vec!["user", "sender-policy", "--help"],
        vec!["domain", "sender-policy", "--help"],
        vec!["alias", "add", "--help"],
        vec!["deliver", "--help"],
    ] {
        let out = run_with(&cfg, &args, None);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn serve_logs_ready_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let c = Cli::new(common::sqlite().await);
    let mut child = Command::new(common::postel_bin())
        .arg("-c")
        .arg(&c.config)
        .arg("serve")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("ready"));
    assert!(ready, "serve never logged ready");
    // The self-signed certificate was prepared.
    assert!(c.data().join("tls/selfsigned-cert.pem").is_file());
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "exit after SIGTERM: {status:?}; log: {rest:?}"
    );
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[tokio::test]
async fn greylist_subcommands() {
    let c = Cli::new(common::sqlite().await);
    assert!(
        c.ok(&["greylist", "allow", "192.0.2.0/24"], None)
            .contains("192.0.2.0/24")
    );
    c.ok(&["greylist", "allow", "Example.COM"], None);
    let list = c.ok(&["greylist", "list"], None);
    assert!(
        list.contains("allow\t192.0.2.0/24") && list.contains("allow\texample.com"),
        "{list}"
    );
    c.ok(&["greylist", "disallow", "example.com"], None);
    assert!(
        c.fails(&["greylist", "disallow", "example.com"], None)
            .contains("not on the allow list")
    );
    assert!(
        c.ok(&["greylist", "purge", "--all"], None)
            .contains("purged")
    );
    assert!(c.ok(&["greylist", "purge"], None).contains("purged"));
    assert!(
        c.fails(&["greylist", "allow", "not a thing!"], None)
            .contains("not a thing")
    );
}

/// `user add --adopt-maildir` takes over a Maildir made by Dovecot
/// (tests/fixtures/dovecot-maildir) with its UIDVALIDITY and UIDs.
#[tokio::test]
async fn user_add_adopts_a_dovecot_maildir() {
    for t in common::all_dbs().await {
        let label = t.label;
        let c = Cli::new(t);
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dovecot-maildir/Maildir");
        let copy = c.data().with_file_name("old-maildir");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&fixture)
            .arg(&copy)
            .status()
            .expect("cp");
        assert!(status.success());
        c.ok(&["domain", "add", "example.org"], None);
        let out = c.ok(
            &[
                "user",
                "add",
                "carol@example.org",
                "--adopt-maildir",
                copy.to_str().expect("utf-8"),
            ],
            Some("pw\n"),
        );
        assert!(out.contains("adopted"), "{label}: {out}");
        let db = postel::db::Db::open(&c._t.url).await.expect("db");
        let store = postel::store::Store::new(db, c.data().join("mail"), "mail.test");
        let snap = store
            .sync("carol@example.org", "INBOX")
            .await
            .expect("sync");
        assert_eq!(snap.uidvalidity, 1_795_591_469, "{label}");
        let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
        // Dovecot's UIDs are kept, gaps included; the file another program
        // dropped into new/ behind Dovecot's back gets the next UID.
        assert_eq!(uids, vec![1, 3, 5, 6, 7], "{label}");
        assert_eq!(snap.uidnext, 8);
    }
}
