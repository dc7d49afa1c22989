//! `postel dns DOMAIN` and `postel dns check DOMAIN` end to end: the real
//! binary, a config whose resolver is the in-process DNS server of
//! `common::dns`, serving a zone built from what `postel dns` printed
//! (and the keys `postel dkim generate` made), then broken on purpose.
//!
//! The binary runs synchronously on the test thread, so the tests use a
//! multi-threaded runtime: the DNS server answers from the worker threads.

mod common;
#[path = "fixtures/dkim/support.rs"]
mod dkim_support;

use std::net::IpAddr;
use std::process::Output;

use common::dns::{self, TestDns, TestRecord};
use dkim_support::{Cli, Record, parse_records};
use serde_json::Value;

const HOST: &str = "mail.example.org";
const V4: &str = "192.0.2.10";
const V6: &str = "2001:db8::10";

/// A CLI whose config names `HOST`, enables every service but POP3 on
/// public addresses, and resolves through `server`.
async fn setup(server: &TestDns) -> Cli {
    let t = common::sqlite().await;
    let config = t.dir.path().join("postel.toml");
    let text = format!(
        "[server]\nhostname = \"{HOST}\"\ndata_dir = \"{}\"\n[database]\nurl = \"{}\"\n\
         [listen]\nsmtp = [\"0.0.0.0:25\"]\nsubmission = [\"0.0.0.0:587\"]\n\
         submissions = [\"[::]:465\"]\nimap = [\"0.0.0.0:143\"]\nimaps = [\"0.0.0.0:993\"]\n\
         pop3 = []\npop3s = [\"0.0.0.0:995\"]\n[dns]\nnameservers = [\"{}\"]\n",
        t.dir.path().join("data").display(),
        t.url,
        server.addr()
    );
    std::fs::write(&config, text).expect("write config");
    let cli = Cli { config, t };
    cli.ok(&["domain", "add", "example.org"]);
    cli
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("JSON expected ({e}): {out}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("string expected: {v}"))
}

/// The test-server records for `postel dns --format json` output: every
/// record that is not a placeholder, PTRs included.
fn zone_from(printed: &Value) -> Vec<TestRecord> {
    let ips: Vec<IpAddr> = [V4, V6].iter().map(|a| a.parse().expect("ip")).collect();
    let mut zone = Vec::new();
    for r in printed["records"].as_array().expect("records") {
        if r["placeholder"] == true {
            continue;
        }
        let (name, value) = (s(&r["name"]).trim_end_matches('.'), s(&r["value"]));
        let fields: Vec<&str> = value.split(' ').collect();
        let num = |i: usize| fields[i].parse::<u16>().expect("number");
        zone.push(match s(&r["type"]) {
            "MX" => dns::mx(name, num(0), fields[1]),
            "A" => dns::a(name, value),
            "AAAA" => dns::aaaa(name, value),
            "TXT" => dns::txt(name, value),
            "SRV" => dns::srv(name, num(0), num(1), num(2), fields[3]),
            "CNAME" => dns::cname(name, value),
            "PTR" => {
                let ip = ips
                    .iter()
                    .find(|ip| dnsrecords_reverse(**ip) == name)
                    .unwrap_or_else(|| panic!("PTR for an unknown address: {name}"));
                TestRecord::Ptr(*ip, value.into())
            }
            other => panic!("unexpected type {other}"),
        });
    }
    zone
}

fn dnsrecords_reverse(ip: IpAddr) -> String {
    postel::dnsrecords::reverse_name(ip)
}

/// `postel dns check example.org --format json`: exit success and report.
fn check(cli: &Cli, extra: &[&str]) -> (bool, Value, Output) {
    let mut args = vec!["dns", "check", "example.org", "--format", "json"];
    args.extend_from_slice(extra);
    let out = cli.run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.success(), json(&stdout), out)
}

fn finding<'a>(report: &'a Value, name: &str, rtype: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["name"] == format!("{name}.") && f["type"] == rtype)
        .unwrap_or_else(|| panic!("no finding for {name} {rtype}: {report:#}"))
}

/// Generates both DKIM keys and builds the zone `postel dns` asks for.
async fn published(cli: &Cli) -> (Vec<Record>, Vec<TestRecord>) {
    let rsa = cli.generate("example.org", &[]);
    let ed = cli.generate("example.org", &["--algorithm", "ed25519"]);
    let text = cli.ok(&["dns", "example.org", "--address", V4, "--address", V6]);
    // The zone file carries the DKIM records exactly as `dkim generate`
    // printed them (same 255-byte strings).
    let in_zone = parse_records(&text);
    for key in [&rsa, &ed] {
        assert!(in_zone.contains(key), "{key:?} missing from:\n{text}");
    }
    assert!(
        text.contains("\nexample.org. IN MX 10 mail.example.org.\n"),
        "{text}"
    );
    assert!(
        text.contains("\n_pop3._tcp.example.org. IN SRV 0 0 0 .\n"),
        "{text}"
    );
    assert!(
        text.contains("\n; 10.2.0.192.in-addr.arpa. IN PTR mail.example.org.\n"),
        "{text}"
    );
    let printed = json(&cli.ok(&[
        "dns",
        "example.org",
        "--address",
        V4,
        "--address",
        V6,
        "--format",
        "json",
    ]));
    (vec![rsa, ed], zone_from(&printed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_zone_checks_ok() {
    let server = TestDns::start([]).await;
    let cli = setup(&server).await;
    let (_, zone) = published(&cli).await;
    assert!(zone.len() >= 18, "{zone:?}");
    for r in zone {
        server.add(r);
    }
    let (ok, report, out) = check(&cli, &[]);
    assert!(ok, "dns check failed: {report:#}");
    assert_eq!(report["ok"], true);
    for f in report["findings"].as_array().expect("findings") {
        assert_eq!(f["status"], "ok", "{f:#}");
    }
    assert!(out.stdout.len() > 100);
    let spf = finding(&report, "example.org", "TXT");
    assert!(
        s(&spf["detail"]).contains(&format!("authorises {V4}, {V6}")),
        "{spf}"
    );
    assert!(s(&spf["detail"]).contains("1 DNS lookups"), "{spf}");
    let ptr = finding(&report, "10.2.0.192.in-addr.arpa", "PTR");
    assert!(s(&ptr["detail"]).contains("forward-confirmed"), "{ptr}");
    let srv = finding(&report, "_pop3._tcp.example.org", "SRV");
    assert_eq!(srv["found"][0], "0 0 0 .");

    // The text report: one OK line per record, then the summary.
    let text = cli.run(&["dns", "check", "example.org"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("OK       MX    example.org."), "{text}");
    assert!(text.trim_end().ends_with("OK, 0 problem(s)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_zone_names_each_problem() {
    let server = TestDns::start([]).await;
    let cli = setup(&server).await;
    let (keys, zone) = published(&cli).await;
    let rsa_name = keys[0].owner().to_string();
    // Another domain's key, published under example.org's selector.
    cli.ok(&["domain", "add", "other.org"]);
    let stranger = cli.generate("other.org", &[]);
    for r in zone {
        let keep = match &r {
            TestRecord::Mx(..) => false,
            TestRecord::Ptr(ip, _) => ip.to_string() != V4,
            TestRecord::Txt(name, text) => {
                !(name == "_dmarc.example.org"
                    || *name == rsa_name
                    || (name == "example.org" && text.starts_with("v=spf1")))
            }
            _ => true,
        };
        if keep {
            server.add(r);
        }
    }
    server.add(dns::mx("example.org", 10, "mx.elsewhere.test"));
    server.add(dns::ptr(V4, "host-10.provider.test"));
    server.add(dns::txt(&rsa_name, &stranger.value()));
    let mut spf = String::from("v=spf1");
    for i in 0..11 {
        spf.push_str(&format!(" include:i{i}.spf.test"));
        server.add(dns::txt(
            &format!("i{i}.spf.test"),
            "v=spf1 ip4:198.51.100.0/24 -all",
        ));
    }
    server.add(dns::txt("example.org", &format!("{spf} -all")));

    let (ok, report, out) = check(&cli, &[]);
    assert!(!ok, "dns check must fail: {report:#}");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["ok"], false);

    let mx = finding(&report, "example.org", "MX");
    assert_eq!(mx["status"], "wrong");
    assert_eq!(mx["expected"], "10 mail.example.org.");
    assert_eq!(mx["found"][0], "10 mx.elsewhere.test.");

    assert_eq!(
        finding(&report, "_dmarc.example.org", "TXT")["status"],
        "missing"
    );

    let spf = finding(&report, "example.org", "TXT");
    assert_eq!(spf["status"], "wrong");
    let detail = s(&spf["detail"]);
    assert!(
        detail.contains("11 DNS lookups (RFC 7208 allows 10)"),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("does not authorise {V4}")),
        "{detail}"
    );

    let dkim = finding(&report, &rsa_name, "TXT");
    assert_eq!(dkim["status"], "wrong");
    assert!(
        s(&dkim["detail"]).contains("not the public half of the private key"),
        "{dkim}"
    );
    let ed = finding(&report, keys[1].owner(), "TXT");
    assert_eq!(ed["status"], "ok", "the Ed25519 key is still right: {ed}");

    let ptr = finding(&report, "10.2.0.192.in-addr.arpa", "PTR");
    assert_eq!(ptr["status"], "wrong");
    assert_eq!(ptr["found"][0], "host-10.provider.test.");
    assert!(
        s(&ptr["detail"]).contains(&format!("must name {HOST}")),
        "{ptr}"
    );
    let v6 = dnsrecords_reverse(V6.parse().expect("ip"));
    assert_eq!(finding(&report, &v6, "PTR")["status"], "ok");

    let failing: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["fails"] == true)
        .collect();
    assert_eq!(failing.len(), 5, "MX, SPF, DKIM, DMARC, PTR: {failing:#?}");
    assert_eq!(report["problems"], 5);

    // The text report says the same, expected and found included.
    let text = cli.run(&["dns", "check", "example.org"]);
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("WRONG    MX    example.org."), "{text}");
    assert!(text.contains("found:    10 mx.elsewhere.test."), "{text}");
    assert!(
        text.contains("MISSING  TXT   _dmarc.example.org."),
        "{text}"
    );
    assert!(text.contains("5 problem(s)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_outside_the_zone_must_be_authorised_and_named() {
    let server = TestDns::start([]).await;
    let cli = setup(&server).await;
    let (_, zone) = published(&cli).await;
    for r in zone {
        server.add(r);
    }
    // A NAT address the host name does not resolve to, without PTR.
    let (ok, report, _) = check(&cli, &["--address", "203.0.113.99"]);
    assert!(!ok);
    let a = finding(&report, HOST, "A");
    let spf = finding(&report, "example.org", "TXT");
    assert!(
        s(&spf["detail"]).contains("does not authorise 203.0.113.99 (result: fail)"),
        "{spf}"
    );
    let ptr = finding(&report, "99.113.0.203.in-addr.arpa", "PTR");
    assert_eq!(ptr["status"], "missing");
    assert_eq!(ptr["fails"], true);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["type"] == "A" && f["expected"] == "203.0.113.99" && f["status"] == "wrong"),
        "{a}"
    );

    // A PTR naming the host is not enough: the host must resolve back.
    server.add(dns::ptr("203.0.113.99", HOST));
    let (ok, report, _) = check(&cli, &["--address", "203.0.113.99"]);
    assert!(!ok);
    let ptr = finding(&report, "99.113.0.203.in-addr.arpa", "PTR");
    assert_eq!(ptr["status"], "wrong");
    assert_eq!(ptr["found"][0], format!("{HOST}."));
    assert!(s(&ptr["detail"]).contains("not forward-confirmed"), "{ptr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_options() {
    let server = TestDns::start([]).await;
    let cli = setup(&server).await;
    let err = cli.fails(&["dns", "elsewhere.test"]);
    assert!(err.contains("not a local domain"), "{err}");
    let err = cli.fails(&["dns", "check", "elsewhere.test"]);
    assert!(err.contains("not a local domain"), "{err}");
    let text = cli.ok(&[
        "dns",
        "example.org",
        "--spf-all",
        "softfail",
        "--dmarc",
        "reject",
    ]);
    assert!(
        text.contains("example.org. IN TXT ( \"v=spf1 mx ~all\" )"),
        "{text}"
    );
    assert!(text.contains("\"v=DMARC1; p=reject; rua=mailto:postmaster@example.org\""));
    // No key yet: the DKIM entry says how to make one, commented out.
    assert!(text.contains("postel dkim generate example.org"), "{text}");
    assert!(
        text.contains("; mail.example.org. IN A <public IPv4 address"),
        "{text}"
    );
    // Nothing published: required records are missing, exit 1.
    let (ok, report, _) = check(&cli, &[]);
    assert!(!ok);
    assert_eq!(finding(&report, "example.org", "MX")["status"], "missing");
    assert_eq!(
        finding(&report, "autoconfig.example.org", "CNAME")["fails"],
        false
    );
}
