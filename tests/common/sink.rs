//! A scriptable SMTP server playing remote MX hosts (or a smarthost) for
//! the outbound queue's tests.
//!
//! Every sink of one test listens on the same port (the queue's
//! `[relay] mx_port` is global) on its own loopback address: 127.0.0.2,
//! 127.0.0.3, … ([`start`]). It speaks ESMTP through Postel's own codec
//! (commands, DATA receiver), optionally with STARTTLS (a self-signed
//! certificate) and AUTH PLAIN, and records every transaction (envelope,
//! data, TLS, AUTH). What it answers is scripted in [`Behaviour`] and can
//! be changed while it runs ([`Sink::set`]): a fixed reply for MAIL, for
//! every RCPT or for chosen recipients (the first N times), for the end
//! of data, a recipient limit per transaction (452), a SIZE limit.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postel::net::{Stream, Transport};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[path = "sink_session.rs"]
mod session;
use session::Session;

/// A reply: code and text (enhanced code included in the text).
pub type Answer = (u16, String);

/// Shorthand for an [`Answer`].
pub fn answer(code: u16, text: &str) -> Answer {
    (code, text.to_string())
}

/// What the sink says; change it with [`Sink::set`].
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Offer STARTTLS.
    pub starttls: bool,
    /// TLS from the first byte (a port-465 smarthost).
    pub implicit_tls: bool,
    /// Offer PIPELINING.
    pub pipelining: bool,
    /// Offer SMTPUTF8 and 8BITMIME.
    pub smtputf8: bool,
    /// Advertise `SIZE n` (and refuse larger messages).
    pub size: Option<u64>,
    /// Require AUTH PLAIN with these credentials before MAIL.
    pub auth: Option<(String, String)>,
    /// Replace the 220 greeting.
    pub greeting: Option<Answer>,
    /// Replies to MAIL, one used up per MAIL; then 250.
    pub mail: VecDeque<Answer>,
    /// Replies per recipient (lowercase), one used up per RCPT; then
    /// `rcpt_default`, then 250.
    pub rcpt: HashMap<String, VecDeque<Answer>>,
    /// The reply to every RCPT without a scripted one (`None`: 250).
    pub rcpt_default: Option<Answer>,
    /// Recipients beyond this many in one transaction get `452 4.5.3`.
    pub max_rcpts: Option<usize>,
    /// Replies to the end of data, one used up per message; then
    /// `data_default`, then 250.
    pub data: VecDeque<Answer>,
    /// The reply to every message without a scripted one (`None`: 250).
    pub data_default: Option<Answer>,
    /// A pause before answering each RCPT (to be caught mid-transaction).
    pub rcpt_delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            starttls: false,
            implicit_tls: false,
            pipelining: true,
            smtputf8: true,
            size: None,
            auth: None,
            greeting: None,
            mail: VecDeque::new(),
            rcpt: HashMap::new(),
            rcpt_default: None,
            max_rcpts: None,
            data: VecDeque::new(),
            data_default: None,
            rcpt_delay: Duration::ZERO,
        }
    }
}

/// One transaction that reached the end of data.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// The sink's address that took it.
    pub sink: SocketAddr,
    /// The EHLO/HELO name.
    pub helo: String,
    /// MAIL FROM, without brackets ("" for `<>`).
    pub from: String,
    /// The MAIL FROM line as received (parameters included).
    pub mail_line: String,
    /// Accepted recipients.
    pub rcpts: Vec<String>,
    /// The message, unstuffed.
    pub data: Vec<u8>,
    /// Whether TLS was active.
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth: Option<String>,
    /// The code the sink answered to the end of data.
    pub code: u16,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) behaviour: Behaviour,
    pub(crate) transactions: Vec<Transaction>,
    pub(crate) connections: usize,
}

/// One running sink.
pub struct Sink {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its self-signed certificate (for `mx.sink.test`), PEM.
    pub cert_pem: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts one sink per address in `ips`, all on one free port, each with
/// `behaviour`.
pub async fn start(ips: &[&str], behaviour: Behaviour) -> Vec<Sink> {
    let tls = tls_config();
    'ports: for _ in 0..50 {
        let first = TcpListener::bind((ips[0], 0)).await.expect("bind sink");
        let port = first.local_addr().expect("addr").port();
        let mut listeners = vec![first];
        for ip in &ips[1..] {
            match TcpListener::bind((*ip, port)).await {
                Ok(l) => listeners.push(l),
                Err(_) => continue 'ports,
            }
        }
        return listeners
            .into_iter()
            .map(|l| Sink::spawn(l, behaviour.clone(), tls.clone()))
            .collect();
    }
    panic!("no port free on all of {ips:?}");
}

/// The port every sink of `sinks` listens on.
pub fn port(sinks: &[Sink]) -> u16 {
    sinks[0].addr.port()
}

impl Sink {
    fn spawn(
        listener: TcpListener,
        behaviour: Behaviour,
        tls: (Arc<rustls::ServerConfig>, String),
    ) -> Sink {
        let (tls, cert_pem) = tls;
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            behaviour,
            ..State::default()
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                lock(&shared).connections += 1;
                let (s, t) = (shared.clone(), tls.clone());
                tokio::spawn(async move {
                    let mut stream = Stream::Plain(tcp);
                    if lock(&s).behaviour.implicit_tls {
                        match stream.start_tls(t.clone()).await {
                            Ok(tls) => stream = tls,
                            Err(_) => return,
                        }
                    }
                    let _ = Session::new(stream, addr, s, t).run().await;
                });
            }
        });
        Sink {
            addr,
            cert_pem,
            state,
            task,
        }
    }

    /// Changes the behaviour.
    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut lock(&self.state).behaviour);
    }

    /// Every transaction so far.
    pub fn transactions(&self) -> Vec<Transaction> {
        lock(&self.state).transactions.clone()
    }

    /// Transactions the sink accepted (250 to the end of data).
    pub fn delivered(&self) -> Vec<Transaction> {
        self.transactions()
            .into_iter()
            .filter(|t| t.code == 250)
            .collect()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// Waits (up to `limit`) until `n` transactions were accepted.
    pub async fn wait_delivered(&self, n: usize, limit: Duration) -> Vec<Transaction> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let got = self.delivered();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A self-signed certificate for `mx.sink.test`, and its PEM.
fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["mx.sink.test".to_string()])
        .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(postel::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("server config");
    (Arc::new(config), cert.cert.pem())
}

/// The loopback address `127.0.0.n`.
pub fn ip(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}
