use super::*;

#[test]
fn parses_every_command() {
    let cases: &[(&str, Command)] = &[
        ("CAPA", Command::Capa),
        ("stls", Command::Stls),
        (
            "USER alice@example.org",
            Command::User("alice@example.org".into()),
        ),
        (
            "PASS pass with spaces ",
            Command::Pass("pass with spaces".into()),
        ),
        (
            "AUTH",
            Command::Auth {
                mechanism: None,
                initial: None,
            },
        ),
        (
            "AUTH plain",
            Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial: None,
            },
        ),
        (
            "AUTH PLAIN AGEAYg==",
            Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("AGEAYg==".into()),
            },
        ),
        ("STAT", Command::Stat),
        ("LIST", Command::List(None)),
        ("LIST 3", Command::List(Some(3))),
        ("RETR 1", Command::Retr(1)),
        ("DELE 12", Command::Dele(12)),
        ("NOOP", Command::Noop),
        ("RSET", Command::Rset),
        ("QUIT", Command::Quit),
        ("TOP 1 10", Command::Top(1, 10)),
        ("UIDL", Command::Uidl(None)),
        ("uidl 2", Command::Uidl(Some(2))),
    ];
    for (line, want) in cases {
        assert_eq!(Command::parse(line.as_bytes()).as_ref(), Ok(want), "{line}");
    }
}

#[test]
fn round_trips() {
    for line in [
        "CAPA",
        "USER a",
        "PASS x y",
        "AUTH PLAIN =",
        "LIST 2",
        "TOP 3 0",
        "UIDL",
        "QUIT",
    ] {
        let c = Command::parse(line.as_bytes()).expect("parses");
        let again = c.to_line();
        assert_eq!(Command::parse(again.trim_end().as_bytes()), Ok(c), "{line}");
    }
}

#[test]
fn refuses_bad_input() {
    for bad in [
        "",
        "   ",
        "FOO",
        "RETR",
        "RETR x",
        "RETR -1",
        "RETR 99999999999",
        "TOP 1",
        "LIST 1 2",
        "USER",
        "USER a b",
        "STAT now",
        "PASS",
        "RETR 1\0",
        "AUTH a b c",
    ] {
        assert!(Command::parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
    assert_eq!(Command::parse(b"\xff\xfe"), Err(ParseError::Unknown));
}

#[test]
fn responses() {
    assert_eq!(ok("hi"), b"+OK hi\r\n");
    assert_eq!(
        err(Some(Code::InUse), "locked"),
        b"-ERR [IN-USE] locked\r\n"
    );
    assert_eq!(err(None, "bad\r\nINJECT"), b"-ERR badINJECT\r\n");
    let mut m = MultiLine::new("2 messages");
    m.line("1 120");
    m.line(".hidden");
    assert_eq!(m.finish(), b"+OK 2 messages\r\n1 120\r\n..hidden\r\n.\r\n");
}

#[test]
fn dot_stuffing_normalises_line_endings() {
    let mut out = Vec::new();
    dot_stuff(b"a\n.b\r\n..c\rd", &mut out);
    assert_eq!(out, b"a\r\n..b\r\n...c\r\nd\r\n");
    let mut out = Vec::new();
    dot_stuff(b".\r\n", &mut out);
    assert_eq!(out, b"..\r\n", "a lone dot line can never end the response");
    let mut out = Vec::new();
    dot_stuff(b"", &mut out);
    assert!(out.is_empty());
}

#[test]
fn top_takes_headers_and_n_lines() {
    let m = b"Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\nl3\r\n";
    assert_eq!(top(m, 0), b"Subject: x\r\nFrom: y\r\n\r\n");
    assert_eq!(top(m, 2), b"Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\n");
    assert_eq!(top(m, 99), &m[..]);
    assert_eq!(top(b"no body", 3), b"no body");
    assert_eq!(top(b"A: b\n\nx\ny\n", 1), b"A: b\n\nx\n");
}
