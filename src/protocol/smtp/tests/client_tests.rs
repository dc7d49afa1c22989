//! The client side: reply parsing (whole, byte-at-a-time, random chunks,
//! hostile input), EHLO capabilities, dot-stuffing.

use super::*;
use crate::protocol::smtp::tests::{Rng, chunkings};
use crate::protocol::smtp::{Capabilities, Ehlo};

/// Every reply parsed from `input`, fed in the given chunks.
fn parse_chunks(chunks: &[&[u8]]) -> Vec<Result<Reply, ReplyError>> {
    let mut p = ReplyParser::new();
    let mut out = Vec::new();
    for chunk in chunks {
        p.feed(chunk);
        while let Some(r) = p.next_reply() {
            let stop = r.is_err();
            out.push(r);
            if stop {
                return out;
            }
        }
    }
    out
}

/// Parses `input` every way [`chunkings`] splits it and demands the
/// same answer each time.
fn parse_all(input: &[u8]) -> Vec<Result<Reply, ReplyError>> {
    let ways = chunkings(input);
    let first = parse_chunks(&ways[0]);
    for way in &ways[1..] {
        assert_eq!(parse_chunks(way), first, "chunking changed the result");
    }
    first
}

fn status(class: u8, subject: u16, detail: u16) -> Option<EnhancedStatus> {
    Some(EnhancedStatus::new(class, subject, detail))
}

#[test]
fn single_and_multi_line_replies() {
    let got =
        parse_all(b"220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
    assert_eq!(
        got,
        vec![
            Ok(Reply::new(220, None, "mx.example ESMTP")),
            Ok(Reply::multiline(
                250,
                None,
                vec!["mx.example".into(), "PIPELINING".into(), "SIZE 1000".into()]
            )),
        ]
    );
}

#[test]
fn enhanced_status_is_taken_out_of_every_line() {
    let got = parse_all(b"550-5.1.1 no such user\r\n550 5.1.1 here\r\n");
    assert_eq!(
        got,
        vec![Ok(Reply::multiline(
            550,
            status(5, 1, 1),
            vec!["no such user".into(), "here".into()]
        ))]
    );
    // A status of another class is text, not a status.
    let got = parse_all(b"451 5.1.1 odd\r\n");
    assert_eq!(got, vec![Ok(Reply::new(451, None, "5.1.1 odd"))]);
    // A bare code and a bare status.
    let got = parse_all(b"250\r\n250 2.0.0\r\n");
    assert_eq!(
        got,
        vec![
            Ok(Reply::new(250, None, "")),
            Ok(Reply::new(250, status(2, 0, 0), ""))
        ]
    );
}

#[test]
fn bare_lf_and_control_characters_are_tolerated() {
    let got = parse_all(b"250-a\n250 b\x00c\r\n");
    assert_eq!(
        got,
        vec![Ok(Reply::multiline(
            250,
            None,
            vec!["a".into(), "b?c".into()]
        ))]
    );
}

#[test]
fn hostile_input_is_refused() {
    for (input, want) in [
        (&b"25O ok\r\n"[..], "malformed"),
        (b"199 too low\r\n", "malformed"),
        (b"600 too high\r\n", "malformed"),
        (b"250x\r\n", "malformed"),
        (b"\r\n", "malformed"),
        (b"250-a\r\n251 b\r\n", "changed"),
    ] {
        let got = parse_all(input);
        let err = got.last().and_then(|r| r.clone().err());
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(want), "{input:?}: {text}");
    }
    let long = format!("250 {}\r\n", "x".repeat(5000));
    assert_eq!(
        parse_all(long.as_bytes()),
        vec![Err(ReplyError::LineTooLong(4096))]
    );
    // No line end at all: refused once the buffer passes the limit.
    let mut p = ReplyParser::new();
    p.feed(&[b'2'; 5000]);
    assert_eq!(p.next_reply(), Some(Err(ReplyError::LineTooLong(4096))));
    let many: String = (0..300).map(|_| "250-x\r\n").collect();
    assert_eq!(
        parse_all(many.as_bytes()),
        vec![Err(ReplyError::TooManyLines(256))]
    );
}

#[test]
fn incomplete_input_waits() {
    let mut p = ReplyParser::new();
    p.feed(b"250-first\r\n250 sec");
    assert_eq!(p.next_reply(), None);
    assert!(p.buffered() > 0);
    p.feed(b"ond\r\n");
    assert_eq!(
        p.next_reply(),
        Some(Ok(Reply::multiline(
            250,
            None,
            vec!["first".into(), "second".into()]
        )))
    );
    assert_eq!(p.buffered(), 0);
}

#[test]
fn what_the_server_writes_parses_back() {
    let mut rng = Rng::new(7);
    let words = ["Ok", "queued as 12", "user unknown", "é", "try later", ""];
    for _ in 0..300 {
        let code = *rng.pick(&[220u16, 221, 250, 354, 421, 451, 452, 550, 554]);
        let class = u8::try_from(code / 100).unwrap_or(2);
        let st = if code == 354 || rng.below(3) == 0 {
            None
        } else {
            status(class, 1, u16::try_from(rng.below(8)).unwrap_or(0))
        };
        let n = 1 + rng.below(4);
        let lines: Vec<String> = (0..n).map(|_| rng.pick(&words).to_string()).collect();
        let reply = Reply::multiline(code, st, lines);
        let got = parse_all(&reply.to_bytes());
        assert_eq!(got, vec![Ok(reply.clone())], "{reply}");
    }
}

#[test]
fn ehlo_reply_gives_capabilities() {
    let caps = Capabilities {
        pipelining: true,
        size: Some(10_485_760),
        starttls: true,
        auth: vec!["PLAIN".into(), "LOGIN".into()],
        enhanced_status_codes: true,
        eight_bit_mime: true,
        binary_mime: false,
        smtputf8: true,
        chunking: true,
    };
    let reply = Ehlo::new("mx.example")
        .greet("client")
        .capabilities(caps.clone())
        .reply();
    let parsed = parse_all(&reply.to_bytes());
    let Some(Ok(parsed)) = parsed.first() else {
        panic!("no reply: {parsed:?}");
    };
    assert_eq!(server_capabilities(parsed), caps);
    let old = Reply::multiline(
        250,
        None,
        vec![
            "x".into(),
            "AUTH=LOGIN PLAIN".into(),
            "SIZE".into(),
            "XFOO".into(),
        ],
    );
    let c = server_capabilities(&old);
    assert_eq!(c.auth, vec!["LOGIN".to_string(), "PLAIN".to_string()]);
    assert_eq!(c.size, Some(0));
    assert!(!c.pipelining && !c.starttls);
}

#[test]
fn dot_stuffing() {
    assert_eq!(
        dot_stuff(b"a\r\n.b\r\n..c\r\n"),
        b"a\r\n..b\r\n...c\r\n.\r\n"
    );
    assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
    assert_eq!(dot_stuff(b"bare\nlf\n.x"), b"bare\r\nlf\r\n..x\r\n.\r\n");
    assert_eq!(dot_stuff(b"no end"), b"no end\r\n.\r\n");
    assert_eq!(dot_stuff(b""), b".\r\n");
    assert!(has_eight_bit("é".as_bytes()));
    assert!(!has_eight_bit(b"plain"));
}

/// The piecewise stuffer gives what the whole-message one gives, for
/// every split of the input (whole, byte at a time, random chunks).
#[test]
fn dot_stuffer_output_does_not_depend_on_the_split() {
    let mut rng = Rng::new(5);
    let alphabet = [b'.', b'\n', b'\r', b'a', 0xc3];
    let mut messages: Vec<Vec<u8>> = vec![
        b"a\r\n.b\r\n..c\r\n".to_vec(),
        b"\n.\n".to_vec(),
        b"x\r".to_vec(),
        Vec::new(),
    ];
    for _ in 0..200 {
        let len = rng.below(60);
        messages.push((0..len).map(|_| *rng.pick(&alphabet)).collect());
    }
    for message in &messages {
        let whole = dot_stuff(message);
        for chunks in chunkings(message) {
            let mut stuffer = DotStuffer::new();
            let mut out = Vec::new();
            for c in chunks {
                stuffer.push(c, &mut out);
            }
            stuffer.finish(&mut out);
            assert_eq!(out, whole, "{message:?}");
        }
    }
}

#[test]
fn dot_stuffed_data_is_received_unchanged() {
    use crate::protocol::smtp::{DataLimits, DataOutcome, DataReceiver};
    let message = b"Subject: x\r\n\r\n.line\r\n..two\r\nend\r\n";
    let wire = dot_stuff(message);
    let mut rx = DataReceiver::new(DataLimits {
        max_size: 1 << 20,
        max_line: 998,
    });
    let mut out = Vec::new();
    let progress = rx.feed(&wire, &mut out);
    assert!(matches!(
        progress.outcome,
        Some(DataOutcome::Complete { .. })
    ));
    assert_eq!(out, message);
}

#[test]
fn dot_stuffing_round_trips_random_messages() {
    use crate::protocol::smtp::{DataLimits, DataOutcome, DataReceiver};
    let mut rng = Rng::new(11);
    let alphabet = [b'.', b'\n', b'a', b' ', 0xc3];
    for _ in 0..500 {
        let len = rng.below(40);
        let message: Vec<u8> = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        let mut rx = DataReceiver::new(DataLimits {
            max_size: u64::MAX,
            max_line: usize::MAX,
        });
        let mut out = Vec::new();
        let progress = rx.feed(&dot_stuff(&message), &mut out);
        assert!(matches!(
            progress.outcome,
            Some(DataOutcome::Complete { .. })
        ));
        let mut want = Vec::new();
        for &b in &message {
            if b == b'\n' {
                want.push(b'\r');
            }
            want.push(b);
        }
        if !want.is_empty() && !want.ends_with(b"\r\n") {
            want.extend_from_slice(b"\r\n");
        }
        assert_eq!(out, want, "{message:?}");
    }
}
