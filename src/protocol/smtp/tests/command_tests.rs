//! Command parsing: every verb, MAIL/RCPT parameters, errors and their
//! replies, hostile bytes.

use crate::protocol::smtp::{
    AddressError, Body, Command, EsmtpParam, ForwardPath, MailParams, ParseError, RcptParams,
    ReversePath, Verb,
};

fn parse(line: &str) -> Result<Command, ParseError> {
    Command::parse(line.as_bytes())
}

fn mail(line: &str) -> (ReversePath, MailParams) {
    match parse(line) {
        Ok(Command::Mail { from, params }) => (from, params),
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn rcpt(line: &str) -> (ForwardPath, RcptParams) {
    match parse(line) {
        Ok(Command::Rcpt { to, params }) => (to, params),
        other => panic!("{line:?} gave {other:?}"),
    }
}

#[test]
fn simple_verbs_any_case() {
    let cases = [
        ("DATA", Command::Data),
        ("data", Command::Data),
        ("RSET", Command::Rset),
        ("rSeT  ", Command::Rset),
        ("NOOP", Command::Noop),
        ("NOOP anything at all", Command::Noop),
        ("QUIT", Command::Quit),
        ("HELP", Command::Help),
        ("help mail", Command::Help),
        ("STARTTLS", Command::StartTls),
        ("starttls\t", Command::StartTls),
        (
            "HELO client.example",
            Command::Helo("client.example".into()),
        ),
        ("helo my_host", Command::Helo("my_host".into())),
        ("EHLO [192.0.2.1]", Command::Ehlo("[192.0.2.1]".into())),
        (
            "ehlo   client.example  ",
            Command::Ehlo("client.example".into()),
        ),
        ("VRFY postmaster", Command::Vrfy("postmaster".into())),
        ("VRFY John Smith", Command::Vrfy("John Smith".into())),
        ("EXPN staff", Command::Expn("staff".into())),
        (
            "BDAT 0 LAST",
            Command::Bdat {
                size: 0,
                last: true,
            },
        ),
        (
            "bdat 1000",
            Command::Bdat {
                size: 1000,
                last: false,
            },
        ),
        (
            "BDAT 18446744073709551615 last",
            Command::Bdat {
                size: u64::MAX,
                last: true,
            },
        ),
    ];
    for (line, want) in cases {
        assert_eq!(parse(line), Ok(want), "{line:?}");
    }
}

#[test]
fn auth_command() {
    let Ok(Command::Auth {
        mechanism,
        initial_response,
    }) = parse("auth plain AGFsaWNlAHNlY3JldA==")
    else {
        panic!("AUTH did not parse");
    };
    assert_eq!(mechanism, "PLAIN");
    let resp = initial_response.expect("initial response");
    assert_eq!(resp.expose(), "AGFsaWNlAHNlY3JldA==");
    assert_eq!(format!("{resp:?}"), "[REDACTED]");
    assert!(matches!(
        parse("AUTH LOGIN"),
        Ok(Command::Auth {
            initial_response: None,
            ..
        })
    ));
    assert!(matches!(
        parse("AUTH SCRAM-SHA-256 ="),
        Ok(Command::Auth { .. })
    ));
    for bad in [
        "AUTH",
        "AUTH PL@IN",
        "AUTH PLAIN a b",
        "AUTH ABCDEFGHIJKLMNOPQRSTU",
    ] {
        assert_eq!(parse(bad), Err(ParseError::Syntax(Verb::Auth)), "{bad:?}");
    }
}

#[test]
fn argument_errors_are_syntax_501() {
    let cases = [
        ("DATA now", Verb::Data),
        ("RSET x", Verb::Rset),
        ("QUIT please", Verb::Quit),
        ("STARTTLS x", Verb::StartTls),
        ("HELO", Verb::Helo),
        ("EHLO a b", Verb::Ehlo),
        ("VRFY", Verb::Vrfy),
        ("EXPN  ", Verb::Expn),
        ("MAIL", Verb::Mail),
        ("MAIL TO:<a@b>", Verb::Mail),
        ("MAIL FROM:", Verb::Mail),
        ("MAIL FROM :<a@b>", Verb::Mail),
        ("RCPT FROM:<a@b>", Verb::Rcpt),
        ("RCPT TO:", Verb::Rcpt),
    ];
    for (line, verb) in cases {
        let err = parse(line).expect_err(line);
        assert_eq!(err, ParseError::Syntax(verb), "{line:?}");
        assert_eq!(err.reply().code, 501, "{line:?}");
        assert!(!err.is_fatal());
    }
}

#[test]
fn malformed_bdat_is_fatal() {
    for line in [
        "BDAT",
        "BDAT x",
        "BDAT -1",
        "BDAT 10 NOTLAST",
        "BDAT 1 LAST x",
        "BDAT 99999999999999999999",
    ] {
        let err = parse(line).expect_err(line);
        assert_eq!(err, ParseError::Syntax(Verb::Bdat), "{line:?}");
        assert!(err.is_fatal());
        assert!(err.reply().closes_connection());
    }
}

#[test]
fn unknown_garbage_and_empty() {
    assert_eq!(parse(""), Err(ParseError::Empty));
    assert_eq!(parse("   \t"), Err(ParseError::Empty));
    assert_eq!(ParseError::Empty.reply().code, 500);
    for line in [
        "FOO",
        "MAILFROM:<a@b>",
        " HELO x",
        "HELO\tx",
        "\0",
        "\u{e9}HLO x",
        "DATA\0",
    ] {
        let err = parse(line).expect_err(line);
        assert_eq!(err, ParseError::UnknownCommand, "{line:?}");
        assert_eq!(err.reply().code, 500);
    }
    assert_eq!(
        Command::parse(b"\xff\xfe\x00"),
        Err(ParseError::UnknownCommand)
    );
}

#[test]
fn control_and_non_utf8_arguments_are_refused() {
    assert_eq!(parse("HELO a\0b"), Err(ParseError::Syntax(Verb::Helo)));
    assert_eq!(parse("VRFY a\rb"), Err(ParseError::Syntax(Verb::Vrfy)));
    assert_eq!(
        Command::parse(b"EHLO \xff"),
        Err(ParseError::Syntax(Verb::Ehlo))
    );
    assert_eq!(
        Command::parse(b"MAIL FROM:<a\x00@b>"),
        Err(ParseError::Syntax(Verb::Mail))
    );
    assert_eq!(Command::parse(b"NOOP \xff\x00"), Ok(Command::Noop));
}

#[test]
fn mail_forms() {
    let (from, params) = mail("MAIL FROM:<alice@example.org>");
    assert_eq!(from.to_string(), "<alice@example.org>");
    assert_eq!(params, MailParams::default());
    assert_eq!(mail("mail from: <alice@example.org>").0, from);
    assert_eq!(mail("MAIL  From:<alice@example.org>  ").0, from);
    assert_eq!(mail("MAIL FROM:<>").0, ReversePath::Null);
    assert_eq!(mail("MAIL FROM:<> SIZE=0").1.size, Some(0));
}

#[test]
fn mail_parameters() {
    let (_, p) = mail("MAIL FROM:<a@b.c> SIZE=12345 BODY=8BITMIME SMTPUTF8 AUTH=<>");
    assert_eq!(p.size, Some(12345));
    assert_eq!(p.body, Body::EightBitMime);
    assert!(p.smtputf8);
    assert_eq!(p.auth.as_deref(), Some("<>"));
    assert!(p.other.is_empty());
    let (_, p) = mail("MAIL FROM:<a@b.c> body=binarymime  size=1");
    assert_eq!((p.body, p.size), (Body::BinaryMime, Some(1)));
    assert_eq!(mail("MAIL FROM:<a@b.c> BODY=7bit").1.body, Body::SevenBit);
    let (_, p) = mail("MAIL FROM:<a@b.c> AUTH=x+2By+3Dz@b.c");
    assert_eq!(p.auth.as_deref(), Some("x+y=z@b.c"));
    let (_, p) = mail("MAIL FROM:<a@b.c> SIZE=99999999999999999999");
    assert_eq!(p.size, Some(u64::MAX), "20 digits saturate");
    let (_, p) = mail("MAIL FROM:<a@b.c> RET=HDRS ENVID=x X-FOO");
    assert_eq!(
        p.other,
        vec![
            EsmtpParam {
                keyword: "RET".into(),
                value: Some("HDRS".into())
            },
            EsmtpParam {
                keyword: "ENVID".into(),
                value: Some("x".into())
            },
            EsmtpParam {
                keyword: "X-FOO".into(),
                value: None
            },
        ]
    );
}

#[test]
fn bad_mail_parameters() {
    let cases = [
        ("MAIL FROM:<a@b.c> SIZE=", ParseError::BadParamList),
        ("MAIL FROM:<a@b.c> SIZE=12a", ParseError::BadParam("SIZE")),
        ("MAIL FROM:<a@b.c> SIZE", ParseError::BadParam("SIZE")),
        (
            "MAIL FROM:<a@b.c> SIZE=123456789012345678901",
            ParseError::BadParam("SIZE"),
        ),
        ("MAIL FROM:<a@b.c> BODY=9BIT", ParseError::BadParam("BODY")),
        (
            "MAIL FROM:<a@b.c> SMTPUTF8=yes",
            ParseError::BadParam("SMTPUTF8"),
        ),
        ("MAIL FROM:<a@b.c> AUTH=+zz", ParseError::BadParam("AUTH")),
        ("MAIL FROM:<a@b.c> AUTH=+00", ParseError::BadParam("AUTH")),
        (
            "MAIL FROM:<a@b.c> SIZE=1 SIZE=2",
            ParseError::DuplicateParam("SIZE"),
        ),
        ("MAIL FROM:<a@b.c>SIZE=1", ParseError::BadParamList),
        ("MAIL FROM:<a@b.c> -X", ParseError::BadParamList),
        ("MAIL FROM:<a@b.c> X=a=b", ParseError::BadParamList),
        ("MAIL FROM:<a@b.c> =x", ParseError::BadParamList),
    ];
    for (line, want) in cases {
        let err = parse(line).expect_err(line);
        assert_eq!(err, want, "{line:?}");
        assert_eq!(err.reply().code, 501);
    }
}

#[test]
fn rcpt_forms() {
    let (to, params) = rcpt("RCPT TO:<bob@example.net>");
    assert_eq!(to.to_string(), "<bob@example.net>");
    assert!(params.other.is_empty());
    assert_eq!(rcpt("rcpt to:<Postmaster>").0, ForwardPath::Postmaster);
    assert_eq!(rcpt("RCPT TO: <POSTMASTER>").0, ForwardPath::Postmaster);
    assert!(matches!(
        rcpt("RCPT TO:<postmaster@example.net>").0,
        ForwardPath::Mailbox(_)
    ));
    let (_, params) = rcpt("RCPT TO:<bob@example.net> NOTIFY=NEVER ORCPT=rfc822;bob@example.net");
    assert_eq!(params.other.len(), 2);
    assert_eq!(params.validate().map_err(|r| r.code), Err(555));
}

#[test]
fn address_errors_map_to_5_1_x() {
    let cases = [
        (
            "MAIL FROM:alice@example.org",
            ParseError::BadSender(AddressError::MissingBrackets),
            "5.1.7",
        ),
        (
            "MAIL FROM:<alice@example.org",
            ParseError::BadSender(AddressError::MissingBrackets),
            "5.1.7",
        ),
        (
            "MAIL FROM:<Postmaster>",
            ParseError::BadSender(AddressError::MissingDomain),
            "5.1.7",
        ),
        (
            "MAIL FROM:<a..b@c>",
            ParseError::BadSender(AddressError::BadLocalPart),
            "5.1.7",
        ),
        (
            "RCPT TO:<>",
            ParseError::BadRecipient(AddressError::Empty),
            "5.1.3",
        ),
        (
            "RCPT TO:bob@example.net",
            ParseError::BadRecipient(AddressError::MissingBrackets),
            "5.1.3",
        ),
        (
            "RCPT TO:<bob>",
            ParseError::BadRecipient(AddressError::MissingDomain),
            "5.1.3",
        ),
        (
            "RCPT TO:<bob@-x.net>",
            ParseError::BadRecipient(AddressError::BadDomain),
            "5.1.3",
        ),
    ];
    for (line, want, status) in cases {
        let err = parse(line).expect_err(line);
        assert_eq!(err, want, "{line:?}");
        let reply = err.reply();
        assert_eq!(
            (reply.code, reply.status.map(|s| s.to_string())),
            (501, Some(status.into()))
        );
    }
}

#[test]
fn verbs_round_trip_through_their_names() {
    for verb in [
        Verb::Helo,
        Verb::Ehlo,
        Verb::Mail,
        Verb::Rcpt,
        Verb::Data,
        Verb::Bdat,
        Verb::Rset,
        Verb::Noop,
        Verb::Quit,
        Verb::Help,
        Verb::Vrfy,
        Verb::Expn,
        Verb::StartTls,
        Verb::Auth,
    ] {
        assert_eq!(Verb::parse(verb.as_str().as_bytes()), Some(verb));
        assert_eq!(
            Verb::parse(verb.as_str().to_lowercase().as_bytes()),
            Some(verb)
        );
        assert!(verb.usage().starts_with(verb.as_str()));
    }
}
