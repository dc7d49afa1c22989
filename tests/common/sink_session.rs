//! One connection to a sink: the ESMTP dialogue, driven by Postel's own
//! codec, answering as the sink's [`Behaviour`] says.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use postel::net::{Stream, Transport};
use postel::protocol::smtp::{Command, DataLimits, DataOutcome, DataReceiver, ForwardPath};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Behaviour, State, Transaction, answer, lock};

/// One connection to a sink.
pub(super) struct Session {
    stream: Option<Stream>,
    sink: SocketAddr,
    state: Arc<Mutex<State>>,
    tls: Arc<rustls::ServerConfig>,
    buf: Vec<u8>,
    helo: String,
    auth: Option<String>,
    tx: Option<Transaction>,
}

fn line(code: u16, text: &str) -> String {
    format!("{code} {text}\r\n")
}

impl Session {
    pub(super) fn new(
        stream: Stream,
        sink: SocketAddr,
        state: Arc<Mutex<State>>,
        tls: Arc<rustls::ServerConfig>,
    ) -> Session {
        Session {
            stream: Some(stream),
            sink,
            state,
            tls,
            buf: Vec::new(),
            helo: String::new(),
            auth: None,
            tx: None,
        }
    }

    fn behaviour(&self) -> Behaviour {
        lock(&self.state).behaviour.clone()
    }

    async fn send(&mut self, text: &str) -> std::io::Result<()> {
        let s = self
            .stream
            .as_mut()
            .ok_or_else(|| std::io::Error::other("gone"))?;
        s.write_all(text.as_bytes()).await?;
        s.flush().await
    }

    /// The next line (without CRLF), or `None` when the client left.
    async fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return Ok(Some(line));
            }
            let s = self
                .stream
                .as_mut()
                .ok_or_else(|| std::io::Error::other("gone"))?;
            let mut chunk = [0u8; 8192];
            let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk))
                .await
                .map_err(|_| std::io::Error::other("idle"))??;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub(super) async fn run(mut self) -> std::io::Result<()> {
        let b = self.behaviour();
        if let Some((code, text)) = b.greeting {
            self.send(&line(code, &text)).await?;
            if code != 220 {
                // Like a real server after a 554 greeting: wait for QUIT.
                while let Some(l) = self.read_line().await? {
                    if l.eq_ignore_ascii_case(b"QUIT") {
                        return self.send("221 2.0.0 Bye\r\n").await;
                    }
                    self.send("503 5.5.1 No service\r\n").await?;
                }
                return Ok(());
            }
        } else {
            self.send("220 mx.sink.test ESMTP sink\r\n").await?;
        }
        while let Some(l) = self.read_line().await? {
            let reply = match Command::parse(&l) {
                Ok(cmd) => match self.command(cmd, &l).await? {
                    Some(r) => r,
                    None => return Ok(()),
                },
                Err(e) => e.reply().to_string(),
            };
            if !reply.is_empty() {
                self.send(&reply).await?;
            }
        }
        Ok(())
    }

    /// Handles one command; the reply to send (empty: already sent),
    /// `None` to close.
    async fn command(&mut self, cmd: Command, raw: &[u8]) -> std::io::Result<Option<String>> {
        let b = self.behaviour();
        let tls_active = self.stream.as_ref().is_some_and(|s| s.tls_info().is_some());
        Ok(Some(match cmd {
            Command::Ehlo(name) => {
                self.helo = name;
                self.tx = None;
                let mut caps = vec!["mx.sink.test".to_string(), "ENHANCEDSTATUSCODES".into()];
                if b.pipelining {
                    caps.push("PIPELINING".into());
                }
                if b.starttls && !tls_active {
                    caps.push("STARTTLS".into());
                }
                if b.smtputf8 {
                    caps.push("SMTPUTF8".into());
                    caps.push("8BITMIME".into());
                }
                if let Some(n) = b.size {
                    caps.push(format!("SIZE {n}"));
                }
                if b.auth.is_some() {
                    caps.push("AUTH PLAIN".into());
                }
                let last = caps.len() - 1;
                caps.iter()
                    .enumerate()
                    .map(|(i, c)| format!("250{}{c}\r\n", if i == last { ' ' } else { '-' }))
                    .collect()
            }
            Command::Helo(name) => {
                self.helo = name;
                line(250, "mx.sink.test")
            }
            Command::StartTls => {
                self.send("220 2.0.0 Go ahead\r\n").await?;
                self.buf.clear();
                let plain = self
                    .stream
                    .take()
                    .ok_or_else(|| std::io::Error::other("gone"))?;
                self.stream = Some(plain.start_tls(self.tls.clone()).await?);
                self.tx = None;
                String::new()
            }
            Command::Auth {
                initial_response, ..
            } => self.authenticate(&b, initial_response),
            Command::Mail { from, .. } => self.mail(&b, from.mailbox().map(|m| m.to_string()), raw),
            Command::Rcpt { to, .. } => {
                tokio::time::sleep(b.rcpt_delay).await;
                self.rcpt(&b, to)
            }
            Command::Data => return self.data(&b).await,
            Command::Rset => {
                self.tx = None;
                line(250, "2.0.0 Ok")
            }
            Command::Quit => {
                self.send("221 2.0.0 Bye\r\n").await?;
                return Ok(None);
            }
            _ => line(250, "2.0.0 Ok"),
        }))
    }

    fn authenticate(
        &mut self,
        b: &Behaviour,
        response: Option<postel::protocol::smtp::SaslResponse>,
    ) -> String {
        let Some((user, password)) = &b.auth else {
            return line(503, "5.5.1 No AUTH here");
        };
        let decoded = response
            .and_then(|r| {
                base64::engine::general_purpose::STANDARD
                    .decode(r.expose())
                    .ok()
            })
            .unwrap_or_default();
        let want = format!("\0{user}\0{password}").into_bytes();
        if decoded == want {
            self.auth = Some(user.clone());
            line(235, "2.7.0 Authentication successful")
        } else {
            line(535, "5.7.8 Authentication credentials invalid")
        }
    }

    fn mail(&mut self, b: &Behaviour, from: Option<String>, raw: &[u8]) -> String {
        if b.auth.is_some() && self.auth.is_none() {
            return line(530, "5.7.0 Authentication required");
        }
        let scripted = lock(&self.state).behaviour.mail.pop_front();
        if let Some((code, text)) = scripted
            && code != 250
        {
            return line(code, &text);
        }
        self.tx = Some(Transaction {
            sink: self.sink,
            helo: self.helo.clone(),
            from: from.unwrap_or_default(),
            mail_line: String::from_utf8_lossy(raw).into_owned(),
            rcpts: Vec::new(),
            data: Vec::new(),
            tls: self.stream.as_ref().is_some_and(|s| s.tls_info().is_some()),
            auth: self.auth.clone(),
            code: 0,
        });
        line(250, "2.1.0 Ok")
    }

    fn rcpt(&mut self, b: &Behaviour, to: ForwardPath) -> String {
        let Some(tx) = self.tx.as_mut() else {
            return line(503, "5.5.1 MAIL first");
        };
        let address = to
            .mailbox()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "postmaster".into());
        if b.max_rcpts.is_some_and(|max| tx.rcpts.len() >= max) {
            return line(452, "4.5.3 Too many recipients");
        }
        let scripted = {
            let mut st = lock(&self.state);
            st.behaviour
                .rcpt
                .get_mut(&address.to_ascii_lowercase())
                .and_then(VecDeque::pop_front)
        };
        let (code, text) = scripted
            .or_else(|| b.rcpt_default.clone())
            .unwrap_or_else(|| answer(250, "2.1.5 Ok"));
        if code == 250 {
            tx.rcpts.push(address);
        }
        line(code, &text)
    }

    async fn data(&mut self, b: &Behaviour) -> std::io::Result<Option<String>> {
        let Some(mut tx) = self.tx.take().filter(|t| !t.rcpts.is_empty()) else {
            return Ok(Some(line(554, "5.5.1 No valid recipients")));
        };
        self.send("354 End data with <CR><LF>.<CR><LF>\r\n").await?;
        let mut rx = DataReceiver::new(DataLimits {
            max_size: u64::MAX,
            max_line: 1 << 20,
        });
        let mut input = std::mem::take(&mut self.buf);
        loop {
            let progress = rx.feed(&input, &mut tx.data);
            if let Some(outcome) = progress.outcome {
                self.buf = input[progress.consumed..].to_vec();
                if !matches!(outcome, DataOutcome::Complete { .. }) {
                    return Ok(Some(line(554, "5.6.0 Bad data")));
                }
                break;
            }
            input.clear();
            let s = self
                .stream
                .as_mut()
                .ok_or_else(|| std::io::Error::other("gone"))?;
            let mut chunk = [0u8; 65536];
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            input.extend_from_slice(&chunk[..n]);
        }
        let (code, text) = {
            let mut st = lock(&self.state);
            st.behaviour.data.pop_front()
        }
        .or_else(|| b.data_default.clone())
        .unwrap_or_else(|| answer(250, "2.0.0 Ok: queued"));
        let (code, text) = match b.size {
            Some(limit) if tx.data.len() as u64 > limit => answer(552, "5.3.4 Message too big"),
            _ => (code, text),
        };
        tx.code = code;
        lock(&self.state).transactions.push(tx);
        Ok(Some(line(code, &text)))
    }
}
