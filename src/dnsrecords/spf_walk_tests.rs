use std::collections::HashMap;

use super::*;
use crate::dnsrecords::spf_parse::{dual_cidr, parse_term};

/// DNS data in memory; names absent are NXDOMAIN, names in `broken`
/// fail temporarily.
#[derive(Default)]
struct Fake {
    txt: HashMap<String, Vec<String>>,
    ips: HashMap<String, Vec<IpAddr>>,
    mx: HashMap<String, Vec<String>>,
    broken: Vec<String>,
}

impl Fake {
    fn txt(mut self, name: &str, text: &str) -> Self {
        self.txt.entry(name.into()).or_default().push(text.into());
        self
    }
    fn ip(mut self, name: &str, ip: &str) -> Self {
        let ip = ip.parse().unwrap_or_else(|_| unreachable!("{ip}"));
        self.ips.entry(name.into()).or_default().push(ip);
        self
    }
    fn mx(mut self, name: &str, host: &str) -> Self {
        self.mx.entry(name.into()).or_default().push(host.into());
        self
    }
    fn get<T: Clone>(
        &self,
        map: &HashMap<String, Vec<T>>,
        name: &str,
    ) -> Result<Vec<T>, LookupError> {
        if self.broken.iter().any(|b| b == name) {
            return Err(LookupError::Temporary("SERVFAIL".into()));
        }
        map.get(name).cloned().ok_or(LookupError::NotFound)
    }
}

impl SpfDns for Fake {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        self.get(&self.txt, name)
    }
    async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        self.get(&self.ips, name)
    }
    async fn mx(&self, name: &str) -> Result<Vec<String>, LookupError> {
        self.get(&self.mx, name)
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| unreachable!("{s}"))
}

#[tokio::test]
async fn mx_all_authorises_the_mx_host_only() {
    let dns = Fake::default()
        .txt("example.org", "v=spf1 mx -all")
        .txt("example.org", "google-site-verification=abc")
        .mx("example.org", "mail.example.org")
        .ip("mail.example.org", "192.0.2.7")
        .ip("mail.example.org", "2001:db8::7");
    let tree = walk(&dns, "example.org").await;
    assert_eq!(lookups(&tree), (1, true));
    assert_eq!(void_lookups(&tree), 0);
    assert_eq!(evaluate(&tree, ip("192.0.2.7")), SpfResult::Pass);
    assert_eq!(evaluate(&tree, ip("::ffff:192.0.2.7")), SpfResult::Pass);
    assert_eq!(evaluate(&tree, ip("2001:db8::7")), SpfResult::Pass);
    assert_eq!(evaluate(&tree, ip("192.0.2.8")), SpfResult::Fail);
}

#[tokio::test]
async fn includes_and_redirects_are_counted_recursively() {
    let dns = Fake::default()
        .txt(
            "example.org",
            "v=spf1 ip4:198.51.100.0/24 include:a.test a:web.example.org redirect=r.test",
        )
        .txt("a.test", "v=spf1 include:b.test mx ~all")
        .txt(
            "b.test",
            "v=spf1 ip6:2001:db8:1::/48 exists:e.test ptr -all",
        )
        .txt("r.test", "v=spf1 a/24 -all")
        .ip("r.test", "203.0.113.1")
        .ip("web.example.org", "192.0.2.80");
    let tree = walk(&dns, "example.org").await;
    // include:a (1) + a:web (1) + redirect (1) + a.test: include:b (1) +
    // mx (1) + b.test: exists (1) + ptr (1) + r.test: a (1).
    assert_eq!(lookups(&tree), (8, true));
    // a.test's mx finds nothing; exists finding nothing is not counted.
    assert_eq!(void_lookups(&tree), 1);
    assert_eq!(evaluate(&tree, ip("198.51.100.9")), SpfResult::Pass);
    // b.test's ip6 passes, so include:b.test and include:a.test match.
    assert_eq!(evaluate(&tree, ip("2001:db8:1::5")), SpfResult::Pass);
    assert_eq!(evaluate(&tree, ip("2001:db8:2::5")), SpfResult::Fail);
    assert_eq!(evaluate(&tree, ip("192.0.2.80")), SpfResult::Pass);
    // b.test fails, a.test's ~all soft-fails: the include does not match,
    // so evaluation goes on to the redirect, whose a/24 matches.
    assert_eq!(evaluate(&tree, ip("203.0.113.200")), SpfResult::Pass);
    assert_eq!(evaluate(&tree, ip("192.0.2.1")), SpfResult::Fail);
}

#[tokio::test]
async fn eleven_lookups_are_over_the_limit() {
    let mut dns = Fake::default();
    let mut top = String::from("v=spf1");
    for i in 0..11 {
        top.push_str(&format!(" include:i{i}.test"));
        dns = dns.txt(&format!("i{i}.test"), "v=spf1 ip4:192.0.2.1 -all");
    }
    top.push_str(" -all");
    dns = dns.txt("example.org", &top);
    let tree = walk(&dns, "example.org").await;
    assert_eq!(lookups(&tree), (11, true));
    assert!(lookups(&tree).0 > MAX_LOOKUPS);
    assert_eq!(evaluate(&tree, ip("192.0.2.1")), SpfResult::Pass);
}

#[tokio::test]
async fn loops_stop_and_report_an_incomplete_count() {
    let dns = Fake::default()
        .txt("example.org", "v=spf1 include:loop.test -all")
        .txt("loop.test", "v=spf1 include:loop.test -all");
    let tree = walk(&dns, "example.org").await;
    let (n, complete) = lookups(&tree);
    assert!(n > MAX_LOOKUPS && !complete, "{n} {complete}");
    assert!(matches!(
        evaluate(&tree, ip("192.0.2.1")),
        SpfResult::PermError(_)
    ));
}

#[tokio::test]
async fn errors_and_missing_records() {
    let dns = Fake::default()
        .txt("two.test", "v=spf1 -all")
        .txt("two.test", "v=spf1 mx -all")
        .txt("bad.test", "v=spf1 ip4:300.1.1.1 -all")
        .txt("unknown.test", "v=spf1 foo:bar -all")
        .txt("inc.test", "v=spf1 include:none.test -all")
        .txt("spf10.test", "v=spf10 -all");
    let t = walk(&dns, "two.test").await;
    assert!(matches!(t.node, Node::Multiple(ref v) if v.len() == 2));
    assert!(matches!(
        evaluate(&t, ip("192.0.2.1")),
        SpfResult::PermError(_)
    ));
    assert!(matches!(
        walk(&dns, "bad.test").await.node,
        Node::Syntax { .. }
    ));
    assert!(matches!(
        walk(&dns, "unknown.test").await.node,
        Node::Syntax { .. }
    ));
    assert_eq!(walk(&dns, "nothing.test").await.node, Node::NoRecord);
    assert_eq!(walk(&dns, "spf10.test").await.node, Node::NoRecord);
    let inc = walk(&dns, "inc.test").await;
    assert_eq!(void_lookups(&inc), 1);
    assert!(
        matches!(evaluate(&inc, ip("192.0.2.1")), SpfResult::PermError(e) if e.contains("none.test"))
    );
    let mut broken = Fake::default().txt("x.test", "v=spf1 a:down.test -all");
    broken.broken.push("down.test".into());
    let t = walk(&broken, "x.test").await;
    assert!(matches!(
        evaluate(&t, ip("192.0.2.1")),
        SpfResult::TempError(_)
    ));
}

#[tokio::test]
async fn macros_and_ptr_count_but_never_match() {
    let dns = Fake::default().txt(
        "example.org",
        "v=spf1 exists:%{i}.rbl.test a:%{d}.test ptr ?all redirect=ignored.test",
    );
    let tree = walk(&dns, "example.org").await;
    assert_eq!(lookups(&tree), (3, true), "redirect is ignored with all");
    assert_eq!(evaluate(&tree, ip("192.0.2.1")), SpfResult::Neutral);
}

#[test]
fn term_syntax() {
    assert!(is_spf("v=spf1"));
    assert!(is_spf("V=SPF1 -all"));
    assert!(!is_spf("v=spf1x"));
    assert!(!is_spf("vé=spf1"));
    assert_eq!(dual_cidr(":a.test/24//64"), Some((":a.test", 24, 64)));
    assert_eq!(dual_cidr("//64"), Some(("", 32, 64)));
    assert_eq!(dual_cidr("/33"), None);
    assert!(parse_term("a:", "d.test").is_err());
    assert!(parse_term("ip6:192.0.2.1", "d.test").is_err());
    assert!(parse_term("all/24", "d.test").is_err());
    assert!(matches!(
        parse_term("exp=x.%{d}", "d.test"),
        Ok(Parsed::Ignored)
    ));
    assert!(matches!(
        parse_term("-ip4:192.0.2.1", "d.test"),
        Ok(Parsed::Mech(SpfResult::Fail, Unresolved::Ip(_)))
    ));
}
