//! Unit tests of loading: schema walk, line numbers, cross-key checks.

use std::path::Path;
use std::time::Duration;

use super::load::{ConfigProblem, parse};
use super::{Config, HumanDuration};

fn ok(text: &str) -> Config {
    match parse(Path::new("t.toml"), text) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn problems(text: &str) -> Vec<ConfigProblem> {
    match parse(Path::new("t.toml"), text) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.problems,
    }
}

/// `(line, key)` of every problem.
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
fn empty_text_is_the_default_config() {
    let c = ok("");
    let d = Config::default();
    assert_eq!(c.source, Path::new("t.toml"));
    assert_eq!(c.server.hostname, d.server.hostname);
    assert_eq!(c.server.data_dir, Path::new("/var/lib/postel"));
    assert_eq!(c.listen.smtp, d.listen.smtp);
    assert_eq!(c.listen.imaps.len(), 2);
    assert_eq!(c.smtp.max_message_size, 52_428_800);
    assert_eq!(c.greylist.delay, HumanDuration::from_secs(300));
    assert_eq!(c.log.level, "info");
    assert_eq!(c.database_url(), "sqlite:///var/lib/postel/postel.db");
}

#[test]
fn reads_inline_and_dotted_tables() {
    let c = ok("smtp = { max_recipients = 7 }\ngreylist.delay = \"1h30m\"\n");
    assert_eq!(c.smtp.max_recipients, 7);
    assert_eq!(c.greylist.delay.get(), Duration::from_secs(5_400));
}

#[test]
fn unknown_keys_and_sections_are_named_with_a_hint() {
    let text = "[smtp]\nrelay_networkz = []\n\n[smpt]\nx = 1\n[smtp.extra]\ny = 2\n";
    let p = problems(text);
    let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str())).collect();
    assert_eq!(
        got,
        [(2, "smtp.relay_networkz"), (4, "smpt"), (6, "smtp.extra")]
    );
    assert!(
        p[0].message.contains("did you mean `relay_networks`"),
        "{}",
        p[0].message
    );
    assert!(p[1].message.contains("unknown section"), "{}", p[1].message);
}

#[test]
fn top_level_key_outside_a_section_is_unknown() {
    assert_eq!(spots("hostname = \"x\"\n"), [spot(1, "hostname")]);
}

#[test]
fn wrong_types_are_reported_per_key() {
    let text =
        "[smtp]\nmax_recipients = \"ten\"\n[greylist]\nenabled = \"yes\"\n[log]\nlevel = 3\n";
    let p = problems(text);
    let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "smtp.max_recipients"),
            (4, "greylist.enabled"),
            (6, "log.level")
        ]
    );
    assert!(
        p[0].message.contains("expected an integer, found string"),
        "{}",
        p[0].message
    );
}

#[test]
fn section_that_is_not_a_table() {
    assert_eq!(spots("\nsmtp = 5\n"), [spot(2, "smtp")]);
    assert_eq!(spots("[[listen]]\nimap = []\n"), [spot(1, "listen")]);
}

#[test]
fn bad_duration_names_key_value_and_line() {
    let p = problems("[greylist]\n\ndelay = \"5 minutes\"\n");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].key.as_str()), (3, "greylist.delay"));
    assert!(p[0].message.contains("\"5 minutes\""), "{}", p[0].message);
}

#[test]
fn each_bad_list_element_reports_its_own_line() {
    let text = "[listen]\nimap = [\n  \"127.0.0.1:143\",\n  \"nope\",\n  \"::1:143\",\n]\n";
    let p = problems(text);
    let got: Vec<_> = p.iter().map(|p| (p.line, p.key.as_str())).collect();
    assert_eq!(got, [(4, "listen.imap"), (5, "listen.imap")]);
    assert!(p[0].message.contains("\"nope\""), "{}", p[0].message);
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = "\
[server]
hostname = \"-bad-\"
data_dir = \"\"
[tls]
cert = \"/nonexistent/cert.pem\"
[smtp]
max_message_size = 0
max_recipients = 0
relay_networks = [\"10.0.0.0/33\"]
[dns]
nameservers = [\"resolver\"]
[directory]
plus_separator = \"++\"
postmaster = \"nobody\"
[database]
url = \"mysql://db\"
";
    let got = spots(text);
    let expected = [
        spot(2, "server.hostname"),
        spot(3, "server.data_dir"),
        spot(5, "tls.key"),
        spot(5, "tls.cert"),
        spot(7, "smtp.max_message_size"),
        spot(8, "smtp.max_recipients"),
        spot(9, "smtp.relay_networks"),
        spot(11, "dns.nameservers"),
        spot(13, "directory.plus_separator"),
        spot(14, "directory.postmaster"),
        spot(16, "database.url"),
    ];
    assert_eq!(got, expected);
}

#[test]
fn syntax_error_has_its_line_and_stops_there() {
    let p = problems("[smtp]\nmax_recipients = 5\nrelay_networks = [\"a\"\n[log]\n");
    assert_eq!(p.len(), 1);
    assert!((3..=4).contains(&p[0].line), "line {}", p[0].line);
    assert!(p[0].key.is_empty());
    assert!(
        p[0].message.starts_with("TOML syntax error"),
        "{}",
        p[0].message
    );
    let p = problems("[smtp]\nmax_recipients = 5\nmax_recipients = 6\n");
    assert_eq!(p[0].line, 3, "duplicate key: {}", p[0].message);
}

#[test]
fn tls_pair_and_readability() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("fullchain.pem");
    std::fs::write(&cert, "PEM").expect("write");
    let cert = cert.display();
    assert_eq!(
        spots(&format!("[tls]\ncert = \"{cert}\"\n")),
        [spot(2, "tls.key")]
    );
    assert_eq!(
        spots(&format!("[tls]\n\nkey = \"{cert}\"\n")),
        [spot(3, "tls.cert")]
    );
    let missing = dir.path().join("privkey.pem");
    let text = format!(
        "[tls]\ncert = \"{cert}\"\nkey = \"{}\"\n",
        missing.display()
    );
    let p = problems(&text);
    assert_eq!((p.len(), p[0].line, p[0].key.as_str()), (1, 3, "tls.key"));
    assert!(p[0].message.contains("does not exist"), "{}", p[0].message);
    let c = ok(&format!("[tls]\ncert = \"{cert}\"\nkey = \"{cert}\"\n"));
    assert_eq!(
        c.tls.key.as_deref(),
        Some(dir.path().join("fullchain.pem").as_path())
    );
}

#[test]
fn listener_clashes() {
    let text = "[listen]\nsmtp = [\"127.0.0.1:2525\"]\nsubmission = [\"127.0.0.1:2525\"]\n";
    let p = problems(text);
    assert_eq!(
        (p.len(), p[0].line, p[0].key.as_str()),
        (1, 3, "listen.submission")
    );
    assert!(
        p[0].message.contains("listen.smtp (line 2)"),
        "{}",
        p[0].message
    );
    // A written address against a default one, and a wildcard overlap.
    assert_eq!(
        spots("[listen]\nimap = [\"127.0.0.1:25\"]\n"),
        [spot(2, "listen.imap")]
    );
    // The same list twice, and port 0 used twice (allowed).
    assert_eq!(
        spots("[listen]\npop3 = [\"[::1]:1\", \"[::1]:1\"]\n"),
        [spot(2, "listen.pop3")]
    );
    let c = ok("[listen]\nsmtp = [\"127.0.0.1:0\"]\nimap = [\"127.0.0.1:0\"]\npop3 = []\n");
    assert!(c.listen.pop3.is_empty());
}

#[test]
fn relative_paths_follow_the_working_directory() {
    let cwd = std::env::current_dir().expect("cwd");
    let c = ok("[server]\ndata_dir = \"./data\"\n");
    assert_eq!(c.server.data_dir, cwd.join("data"));
    assert_eq!(
        c.server.data_dir.to_string_lossy(),
        cwd.join("data").to_string_lossy()
    );
    assert_eq!(c.mail_root(), cwd.join("data/mail"));
}

#[test]
fn greylist_max_age_must_exceed_delay() {
    let p = problems("[greylist]\ndelay = \"2d\"\nmax_age = \"1d\"\n");
    assert_eq!(
        (p.len(), p[0].line, p[0].key.as_str()),
        (1, 3, "greylist.max_age")
    );
    assert_eq!(
        spots("[greylist]\ndelay = \"40d\"\n"),
        [spot(2, "greylist.delay")]
    );
    ok("[greylist]\nenabled = false\ndelay = \"40d\"\n");
}

#[test]
fn value_conversions() {
    let c = ok("[dns]\nnameservers = [\"9.9.9.9\", \"[::1]:5353\"]\n\
                [greylist]\nallow_networks = [\"192.0.2.7\"]\nallow_domains = [\"Example.ORG\"]\n\
                auto_allow_after = 0\n[smtp]\nmax_message_size = 2147483648\n");
    assert_eq!(c.dns.nameservers[0], "9.9.9.9:53".parse().expect("addr"));
    assert_eq!(
        c.greylist.allow_networks[0],
        "192.0.2.7/32".parse().expect("net")
    );
    assert_eq!(c.greylist.allow_domains, ["example.org"]);
    assert_eq!(c.greylist.auto_allow_after, 0);
    assert_eq!(c.smtp.max_message_size, 2 * 1024 * 1024 * 1024);
    assert_eq!(
        spots("[smtp]\nmax_message_size = 2147483649\n"),
        [spot(2, "smtp.max_message_size")]
    );
    assert_eq!(
        spots("[greylist]\nauto_allow_after = -1\n"),
        [spot(2, "greylist.auto_allow_after")]
    );
    assert_eq!(
        spots("[log]\nlevel = \"postel=lod\"\n"),
        [spot(2, "log.level")]
    );
}

#[test]
fn problem_display_format() {
    let p = &problems("[greylist]\ndelay = \"soon\"\n")[0];
    let shown = p.to_string();
    assert!(
        shown.starts_with("t.toml:2: greylist.delay: invalid duration \"soon\""),
        "{shown}"
    );
    let syntax = problems("x = \n")[0].to_string();
    assert!(
        syntax.starts_with("t.toml:1: TOML syntax error"),
        "{syntax}"
    );
}

#[test]
fn server_user_group_and_shutdown_timeout() {
    let c = ok("");
    assert_eq!(c.server.user, None);
    assert_eq!(c.server.group, None);
    assert_eq!(c.server.shutdown_timeout, HumanDuration::from_secs(30));
    let c = ok("[server]\nuser = \"postel\"\ngroup = \"mail\"\nshutdown_timeout = \"2m\"\n");
    assert_eq!(c.server.user.as_deref(), Some("postel"));
    assert_eq!(c.server.group.as_deref(), Some("mail"));
    assert_eq!(c.server.shutdown_timeout.get(), Duration::from_secs(120));
    let text = "[server]\nuser = \"\"\ngroup = \"a b\"\nshutdown_timeout = \"soon\"\n";
    assert_eq!(
        spots(text),
        [
            spot(2, "server.user"),
            spot(3, "server.group"),
            spot(4, "server.shutdown_timeout"),
        ]
    );
}
