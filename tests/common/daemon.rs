//! The real `postel` binary as a daemon for tests that must kill it
//! (SIGKILL) or talk to it through the CLI: a temp data dir and config
//! (SQLite, listeners on free loopback ports, the test DNS server), user
//! set-up through the CLI, start and kill.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A config, a data dir and maybe a running `postel serve`.
pub struct Daemon {
    /// The temp dir holding everything.
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config: PathBuf,
    /// The port-25-role listener.
    pub smtp: SocketAddr,
    /// Every listener given a port, by `[listen]` key (`smtp` included).
    pub listeners: std::collections::BTreeMap<String, SocketAddr>,
    child: Option<Child>,
}

/// A port free on 127.0.0.1 right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Daemon {
    /// Writes the config (`extra` appended) for a daemon resolving
    /// through `dns`.
    pub fn new(dns: SocketAddr, extra: &str) -> Daemon {
        Daemon::with_listeners(dns, &[], extra)
    }

    /// Like [`Daemon::new`], with more listeners (`[listen]` keys such as
    /// `imap`, `pop3`, `submissions`) on free loopback ports.
    pub fn with_listeners(dns: SocketAddr, more: &[&str], extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut listeners = std::collections::BTreeMap::new();
        for key in std::iter::once(&"smtp").chain(more) {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            listeners.insert(key.to_string(), addr);
        }
        let smtp = listeners["smtp"];
        let mut listen = String::new();
        for key in [
            "smtp",
            "submission",
            "submissions",
            "imap",
            "imaps",
            "pop3",
            "pop3s",
        ] {
            match listeners.get(key) {
                Some(addr) => listen.push_str(&format!("{key} = [\"{addr}\"]\n")),
                None => listen.push_str(&format!("{key} = []\n")),
            }
        }
        let text = format!(
            "[server]\nhostname = \"mail.test\"\ndata_dir = \"{}\"\n\
             [dns]\nnameservers = [\"{dns}\"]\n\
             [listen]\n{listen}\
             [greylist]\nenabled = false\n\
             [log]\nlevel = \"info\"\n{extra}\n",
            dir.path().join("data").display()
        );
        let config = dir.path().join("postel.toml");
        std::fs::write(&config, text).expect("write config");
        Daemon {
            dir,
            config,
            smtp,
            listeners,
            child: None,
        }
    }

    /// The address of the `[listen]` key `key`.
    pub fn addr(&self, key: &str) -> SocketAddr {
        self.listeners[key]
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `postel -c CONFIG args…` with `stdin`, to completion.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_postel"))
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run postel");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).expect("stdin");
        }
        child.wait_with_output().expect("postel finishes")
    }

    /// Like [`Daemon::cli`], asserting success; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args, "");
        assert!(
            out.status.success(),
            "postel {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a domain and users with password "password".
    pub fn add_users(&self, domain: &str, locals: &[&str]) {
        self.cli_ok(&["domain", "add", domain]);
        for l in locals {
            let out = self.cli(&["user", "add", &format!("{l}@{domain}")], "password\n");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Starts `postel serve` and waits until its SMTP port answers.
    pub fn start(&mut self) {
        self.start_with_env(&[]);
    }

    /// Like [`Daemon::start`], with environment variables set.
    pub fn start_with_env(&mut self, env: &[(&str, String)]) {
        self.spawn(env);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(self.smtp).is_err() {
            assert!(
                Instant::now() < deadline,
                "daemon did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `postel serve` without waiting for it.
    pub fn spawn(&mut self, env: &[(&str, String)]) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_postel"))
            .arg("-c")
            .arg(&self.config)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .spawn()
            .expect("start postel serve");
        self.child = Some(child);
    }

    /// The running daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends `signal` (`TERM`, `HUP`, …) to the daemon with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg("-s")
            .arg(signal)
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Waits (up to `limit`) for the daemon to exit; its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon still running after {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 20 s) until the log contains `needle` `count` times.
    pub fn wait_log(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.log().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} (x{count}) in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            let _ = child.wait();
        }
    }

    /// The daemon's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Files in the spool directory.
    pub fn spool_files(&self) -> Vec<String> {
        list(&self.data_dir().join("queue"))
    }
}

fn list(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
