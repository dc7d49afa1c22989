use super::*;
use crate::dkim::Algorithm;

fn key(selector: &str, algorithm: Algorithm) -> KeyInfo {
    KeyInfo {
        domain: "example.org".into(),
        selector: selector.into(),
        algorithm,
        public_key: "A".repeat(400),
        active: true,
        created_at: 0,
    }
}

fn find<'a>(records: &'a [Record], name: &str, rtype: &str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.name == name && r.data.rtype() == rtype)
        .collect()
}

fn value(records: &[Record], name: &str, rtype: &str) -> String {
    let found = find(records, name, rtype);
    assert_eq!(found.len(), 1, "{name} {rtype}: {records:#?}");
    found[0].data.value()
}

#[test]
fn defaults_for_a_fully_enabled_server() {
    let listen = ListenConfig::default();
    let keys = [
        key("s1", Algorithm::RsaSha256),
        key("s1-ed", Algorithm::Ed25519Sha256),
    ];
    let addrs: Vec<IpAddr> = vec![
        "192.0.2.7".parse().unwrap_or_else(|_| unreachable!()),
        "2001:db8::7".parse().unwrap_or_else(|_| unreachable!()),
    ];
    let r = plan(&Plan {
        domain: "example.org",
        hostname: "mail.example.org",
        listen: &listen,
        dkim: &keys,
        spf_all: SpfAll::Fail,
        dmarc: DmarcPolicy::Quarantine,
        addresses: &addrs,
        mta_sts_id: Some("0123abcd"),
    });
    assert_eq!(value(&r, "example.org", "MX"), "10 mail.example.org.");
    assert_eq!(
        value(&r, "_mta-sts.example.org", "TXT"),
        "v=STSv1; id=0123abcd"
    );
    assert_eq!(
        value(&r, "mta-sts.example.org", "CNAME"),
        "mail.example.org."
    );
    assert_eq!(value(&r, "mail.example.org", "A"), "192.0.2.7");
    assert_eq!(value(&r, "mail.example.org", "AAAA"), "2001:db8::7");
    assert_eq!(
        value(&r, "7.2.0.192.in-addr.arpa", "PTR"),
        "mail.example.org."
    );
    assert_eq!(value(&r, "example.org", "TXT"), "v=spf1 mx -all");
    assert_eq!(
        value(&r, "_dmarc.example.org", "TXT"),
        "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"
    );
    assert_eq!(
        value(&r, "_smtp._tls.example.org", "TXT"),
        "v=TLSRPTv1; rua=mailto:postmaster@example.org"
    );
    let dkim = value(&r, "s1._domainkey.example.org", "TXT");
    assert_eq!(dkim, keys[0].record().value);
    assert!(value(&r, "s1-ed._domainkey.example.org", "TXT").contains("k=ed25519"));
    for (label, port) in [
        ("_submission._tcp", 587),
        ("_submissions._tcp", 465),
        ("_imap._tcp", 143),
        ("_imaps._tcp", 993),
        ("_pop3._tcp", 110),
        ("_pop3s._tcp", 995),
    ] {
        assert_eq!(
            value(&r, &format!("{label}.example.org"), "SRV"),
            format!("0 1 {port} mail.example.org.")
        );
    }
    for label in ["autoconfig", "autodiscover"] {
        assert_eq!(
            value(&r, &format!("{label}.example.org"), "CNAME"),
            "mail.example.org."
        );
    }
    assert!(!r.iter().any(|x| matches!(x.data, Data::Placeholder { .. })));
    assert!(r.iter().all(|x| !x.explanation.contains('\n')));
}

#[test]
fn options_placeholders_and_disabled_services() {
    let listen = ListenConfig {
        submission: vec![
            "203.0.113.5:2587"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        ],
        imap: vec!["127.0.0.1:143".parse().unwrap_or_else(|_| unreachable!())],
        pop3: vec![],
        pop3s: vec![],
        ..ListenConfig::default()
    };
    let r = plan(&Plan {
        domain: "example.org",
        hostname: "mx.example.net",
        listen: &listen,
        dkim: &[],
        spf_all: SpfAll::SoftFail,
        dmarc: DmarcPolicy::Reject,
        addresses: &[],
        mta_sts_id: None,
    });
    assert!(!r.iter().any(|x| x.name.starts_with("_mta-sts.")));
    assert_eq!(value(&r, "example.org", "TXT"), "v=spf1 mx ~all");
    assert!(value(&r, "_dmarc.example.org", "TXT").contains("p=reject;"));
    assert_eq!(
        value(&r, "_submission._tcp.example.org", "SRV"),
        "0 1 2587 mx.example.net."
    );
    for off in ["_imap._tcp", "_pop3._tcp", "_pop3s._tcp"] {
        assert_eq!(value(&r, &format!("{off}.example.org"), "SRV"), "0 0 0 .");
    }
    let a = find(&r, "mx.example.net", "A");
    assert_eq!(a.len(), 1);
    assert!(a[0].required && a[0].check == Check::HostAddress);
    let aaaa = find(&r, "mx.example.net", "AAAA");
    assert!(!aaaa[0].required);
    let dkim: Vec<_> = r.iter().filter(|x| x.check == Check::Dkim).collect();
    assert_eq!(dkim.len(), 1);
    assert!(
        dkim[0]
            .data
            .value()
            .contains("postel dkim generate example.org")
    );
    let ptr: Vec<_> = r.iter().filter(|x| x.check == Check::ReverseDns).collect();
    assert_eq!(ptr.len(), 1);
    assert!(matches!(ptr[0].data, Data::Placeholder { .. }));
}

#[test]
fn public_port_skips_loopback_and_port_zero() {
    let a = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|_| unreachable!());
    assert_eq!(public_port(&[]), None);
    assert_eq!(public_port(&[a("127.0.0.1:25"), a("[::1]:25")]), None);
    assert_eq!(
        public_port(&[a("127.0.0.1:25"), a("0.0.0.0:2525")]),
        Some(2525)
    );
    assert_eq!(public_port(&[a("192.0.2.1:0")]), None);
}
