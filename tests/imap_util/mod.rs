//! Driving the IMAP listeners from tests: Python's imaplib scripts (a real
//! client library) and a tiny raw line client for exact wire checks.
#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::server::TestServer;

/// Common Python prelude: `p143`, `p993`, `p25` from argv, `ctx` (no
/// certificate checks), `tls(user)` logged in over 993, `plain()` over
/// 143 after STARTTLS, `ok(typ_data)` asserting OK and returning data.
pub const PRELUDE: &str = r#"
import imaplib, ssl, sys, time, socket, smtplib, email, re
p143, p993, p25 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()
def tls(user="alice@example.org"):
    c = imaplib.IMAP4_SSL("127.0.0.1", p993, ssl_context=ctx, timeout=20)
    c.login(user, "password")
    return c
def plain(user="alice@example.org"):
    c = imaplib.IMAP4("127.0.0.1", p143, timeout=20)
    c.starttls(ssl_context=ctx)
    c.login(user, "password")
    return c
def ok(r):
    typ, data = r
    assert typ == "OK", r
    return data
def no(r):
    typ, data = r
    assert typ == "NO", r
    return data
def bad(f, *args):
    try:
        r = f(*args)
    except imaplib.IMAP4.error as e:
        assert "BAD" in str(e), e
        return str(e)
    raise AssertionError("not BAD: %r" % (r,))
"#;

/// Runs a Python script (after [`PRELUDE`]) against the server; returns
/// whether it exited 0 and its output.
pub async fn python(s: &TestServer, script: &str) -> (bool, String) {
    let args = [
        s.imap.port().to_string(),
        s.imaps.port().to_string(),
        s.smtp.port().to_string(),
    ];
    let script = format!("{PRELUDE}\n{script}");
    tokio::task::spawn_blocking(move || {
        let out = Command::new("python3")
            .arg("-c")
            .arg(&script)
            .args(&args)
            .output()
            .expect("python3");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    })
    .await
    .expect("join")
}

/// Asserts that a Python script succeeds.
pub async fn run_python(s: &TestServer, script: &str) {
    let (ok, out) = python(s, script).await;
    assert!(ok, "python failed:\n{out}");
}

/// A raw IMAP connection over plaintext TCP (port 143 role).
pub struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    /// Connects and reads the greeting.
    pub async fn connect(addr: std::net::SocketAddr) -> (Raw, String) {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (r, w) = tcp.into_split();
        let mut raw = Raw {
            reader: BufReader::new(r),
            writer: w,
        };
        let greeting = raw.line().await;
        (raw, greeting)
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("write");
    }

    /// Reads one line (with its CRLF); empty at EOF.
    pub async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(20),
            self.reader.read_until(b'\n', &mut buf),
        );
        read.await.expect("timely line").expect("read");
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Reads lines up to and including the one starting with `tag `.
    pub async fn until(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            assert!(!line.is_empty(), "EOF before {tag}: {lines:?}");
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Sends `tag command\r\n` and reads to the tagged response.
    pub async fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until(tag).await
    }
}
