//! The real `postel serve` through its life cycle: SIGTERM drains
//! (idle sessions get their goodbye, a message in DATA finishes or is
//! refused whole, exit 0), SIGHUP reloads settings and certificates
//! without dropping a connection, systemd hears READY/RELOADING/WATCHDOG/
//! STOPPING, and as root the daemon drops to `server.user`.

mod common;
#[path = "common/daemon.rs"]
mod daemon;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::dns::TestDns;
use common::smtp_client::Client;
use daemon::Daemon;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A line-oriented client for IMAP and POP3 greetings and goodbyes.
struct Lines {
    reader: BufReader<TcpStream>,
}

impl Lines {
    async fn connect(addr: SocketAddr) -> (Lines, String) {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut c = Lines {
            reader: BufReader::new(stream),
        };
        let greeting = c.line().await;
        (c, greeting)
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
            .await
            .expect("a line within 10 s")
            .expect("read");
        line
    }

    async fn send(&mut self, text: &str) {
        self.reader
            .get_mut()
            .write_all(text.as_bytes())
            .await
            .expect("send");
    }
}

/// Messages in `local@example.org`'s INBOX (`new/` and `cur/`).
fn inbox(d: &Daemon, local: &str) -> Vec<Vec<u8>> {
    let root = d.data_dir().join("mail/example.org").join(local);
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(std::fs::read(e.path()).expect("read message"));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Opens a transaction for alice and sends the first half of a message.
async fn half_a_message(d: &Daemon, marker: &str) -> Client {
    let (mut c, greeting) = Client::connect(d.smtp).await;
    assert_eq!(greeting.code, 220);
    c.expect("EHLO client.test", 250).await;
    c.expect("MAIL FROM:<sender@remote.test>", 250).await;
    c.expect("RCPT TO:<alice@example.org>", 250).await;
    c.expect("DATA", 354).await;
    c.send(format!(
        "From: sender@remote.test\r\nTo: alice@example.org\r\nSubject: {marker}\r\n\r\nfirst half\r\n"
    ))
    .await;
    c
}

/// Waits until a new connection to `addr` is refused.
async fn refused(addr: SocketAddr) -> bool {
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_goodbye_lets_data_finish_and_exits_zero() {
    let dns = TestDns::start([]).await;
    let mut d = Daemon::with_listeners(dns.addr(), &["imap", "pop3"], "");
    d.add_users("example.org", &["alice"]);
    d.start();

    let mut sending = half_a_message(&d, "drained").await;
    let (mut idle_smtp, _) = Client::connect(d.smtp).await;
    idle_smtp.expect("EHLO idle.test", 250).await;
    let (mut imap, greeting) = Lines::connect(d.addr("imap")).await;
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let (mut pop3, greeting) = Lines::connect(d.addr("pop3")).await;
    assert!(greeting.starts_with("+OK"), "{greeting}");
    // An IMAP command answered before the signal: the session is idle again.
    imap.send("a1 NOOP\r\n").await;
    assert!(imap.line().await.starts_with("a1 OK"));

    d.signal("TERM");

    let bye = idle_smtp.reply().await;
    assert_eq!(bye.code, 421, "{bye:?}");
    assert!(bye.text().starts_with("4.3.2"), "{bye:?}");
    assert!(idle_smtp.is_closed().await);
    let bye = imap.line().await;
    assert!(bye.starts_with("* BYE"), "{bye}");
    let bye = pop3.line().await;
    assert!(bye.starts_with("-ERR"), "{bye}");
    assert!(refused(d.smtp).await, "new connections are refused");
    assert!(refused(d.addr("imap")).await);

    // The message in DATA is still being received: finish it.
    sending.send("second half\r\n.\r\n").await;
    let done = sending.reply().await;
    assert_eq!(done.code, 250, "{done:?}\n{}", d.log());
    // Its session ends like the others once the message is answered.
    let next = sending.reply().await;
    assert_eq!(next.code, 421, "{next:?}");

    let status = d.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", d.log());
    let inbox = inbox(&d, "alice");
    assert_eq!(inbox.len(), 1, "delivered exactly once");
    assert!(contains(&inbox[0], "first half\r\nsecond half\r\n"));
    assert!(d.log().contains("stopped"), "{}", d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_unfinished_at_the_deadline_is_refused_whole() {
    let dns = TestDns::start([]).await;
    let mut d = Daemon::new(dns.addr(), "");
    set_line(&d, "[server]\n", "[server]\nshutdown_timeout = \"1s\"\n");
    d.add_users("example.org", &["alice"]);
    d.start();

    let mut sending = half_a_message(&d, "cut off").await;
    d.signal("TERM");
    let bye = sending.reply().await;
    assert_eq!(bye.code, 421, "{bye:?}");
    let status = d.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", d.log());
    assert!(inbox(&d, "alice").is_empty(), "never half a message");
    assert!(d.log().contains("refused"), "{}", d.log());
}

/// A self-signed certificate for mail.test written as `NAME-cert.pem` and
/// `NAME-key.pem` under `dir`; returns the paths and the DER.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["mail.test".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("cert");
    let cert_path = dir.join(format!("{name}-cert.pem"));
    let key_path = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (cert_path, key_path, cert.der().to_vec())
}

/// The DER certificate served on implicit TLS at `addr` (Python's ssl).
async fn served_cert(addr: SocketAddr) -> Vec<u8> {
    let script = "import ssl,sys,binascii\n\
        pem = ssl.get_server_certificate((sys.argv[1], int(sys.argv[2])))\n\
        print(binascii.hexlify(ssl.PEM_cert_to_DER_cert(pem)).decode())";
    let (ok, out) =
        common::python(script, vec![addr.ip().to_string(), addr.port().to_string()]).await;
    assert!(ok, "python: {out}");
    hex(out.trim())
}

/// The DER certificate served after STARTTLS on SMTP at `addr`.
async fn starttls_cert(addr: SocketAddr) -> Vec<u8> {
    let script = "import smtplib,ssl,sys,binascii\n\
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\n\
        s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10); s.ehlo('c.test'); s.starttls(context=ctx)\n\
        print(binascii.hexlify(s.sock.getpeercert(True)).decode()); s.quit()";
    let (ok, out) =
        common::python(script, vec![addr.ip().to_string(), addr.port().to_string()]).await;
    assert!(ok, "python: {out}");
    hex(out.trim())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The SIZE an EHLO advertises.
async fn ehlo_size(c: &mut Client) -> String {
    let r = c.expect("EHLO client.test", 250).await;
    r.lines
        .iter()
        .find_map(|l| l.strip_prefix("SIZE ").map(str::to_string))
        .unwrap_or_default()
}

/// Rewrites one `key = value` line of the config.
fn set_line(d: &Daemon, from: &str, to: &str) {
    let text = std::fs::read_to_string(&d.config).expect("config");
    assert!(text.contains(from), "{from:?} in {text}");
    std::fs::write(&d.config, text.replace(from, to)).expect("config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_gives_new_sessions_new_settings_and_keeps_old_sessions_going() {
    let dns = TestDns::start([]).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cert_a, key_a, der_a) = certificate(tmp.path(), "a");
    let (cert_b, key_b, der_b) = certificate(tmp.path(), "b");
    let extra = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n[smtp]\nmax_message_size = 100000\n",
        cert_a.display(),
        key_a.display()
    );
    let mut d = Daemon::with_listeners(dns.addr(), &["submissions"], &extra);
    d.add_users("example.org", &["alice"]);
    d.start();
    let tls = d.addr("submissions");
    assert_eq!(served_cert(tls).await, der_a);

    let (mut old, _) = Client::connect(d.smtp).await;
    assert_eq!(ehlo_size(&mut old).await, "100000");

    set_line(&d, "max_message_size = 100000", "max_message_size = 200000");
    set_line(
        &d,
        &format!("cert = \"{}\"", cert_a.display()),
        &format!("cert = \"{}\"", cert_b.display()),
    );
    set_line(
        &d,
        &format!("key = \"{}\"", key_a.display()),
        &format!("key = \"{}\"", key_b.display()),
    );
    d.signal("HUP");
    d.wait_log("configuration reloaded", 1);

    // The session from before keeps its settings and still works.
    assert_eq!(ehlo_size(&mut old).await, "100000");
    let r = old
        .send_mail(
            "sender@remote.test",
            &["alice@example.org"],
            "Subject: old\r\n\r\nbody\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    // New sessions see the new size and the new certificate, on implicit
    // TLS and after STARTTLS.
    let (mut new, _) = Client::connect(d.smtp).await;
    assert_eq!(ehlo_size(&mut new).await, "200000");
    assert_eq!(served_cert(tls).await, der_b);
    assert_eq!(starttls_cert(d.smtp).await, der_b);

    // An invalid file is refused with FILE:LINE: KEY; the daemon goes on
    // with the last good configuration.
    set_line(
        &d,
        "max_message_size = 200000",
        "max_message_size = \"huge\"",
    );
    d.signal("HUP");
    d.wait_log("reload refused", 1);
    let line = std::fs::read_to_string(&d.config)
        .expect("config")
        .lines()
        .position(|l| l.contains("\"huge\""))
        .expect("line")
        + 1;
    let spot = format!("{}:{line}: smtp.max_message_size", d.config.display());
    assert!(d.log().contains(&spot), "{spot} in:\n{}", d.log());
    let (mut after, _) = Client::connect(d.smtp).await;
    assert_eq!(ehlo_size(&mut after).await, "200000");
    assert_eq!(served_cert(tls).await, der_b);

    // A key that needs a restart is named and keeps its old value.
    set_line(
        &d,
        "max_message_size = \"huge\"",
        "max_message_size = 300000",
    );
    set_line(&d, "hostname = \"mail.test\"", "hostname = \"other.test\"");
    d.signal("HUP");
    d.wait_log("configuration reloaded", 2);
    assert!(d.log().contains("server.hostname"), "{}", d.log());
    let (mut last, greeting) = Client::connect(d.smtp).await;
    assert!(greeting.text().starts_with("mail.test"), "{greeting:?}");
    assert_eq!(ehlo_size(&mut last).await, "300000");
    assert_eq!(old.cmd("QUIT").await.code, 221);
}

/// Reads datagrams from a NOTIFY_SOCKET until `want` has been seen.
fn notify_until(sock: &std::os::unix::net::UnixDatagram, seen: &mut Vec<String>, want: &str) {
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !seen.iter().any(|m| m.lines().any(|l| l == want)) {
        assert!(
            std::time::Instant::now() < deadline,
            "no {want:?} among {seen:?}"
        );
        if let Ok(n) = sock.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_watchdog_reloading_and_stopping() {
    let dns = TestDns::start([]).await;
    let mut d = Daemon::new(dns.addr(), "");
    let path = d.dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    d.start_with_env(&[
        ("NOTIFY_SOCKET", path.display().to_string()),
        ("WATCHDOG_USEC", "400000".to_string()),
    ]);
    let mut seen = Vec::new();
    notify_until(&sock, &mut seen, "READY=1");
    let ready = seen.iter().find(|m| m.contains("READY=1")).expect("ready");
    assert!(
        ready.contains("STATUS=accepting: ") && ready.contains(" connections, queue 0"),
        "{ready}"
    );
    seen.clear();
    notify_until(&sock, &mut seen, "WATCHDOG=1");

    seen.clear();
    d.signal("HUP");
    notify_until(&sock, &mut seen, "RELOADING=1");
    let reloading = seen
        .iter()
        .find(|m| m.contains("RELOADING=1"))
        .expect("msg");
    let usec = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("MONOTONIC_USEC with RELOADING=1");
    assert!(usec.parse::<u64>().expect("number") > 0);
    notify_until(&sock, &mut seen, "READY=1");

    seen.clear();
    d.signal("TERM");
    notify_until(&sock, &mut seen, "STOPPING=1");
    assert_eq!(d.wait_exit(Duration::from_secs(20)).code(), Some(0));
}

/// uid and gid of `name` from getent.
fn ids_of(name: &str) -> Option<(u32, u32)> {
    let out = std::process::Command::new("getent")
        .args(["passwd", name])
        .output()
        .ok()?;
    let line = String::from_utf8(out.stdout).ok()?;
    let fields: Vec<&str> = line.trim().split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

/// Whether this process runs as root.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|ids| ids.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A daemon whose temp dir `nobody` may enter and whose config it may read
/// (it reloads the file after dropping privileges).
fn daemon_for_nobody(dns: SocketAddr) -> Daemon {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::new(dns, "");
    let text = std::fs::read_to_string(&d.config).expect("config");
    let text = text.replace("[server]\n", "[server]\nuser = \"nobody\"\n");
    std::fs::write(&d.config, text).expect("config");
    for (path, mode) in [(d.dir.path(), 0o755), (d.config.as_path(), 0o644)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_it_binds_then_runs_as_server_user() {
    use std::os::unix::fs::MetadataExt;
    if !is_root() {
        common::skip("dropping privileges needs root");
        return;
    }
    let Some((uid, gid)) = ids_of("nobody") else {
        common::skip("no user nobody");
        return;
    };
    let dns = TestDns::start([]).await;
    let mut d = daemon_for_nobody(dns.addr());
    // Accounts created by root's CLI, then handed over as the docs say.
    d.add_users("example.org", &["alice"]);
    let status = std::process::Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(d.data_dir())
        .status()
        .expect("chown");
    assert!(status.success());
    d.start();
    let proc_status =
        std::fs::read_to_string(format!("/proc/{}/status", d.pid())).expect("proc status");
    let line = |key: &str| {
        proc_status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.split_whitespace().collect::<Vec<_>>())
            .expect("line")
    };
    let (u, g) = (uid.to_string(), gid.to_string());
    assert_eq!(line("Uid:"), [&u, &u, &u, &u], "{proc_status}");
    assert_eq!(line("Gid:"), [&g, &g, &g, &g], "{proc_status}");
    assert_eq!(line("Groups:"), [&g], "{proc_status}");

    let (mut c, _) = Client::connect(d.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let r = c
        .send_mail(
            "sender@remote.test",
            &["alice@example.org"],
            "Subject: as nobody\r\n\r\nbody\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}\n{}", d.log());
    let new = d.data_dir().join("mail/example.org/alice/new");
    let file = std::fs::read_dir(&new)
        .expect("new/")
        .flatten()
        .next()
        .expect("a message");
    assert_eq!(file.metadata().expect("meta").uid(), uid);
    // SIGHUP works as the unprivileged user, then SIGTERM.
    d.signal("HUP");
    d.wait_log("configuration reloaded", 1);
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(20)).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_a_missing_data_dir_is_created_for_the_user_and_a_foreign_one_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !is_root() {
        common::skip("dropping privileges needs root");
        return;
    }
    let Some((uid, _)) = ids_of("nobody") else {
        common::skip("no user nobody");
        return;
    };
    let dns = TestDns::start([]).await;
    let mut d = daemon_for_nobody(dns.addr());
    d.start();
    let meta = std::fs::metadata(d.data_dir()).expect("data dir");
    assert_eq!(meta.uid(), uid);
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    let db = std::fs::metadata(d.data_dir().join("postel.db")).expect("db");
    assert_eq!(db.uid(), uid, "the database is created by the user");
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(20)).code(), Some(0));

    // Root's files in the data dir: refused with the fix in the message.
    let d2 = daemon_for_nobody(dns.addr());
    d2.cli_ok(&["domain", "add", "example.org"]);
    let out = d2.cli(&["serve"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.data_dir") && err.contains("chown -R nobody"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_running_copies_a_consistent_database_and_the_mail() {
    let dns = TestDns::start([]).await;
    let mut d = Daemon::new(dns.addr(), "");
    d.add_users("example.org", &["alice"]);
    d.start();
    let (mut c, _) = Client::connect(d.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let r = c
        .send_mail(
            "sender@remote.test",
            &["alice@example.org"],
            "Subject: keep me\r\n\r\nbody\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}");

    let dest = d.dir.path().join("backup");
    let out = d.cli_ok(&["backup", &dest.display().to_string()]);
    assert!(out.contains("database:"), "{out}");
    assert!(dest.join("postel.db").is_file());
    let copied = std::fs::read_dir(dest.join("mail/example.org/alice/new"))
        .expect("new/ copied")
        .count();
    assert_eq!(copied, 1);
    // A second backup into the same place is refused.
    let again = d.cli(&["backup", &dest.display().to_string()], "");
    assert!(!again.status.success());

    // The copy is a working data directory: the accounts are there.
    let text = std::fs::read_to_string(&d.config).expect("config");
    let restored = d.dir.path().join("restored.toml");
    let text = text.replace(
        &format!("data_dir = \"{}\"", d.data_dir().display()),
        &format!("data_dir = \"{}\"", dest.display()),
    );
    std::fs::write(&restored, text).expect("config");
    let out = std::process::Command::new(common::postel_bin())
        .arg("-c")
        .arg(&restored)
        .args(["user", "list"])
        .output()
        .expect("postel user list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("alice@example.org"), "{listed}");
    d.signal("TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(20)).code(), Some(0));
}
