//! The command line reader under every chunking.

use super::chunkings;
use crate::protocol::smtp::{Line, LineError, LineLimits, LineReader};

type Item = Result<Line, LineError>;

/// Feeds `chunks` one after another, collecting every item produced.
fn read_all(reader: &mut LineReader, chunks: &[&[u8]]) -> Vec<Item> {
    let mut out = Vec::new();
    for chunk in chunks {
        reader.feed(chunk);
        while let Some(item) = reader.next_line() {
            out.push(item);
        }
    }
    out
}

/// Runs `input` through every chunking and checks they all agree.
fn lines(input: &[u8], limits: LineLimits) -> Vec<Item> {
    let mut results = chunkings(input)
        .into_iter()
        .map(|chunks| read_all(&mut LineReader::new(limits), &chunks));
    let first = results.next().unwrap_or_default();
    for (i, other) in results.enumerate() {
        assert_eq!(other, first, "chunking #{} disagrees", i + 1);
    }
    first
}

fn ok(text: &str) -> Item {
    Ok(Line {
        bytes: text.as_bytes().to_vec(),
        bare_lf: false,
    })
}

fn bare(text: &str) -> Item {
    Ok(Line {
        bytes: text.as_bytes().to_vec(),
        bare_lf: true,
    })
}

#[test]
fn pipelined_commands_in_one_buffer() {
    let input = b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n";
    assert_eq!(
        lines(input, LineLimits::default()),
        vec![
            ok("MAIL FROM:<a@b>"),
            ok("RCPT TO:<c@d>"),
            ok("RCPT TO:<e@f>"),
            ok("DATA")
        ]
    );
}

#[test]
fn incomplete_line_waits() {
    let mut reader = LineReader::default();
    reader.feed(b"NOOP\r\nQUI");
    assert_eq!(reader.next_line(), Some(ok("NOOP")));
    assert_eq!(reader.next_line(), None);
    assert_eq!(reader.buffered_len(), 3);
    reader.feed(b"T\r");
    assert_eq!(reader.next_line(), None);
    reader.feed(b"\n");
    assert_eq!(reader.next_line(), Some(ok("QUIT")));
    assert_eq!(reader.next_line(), None);
}

#[test]
fn bare_lf_ends_a_command_but_is_reported() {
    let input = b"HELO a\nNOOP\r\n\nx\ry\r\n";
    assert_eq!(
        lines(input, LineLimits::default()),
        vec![bare("HELO a"), ok("NOOP"), bare(""), ok("x\ry")]
    );
}

#[test]
fn line_of_exactly_the_limit_passes_one_more_fails() {
    let limits = LineLimits::default();
    let fits = format!("NOOP {}\r\n", "x".repeat(limits.command - 7));
    assert_eq!(fits.len(), limits.command);
    let over = format!("NOOP {}\r\n", "x".repeat(limits.command - 6));
    let input = format!("{fits}{over}QUIT\r\n");
    let got = lines(input.as_bytes(), limits);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], ok(fits.trim_end()));
    assert_eq!(got[1], Err(LineError::TooLong { limit: 512 }));
    assert_eq!(got[2], ok("QUIT"));
}

#[test]
fn overlong_line_yields_one_error_and_resyncs() {
    let mut input = b"NOOP\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'A', 5000));
    input.extend_from_slice(b"\r\nRSET\r\n");
    input.extend(std::iter::repeat_n(b'B', 700));
    input.extend_from_slice(b"\nQUIT\r\n");
    assert_eq!(
        lines(&input, LineLimits::default()),
        vec![
            ok("NOOP"),
            Err(LineError::TooLong { limit: 512 }),
            ok("RSET"),
            Err(LineError::TooLong { limit: 512 }),
            ok("QUIT"),
        ]
    );
}

#[test]
fn overlong_line_memory_is_bounded() {
    let mut reader = LineReader::default();
    reader.feed(&[b'z'; 600]);
    assert_eq!(
        reader.next_line(),
        Some(Err(LineError::TooLong { limit: 512 }))
    );
    for _ in 0..100 {
        reader.feed(&[b'z'; 1000]);
        assert_eq!(reader.next_line(), None);
        assert_eq!(reader.buffered_len(), 0, "discarded bytes are not kept");
    }
    reader.feed(b"\r\nNOOP\r\n");
    assert_eq!(reader.next_line(), Some(ok("NOOP")));
}

#[test]
fn auth_lines_get_the_larger_limit() {
    let limits = LineLimits::default();
    let auth = format!("AUTH PLAIN {}\r\n", "Q".repeat(4000));
    let got = lines(auth.as_bytes(), limits);
    assert_eq!(got, vec![ok(auth.trim_end())]);
    let too_long = format!("auth PLAIN {}\r\nNOOP\r\n", "Q".repeat(limits.auth));
    let got = lines(too_long.as_bytes(), limits);
    assert_eq!(
        got,
        vec![Err(LineError::TooLong { limit: 12288 }), ok("NOOP")]
    );
    let sasl = format!("{}\r\n", "Q".repeat(4000));
    assert_eq!(
        lines(sasl.as_bytes(), limits),
        vec![Err(LineError::TooLong { limit: 512 })]
    );
    let mut reader = LineReader::new(limits);
    reader.set_sasl(true);
    assert_eq!(
        read_all(&mut reader, &[sasl.as_bytes()]),
        vec![ok(sasl.trim_end())]
    );
}

#[test]
fn starttls_discards_pipelined_bytes() {
    let mut reader = LineReader::default();
    reader.feed(b"STARTTLS\r\nMAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\n");
    assert_eq!(reader.next_line(), Some(ok("STARTTLS")));
    assert_eq!(reader.discard_buffered(), 39);
    assert_eq!(reader.next_line(), None);
    reader.feed(b"EHLO again\r\n");
    assert_eq!(reader.next_line(), Some(ok("EHLO again")));
}

#[test]
fn take_buffered_hands_over_data_and_feed_gives_back() {
    let mut reader = LineReader::default();
    reader.feed(b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    assert_eq!(reader.next_line(), Some(ok("DATA")));
    let rest = reader.take_buffered();
    assert_eq!(rest, b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    assert_eq!(reader.buffered_len(), 0);
    assert_eq!(reader.next_line(), None);
    reader.feed(&rest[rest.len() - 6..]);
    assert_eq!(reader.next_line(), Some(ok("QUIT")));
}

#[test]
fn many_tiny_lines_are_fine() {
    let input = b"\n".repeat(20_000);
    let mut reader = LineReader::default();
    reader.feed(&input);
    let mut n = 0;
    while let Some(item) = reader.next_line() {
        assert_eq!(item, bare(""));
        n += 1;
    }
    assert_eq!(n, 20_000);
}
