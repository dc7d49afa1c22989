//! Abuse protection end to end (docs/security.md): failed logins over
//! SMTP AUTH, IMAP and POP3 ban one address while others still log in,
//! bans expire and are managed with `postel ban` (another process),
//! connection limits, sending rates, and the SMTP tarpit. Loopback has
//! many addresses (127.0.0.0/8); each test client binds its own.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use common::server::{TestServer, builder};
use common::smtp_client::Client;

/// Plaintext logins from loopback, small delays so tests stay fast.
const LOGINS: &str = "[imap]\nallow_plaintext_auth_on_loopback = true\n\
                      [pop3]\nallow_plaintext_auth_on_loopback = true\n\
                      [submission]\nallow_plaintext_auth_on_loopback = true\n";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// A line-oriented connection from a chosen source address (IMAP, POP3).
struct Lines {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Lines {
    async fn connect(server: SocketAddr, source: &str) -> Lines {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(ip(source), 0))
            .expect("bind source");
        let (r, w) = socket.connect(server).await.expect("connect").into_split();
        Lines {
            r: BufReader::new(r),
            w,
        }
    }

    /// The next line, or "" when the server closed the connection.
    async fn line(&mut self) -> String {
        let mut s = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.r.read_line(&mut s))
            .await
            .expect("a line within 10 s")
            .expect("read");
        s.trim_end().to_string()
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.w
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("send");
        self.line().await
    }
}

/// The greeting (first line) of `server` to a client at `source`, and
/// whether the server then closed the connection.
async fn greeting(server: SocketAddr, source: &str) -> (String, bool) {
    let mut c = Lines::connect(server, source).await;
    let first = c.line().await;
    let closed =
        if first.starts_with("220") || first.starts_with("* OK") || first.starts_with("+OK") {
            false
        } else {
            c.line().await.is_empty()
        };
    (first, closed)
}

/// `postel -c CONFIG args…` against the test server's database.
fn postel(s: &TestServer, args: &[&str]) -> (bool, String) {
    let config: PathBuf = s.data_dir.parent().expect("dir").join("postel.toml");
    let out = std::process::Command::new(common::postel_bin())
        .arg("-c")
        .arg(&config)
        .args(args)
        .output()
        .expect("run postel");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Logs in `count` times, cycling IMAP, POP3 and SMTP AUTH, with python's
/// imaplib/poplib/smtplib from `source`; one word per attempt: `ok`,
/// `failed` (login refused) or `refused` (refused at connect).
const PY_LOGINS: &str = r#"
import imaplib, poplib, smtplib, socket, sys
imap_port, pop_port, sub_port = (int(x) for x in sys.argv[1:4])
src, user, password, count = sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7])
def sock(self, timeout):
    return socket.create_connection((self.host, self.port), timeout, source_address=(src, 0))
class IMAP(imaplib.IMAP4):
    _create_socket = sock
class POP(poplib.POP3):
    _create_socket = sock
def imap():
    try:
        c = IMAP("127.0.0.1", imap_port, timeout=10)
    except (imaplib.IMAP4.error, ConnectionError, EOFError):
        return "refused"
    try:
        c.login(user, password)
        c.logout()
        return "ok"
    except imaplib.IMAP4.error:
        return "failed"
def pop():
    try:
        c = POP("127.0.0.1", pop_port, timeout=10)
    except (poplib.error_proto, ConnectionError, EOFError):
        return "refused"
    try:
        c.user(user)
        c.pass_(password)
        c.quit()
        return "ok"
    except poplib.error_proto:
        return "failed"
def smtp():
    try:
        c = smtplib.SMTP("127.0.0.1", sub_port, source_address=(src, 0), timeout=10)
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, ConnectionError):
        return "refused"
    try:
        # One mechanism only: smtplib's login() would try PLAIN, then
        # LOGIN, and so fail twice.
        c.ehlo()
        c.user, c.password = user, password
        c.auth("PLAIN", c.auth_plain)
        c.quit()
        return "ok"
    except smtplib.SMTPAuthenticationError:
        return "failed"
print(" ".join([imap, pop, smtp][i % 3]() for i in range(count)))
"#;

/// The first line each implicit-TLS port sends to 127.0.0.1.
const PY_TLS_GREETINGS: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for port in sys.argv[1:]:
    raw = socket.create_connection(("127.0.0.1", int(port)), 10, source_address=("127.0.0.1", 0))
    with ctx.wrap_socket(raw) as t:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = t.recv(512)
            if not chunk:
                break
            data += chunk
        print(data.decode().strip())
"#;

async fn logins(s: &TestServer, source: &str, password: &str, count: usize) -> Vec<String> {
    let args = vec![
        s.imap.port().to_string(),
        s.pop3.port().to_string(),
        s.submission.port().to_string(),
        source.to_string(),
        "alice@example.org".to_string(),
        password.to_string(),
        count.to_string(),
    ];
    let (ok, out) = common::python(PY_LOGINS, args).await;
    assert!(ok, "python: {out}");
    out.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn wrong_passwords_over_three_protocols_ban_one_address() {
    for db in common::all_dbs().await {
        let s = builder()
            .db(db)
            .config(LOGINS)
            .config(
                "[security]\nauth_fail_limit = 10\nauth_fail_delay = \"5ms\"\n\
                 auth_fail_delay_max = \"20ms\"\nban_time = \"1h\"\n",
            )
            .start()
            .await;
        s.with_users("example.org", &["alice"]).await;
        let got = logins(&s, "127.0.0.1", "wrong", 20).await;
        let (failed, refused) = got.split_at(10);
        assert!(failed.iter().all(|w| w == "failed"), "{got:?}");
        assert!(refused.iter().all(|w| w == "refused"), "{got:?}");

        // The right password does not help the banned address …
        assert!(
            logins(&s, "127.0.0.1", "password", 3)
                .await
                .iter()
                .all(|w| w == "refused")
        );
        // … while another address logs in over every protocol.
        assert_eq!(
            logins(&s, "127.0.0.2", "password", 3).await,
            ["ok", "ok", "ok"]
        );

        // Refused at connect in each protocol's words, then closed.
        let (smtp, closed) = greeting(s.smtp, "127.0.0.1").await;
        assert!(smtp.starts_with("421 4.7.0 mail.test "), "{smtp}");
        assert!(closed);
        let (imap, closed) = greeting(s.imap, "127.0.0.1").await;
        assert!(imap.starts_with("* BYE "), "{imap}");
        assert!(closed);
        let (pop, closed) = greeting(s.pop3, "127.0.0.1").await;
        assert!(pop.starts_with("-ERR [SYS/TEMP] "), "{pop}");
        assert!(closed);

        // On the implicit-TLS ports, the same words after the handshake.
        let ports = [s.submissions, s.imaps, s.pop3s].map(|a| a.port().to_string());
        let (ok, out) = common::python(PY_TLS_GREETINGS, ports.to_vec()).await;
        assert!(ok, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("421 4.7.0 mail.test Too many failed logins"),
            "{out}"
        );
        assert!(
            lines[1].starts_with("* BYE Too many failed logins"),
            "{out}"
        );
        assert!(
            lines[2].starts_with("-ERR [SYS/TEMP] Too many failed logins"),
            "{out}"
        );

        let (ok, list) = postel(&s, &["ban", "list"]);
        assert!(ok, "{list}");
        assert!(
            list.starts_with("127.0.0.1\t10 failed logins within 15m\tsince "),
            "{list}"
        );
        assert!(list.contains("UTC\tuntil "), "{list}");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_ban_expires_after_ban_time() {
    let s = builder()
        .config(LOGINS)
        .config("[security]\nauth_fail_limit = 3\nauth_fail_delay = \"1ms\"\nban_time = \"2s\"\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    let mut c = Lines::connect(s.pop3, "127.0.0.3").await;
    assert!(c.line().await.starts_with("+OK"));
    for _ in 0..3 {
        assert!(c.cmd("USER alice@example.org").await.starts_with("+OK"));
        assert!(c.cmd("PASS wrong").await.starts_with("-ERR [AUTH]"));
    }
    // Banned now: even the right password fails on this connection …
    assert!(c.cmd("USER alice@example.org").await.starts_with("+OK"));
    assert!(c.cmd("PASS password").await.starts_with("-ERR [AUTH]"));
    // … and new connections are refused.
    let (line, _) = greeting(s.pop3, "127.0.0.3").await;
    assert!(line.starts_with("-ERR [SYS/TEMP]"), "{line}");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let mut c = Lines::connect(s.pop3, "127.0.0.3").await;
    assert!(c.line().await.starts_with("+OK"), "ban over");
    assert!(c.cmd("USER alice@example.org").await.starts_with("+OK"));
    assert!(c.cmd("PASS password").await.starts_with("+OK"));
    s.stop().await;
}

/// Polls until `server` greets `source` with (or without) a refusal.
async fn wait_refused(server: SocketAddr, source: &str, refused: bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (line, _) = greeting(server, source).await;
        if line.starts_with("421") == refused || Instant::now() > deadline {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn postel_ban_in_another_process_is_honoured_and_lifted() {
    for db in common::all_dbs().await {
        let s = builder().db(db).start().await;
        let (line, _) = greeting(s.smtp, "127.0.0.4").await;
        assert!(line.starts_with("220"), "{line}");
        let (ok, out) = postel(
            &s,
            &["ban", "add", "127.0.0.4", "--for", "1h", "--reason", "test"],
        );
        assert!(ok, "{out}");
        assert!(out.starts_with("banned 127.0.0.4 until "), "{out}");
        let (ok, out) = postel(&s, &["ban", "add", "192.0.2.0/24", "--permanent"]);
        assert!(ok, "{out}");
        let line = wait_refused(s.smtp, "127.0.0.4", true).await;
        assert!(line.starts_with("421 4.7.0 "), "{line}");
        let (line, _) = greeting(s.smtp, "127.0.0.5").await;
        assert!(line.starts_with("220"), "{line}");

        let (ok, list) = postel(&s, &["ban", "list"]);
        assert!(ok, "{list}");
        assert!(list.contains("127.0.0.4\ttest\tsince "), "{list}");
        assert!(
            list.contains("192.0.2.0/24\tbanned by the administrator\tsince "),
            "{list}"
        );
        assert!(list.contains("until permanent"), "{list}");

        let (ok, out) = postel(&s, &["ban", "del", "127.0.0.4"]);
        assert!(ok, "{out}");
        assert_eq!(out.trim(), "unbanned 127.0.0.4");
        let line = wait_refused(s.smtp, "127.0.0.4", false).await;
        assert!(line.starts_with("220"), "{line}");
        let (ok, out) = postel(&s, &["ban", "del", "127.0.0.4"]);
        assert!(!ok && out.contains("not banned"), "{out}");
        let (ok, out) = postel(&s, &["ban", "add", "not-an-ip"]);
        assert!(!ok && out.contains("neither an IP address"), "{out}");
        s.stop().await;
    }
}

#[tokio::test]
async fn connection_limits_per_address_and_per_listener() {
    let s = builder()
        .config("[limits]\nmax_connections = 4\nmax_connections_per_ip = 2\nexceptions = [\"127.0.0.9\"]\n")
        .start()
        .await;
    for (server, ok, refusal) in [
        (
            s.smtp,
            "220",
            "421 4.7.0 mail.test Too many connections from your address",
        ),
        (
            s.imap,
            "* OK",
            "* BYE Too many connections from your address",
        ),
        (
            s.pop3,
            "+OK",
            "-ERR [SYS/TEMP] Too many connections from your address",
        ),
    ] {
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut c = Lines::connect(server, "127.0.0.6").await;
            assert!(c.line().await.starts_with(ok));
            held.push(c);
        }
        let (line, closed) = greeting(server, "127.0.0.6").await;
        assert_eq!(line, refusal);
        assert!(closed);
        // Another address still gets in; an exempt one beyond the per-address limit.
        for source in ["127.0.0.7", "127.0.0.9"] {
            let mut c = Lines::connect(server, source).await;
            assert!(c.line().await.starts_with(ok), "{source}");
            held.push(c);
        }
        // The listener is full (4).
        let (line, _) = greeting(server, "127.0.0.8").await;
        assert!(
            line.contains("Too many connections, try again later"),
            "{line}"
        );
        // A place comes free when a client leaves.
        drop(held.pop());
        let mut ok_again = false;
        for _ in 0..50 {
            let (line, _) = greeting(server, "127.0.0.8").await;
            if line.starts_with(ok) {
                ok_again = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ok_again);
    }
    s.stop().await;
}

#[tokio::test]
async fn message_and_recipient_rates_per_address_and_per_user() {
    let s = builder()
        .config(LOGINS)
        .config("[limits]\nmessages_per_hour = 2\nrecipients_per_hour = 3\nexceptions = []\n")
        .start()
        .await;
    s.with_users("example.org", &["alice", "bob", "carol", "dave"])
        .await;
    let msg = "Subject: rate\r\n\r\nhello\r\n";
    let (mut c, _) = Client::connect_from(s.smtp, ip("127.0.0.10")).await;
    c.expect("EHLO client.test", 250).await;
    let r = c
        .send_mail(
            "x@sender.test",
            &["alice@example.org", "bob@example.org"],
            msg,
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("MAIL FROM:<x@sender.test>", 250).await;
    c.expect("RCPT TO:<carol@example.org>", 250).await;
    let r = c.cmd("RCPT TO:<dave@example.org>").await;
    assert_eq!(
        (r.code, r.text().starts_with("4.5.3 ")),
        (452, true),
        "{r:?}"
    );
    c.expect("RSET", 250).await;
    let r = c.cmd("MAIL FROM:<x@sender.test>").await;
    assert_eq!(
        (r.code, r.text().starts_with("4.7.1 ")),
        (450, true),
        "{r:?}"
    );
    // Another client address has its own count.
    let (mut other, _) = Client::connect_from(s.smtp, ip("127.0.0.11")).await;
    other.expect("EHLO client.test", 250).await;
    let r = other
        .send_mail("y@sender.test", &["dave@example.org"], msg)
        .await;
    assert_eq!(r.code, 250, "{r:?}");

    // Authenticated users are counted per user, from any address.
    let plain = "AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHBhc3N3b3Jk"; // alice@example.org / password
    for (n, source) in ["127.0.0.12", "127.0.0.13", "127.0.0.14"]
        .iter()
        .enumerate()
    {
        let (mut c, _) = Client::connect_from(s.submission, ip(source)).await;
        c.expect("EHLO client.test", 250).await;
        c.expect(plain, 235).await;
        let r = c.cmd("MAIL FROM:<alice@example.org>").await;
        let want = if n < 2 { 250 } else { 450 };
        assert_eq!(r.code, want, "message {n} from {source}: {r:?}");
        if n < 2 {
            c.expect("RSET", 250).await;
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn invalid_recipients_are_tarpitted_then_disconnected() {
    let s = builder()
        .config("[smtp]\nsoft_error_limit = 2\nhard_error_limit = 5\nerror_delay = \"100ms\"\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    let (mut c, _) = Client::connect_from(s.smtp, ip("127.0.0.15")).await;
    c.expect("EHLO client.test", 250).await;
    c.expect("MAIL FROM:<x@sender.test>", 250).await;
    let mut took = Vec::new();
    for i in 0..4 {
        let t = Instant::now();
        c.expect(&format!("RCPT TO:<nobody{i}@example.org>"), 550)
            .await;
        took.push(t.elapsed());
    }
    // Errors 1-2 are free; after error 3 the server waits 100 ms, after 4 200 ms.
    assert!(
        took[..3].iter().all(|d| *d < Duration::from_millis(100)),
        "{took:?}"
    );
    assert!(took[3] >= Duration::from_millis(100), "{took:?}");
    let t = Instant::now();
    c.expect("RCPT TO:<nobody4@example.org>", 550).await;
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "growing: {:?}",
        t.elapsed()
    );
    let r = c.reply().await;
    assert_eq!(r.code, 421, "{r:?}");
    assert!(r.text().contains("too many errors"), "{r:?}");
    assert!(c.is_closed().await);
    s.stop().await;
}
