//! A raw SMTP client for protocol tests: sends exactly the bytes given
//! (pipelining, bare LFs, oversized lines) and reads replies.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// One SMTP reply: code and its text lines.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// Text of each line (after the code and separator).
    pub lines: Vec<String>,
}

impl Reply {
    /// All lines joined with newlines.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// A connection to an SMTP server.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects from 127.0.0.1 and reads the greeting.
    pub async fn connect(server: SocketAddr) -> (Client, Reply) {
        Self::connect_from(server, "127.0.0.1".parse().expect("ip")).await
    }

    /// Connects from a chosen loopback source address (127.0.0.2, …).
    pub async fn connect_from(server: SocketAddr, source: IpAddr) -> (Client, Reply) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(source, 0))
            .expect("bind source");
        let stream = socket.connect(server).await.expect("connect");
        let mut c = Client {
            stream,
            buf: Vec::new(),
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).await.expect("send");
    }

    /// Reads one (possibly multi-line) reply; panics after 10 s.
    pub async fn reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            assert!(line.len() >= 3, "short reply line {line:?}");
            let code: u16 = line[..3]
                .parse()
                .unwrap_or_else(|_| panic!("bad reply {line:?}"));
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if !more {
                return Reply { code, lines };
            }
        }
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return line;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
                .await
                .expect("reply within 10 s")
                .expect("read");
            assert!(
                n > 0,
                "connection closed; have {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command line and returns the reply.
    pub async fn cmd(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n")).await;
        self.reply().await
    }

    /// Sends a command and asserts the reply code.
    pub async fn expect(&mut self, line: &str, code: u16) -> Reply {
        let r = self.cmd(line).await;
        assert_eq!(r.code, code, "{line} -> {r:?}");
        r
    }

    /// EHLO, MAIL, RCPTs, DATA with `message` (dot-stuffed here); returns
    /// the final reply.
    pub async fn send_mail(&mut self, from: &str, to: &[&str], message: &str) -> Reply {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        for rcpt in to {
            self.expect(&format!("RCPT TO:<{rcpt}>"), 250).await;
        }
        self.expect("DATA", 354).await;
        let mut body = String::new();
        for line in message
            .strip_suffix("\r\n")
            .unwrap_or(message)
            .split("\r\n")
        {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
            body.push_str("\r\n");
        }
        body.push_str(".\r\n");
        self.send(body).await;
        self.reply().await
    }

    /// Whether the server has closed the connection (within 5 s).
    pub async fn is_closed(&mut self) -> bool {
        let mut chunk = [0u8; 512];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}
