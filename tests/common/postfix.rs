//! A private Postfix instance (Debian's `postfix` package) as a peer MTA
//! for integration tests.
//!
//! Everything lives in a temp dir: `conf/` (own `main.cf` and a minimal
//! `master.cf`), `queue/`, `data/` and the log file `maillog`. The system
//! Postfix (`/etc/postfix`, `/var/spool/postfix`, port 25) is never used.
//! The instance has no listening SMTP server at all; mail enters through
//! its `sendmail` command and leaves through its SMTP client like an
//! Internet MTA's: MX lookup for the recipient domain, then a connection to
//! the MX host, opportunistic STARTTLS.
//!
//! DNS: Postfix asks the system resolver (glibc), which only reads
//! `/etc/resolv.conf` and only talks to port 53. The SMTP client therefore
//! runs chrooted in the queue directory, where `etc/resolv.conf` names a
//! small UDP forwarder on `127.53.x.y:53` that relays to the test DNS
//! server. Postfix's loop detection ("mail for … loops back to myself") is
//! only done for port 25, so MX hosts on loopback at the test port work.
//!
//! Postfix's `master` must run as root; [`unavailable`] says why the
//! instance cannot run here (not installed, not root).
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// How the instance is set up.
#[derive(Debug, Clone)]
pub struct Config<'a> {
    /// `myhostname`: its EHLO name and the name in its Received headers.
    pub hostname: &'a str,
    /// `smtp_bind_address`: the source address of its SMTP connections.
    pub source: Ipv4Addr,
    /// The DNS server its MX and address lookups go to (the test DNS).
    pub nameserver: SocketAddr,
    /// `smtp_tcp_port`: the port it connects to on MX hosts.
    pub smtp_port: u16,
    /// Extra `main.cf` lines; they override the defaults written here.
    pub main_cf: &'a str,
}

/// Why a Postfix peer cannot run here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    let Some(mail_version) = postconf("mail_version") else {
        return Some("Postfix is not installed (apt-get install postfix)".into());
    };
    let master = daemon_directory().join("master");
    if !master.exists() {
        return Some(format!(
            "Postfix {mail_version}: no {} (apt-get install postfix)",
            master.display()
        ));
    }
    if !sendmail_path().exists() {
        return Some(format!("Postfix: no {}", sendmail_path().display()));
    }
    let uid = Command::new("id").arg("-u").output().ok();
    let uid = uid.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("the Postfix peer needs root (Postfix's master runs as root)".into());
    }
    None
}

/// `postconf -d -h NAME`: a compiled-in default, `None` without Postfix.
fn postconf(name: &str) -> Option<String> {
    // Root's PATH has /usr/sbin, a user's often not.
    let bin = ["/usr/sbin/postconf", "postconf"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .unwrap_or("postconf");
    let out = Command::new(bin)
        .args(["-d", "-h", name])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !value.is_empty()).then_some(value)
}

fn daemon_directory() -> PathBuf {
    postconf("daemon_directory")
        .unwrap_or_else(|| "/usr/lib/postfix/sbin".into())
        .into()
}

fn command_directory() -> PathBuf {
    postconf("command_directory")
        .unwrap_or_else(|| "/usr/sbin".into())
        .into()
}

fn sendmail_path() -> PathBuf {
    postconf("sendmail_path")
        .unwrap_or_else(|| "/usr/sbin/sendmail".into())
        .into()
}

/// The services the instance needs: no `smtpd`, no local delivery. Only
/// `smtp` is chrooted (for its private `etc/resolv.conf`). `pickup` wakes
/// up every second so a lost trigger costs a second, not a minute.
const MASTER_CF: &str = "\
# service type  private unpriv  chroot  wakeup  maxproc command
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       y       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

/// A running private Postfix; stopped (with all its processes) on drop.
pub struct Postfix {
    dir: tempfile::TempDir,
    master: Option<Child>,
    forwarder: JoinHandle<()>,
    /// The address of the DNS forwarder its resolver uses.
    pub resolver: SocketAddr,
}

impl Postfix {
    /// Writes the configuration, creates the queue and starts `master`
    /// (in the foreground, as a child in its own process group). Panics
    /// on any failure, with Postfix's log; check [`unavailable`] first.
    pub async fn start(config: &Config<'_>) -> Postfix {
        // Postfix's processes open data_directory by absolute path as the
        // `postfix` user: every parent must be searchable, hence /tmp (not
        // $TMPDIR) and mode 0755.
        let dir = tempfile::Builder::new()
            .prefix("postel-postfix-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod temp dir");
        let conf = dir.path().join("conf");
        let queue = dir.path().join("queue");
        std::fs::create_dir(&conf).expect("mkdir conf");
        std::fs::create_dir(&queue).expect("mkdir queue");

        let (socket, resolver) = bind_port_53().await;
        let forwarder = tokio::spawn(forward_dns(socket, config.nameserver));

        let root = dir.path().display();
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {root}/queue\n\
             data_directory = {root}/data\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             maillog_file = {root}/maillog\n\
             maillog_file_prefixes = {root}\n\
             myhostname = {hostname}\n\
             myorigin = $myhostname\n\
             mydestination =\n\
             alias_maps =\n\
             alias_database =\n\
             biff = no\n\
             inet_protocols = ipv4\n\
             # Nothing listens (master.cf has no smtpd). An address that no\n\
             # interface has (127.0.0.5) is refused here, so the source\n\
             # address is set with smtp_bind_address. Own addresses only\n\
             # matter for loop detection, which Postfix skips off port 25.\n\
             inet_interfaces = loopback-only\n\
             smtp_bind_address = {source}\n\
             smtp_tcp_port = {port}\n\
             smtp_tls_security_level = may\n\
             smtp_tls_loglevel = 1\n\
             smtp_connect_timeout = 5s\n\
             smtp_helo_timeout = 10s\n\
             # A deferred message is retried within seconds, not minutes.\n\
             queue_run_delay = 1s\n\
             minimal_backoff_time = 1s\n\
             maximal_backoff_time = 2s\n\
             {extra}\n",
            hostname = config.hostname,
            source = config.source,
            port = config.smtp_port,
            extra = config.main_cf,
        );
        std::fs::write(conf.join("main.cf"), main_cf).expect("write main.cf");
        std::fs::write(conf.join("master.cf"), MASTER_CF).expect("write master.cf");

        let mut pf = Postfix {
            dir,
            master: None,
            forwarder,
            resolver,
        };
        // `postfix check` creates the queue subdirectories and data_directory
        // with the owners and modes Postfix insists on.
        let out = Command::new(command_directory().join("postfix"))
            .args(["-c", &pf.conf().display().to_string(), "check"])
            .stdin(Stdio::null())
            .output()
            .expect("run postfix check");
        assert!(
            out.status.success(),
            "postfix check failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            pf.log()
        );
        // The chrooted smtp client's resolver configuration.
        std::fs::create_dir_all(queue.join("etc")).expect("mkdir queue/etc");
        std::fs::write(
            queue.join("etc/resolv.conf"),
            format!(
                "nameserver {}\noptions timeout:1 attempts:3\n",
                resolver.ip()
            ),
        )
        .expect("write resolv.conf");

        let master = Command::new(daemon_directory().join("master"))
            .args(["-c", &pf.conf().display().to_string(), "-d"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Postfix master");
        pf.master = Some(master);
        pf.wait_ready().await;
        pf
    }

    /// The config directory (`-c` / `-C` argument of Postfix commands).
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    /// The queue directory.
    pub fn queue(&self) -> PathBuf {
        self.dir.path().join("queue")
    }

    /// Postfix's log so far (`maillog_file`).
    pub fn log(&self) -> String {
        let text = std::fs::read(self.dir.path().join("maillog")).unwrap_or_default();
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Waits (≤ 10 s) until master has created its service endpoints.
    async fn wait_ready(&mut self) {
        let queue = self.queue();
        let ready = |p: &Path| {
            [
                "public/pickup",
                "public/cleanup",
                "private/smtp",
                "public/qmgr",
            ]
            .iter()
            .all(|s| p.join(s).exists())
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self
                .master
                .as_mut()
                .and_then(|m| m.try_wait().ok().flatten())
            {
                panic!("Postfix master exited ({status}):\n{}", self.log());
            }
            if ready(&queue) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Postfix master not ready within 10 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Submits a message with Postfix's `sendmail` (the envelope sender and
    /// recipients given, `-oi`: a lone dot does not end the input).
    pub async fn sendmail(&self, from: &str, to: &[&str], message: &[u8]) {
        let mut child = tokio::process::Command::new(sendmail_path())
            .arg("-C")
            .arg(self.conf())
            .args(["-oi", "-f", from, "--"])
            .args(to)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run Postfix sendmail");
        let mut stdin = child.stdin.take().expect("sendmail stdin");
        stdin.write_all(message).await.expect("write to sendmail");
        drop(stdin);
        let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
            .await
            .expect("sendmail finished within 20 s")
            .expect("wait for sendmail");
        assert!(
            out.status.success(),
            "sendmail failed ({}): {}{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Stops the instance (same as dropping it).
    pub fn stop(self) {}
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.forwarder.abort();
        let Some(mut master) = self.master.take() else {
            return;
        };
        // master runs in its own process group (its pid), with every
        // Postfix daemon it started: SIGTERM to the group, SIGKILL if the
        // master is still there after 5 s. The master is not reaped before
        // the signals, so the group id cannot have been reused.
        let group = format!("-{}", master.id());
        let signal = |sig: &str| {
            // The shell's built-in kill: no procps needed.
            let _ = Command::new("sh")
                .args(["-c", "kill -s \"$1\" -- \"$2\"", "sh", sig, &group])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = master.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal("KILL");
        let _ = master.wait();
    }
}

/// A UDP socket on port 53 of a random `127.53.x.y` (glibc's resolver
/// only talks to port 53; a random address lets instances coexist).
async fn bind_port_53() -> (UdpSocket, SocketAddr) {
    let mut last = None;
    for _ in 0..20 {
        let ip = Ipv4Addr::new(
            127,
            53,
            rand::random::<u8>().max(1),
            rand::random::<u8>().clamp(1, 254),
        );
        match UdpSocket::bind((ip, 53)).await {
            Ok(s) => {
                let addr = s.local_addr().expect("local addr");
                return (s, addr);
            }
            Err(e) => last = Some(e),
        }
    }
    panic!("cannot bind a UDP socket on 127.53.x.y:53: {last:?}");
}

/// Relays each query to `upstream` and its answer back (UDP only: the
/// test answers are far below 512 octets, so nothing falls back to TCP).
async fn forward_dns(socket: UdpSocket, upstream: SocketAddr) {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let query = buf[..n].to_vec();
        let socket = socket.clone();
        tokio::spawn(async move {
            let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
                return;
            };
            if up.connect(upstream).await.is_err() || up.send(&query).await.is_err() {
                return;
            }
            let mut answer = vec![0u8; 65_535];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(2), up.recv(&mut answer)).await
            {
                let _ = socket.send_to(&answer[..n], client).await;
            }
        });
    }
}
