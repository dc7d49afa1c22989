//! Fuzzes the IMAP codec with arbitrary bytes:
//! - the whole input as one command: no panic, and every command that
//!   parses prints (with `{n}` and with `{n+}` literals) to bytes that
//!   parse back to the same value;
//! - the input as a client stream through the streaming parser, as the
//!   session drives it (AUTHENTICATE and IDLE lines included): no panic,
//!   the buffer stays within the limits, every complete command round
//!   trips, and the events are the same whether the stream arrives whole,
//!   in small pieces or byte by byte;
//! - the input as response text: every status response is one line, and
//!   a LIST response naming a parsed mailbox keeps CR and LF inside
//!   literals.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postel::protocol::imap::{
    Command, CommandBody, Completion, Data, Limits, ListItem, MailboxName, Parsed, Parser,
    RespText, Response, Tag,
};

const LIMITS: Limits = Limits {
    line: 256,
    literal: 128,
    append: 512,
    literals: 8,
};

fn round_trip(command: &Command) {
    for plus in [false, true] {
        let mut wire = Vec::new();
        command.write_to(&mut wire, plus);
        assert_eq!(
            Command::parse(&wire).as_ref(),
            Ok(command),
            "{}",
            String::from_utf8_lossy(&wire)
        );
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Commands,
    Authenticate,
    Idle,
}

/// Drives the parser over `input` cut into pieces of `piece` bytes and
/// returns what happened, event by event.
fn drive(input: &[u8], piece: usize) -> Vec<String> {
    let mut parser = Parser::new(LIMITS);
    let mut mode = Mode::Commands;
    let mut log = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        parser.feed(chunk);
        loop {
            let event = match mode {
                Mode::Commands => match parser.next_command() {
                    Parsed::Incomplete => None,
                    Parsed::Complete(command) => {
                        round_trip(&command);
                        mode = match command.body {
                            CommandBody::Authenticate { .. } => Mode::Authenticate,
                            CommandBody::Idle => Mode::Idle,
                            _ => Mode::Commands,
                        };
                        Some(format!("{command:?}"))
                    }
                    other => Some(format!("{other:?}")),
                },
                Mode::Authenticate => parser.next_authenticate().map(|line| {
                    mode = Mode::Commands;
                    format!("auth {line:?}")
                }),
                Mode::Idle => parser.next_idle_done().map(|done| {
                    mode = Mode::Commands;
                    format!("idle {done:?}")
                }),
            };
            let Some(event) = event else { break };
            log.push(event);
        }
        let bound = LIMITS.line + LIMITS.append as usize;
        assert!(parser.buffered_len() <= bound, "buffer over the limits");
    }
    log
}

fn check_responses(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let tag = Tag::new("a1").expect("valid tag");
    let wire = Response::Tagged(tag, Completion::No, RespText::new(text)).to_bytes();
    assert!(wire.ends_with(b"\r\n"));
    let body = &wire[..wire.len() - 2];
    assert!(!body.contains(&b'\r') && !body.contains(&b'\n'));
    let list = Data::List(ListItem {
        attributes: vec![],
        delimiter: Some('/'),
        mailbox: MailboxName::from_wire(data),
        child_info: vec![],
    });
    let wire = Response::Data(list).to_bytes();
    let has_literal = wire.windows(3).any(|w| w == b"}\r\n");
    let newlines = wire.iter().filter(|&&b| b == b'\n').count();
    assert!(newlines == 1 || has_literal, "{}", String::from_utf8_lossy(&wire));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(command) = Command::parse(data) {
        round_trip(&command);
    }
    check_responses(data);
    let piece = 1 + usize::from(data.first().copied().unwrap_or(0) % 16);
    let whole = drive(data, data.len());
    assert_eq!(whole, drive(data, piece), "events depend on chunking");
    assert_eq!(whole, drive(data, 1), "events depend on chunking");
});
