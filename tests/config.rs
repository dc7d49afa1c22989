//! The config layer from the outside: the shipped example files parse to
//! the documented values, and every kind of mistake is reported with file,
//! line and key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use postel::config::load::{load, parse};
use postel::config::{Config, ConfigProblem};

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter()
        .map(|a| a.parse().expect("test address"))
        .collect()
}

fn problems(text: &str) -> Vec<ConfigProblem> {
    match parse(Path::new("/etc/postel/postel.toml"), text) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.problems,
    }
}

/// `(line, key)` of every problem, in reported order.
fn spots(text: &str) -> Vec<(usize, String)> {
    problems(text)
        .into_iter()
        .map(|p| (p.line, p.key))
        .collect()
}

fn spot(line: usize, key: &str) -> (usize, String) {
    (line, key.to_string())
}

#[test]
fn production_example_parses_to_the_documented_values() {
    let path = repo_file("config/postel.toml");
    let c = load(&path).unwrap_or_else(|e| panic!("config/postel.toml:\n{e}"));
    assert_eq!(c.source, path);
    assert_eq!(c.server.hostname, "mail.example.org");
    assert_eq!(c.server.data_dir, Path::new("/var/lib/postel"));
    assert_eq!(
        c.database.url.as_deref(),
        Some("sqlite:///var/lib/postel/postel.db")
    );
    assert_eq!(c.database_url(), "sqlite:///var/lib/postel/postel.db");
    assert!(c.tls.cert.is_none() && c.tls.key.is_none());
    let l = &c.listen;
    assert_eq!(l.smtp, addrs(&["0.0.0.0:25", "[::]:25"]));
    assert_eq!(l.submission, addrs(&["0.0.0.0:587", "[::]:587"]));
    assert_eq!(l.submissions, addrs(&["0.0.0.0:465", "[::]:465"]));
    assert_eq!(l.imap, addrs(&["0.0.0.0:143", "[::]:143"]));
    assert_eq!(l.imaps, addrs(&["0.0.0.0:993", "[::]:993"]));
    assert_eq!(l.pop3, addrs(&["0.0.0.0:110", "[::]:110"]));
    assert_eq!(l.pop3s, addrs(&["0.0.0.0:995", "[::]:995"]));
    assert!(l.http.is_empty() && l.https.is_empty());
    assert_eq!(c.mta_sts, postel::config::MtaStsConfig::default());
    assert!(c.dns.nameservers.is_empty());
    assert_eq!(c.smtp.max_message_size, 52_428_800);
    assert_eq!(c.smtp.max_recipients, 100);
    let relay: Vec<String> = c
        .smtp
        .relay_networks
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(relay, ["127.0.0.0/8", "::1/128"]);
    let g = &c.greylist;
    assert!(g.enabled);
    assert_eq!(g.delay.get(), Duration::from_secs(300));
    assert_eq!(g.max_age.get(), Duration::from_secs(35 * 86_400));
    assert_eq!(g.auto_allow_after, 5);
    assert!(g.allow_networks.is_empty() && g.allow_domains.is_empty());
    assert!(!c.directory.case_sensitive_local_part);
    assert_eq!(c.directory.plus_separator, "+");
    assert_eq!(c.directory.postmaster, "");
    assert_eq!(c.log.level, "info");
}

#[test]
fn production_example_spells_out_the_defaults() {
    // The example's values are the defaults, so the comments can say so.
    let text = std::fs::read_to_string(repo_file("config/postel.toml")).expect("read");
    let example = parse(Path::new("postel.toml"), &text).expect("valid");
    let empty = parse(Path::new("empty.toml"), "").expect("valid");
    assert_eq!(
        format!("{:?}", example.listen),
        format!("{:?}", empty.listen)
    );
    assert_eq!(format!("{:?}", example.smtp), format!("{:?}", empty.smtp));
    assert_eq!(
        format!("{:?}", example.greylist),
        format!("{:?}", empty.greylist)
    );
    assert_eq!(
        format!("{:?}", example.directory),
        format!("{:?}", empty.directory)
    );
    assert_eq!(example.log.level, empty.log.level);
    assert_eq!(example.security, empty.security);
    assert_eq!(example.limits, empty.limits);
    assert_eq!(example.server.data_dir, empty.server.data_dir);
    assert_eq!(example.database_url(), empty.database_url());
}

#[test]
fn dev_config_is_loopback_high_ports_and_local_data() {
    let c = load(&repo_file("config/dev.toml")).unwrap_or_else(|e| panic!("config/dev.toml:\n{e}"));
    let cwd = std::env::current_dir().expect("cwd");
    assert_eq!(c.server.hostname, "localhost");
    assert_eq!(c.server.data_dir, cwd.join("data"));
    assert_eq!(c.database_url(), "sqlite://./data/postel.db");
    assert!(c.tls.cert.is_none() && c.tls.key.is_none(), "self-signed");
    let l = &c.listen;
    let all = [
        &l.smtp,
        &l.submission,
        &l.submissions,
        &l.imap,
        &l.imaps,
        &l.pop3,
        &l.pop3s,
    ];
    let ports: Vec<u16> = all.iter().map(|v| v[0].port()).collect();
    assert_eq!(ports, [2525, 5870, 4650, 1430, 9930, 1100, 9950]);
    for list in all {
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].ip().to_string(), "127.0.0.1");
    }
    assert!(!c.greylist.enabled || c.greylist.delay.get() <= Duration::from_secs(10));
}

#[test]
fn empty_file_gets_every_default() {
    let c = parse(Path::new("empty.toml"), "").expect("an empty file is valid");
    let d = Config::default();
    assert_eq!(c.source, Path::new("empty.toml"));
    assert_eq!(c.server.hostname, postel::config::system_hostname());
    assert_eq!(c.server.data_dir, d.server.data_dir);
    assert_eq!(c.listen.smtp, addrs(&["0.0.0.0:25", "[::]:25"]));
    assert_eq!(c.listen.pop3s, addrs(&["0.0.0.0:995", "[::]:995"]));
    assert_eq!(c.smtp.max_recipients, 100);
    assert_eq!(c.greylist.delay.get(), Duration::from_secs(300));
    assert_eq!(c.directory.plus_separator, "+");
    assert_eq!(c.log.level, "info");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let p = problems("[server]\nhostname = \"mx.test\"\n\n[smtp]\nrelay_networkz = []\n");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].file, Path::new("/etc/postel/postel.toml"));
    assert_eq!((p[0].line, p[0].key.as_str()), (5, "smtp.relay_networkz"));
    assert_eq!(
        p[0].to_string(),
        format!(
            "/etc/postel/postel.toml:5: smtp.relay_networkz: {}",
            p[0].message
        )
    );
}

#[test]
fn bad_duration_names_key_value_and_line() {
    let p = problems("[greylist]\nenabled = true\ndelay = \"5 parsecs\"\n");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (3, "greylist.delay"));
    assert!(p[0].message.contains("5 parsecs"), "{}", p[0].message);
}

#[test]
fn bad_address_names_key_value_and_line() {
    let p = problems("[listen]\nsmtp = []\nimap = [\"127.0.0.1:143\", \"localhost:143\"]\n");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (3, "listen.imap"));
    assert!(p[0].message.contains("localhost:143"), "{}", p[0].message);
}

#[test]
fn every_problem_in_the_file_is_reported() {
    let text = "\
[server]
hostnam = \"mx.test\"

[listen]
imap = [\"127.0.0.1\"]

[greylist]
delay = \"soon\"

[smtp]
relay_networkz = []
";
    assert_eq!(
        spots(text),
        [
            spot(2, "server.hostnam"),
            spot(5, "listen.imap"),
            spot(8, "greylist.delay"),
            spot(11, "smtp.relay_networkz"),
        ]
    );
    let err = parse(Path::new("x.toml"), text).expect_err("invalid");
    let shown = err.to_string();
    assert_eq!(shown.lines().count(), 4, "one problem per line:\n{shown}");
    assert!(shown.lines().all(|l| l.starts_with("x.toml:")), "{shown}");
}

#[test]
fn semantic_checks_name_their_keys() {
    let text = "\
[server]
hostname = \"mail_server.example\"
[database]
url = \"mysql://db/postel\"
[dns]
nameservers = [\"9.9.9.9\", \"dns.example\"]
[smtp]
max_message_size = 0
max_recipients = 0
[greylist]
allow_domains = [\"ok.example\", \"-bad.example\"]
allow_networks = [\"10.0.0.0/40\"]
[directory]
plus_separator = \"+-\"
postmaster = \"postmaster\"
[log]
level = \"postel=loud\"
";
    assert_eq!(
        spots(text),
        [
            spot(2, "server.hostname"),
            spot(4, "database.url"),
            spot(6, "dns.nameservers"),
            spot(8, "smtp.max_message_size"),
            spot(9, "smtp.max_recipients"),
            spot(11, "greylist.allow_domains"),
            spot(12, "greylist.allow_networks"),
            spot(14, "directory.plus_separator"),
            spot(15, "directory.postmaster"),
            spot(17, "log.level"),
        ]
    );
}

#[test]
fn toml_syntax_error_reports_its_line() {
    let p = problems("[server]\nhostname = \"mx.test\"\ndata_dir = /var/lib/postel\n");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 3, "{}", p[0].message);
}

#[test]
fn cert_without_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("fullchain.pem");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").expect("write");
    let p = problems(&format!("[tls]\ncert = \"{}\"\n", cert.display()));
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (2, "tls.key"));
}

#[test]
fn missing_tls_files_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&key, "k").expect("write");
    let text = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        cert.display(),
        key.display()
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (2, "tls.cert"));
    assert!(p[0].message.contains("c.pem"), "{}", p[0].message);
}

#[test]
fn duplicate_listener_address_is_refused() {
    let text = "[listen]\nimap = [\"127.0.0.1:1430\"]\npop3 = [\"127.0.0.1:1100\"]\nimaps = [\"127.0.0.1:1430\"]\n";
    let p = problems(text);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (4, "listen.imaps"));
    assert!(p[0].message.contains("listen.imap"), "{}", p[0].message);
}

#[test]
fn load_reads_files_and_reports_unreadable_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("postel.toml");
    std::fs::write(&path, "[smtp]\nmax_recipients = 250\n").expect("write");
    let c = load(&path).expect("valid");
    assert_eq!((c.smtp.max_recipients, c.source()), (250, path.as_path()));
    let missing = dir.path().join("missing.toml");
    let err = load(&missing).expect_err("missing file");
    assert_eq!(err.problems.len(), 1);
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn auth_and_smtp_timeout_keys_parse_and_bad_values_are_named() {
    use postel::config::{FailAction, ReverseDns};
    let path = std::path::Path::new("/etc/postel/test.toml");
    let ok = postel::config::load::parse(
        path,
        "[auth]\nspf_fail = \"reject\"\ndnsbl = [\"Zen.Spamhaus.org\"]\nreverse_dns = \"off\"\n\
         [smtp]\ncommand_timeout = \"2m\"\nhard_error_limit = 5\n",
    )
    .expect("valid");
    assert_eq!(ok.auth.spf_fail, FailAction::Reject);
    assert_eq!(ok.auth.dmarc_quarantine, FailAction::Junk);
    assert_eq!(ok.auth.reverse_dns, ReverseDns::Off);
    assert_eq!(ok.auth.dnsbl, vec!["zen.spamhaus.org".to_string()]);
    assert_eq!(ok.smtp.command_timeout.get().as_secs(), 120);
    assert_eq!(ok.smtp.hard_error_limit, 5);
    let err = postel::config::load::parse(
        path,
        "[auth]\nspf_fail = \"bounce\"\n\n[smtp]\ndata_timeout = \"soon\"\n",
    )
    .expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("test.toml:2: auth.spf_fail:"), "{text}");
    assert!(text.contains("test.toml:5: smtp.data_timeout:"), "{text}");
}
