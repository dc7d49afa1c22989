//! Mailbox, domain and path syntax (RFC 5321 §4.1.2, §4.1.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::protocol::smtp::{
    AddressError, AddressLiteral, Command, Domain, ForwardPath, Mailbox, ParseError, ReversePath,
};

fn mailbox(path: &str) -> Mailbox {
    match ForwardPath::parse(path) {
        Ok(ForwardPath::Mailbox(m)) => m,
        other => panic!("{path:?} gave {other:?}"),
    }
}

#[test]
fn dot_string_local_parts() {
    let m = mailbox("<first.last+tag@example.org>");
    assert_eq!(m.local_part(), "first.last+tag");
    assert_eq!(m.domain(), &Domain::Name("example.org".into()));
    assert!(m.is_ascii());
    let m = mailbox("<!#$%&'*+-/=?^_`{|}~@x.y>");
    assert_eq!(m.local_part(), "!#$%&'*+-/=?^_`{|}~");
    for bad in [
        "<.a@b>", "<a.@b>", "<a..b@b>", "<a b@c>", "<a(b)@c>", "<@b>", "<a,b@c>",
    ] {
        assert!(ForwardPath::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn quoted_local_parts_are_decoded_and_requoted_canonically() {
    let m = mailbox(r#"<"john smith"@example.org>"#);
    assert_eq!(m.local_part(), "john smith");
    assert_eq!(m.to_string(), r#""john smith"@example.org"#);
    let m = mailbox(r#"<"john"@example.org>"#);
    assert_eq!(m.local_part(), "john");
    assert_eq!(m.to_string(), "john@example.org", "needless quotes dropped");
    let m = mailbox(r#"<"a\"b\\c\d>"@example.org>"#);
    assert_eq!(m.local_part(), r#"a"b\cd>"#);
    assert_eq!(m.to_string(), r#""a\"b\\cd>"@example.org"#);
    let m = mailbox(r#"<""@example.org>"#);
    assert_eq!(m.local_part(), "");
    assert_eq!(m.to_string(), r#"""@example.org"#);
    for bad in [r#"<"abc@d>"#, r#"<"a"b@c>"#, "<\"a\tb\"@c>", r#"<"a\"@c>"#] {
        assert!(ForwardPath::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn address_literals() {
    let m = mailbox("<a@[192.0.2.1]>");
    assert_eq!(
        m.domain(),
        &Domain::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
    );
    let m = mailbox("<a@[192.000.002.001]>");
    assert_eq!(m.to_string(), "a@[192.0.2.1]");
    let m = mailbox("<a@[ipv6:2001:DB8:0:0:0:0:0:1]>");
    let ip: Ipv6Addr = "2001:db8::1".parse().expect("ip");
    assert_eq!(m.domain(), &Domain::Literal(AddressLiteral::Ipv6(ip)));
    assert_eq!(m.to_string(), "a@[IPv6:2001:db8::1]");
    let m = mailbox("<a@[x-tag:some>content]>");
    assert_eq!(
        m.domain(),
        &Domain::Literal(AddressLiteral::General {
            tag: "x-tag".into(),
            content: "some>content".into()
        })
    );
    for bad in [
        "<a@[256.0.0.1]>",
        "<a@[1.2.3]>",
        "<a@[1.2.3.4.5]>",
        "<a@[1.2.3.0004]>",
        "<a@[IPv6:1.2.3.4]>",
        "<a@[IPv6:::g]>",
        "<a@[]>",
        "<a@[-tag:x]>",
        "<a@[tag:]>",
        "<a@[tag:a b]>",
        "<a@[1.2.3.4]x>",
        "<a@[1.2.3.4>",
    ] {
        assert!(ForwardPath::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn domains() {
    assert!(Domain::parse("a.b-c.d1").is_ok());
    assert!(Domain::parse("localhost").is_ok());
    for bad in [
        "", "a..b", ".a", "a.", "-a.b", "a-.b", "a_b.c", "a b", "a\0b",
    ] {
        assert_eq!(Domain::parse(bad), Err(AddressError::BadDomain), "{bad:?}");
    }
    assert_eq!(
        Domain::parse(&"a".repeat(256)),
        Err(AddressError::DomainTooLong)
    );
    assert_eq!(Domain::parse("[1.2.3.4"), Err(AddressError::BadLiteral));
}

#[test]
fn source_routes_are_accepted_and_dropped() {
    let m = mailbox("<@relay1.example,@relay2.example:user@final.example>");
    assert_eq!(m.to_string(), "user@final.example");
    let p = ReversePath::parse("<@relay.example:user@final.example>").expect("route");
    assert_eq!(p.to_string(), "<user@final.example>");
    for bad in [
        "<@relay.example user@x.y>",
        "<@:user@x.y>",
        "<@a,b:user@x.y>",
        "<@a,,@b:u@x.y>",
    ] {
        assert_eq!(
            ForwardPath::parse(bad),
            Err(AddressError::BadSourceRoute),
            "{bad}"
        );
    }
}

#[test]
fn utf8_addresses() {
    let m = mailbox("<用户@例子.广告>");
    assert_eq!(m.local_part(), "用户");
    assert_eq!(m.domain(), &Domain::Name("例子.广告".into()));
    assert!(!m.is_ascii());
    let p = ReversePath::parse("<jörg@münchen.example>").expect("utf-8");
    assert!(!p.is_ascii());
    assert!(ReversePath::Null.is_ascii());
    assert!(ForwardPath::Postmaster.is_ascii());
    assert!(
        ForwardPath::parse("<a\u{85}b@c>").is_err(),
        "C1 control refused"
    );
}

#[test]
fn null_and_postmaster_paths() {
    assert_eq!(ReversePath::parse("<>"), Ok(ReversePath::Null));
    assert_eq!(ForwardPath::parse("<>"), Err(AddressError::Empty));
    assert_eq!(
        ForwardPath::parse("<PostMaster>"),
        Ok(ForwardPath::Postmaster)
    );
    assert_eq!(ForwardPath::Postmaster.to_string(), "<Postmaster>");
    assert_eq!(ReversePath::Null.to_string(), "<>");
    assert_eq!(
        ReversePath::parse("<> "),
        Err(AddressError::MissingBrackets)
    );
    assert_eq!(ReversePath::parse("<"), Err(AddressError::MissingBrackets));
}

#[test]
fn mailbox_new_enforces_canonical_limits() {
    let domain = Domain::Name("example.org".into());
    assert!(Mailbox::new("ok", domain.clone()).is_ok());
    assert_eq!(
        Mailbox::new("a\nb", domain.clone()),
        Err(AddressError::BadLocalPart)
    );
    assert!(Mailbox::new("x".repeat(64), domain.clone()).is_ok());
    assert_eq!(
        Mailbox::new("x".repeat(63) + " ", domain.clone()),
        Err(AddressError::LocalPartTooLong),
        "63 octets that need quoting are 66 on the wire"
    );
    let long = Domain::Name(vec!["d".repeat(63); 4].join("."));
    assert_eq!(Mailbox::new("a", long), Err(AddressError::PathTooLong));
    let m = Mailbox::parse("a@example.org").expect("parse");
    assert_eq!(m, Mailbox::new("a", domain).expect("new"));
}

#[test]
fn overlong_addresses() {
    let local64 = "l".repeat(64);
    let local65 = "l".repeat(65);
    assert!(Command::parse(format!("RCPT TO:<{local64}@example.org>").as_bytes()).is_ok());
    assert_eq!(
        Command::parse(format!("RCPT TO:<{local65}@example.org>").as_bytes()),
        Err(ParseError::BadRecipient(AddressError::LocalPartTooLong))
    );
    let label = "d".repeat(63);
    let domain255 = format!("{label}.{label}.{label}.{}", "d".repeat(63));
    assert_eq!(domain255.len(), 255);
    assert_eq!(
        Command::parse(format!("RCPT TO:<a@{domain255}>").as_bytes()),
        Err(ParseError::BadRecipient(AddressError::PathTooLong)),
        "a 255-octet domain fits the domain limit but not the 256-octet path"
    );
    let domain256 = format!("{domain255}d");
    assert_eq!(
        Command::parse(format!("MAIL FROM:<a@x.{domain256}>").as_bytes()),
        Err(ParseError::BadSender(AddressError::PathTooLong))
    );
    let domain250 = &domain255[..250];
    assert!(
        Command::parse(format!("RCPT TO:<a@{domain250}>").as_bytes()).is_ok(),
        "path of 254 octets"
    );
    let path256 = format!("<{}@{}>", "l".repeat(64), &domain255[..189]);
    assert_eq!(path256.len(), 256);
    assert!(Command::parse(format!("RCPT TO:{path256}").as_bytes()).is_ok());
    let path257 = format!("<{}@{}>", "l".repeat(64), &domain255[..190]);
    assert_eq!(
        Command::parse(format!("RCPT TO:{path257}").as_bytes()),
        Err(ParseError::BadRecipient(AddressError::PathTooLong))
    );
}
