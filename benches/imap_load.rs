//! IMAP load generator: many clients against any IMAP server (Postel or
//! Dovecot, for a side-by-side run), reporting commands per second,
//! latency percentiles per command and errors; and an `idle` mode that
//! holds thousands of TLS connections in IDLE and reports the server's
//! resident memory.
//!
//! Run: `cargo bench --bench imap_load -- --mode MODE [options]`
//!
//! Modes:
//! - `populate`: every user's INBOX is emptied and refilled with the
//!   messages of `--mbox` (the same messages on every server).
//! - `sessions`: `--clients` long-lived sessions (LOGIN, SELECT INBOX,
//!   then a mix of FETCH 1:* FLAGS, FETCH BODY[] of random messages,
//!   STORE, SEARCH, APPEND, STORE \Deleted + EXPUNGE, IDLE/DONE, NOOP)
//!   for `--duration` seconds.
//! - `logins`: the same clients log in for a few commands each: connect,
//!   LOGIN, SELECT INBOX, `--per-login` commands of the mix, LOGOUT, and
//!   again.
//! - `idle`: `--clients` connections (TLS with `--tls`) each LOGIN,
//!   SELECT INBOX and IDLE, held for `--hold` seconds; with `--rss-comm`
//!   (process names) or `--rss-pid` (process ids) the resident memory
//!   and CPU time of the server are read from `/proc` before and while
//!   they are held. Connections come from
//!   `--bind-count` loopback source addresses starting at `--bind-from`
//!   (127.0.0.2, 127.0.0.3, …) so no per-address limit is hit.
//!
//! Every client uses its own user (`--user` with `{n}` replaced by
//! 1..=`--users`, round robin), so APPEND and EXPUNGE keep each mailbox
//! near its populated size and clients never wait on each other's
//! mailbox. Certificates are not verified (loopback benchmark only).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng as SmallRng;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufStream};
use tokio::net::TcpSocket;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = std::result::Result<T, Error>;

#[derive(Clone, Debug)]
struct Args {
    mode: String,
    host: IpAddr,
    port: u16,
    tls: bool,
    user: String,
    users: usize,
    password: String,
    clients: usize,
    duration: Duration,
    per_login: usize,
    mbox: Option<String>,
    bind_from: Option<Ipv4Addr>,
    bind_count: u32,
    hold: Duration,
    rss_comm: Vec<String>,
    rss_pid: Vec<u32>,
    ramp: usize,
    label: String,
}

fn args() -> Res<Args> {
    let mut a = Args {
        mode: "sessions".into(),
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 143,
        tls: false,
        user: "bench{n}@bench.test".into(),
        users: 100,
        password: "pass".into(),
        clients: 20,
        duration: Duration::from_secs(30),
        per_login: 3,
        mbox: None,
        bind_from: None,
        bind_count: 1,
        hold: Duration::from_secs(10),
        rss_comm: Vec::new(),
        rss_pid: Vec::new(),
        ramp: 200,
        label: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mode" => a.mode = val()?,
            "--host" => a.host = val()?.parse()?,
            "--port" => a.port = val()?.parse()?,
            "--tls" => a.tls = true,
            "--user" => a.user = val()?,
            "--users" => a.users = val()?.parse()?,
            "--password" => a.password = val()?,
            "--clients" => a.clients = val()?.parse()?,
            "--duration" => a.duration = Duration::from_secs_f64(val()?.parse()?),
            "--per-login" => a.per_login = val()?.parse()?,
            "--mbox" => a.mbox = Some(val()?),
            "--bind-from" => a.bind_from = Some(val()?.parse()?),
            "--bind-count" => a.bind_count = val()?.parse()?,
            "--hold" => a.hold = Duration::from_secs_f64(val()?.parse()?),
            "--rss-comm" => a.rss_comm = val()?.split(',').map(str::to_string).collect(),
            "--rss-pid" => {
                a.rss_pid = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--ramp" => a.ramp = val()?.parse()?,
            "--label" => a.label = val()?,
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if a.users == 0 || a.clients == 0 || a.bind_count == 0 {
        return Err("--users, --clients and --bind-count must be positive".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------------
// Connections

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Accepts any certificate: the servers under test use self-signed ones.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector() -> Res<tokio_rustls::TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Where to connect from and to.
struct Target {
    args: Args,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Target {
    async fn connect(&self, n: usize) -> Res<Client> {
        let to = SocketAddr::new(self.args.host, self.args.port);
        let socket = TcpSocket::new_v4()?;
        if let Some(from) = self.args.bind_from {
            let i = u32::try_from(n)? % self.args.bind_count;
            let ip = Ipv4Addr::from(u32::from(from) + i);
            socket.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
        }
        let tcp = socket.connect(to).await?;
        tcp.set_nodelay(true)?;
        let io: Box<dyn Io> = match &self.tls {
            Some(c) => {
                let name = rustls_pki_types::ServerName::try_from("localhost")?;
                Box::new(c.connect(name, tcp).await?)
            }
            None => Box::new(tcp),
        };
        let mut client = Client {
            io: BufStream::with_capacity(4096, 1024, io),
            tag: 0,
            exists: 0,
            line: Vec::new(),
            leaving: false,
        };
        let greeting = client.read_line().await?;
        if !greeting.starts_with(b"* OK") {
            return Err(format!("greeting: {}", String::from_utf8_lossy(&greeting)).into());
        }
        Ok(client)
    }

    fn user(&self, n: usize) -> String {
        let i = n % self.args.users + 1;
        self.args.user.replace("{n}", &i.to_string())
    }
}

struct Client {
    io: BufStream<Box<dyn Io>>,
    tag: u32,
    /// The EXISTS count last told.
    exists: u32,
    line: Vec<u8>,
    /// LOGOUT was sent: `* BYE` is expected.
    leaving: bool,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Client {
    /// One line, literals included (`{n}` at the end pulls in n octets
    /// and the rest of the line).
    async fn read_line(&mut self) -> Res<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            self.line.clear();
            let n = self.io.read_until(b'\n', &mut self.line).await?;
            if n == 0 {
                return Err("connection closed".into());
            }
            out.extend_from_slice(&self.line);
            match literal_size(&self.line) {
                Some(size) => {
                    let start = out.len();
                    out.resize(start + size, 0);
                    self.io.read_exact(&mut out[start..]).await?;
                }
                None => return Ok(out),
            }
        }
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
    }

    /// Reads to the tagged response of `tag`; `Ok` only for `OK`.
    async fn finish(&mut self, tag: &str) -> Res<()> {
        loop {
            let line = self.read_line().await?;
            if let Some(rest) = line.strip_prefix(b"* ") {
                if let Some(n) = rest
                    .strip_suffix(b" EXISTS\r\n")
                    .and_then(|d| std::str::from_utf8(d).ok()?.parse().ok())
                {
                    self.exists = n;
                } else if rest.ends_with(b" EXPUNGE\r\n") {
                    self.exists = self.exists.saturating_sub(1);
                } else if rest.starts_with(b"BYE") && !self.leaving {
                    return Err(String::from_utf8_lossy(&line).into_owned().into());
                }
                continue;
            }
            if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                let status = &line[tag.len() + 1..];
                if status.starts_with(b"OK") {
                    return Ok(());
                }
                return Err(String::from_utf8_lossy(&line).trim_end().to_string().into());
            }
            // a continuation request here is unexpected; skip it
        }
    }

    async fn command(&mut self, text: &str) -> Res<()> {
        self.leaving = text == "LOGOUT";
        let tag = self.next_tag();
        self.io
            .write_all(format!("{tag} {text}\r\n").as_bytes())
            .await?;
        self.io.flush().await?;
        self.finish(&tag).await
    }

    /// Sends `prefix {len}`, waits for `+`, sends `literal`.
    async fn command_literal(&mut self, prefix: &str, literal: &[u8]) -> Res<()> {
        let tag = self.next_tag();
        let head = format!("{tag} {prefix} {{{}}}\r\n", literal.len());
        self.io.write_all(head.as_bytes()).await?;
        self.io.flush().await?;
        self.wait_continue(&tag).await?;
        self.io.write_all(literal).await?;
        self.io.write_all(b"\r\n").await?;
        self.io.flush().await?;
        self.finish(&tag).await
    }

    async fn wait_continue(&mut self, tag: &str) -> Res<()> {
        loop {
            let line = self.read_line().await?;
            if line.starts_with(b"+") {
                return Ok(());
            }
            if line.starts_with(tag.as_bytes()) {
                return Err(String::from_utf8_lossy(&line).trim_end().to_string().into());
            }
        }
    }

    async fn login(&mut self, user: &str, password: &str) -> Res<()> {
        self.command(&format!("LOGIN {} {}", quote(user), quote(password)))
            .await
    }

    /// Starts IDLE and returns its tag once the server said `+`.
    async fn idle_start(&mut self) -> Res<String> {
        let tag = self.next_tag();
        self.io
            .write_all(format!("{tag} IDLE\r\n").as_bytes())
            .await?;
        self.io.flush().await?;
        self.wait_continue(&tag).await?;
        Ok(tag)
    }

    async fn idle_done(&mut self, tag: &str) -> Res<()> {
        self.io.write_all(b"DONE\r\n").await?;
        self.io.flush().await?;
        self.finish(tag).await
    }
}

fn literal_size(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

// ---------------------------------------------------------------------------
// Messages

fn load_mbox(path: Option<&str>) -> Res<Vec<Vec<u8>>> {
    let Some(path) = path else {
        return Ok((0..20).map(sample_message).collect());
    };
    let text = std::fs::read_to_string(path)?;
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in text.split_inclusive('\n') {
        if line.starts_with("From ") {
            if let Some(m) = current.take() {
                messages.push(m);
            }
            current = Some(Vec::new());
            continue;
        }
        if let Some(m) = current.as_mut() {
            m.extend_from_slice(line.trim_end_matches('\n').as_bytes());
            m.extend_from_slice(b"\r\n");
        }
    }
    messages.extend(current);
    if messages.is_empty() {
        return Err(format!("{path}: no messages").into());
    }
    Ok(messages)
}

fn sample_message(i: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {i} <user{i}@example.org>\r\nTo: bench@bench.test\r\n\
         Subject: sample message {i}\r\nMessage-ID: <gen{i}@example.org>\r\n\r\n"
    );
    for _ in 0..(20 + i * 10) {
        m.push_str("lorem ipsum dolor sit amet consectetur adipiscing elit sed do\r\n");
    }
    m.into_bytes()
}

// ---------------------------------------------------------------------------
// Statistics

/// Connection set-up (TCP and TLS handshake, greeting): timed, but not
/// counted as a command.
const CONNECT: &str = "(connect)";

#[derive(Default)]
struct Stats {
    /// Latencies in microseconds per command name.
    latency: BTreeMap<&'static str, Vec<u32>>,
    errors: BTreeMap<String, u64>,
    logins: u64,
}

impl Stats {
    fn record(&mut self, name: &'static str, since: Instant) {
        let us = u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latency.entry(name).or_default().push(us);
    }

    fn error(&mut self, name: &str, e: &Error) {
        let text = e.to_string();
        let short: String = text.chars().take(80).collect();
        *self.errors.entry(format!("{name}: {short}")).or_default() += 1;
    }

    fn merge(&mut self, other: Stats) {
        for (k, mut v) in other.latency {
            self.latency.entry(k).or_default().append(&mut v);
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.logins += other.logins;
    }

    fn commands(&self) -> usize {
        self.latency
            .iter()
            .filter(|(k, _)| **k != CONNECT)
            .map(|(_, v)| v.len())
            .sum()
    }

    fn errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(label: &str, mode: &str, args: &Args, stats: &mut Stats, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let total = stats.commands();
    println!(
        "\n== {label} {mode}: {} clients, {:.1} s",
        args.clients, secs
    );
    println!("| command | count | per s | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    let mut all = Vec::with_capacity(total);
    for (name, v) in &mut stats.latency {
        v.sort_unstable();
        if *name != CONNECT {
            all.extend_from_slice(v);
        }
        println!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            v.len(),
            v.len() as f64 / secs,
            pct(v, 0.5),
            pct(v, 0.9),
            pct(v, 0.99),
            pct(v, 1.0)
        );
    }
    all.sort_unstable();
    println!(
        "| **all** | {total} | **{:.0}** | {:.2} | {:.2} | {:.2} | {:.2} |",
        total as f64 / secs,
        pct(&all, 0.5),
        pct(&all, 0.9),
        pct(&all, 0.99),
        pct(&all, 1.0)
    );
    println!(
        "RESULT label={label} mode={mode} clients={} seconds={secs:.1} commands={total} \
         commands_per_s={:.0} logins_per_s={:.1} p50_ms={:.2} p99_ms={:.2} errors={}",
        args.clients,
        total as f64 / secs,
        stats.logins as f64 / secs,
        pct(&all, 0.5),
        pct(&all, 0.99),
        stats.errors()
    );
    for (e, n) in &stats.errors {
        println!("error x{n}: {e}");
    }
}

// ---------------------------------------------------------------------------
// The command mix

#[derive(Clone, Copy)]
enum Op {
    FetchFlags,
    FetchBody,
    Store,
    Search,
    Append,
    Expunge,
    Idle,
    Noop,
}

/// Weights of the mix (out of 100).
const MIX: &[(Op, u32)] = &[
    (Op::FetchFlags, 10),
    (Op::FetchBody, 30),
    (Op::Store, 15),
    (Op::Search, 10),
    (Op::Append, 10),
    (Op::Expunge, 10),
    (Op::Idle, 5),
    (Op::Noop, 10),
];

fn pick(rng: &mut SmallRng) -> Op {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut r = rng.gen_range(0..total);
    for (op, w) in MIX {
        if r < *w {
            return *op;
        }
        r -= w;
    }
    Op::Noop
}

struct Mix {
    messages: Arc<Vec<Vec<u8>>>,
    /// Never expunge below this many messages (the populated set).
    floor: u32,
}

/// Runs one operation of the mix, recording each command it sends.
async fn run_op(
    c: &mut Client,
    op: Op,
    mix: &Mix,
    rng: &mut SmallRng,
    stats: &mut Stats,
) -> Res<()> {
    let random_msg = |rng: &mut SmallRng, exists: u32| rng.gen_range(1..=exists.max(1));
    let t = Instant::now();
    match op {
        Op::FetchFlags => {
            c.command("FETCH 1:* (FLAGS)").await?;
            stats.record("FETCH 1:* FLAGS", t);
        }
        Op::FetchBody => {
            let n = random_msg(rng, c.exists);
            c.command(&format!("FETCH {n} BODY[]")).await?;
            stats.record("FETCH n BODY[]", t);
        }
        Op::Store => {
            let n = random_msg(rng, c.exists);
            let sign = if rng.gen_bool(0.5) { '+' } else { '-' };
            c.command(&format!("STORE {n} {sign}FLAGS (\\Flagged)"))
                .await?;
            stats.record("STORE", t);
        }
        Op::Search => {
            let q = if rng.gen_bool(0.5) {
                "SEARCH FLAGGED".to_string()
            } else {
                format!("SEARCH SUBJECT \"message {}\"", rng.gen_range(0..100))
            };
            c.command(&q).await?;
            stats.record("SEARCH", t);
        }
        Op::Append => {
            let m = &mix.messages[rng.gen_range(0..mix.messages.len())];
            c.command_literal("APPEND INBOX", m).await?;
            stats.record("APPEND", t);
        }
        Op::Expunge if c.exists > mix.floor => {
            let n = c.exists;
            c.command(&format!("STORE {n} +FLAGS.SILENT (\\Deleted)"))
                .await?;
            stats.record("STORE", t);
            let t = Instant::now();
            c.command("EXPUNGE").await?;
            stats.record("EXPUNGE", t);
        }
        Op::Expunge => {
            let m = &mix.messages[rng.gen_range(0..mix.messages.len())];
            c.command_literal("APPEND INBOX", m).await?;
            stats.record("APPEND", t);
        }
        Op::Idle => {
            let tag = c.idle_start().await?;
            c.idle_done(&tag).await?;
            stats.record("IDLE+DONE", t);
        }
        Op::Noop => {
            c.command("NOOP").await?;
            stats.record("NOOP", t);
        }
    }
    Ok(())
}

async fn open_session(target: &Target, n: usize, stats: &mut Stats) -> Res<Client> {
    let t = Instant::now();
    let mut c = target.connect(n).await?;
    stats.record(CONNECT, t);
    let t = Instant::now();
    c.login(&target.user(n), &target.args.password).await?;
    stats.record("LOGIN", t);
    stats.logins += 1;
    let t = Instant::now();
    c.command("SELECT INBOX").await?;
    stats.record("SELECT", t);
    Ok(c)
}

async fn sessions_worker(target: Arc<Target>, mix: Arc<Mix>, n: usize, end: Instant) -> Stats {
    let mut stats = Stats::default();
    let mut rng = SmallRng::seed_from_u64(n as u64);
    let mut client: Option<Client> = None;
    while Instant::now() < end {
        let mut c = match client.take() {
            Some(c) => c,
            None => match open_session(&target, n, &mut stats).await {
                Ok(c) => c,
                Err(e) => {
                    stats.error("open", &e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let op = pick(&mut rng);
        match run_op(&mut c, op, &mix, &mut rng, &mut stats).await {
            Ok(()) => client = Some(c),
            Err(e) => stats.error("command", &e),
        }
    }
    stats
}

async fn logins_worker(target: Arc<Target>, mix: Arc<Mix>, n: usize, end: Instant) -> Stats {
    let mut stats = Stats::default();
    let mut rng = SmallRng::seed_from_u64(n as u64);
    while Instant::now() < end {
        let r: Res<()> = async {
            let mut c = open_session(&target, n, &mut stats).await?;
            for _ in 0..target.args.per_login {
                let op = match pick(&mut rng) {
                    Op::Idle => Op::Noop,
                    op => op,
                };
                run_op(&mut c, op, &mix, &mut rng, &mut stats).await?;
            }
            let t = Instant::now();
            c.command("LOGOUT").await?;
            stats.record("LOGOUT", t);
            Ok(())
        }
        .await;
        if let Err(e) = r {
            stats.error("session", &e);
        }
    }
    stats
}

async fn populate_user(target: &Target, n: usize, messages: &[Vec<u8>]) -> Res<()> {
    let mut c = target.connect(n).await?;
    c.login(&target.user(n), &target.args.password).await?;
    c.command("SELECT INBOX").await?;
    if c.exists > 0 {
        c.command("STORE 1:* +FLAGS.SILENT (\\Deleted)").await?;
        c.command("EXPUNGE").await?;
    }
    for m in messages {
        c.command_literal("APPEND INBOX", m).await?;
    }
    c.command("LOGOUT").await
}

// ---------------------------------------------------------------------------
// Idle connections and memory

/// The server's processes: `--rss-pid`, or every process whose `comm`
/// is one of `--rss-comm`.
fn server_procs(args: &Args) -> Vec<std::path::PathBuf> {
    if !args.rss_pid.is_empty() {
        return args
            .rss_pid
            .iter()
            .map(|p| std::path::PathBuf::from(format!("/proc/{p}")))
            .collect();
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .map(|e| e.path())
        .filter(|path| {
            std::fs::read_to_string(path.join("comm"))
                .is_ok_and(|comm| args.rss_comm.iter().any(|n| n == comm.trim_end()))
        })
        .collect()
}

/// Sums over the server's processes: (processes, RSS KiB, PSS KiB, CPU
/// ticks of user + system time).
fn memory_of(args: &Args) -> (usize, u64, u64, u64) {
    let procs = server_procs(args);
    let (mut rss, mut pss, mut cpu) = (0, 0, 0);
    for path in &procs {
        rss += kib_field(&path.join("status"), "VmRSS:");
        pss += kib_field(&path.join("smaps_rollup"), "Pss:");
        cpu += std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|s| {
                // fields after the parenthesised name: utime is the 12th, stime the 13th
                let rest = &s[s.rfind(')')? + 2..];
                let f: Vec<&str> = rest.split(' ').collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
    }
    (procs.len(), rss, pss, cpu)
}

fn kib_field(path: &std::path::Path, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn idle_mode(target: Arc<Target>) -> Res<()> {
    let args = &target.args;
    let (procs0, rss0, pss0, _) = memory_of(args);
    println!(
        "server memory before: RSS {:.1} MiB, PSS {:.1} MiB over {procs0} process(es)",
        rss0 as f64 / 1024.0,
        pss0 as f64 / 1024.0,
    );
    let ready = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = Arc::new(tokio::sync::Semaphore::new(args.ramp.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for n in 0..args.clients {
        let (target, ready, failed, release, gate) = (
            target.clone(),
            ready.clone(),
            failed.clone(),
            release.clone(),
            gate.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let opened: Res<(Client, String)> = async {
                let _permit = gate.acquire().await?;
                let mut c = target.connect(n).await?;
                c.login(&target.user(n), &target.args.password).await?;
                c.command("SELECT INBOX").await?;
                let tag = c.idle_start().await?;
                Ok((c, tag))
            }
            .await;
            match opened {
                Ok((c, _tag)) => {
                    let notified = release.notified();
                    ready.fetch_add(1, Ordering::Relaxed);
                    notified.await;
                    drop(c);
                }
                Err(e) => {
                    if failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("connection {n}: {e}");
                    }
                }
            }
        }));
    }
    loop {
        let (r, f) = (
            ready.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed),
        );
        if r + f >= args.clients {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let opened_in = start.elapsed();
    let r = ready.load(Ordering::Relaxed);
    println!(
        "{r} connections in IDLE ({} failed) after {:.1} s; holding {:.0} s",
        failed.load(Ordering::Relaxed),
        opened_in.as_secs_f64(),
        args.hold.as_secs_f64()
    );
    let mut peak = 0;
    let hold_start = Instant::now();
    let (_, _, _, cpu0) = memory_of(args);
    while hold_start.elapsed() < args.hold {
        peak = peak.max(memory_of(args).1);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (procs, rss1, pss1, cpu1) = memory_of(args);
    // clock ticks are 1/100 s on Linux
    let cpu_pct = (cpu1 - cpu0) as f64 / hold_start.elapsed().as_secs_f64();
    let per = |a: u64, b: u64| (a.saturating_sub(b)) as f64 / r.max(1) as f64;
    println!(
        "server memory holding {r} IDLE connections: RSS {:.1} MiB (peak {:.1} MiB), \
         PSS {:.1} MiB over {procs} process(es); per connection: RSS {:.1} KiB, PSS {:.1} KiB; \
         server CPU while holding {cpu_pct:.1} % of one core",
        rss1 as f64 / 1024.0,
        peak as f64 / 1024.0,
        pss1 as f64 / 1024.0,
        per(rss1, rss0),
        per(pss1, pss0)
    );
    println!(
        "RESULT label={} mode=idle connections={r} failed={} open_s={:.1} rss_mib={:.1} \
         peak_rss_mib={:.1} pss_mib={:.1} rss_kib_per_conn={:.1} pss_kib_per_conn={:.1} \
         cpu_pct={cpu_pct:.1}",
        args.label,
        failed.load(Ordering::Relaxed),
        opened_in.as_secs_f64(),
        rss1 as f64 / 1024.0,
        peak as f64 / 1024.0,
        pss1 as f64 / 1024.0,
        per(rss1, rss0),
        per(pss1, pss0)
    );
    release.notify_waiters();
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------

fn main() -> Res<()> {
    let args = args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(args: Args) -> Res<()> {
    let tls = if args.tls {
        Some(tls_connector()?)
    } else {
        None
    };
    let messages = Arc::new(load_mbox(args.mbox.as_deref())?);
    let label = if args.label.is_empty() {
        format!("{}:{}", args.host, args.port)
    } else {
        args.label.clone()
    };
    let target = Arc::new(Target {
        args: args.clone(),
        tls,
    });
    match args.mode.as_str() {
        "populate" => {
            let start = Instant::now();
            let users: Vec<usize> = (0..args.users).collect();
            let chunk = args.users.div_ceil(args.clients);
            let mut tasks = Vec::new();
            for part in users.chunks(chunk) {
                let (target, messages, part) = (target.clone(), messages.clone(), part.to_vec());
                tasks.push(tokio::spawn(async move {
                    for n in part {
                        populate_user(&target, n, &messages).await?;
                    }
                    Res::Ok(())
                }));
            }
            for t in tasks {
                t.await??;
            }
            println!(
                "{label}: populated {} users with {} messages each in {:.1} s",
                args.users,
                messages.len(),
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "sessions" | "logins" => {
            let floor = u32::try_from(messages.len())?;
            let mix = Arc::new(Mix { messages, floor });
            let start = Instant::now();
            let end = start + args.duration;
            let mut tasks = Vec::new();
            for n in 0..args.clients {
                let (target, mix) = (target.clone(), mix.clone());
                tasks.push(if args.mode == "sessions" {
                    tokio::spawn(sessions_worker(target, mix, n, end))
                } else {
                    tokio::spawn(logins_worker(target, mix, n, end))
                });
            }
            let mut stats = Stats::default();
            for t in tasks {
                stats.merge(t.await?);
            }
            report(&label, &args.mode, &args, &mut stats, start.elapsed());
            Ok(())
        }
        "idle" => idle_mode(target).await,
        other => Err(format!("unknown mode {other}").into()),
    }
}
