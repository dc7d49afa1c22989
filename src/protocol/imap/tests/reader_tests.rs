//! The streaming parser under every chunking: pipelining, literals
//! (synchronising and LITERAL+), limits and resynchronisation,
//! AUTHENTICATE and IDLE lines, STARTTLS discard, refusing a literal.

use super::{Event, cmd, error, stream};
use crate::protocol::imap::{AuthenticateLine, CommandBody, Limits, ParseError, Parsed, Parser};

fn complete(line: &str) -> Event {
    Event::Complete(cmd(line))
}

fn small() -> Limits {
    Limits {
        line: 64,
        literal: 16,
        append: 100,
        literals: 3,
    }
}

#[test]
fn pipelined_commands_in_order() {
    let input = b"a1 NOOP\r\na2 SELECT INBOX\r\na3 UID fetch 1:* (FLAGS)\r\na4 LOGOUT\r\n";
    assert_eq!(
        stream(Limits::default(), input),
        vec![
            complete("a1 NOOP"),
            complete("a2 SELECT INBOX"),
            complete("a3 UID fetch 1:* (FLAGS)"),
            complete("a4 LOGOUT"),
        ]
    );
    assert_eq!(
        stream(Limits::default(), b"a1 NOOP\na2 NOOP\n"),
        vec![complete("a1 NOOP"), complete("a2 NOOP"),]
    );
}

#[test]
fn synchronising_and_non_synchronising_literals() {
    let input = b"a LOGIN {5}\r\nalice {6+}\r\nsecret\r\nb NOOP\r\n";
    assert_eq!(
        stream(Limits::default(), input),
        vec![
            Event::Literal(5, true),
            Event::Literal(6, false),
            complete("a LOGIN alice secret"),
            complete("b NOOP"),
        ]
    );
    let message = "Subject: x\r\n\r\n{5}\r\nnot a literal\r\n";
    let input = format!(
        "A003 APPEND \"Sent\" (\\Seen) {{{}+}}\r\n{message}\r\nb NOOP\r\n",
        message.len()
    );
    let events = stream(Limits::default(), input.as_bytes());
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], Event::Literal(message.len() as u32, false));
    let Event::Complete(c) = &events[1] else {
        panic!("{events:?}")
    };
    let CommandBody::Append(append) = &c.body else {
        panic!("{c:?}")
    };
    assert_eq!(append.message, message.as_bytes());
    assert_eq!(
        stream(Limits::default(), b"a LOGIN {0}\r\n {0}\r\n\r\n"),
        vec![
            Event::Literal(0, true),
            Event::Literal(0, true),
            complete("a LOGIN \"\" \"\""),
        ]
    );
}

#[test]
fn early_syntax_errors_at_a_literal() {
    // Unknown command: no `+`, and the client will not send the literal.
    assert_eq!(
        stream(Limits::default(), b"a FOO {5}\r\nb NOOP\r\n"),
        vec![
            error(Some("a"), ParseError::UnknownCommand),
            complete("b NOOP"),
        ]
    );
    // A literal where none may be: refused before the data; LITERAL+
    // data is skipped, including a `{n}` lookalike inside it.
    let input = b"a SELECT INBOX {12+}\r\nc NOOP {3}\r\n\r\nb NOOP\r\n";
    assert_eq!(
        stream(Limits::default(), input),
        vec![
            error(
                Some("a"),
                ParseError::Syntax {
                    command: "SELECT",
                    reason: "expected '('",
                }
            ),
            complete("b NOOP"),
        ]
    );
}

#[test]
fn oversized_line_is_refused_and_skipped() {
    let long = format!("a1 SEARCH SUBJECT {}\r\na2 NOOP\r\n", "x".repeat(100));
    assert_eq!(
        stream(small(), long.as_bytes()),
        vec![
            error(Some("a1"), ParseError::LineTooLong { limit: 64 }),
            complete("a2 NOOP"),
        ]
    );
    let no_tag = format!("{}\r\na2 NOOP\r\n", "x".repeat(200));
    assert_eq!(
        stream(small(), no_tag.as_bytes()),
        vec![
            error(None, ParseError::LineTooLong { limit: 64 }),
            complete("a2 NOOP"),
        ]
    );
    // Exactly at the limit (CRLF included) is fine; one more is not.
    let at = format!("a NOOP{}\r\n", " ".repeat(64 - 8));
    assert_eq!(stream(small(), at.as_bytes()), vec![complete("a NOOP")]);
    let over = format!("a NOOP{}\r\nb NOOP\r\n", " ".repeat(64 - 7));
    assert_eq!(
        stream(small(), over.as_bytes()),
        vec![
            error(Some("a"), ParseError::LineTooLong { limit: 64 }),
            complete("b NOOP"),
        ]
    );
    // A long line that announces LITERAL+ data: the data is skipped too.
    let input = format!("a SEARCH {} {{5+}}\r\nb NOP\r\nc NOOP\r\n", "x".repeat(80));
    assert_eq!(
        stream(small(), input.as_bytes()),
        vec![
            error(Some("a"), ParseError::LineTooLong { limit: 64 }),
            complete("c NOOP"),
        ]
    );
}

#[test]
fn text_limit_counts_every_line_of_a_command() {
    let part = format!("\"{}\"", "y".repeat(20));
    let input =
        format!("a SEARCH TEXT {{1}}\r\nx TEXT {part} TEXT {{1+}}\r\nx TEXT {part}\r\nb NOOP\r\n");
    assert_eq!(
        stream(small(), input.as_bytes()),
        vec![
            Event::Literal(1, true),
            Event::Literal(1, false),
            error(Some("a"), ParseError::LineTooLong { limit: 64 }),
            complete("b NOOP"),
        ]
    );
}

#[test]
fn oversized_literals() {
    let lit = |size: u64, append, sync| ParseError::LiteralTooLarge {
        size,
        limit: if append { 100 } else { 16 },
        append,
        sync,
    };
    // Synchronising: refused before the client sends the data.
    assert_eq!(
        stream(small(), b"a LOGIN {17}\r\nb NOOP\r\n"),
        vec![error(Some("a"), lit(17, false, true)), complete("b NOOP"),]
    );
    // LITERAL+: the octets are on their way and are skipped.
    let input = format!("a LOGIN {{17+}}\r\n{} x\r\nb NOOP\r\n", "z".repeat(17));
    assert_eq!(
        stream(small(), input.as_bytes()),
        vec![error(Some("a"), lit(17, false, false)), complete("b NOOP"),]
    );
    // The limit is per command: two literals of 10 are too much.
    let input = b"a LOGIN {10+}\r\n0123456789 {10+}\r\n0123456789\r\nb NOOP\r\n";
    assert_eq!(
        stream(small(), input),
        vec![
            Event::Literal(10, false),
            error(Some("a"), lit(20, false, false)),
            complete("b NOOP"),
        ]
    );
    // APPEND has its own limit; NO [TOOBIG] for a refused sync message.
    let ok = format!("a APPEND INBOX {{60}}\r\n{}\r\n", "m".repeat(60));
    assert_eq!(stream(small(), ok.as_bytes()).len(), 2);
    let events = stream(small(), b"a APPEND INBOX {101}\r\nb NOOP\r\n");
    assert_eq!(
        events,
        vec![error(Some("a"), lit(101, true, true)), complete("b NOOP")]
    );
    let huge = stream(
        small(),
        b"a APPEND INBOX {99999999999999999999999}\r\nb NOOP\r\n",
    );
    assert!(matches!(
        &huge[0],
        Event::Error(Some(_), ParseError::LiteralTooLarge { size: u64::MAX, .. })
    ));
}

#[test]
fn too_many_literals() {
    let input = b"a ID ({1}\r\na {1}\r\nb {1}\r\nc {1}\r\nb NOOP\r\n";
    assert_eq!(
        stream(small(), input),
        vec![
            Event::Literal(1, true),
            Event::Literal(1, true),
            Event::Literal(1, true),
            error(Some("a"), ParseError::TooManyLiterals { limit: 3 }),
            complete("b NOOP"),
        ]
    );
}

#[test]
fn authenticate_lines() {
    let mut p = Parser::default();
    p.feed(b"a AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n*\r\n!!\r\n");
    assert!(
        matches!(p.next_command(), Parsed::Complete(c) if matches!(c.body, CommandBody::Authenticate { .. }))
    );
    let Some(Ok(AuthenticateLine::Response(r))) = p.next_authenticate() else {
        panic!("response expected")
    };
    assert_eq!(r.expose(), "AGFsaWNlAHB3");
    assert_eq!(p.next_authenticate(), Some(Ok(AuthenticateLine::Cancel)));
    assert_eq!(p.next_authenticate(), Some(Err(ParseError::BadBase64)));
    assert_eq!(p.next_authenticate(), None);
    p.feed(b"\r\n");
    assert!(
        matches!(p.next_authenticate(), Some(Ok(AuthenticateLine::Response(r))) if r.expose().is_empty())
    );
    let mut p = Parser::new(small());
    p.feed(&[b'A'; 100]);
    assert_eq!(
        p.next_authenticate(),
        Some(Err(ParseError::LineTooLong { limit: 64 }))
    );
    p.feed(b"AAAA\r\nb NOOP\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("b NOOP")));
}

#[test]
fn idle_done() {
    for done in ["DONE\r\n", "done\n", "Done  \r\n"] {
        let mut p = Parser::default();
        p.feed(b"a IDLE\r\n");
        assert_eq!(p.next_command(), Parsed::Complete(cmd("a IDLE")));
        assert_eq!(p.next_idle_done(), None);
        for b in done.bytes() {
            p.feed(&[b]);
        }
        p.feed(b"b NOOP\r\n");
        assert_eq!(p.next_idle_done(), Some(Ok(())), "{done:?}");
        assert_eq!(p.next_command(), Parsed::Complete(cmd("b NOOP")));
    }
    let mut p = Parser::default();
    p.feed(b"b NOOP\r\n");
    assert_eq!(p.next_idle_done(), Some(Err(ParseError::ExpectedDone)));
}

#[test]
fn starttls_discards_pipelined_plaintext() {
    let mut p = Parser::default();
    p.feed(b"a STARTTLS\r\nb LOGIN evil pw\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("a STARTTLS")));
    assert_eq!(p.discard_buffered(), 17);
    assert_eq!(p.buffered_len(), 0);
    assert_eq!(p.next_command(), Parsed::Incomplete);
}

#[test]
fn refusing_an_announced_literal() {
    let mut p = Parser::default();
    assert_eq!(p.refuse_literal(), None);
    p.feed(b"a7 APPEND INBOX {300}\r\n");
    assert_eq!(
        p.next_command(),
        Parsed::NeedsLiteral {
            size: 300,
            sync: true
        }
    );
    assert_eq!(
        p.refuse_literal().map(|t| t.to_string()).as_deref(),
        Some("a7")
    );
    p.feed(b"a8 NOOP\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("a8 NOOP")));
    p.feed(b"a9 APPEND INBOX {5+}\r\nhel");
    assert_eq!(
        p.next_command(),
        Parsed::NeedsLiteral {
            size: 5,
            sync: false
        }
    );
    assert!(p.refuse_literal().is_some());
    p.feed(b"lo\r\nb NOOP\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("b NOOP")));
}

#[test]
fn memory_stays_bounded_while_skipping() {
    let mut p = Parser::new(small());
    p.feed(b"a APPEND INBOX {100000000+}\r\n");
    assert!(matches!(p.next_command(), Parsed::Error(_)));
    for _ in 0..100 {
        p.feed(&[b'x'; 10_000]);
        assert_eq!(p.next_command(), Parsed::Incomplete);
        assert!(p.buffered_len() < 20_000, "{}", p.buffered_len());
    }
    let mut p = Parser::new(small());
    for _ in 0..100 {
        p.feed(&[b'x'; 1000]);
        let _ = p.next_command();
        assert!(p.buffered_len() < 2_000);
    }
}

/// `shrink` gives back a large buffer between commands and never loses
/// a partly received command.
#[test]
fn shrink_releases_memory_and_keeps_a_partial_command() {
    let mut p = Parser::new(Limits::default());
    let long = format!("a1 SEARCH SUBJECT \"{}\"\r\n", "x".repeat(20_000));
    p.feed(long.as_bytes());
    assert!(matches!(p.next_command(), Parsed::Complete(_)));
    p.feed(b"a2 NO");
    p.shrink(4096);
    assert_eq!(p.buffered_len(), 5);
    p.feed(b"OP\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("a2 NOOP")));
    assert_eq!(p.next_command(), Parsed::Incomplete);
    p.shrink(4096);
    assert_eq!(p.buffered_len(), 0);
    p.feed(b"a3 LOGOUT\r\n");
    assert_eq!(p.next_command(), Parsed::Complete(cmd("a3 LOGOUT")));
}
