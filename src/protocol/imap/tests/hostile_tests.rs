//! Hostile input: NUL, lone CR, 8-bit octets, unbalanced and deeply
//! nested parentheses, literal-size tricks, random bytes. Every case must
//! give an error (never a panic or a stack overflow), keep the stream in
//! sync, and behave the same under every chunking.

use super::{Event, Rng, cmd, err, error, reason, stream};
use crate::protocol::imap::{Command, Limits, MAX_NESTING, ParseError, Parsed, Parser};

fn complete(line: &str) -> Event {
    Event::Complete(cmd(line))
}

#[test]
fn nul_and_control_characters() {
    assert_eq!(reason("a LOGIN al\0ice pw"), "expected a space");
    assert_eq!(
        reason("a LOGIN \"al\0ice\" pw"),
        "unterminated quoted string"
    );
    assert_eq!(reason("a LOGIN {3}\r\na\0b pw"), "NUL in a literal");
    assert_eq!(err("a\0 NOOP").error, ParseError::BadTag);
    assert_eq!(err("\0").error, ParseError::BadTag);
    let input = b"a NOOP\0\r\nb NOOP\r\n";
    assert_eq!(
        stream(Limits::default(), input),
        vec![
            error(
                Some("a"),
                ParseError::Syntax {
                    command: "NOOP",
                    reason: "unexpected characters at the end of the command",
                }
            ),
            complete("b NOOP"),
        ]
    );
}

#[test]
fn lone_cr_and_bare_lf() {
    let input = b"a NOOP\rb NOOP\r\nc NOOP\r\r\nd NOOP\n";
    let events = stream(Limits::default(), input);
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[0], Event::Error(Some(t), ParseError::Syntax { .. }) if t == "a"));
    assert!(matches!(&events[1], Event::Error(Some(t), ParseError::Syntax { .. }) if t == "c"));
    assert_eq!(events[2], complete("d NOOP"));
    assert_eq!(reason("a LOGIN \"a\rb\" c"), "unterminated quoted string");
    let events = stream(Limits::default(), b"a LOGIN {1}\na {1}\n\r\n");
    assert_eq!(
        events[..2],
        [Event::Literal(1, true), Event::Literal(1, true)]
    );
    assert_eq!(events[2..], [complete("a LOGIN {1}\na {1}\n\r")]);
}

#[test]
fn eight_bit_input() {
    assert_eq!(err("\u{e9} NOOP").error, ParseError::BadTag);
    assert_eq!(err("a N\u{d6}OP").error, ParseError::UnknownCommand);
    let c = cmd("a SEARCH SUBJECT \"gr\u{fc}\u{df}e\"");
    let again = Command::parse(&c.to_bytes()).expect("round trip");
    assert_eq!(again, c);
    assert!(
        c.to_bytes().windows(3).any(|w| w == b"{7}"),
        "8-bit goes out as a literal"
    );
    assert_eq!(reason(b"a LOGIN \xff\xfe pw"), "expected a string");
}

#[test]
fn unbalanced_parentheses() {
    for line in [
        "a FETCH 1 (FLAGS",
        "a FETCH 1 FLAGS)",
        "a FETCH 1 ((FLAGS))",
        "a SEARCH (SEEN",
        "a SEARCH SEEN)",
        "a SEARCH ((SEEN)",
        "a STORE 1 FLAGS (\\Seen",
        "a STATUS INBOX (MESSAGES",
        "a LIST (SUBSCRIBED \"\" *",
        "a ID (\"a\" \"b\"",
        "a SORT (DATE UTF-8 ALL",
        "a APPEND INBOX (\\Seen {1}\r\nx",
        ")",
        "a )",
    ] {
        let e = err(line);
        assert!(!matches!(e.error, ParseError::Empty), "{line}: {e:?}");
    }
}

#[test]
fn ten_thousand_nested_parentheses() {
    let open = "(".repeat(10_000);
    let close = ")".repeat(10_000);
    let deep = format!("a SEARCH {open}ALL{close}");
    assert_eq!(err(&deep).error, ParseError::TooDeep { command: "SEARCH" });
    for line in [
        format!("a FETCH 1 {open}FLAGS{close}"),
        format!("a STORE 1 FLAGS {open}{close}"),
        format!("a LIST {open}{close} \"\" *"),
        format!("a ID {open}{close}"),
        format!("a {open}"),
        open.clone(),
    ] {
        assert!(Command::parse(format!("{line}\r\n").as_bytes()).is_err());
    }
    let limits = Limits {
        line: 100_000,
        ..Limits::default()
    };
    let input = format!("a SEARCH {open}ALL{close}\r\nb NOOP\r\n");
    let mut p = Parser::new(limits);
    p.feed(input.as_bytes());
    assert!(
        matches!(p.next_command(), Parsed::Error(e) if e.error == ParseError::TooDeep { command: "SEARCH" })
    );
    assert_eq!(p.next_command(), Parsed::Complete(cmd("b NOOP")));
    const { assert!(MAX_NESTING >= 50) };
}

#[test]
fn literal_size_tricks() {
    for line in [
        "a LOGIN {-1}\r\nx y",
        "a LOGIN {1 }\r\nx y",
        "a LOGIN { 1}\r\nx y",
        "a LOGIN {1}x\r\nx y",
        "a LOGIN {+}\r\nx y",
        "a LOGIN {1++}\r\nx y",
        "a LOGIN {0x1}\r\nx y",
    ] {
        assert!(
            Command::parse(format!("{line}\r\n").as_bytes()).is_err(),
            "{line:?}"
        );
    }
    // A literal longer than the data that follows is waited for, not
    // read past.
    let mut p = Parser::default();
    p.feed(b"a LOGIN {10}\r\nshort\r\n");
    assert_eq!(
        p.next_command(),
        Parsed::NeedsLiteral {
            size: 10,
            sync: true
        }
    );
    assert_eq!(p.next_command(), Parsed::Incomplete);
    p.feed(b"er! pw\r\n");
    assert_eq!(
        p.next_command(),
        Parsed::Complete(cmd("a LOGIN {10}\r\nshort\r\ner! pw"))
    );
    assert_eq!(
        Command::parse(b"a LOGIN {10}\r\nshort\r\n").map_err(|e| e.error),
        Err(ParseError::Syntax {
            command: "",
            reason: "literal data missing"
        })
    );
}

#[test]
fn random_bytes_never_panic_and_chunking_agrees() {
    let alphabet: &[&[u8]] = &[
        b"a",
        b" ",
        b"(",
        b")",
        b"{",
        b"}",
        b"+",
        b"\"",
        b"\\",
        b"\r",
        b"\n",
        b"\r\n",
        b"\0",
        b"*",
        b"%",
        b"[",
        b"]",
        b"<",
        b">",
        b".",
        b":",
        b",",
        b"$",
        b"1",
        b"9",
        b"\xff",
        b"NIL",
        b"FETCH",
        b"UID ",
        b"SEARCH",
        b"APPEND",
        b"BODY[",
        b"{3}\r\n",
        b"{2+}\r\n",
        b"t1 ",
        b"LOGIN",
        b"OR ",
        b"NOT ",
    ];
    let limits = Limits {
        line: 200,
        literal: 50,
        append: 80,
        literals: 4,
    };
    for seed in 0..300 {
        let mut rng = Rng::new(seed);
        let mut input = Vec::new();
        for _ in 0..rng.below(120) {
            let piece: &&[u8] = rng.pick(alphabet);
            input.extend_from_slice(piece);
        }
        for event in stream(limits, &input) {
            if let Event::Complete(c) = event {
                assert_eq!(
                    Command::parse(&c.to_bytes()).as_ref(),
                    Ok(&c),
                    "seed {seed}"
                );
            }
        }
    }
}
