//! Unit tests for the IMAP codec. Stream-level tests run their input
//! whole, byte-at-a-time and in random chunks ([`stream`]) and demand the
//! same events from each.

mod body_tests;
mod command_tests;
mod fetch_tests;
mod generate;
mod generate_query;
mod hostile_tests;
mod quote_tests;
mod reader_tests;
mod response_tests;
mod roundtrip;
mod search_tests;
mod sequence_tests;
mod shape_tests;

use super::{Command, CommandBody, CommandError, Limits, ParseError, Parsed, Parser};

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(super) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The ways a stream test splits its input: whole, one byte per feed,
/// and several random chunkings (chunks of 1 to 17 bytes).
pub(super) fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![input], input.chunks(1).collect()];
    for seed in 1..=6 {
        let mut rng = Rng::new(seed);
        let mut chunks = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = (1 + rng.below(17)).min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        out.push(chunks);
    }
    out
}

/// Parses one command line (CRLF added).
#[track_caller]
pub(super) fn cmd<T: AsRef<[u8]> + ?Sized>(line: &T) -> Command {
    let input = [line.as_ref(), b"\r\n"].concat();
    match Command::parse(&input) {
        Ok(command) => command,
        Err(e) => panic!("{:?} refused: {e:?}", String::from_utf8_lossy(&input)),
    }
}

/// Parses one command line and returns its body, checking that it
/// prints back to something that parses to the same command.
#[track_caller]
pub(super) fn body(line: &str) -> CommandBody {
    let command = cmd(line);
    assert_round_trip(&command);
    command.body
}

/// The error for one command line (CRLF added).
#[track_caller]
pub(super) fn err<T: AsRef<[u8]> + ?Sized>(line: &T) -> CommandError {
    let input = [line.as_ref(), b"\r\n"].concat();
    match Command::parse(&input) {
        Ok(command) => panic!(
            "{:?} accepted: {command:?}",
            String::from_utf8_lossy(&input)
        ),
        Err(e) => e,
    }
}

/// The syntax error reason for one command line.
#[track_caller]
pub(super) fn reason<T: AsRef<[u8]> + ?Sized>(line: &T) -> &'static str {
    match err(line).error {
        ParseError::Syntax { reason, .. } => reason,
        other => panic!(
            "{:?}: not a syntax error: {other:?}",
            String::from_utf8_lossy(line.as_ref())
        ),
    }
}

/// The command prints (both literal styles) to bytes that parse back to
/// it, whole and through the streaming parser.
#[track_caller]
pub(super) fn assert_round_trip(command: &Command) {
    for plus in [false, true] {
        let mut wire = Vec::new();
        command.write_to(&mut wire, plus);
        let text = String::from_utf8_lossy(&wire);
        assert_eq!(Command::parse(&wire).as_ref(), Ok(command), "{text}");
        let events = events(Limits::default(), &[&wire]);
        let completes: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e, Event::Literal(..)))
            .collect();
        assert_eq!(completes, [&Event::Complete(command.clone())], "{text}");
    }
}

/// What the streaming parser reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event {
    Complete(Command),
    Literal(u32, bool),
    Error(Option<String>, ParseError),
}

/// Feeds `chunks` one after another, collecting every event.
pub(super) fn events(limits: Limits, chunks: &[&[u8]]) -> Vec<Event> {
    let mut parser = Parser::new(limits);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        loop {
            match parser.next_command() {
                Parsed::Incomplete => break,
                Parsed::Complete(c) => out.push(Event::Complete(c)),
                Parsed::NeedsLiteral { size, sync } => out.push(Event::Literal(size, sync)),
                Parsed::Error(e) => {
                    out.push(Event::Error(e.tag.map(|t| t.as_str().to_string()), e.error));
                }
            }
        }
    }
    out
}

/// Runs `input` through every chunking, checks they agree, and returns
/// the events.
#[track_caller]
pub(super) fn stream(limits: Limits, input: &[u8]) -> Vec<Event> {
    let mut all = chunkings(input)
        .into_iter()
        .map(|chunks| events(limits, &chunks));
    let first = all.next().unwrap_or_default();
    for (i, other) in all.enumerate() {
        assert_eq!(other, first, "chunking #{} disagrees", i + 1);
    }
    first
}

/// Shorthand for an expected error event.
pub(super) fn error(tag: Option<&str>, e: ParseError) -> Event {
    Event::Error(tag.map(str::to_string), e)
}
