//! Fuzzes the SMTP codec with arbitrary bytes:
//! - the whole input as one command line: no panic, and every command
//!   that parses prints to a line that parses back to the same value;
//! - the input as a client stream through the line reader, the parser
//!   and the DATA/BDAT receivers, as the session drives them: no panic,
//!   the sink never exceeds the size limit, and the transcript (events
//!   and octets written) is the same whether the stream arrives whole or
//!   in small pieces (STARTTLS's discard is left out: it depends on what
//!   arrived with the command by design, and unit tests cover it);
//! - the input as reply text: every reply line stays within 512 octets
//!   and CR/LF never appear except as line ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postel::protocol::smtp::{
    BdatReceiver, Command, DataLimits, DataReceiver, EnhancedStatus, LineLimits, LineReader,
    MAX_REPLY_LINE, Reply,
};

const MAX_SIZE: u64 = 4096;

fn round_trip(line: &[u8]) -> String {
    match Command::parse(line) {
        Ok(cmd) => {
            let printed = cmd.to_line();
            let body = printed.strip_suffix("\r\n").expect("to_line ends in CRLF");
            assert!(!body.contains(['\r', '\n']), "{printed:?}");
            assert_eq!(
                Command::parse(body.as_bytes()),
                Ok(cmd.clone()),
                "{printed:?}"
            );
            format!("{cmd:?}")
        }
        Err(e) => format!("error {e:?} -> {}", e.reply().code),
    }
}

enum Mode {
    Commands,
    Data(DataReceiver),
    Bdat(BdatReceiver),
}

/// Drives the codec over `input` cut into pieces of `piece` bytes and
/// returns what happened, event by event.
fn drive(input: &[u8], piece: usize) -> Vec<String> {
    let limits = LineLimits {
        command: 64,
        auth: 128,
    };
    let mut reader = LineReader::new(limits);
    let mut mode = Mode::Commands;
    let mut sink = Vec::new();
    let mut written = 0u64;
    let mut log = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        let mut pending = chunk.to_vec();
        loop {
            let (consumed, event) = match &mut mode {
                Mode::Commands => {
                    reader.feed(&pending);
                    pending.clear();
                    while let Some(line) = reader.next_line() {
                        let Ok(line) = line else {
                            log.push("too long".to_string());
                            continue;
                        };
                        log.push(round_trip(&line.bytes));
                        match Command::parse(&line.bytes) {
                            Ok(Command::Data) => {
                                mode = Mode::Data(DataReceiver::new(DataLimits {
                                    max_size: MAX_SIZE,
                                    max_line: 100,
                                }))
                            }
                            Ok(Command::Bdat { size, last }) => {
                                let mut rx = BdatReceiver::new(MAX_SIZE);
                                rx.begin_chunk(size, last);
                                mode = Mode::Bdat(rx);
                            }
                            _ => {}
                        }
                        if !matches!(mode, Mode::Commands) {
                            break;
                        }
                    }
                    if matches!(mode, Mode::Commands) {
                        break;
                    }
                    pending = reader.take_buffered();
                    continue;
                }
                Mode::Data(rx) => {
                    let progress = rx.feed(&pending, &mut sink);
                    let event = progress.outcome.map(|o| format!("data {o:?}"));
                    (progress.consumed, event)
                }
                Mode::Bdat(rx) => {
                    let progress = rx.feed(&pending, &mut sink);
                    let event = progress.outcome.map(|o| format!("bdat {o:?}"));
                    (progress.consumed, event)
                }
            };
            assert!(consumed <= pending.len());
            written += sink.len() as u64;
            sink.clear();
            assert!(written <= MAX_SIZE, "sink over the limit");
            if let Some(event) = event {
                log.push(format!("{event} {written}"));
                written = 0;
                mode = Mode::Commands;
            }
            pending.drain(..consumed);
            if pending.is_empty() && !matches!(mode, Mode::Commands) {
                break;
            }
        }
    }
    log
}

fn check_reply(text: &[u8]) {
    let text = String::from_utf8_lossy(text).into_owned();
    let reply = Reply::multiline(
        550,
        Some(EnhancedStatus::new(5, 7, 1)),
        vec![text.clone(), text],
    );
    let wire = reply.to_bytes();
    for line in wire.split_inclusive(|&b| b == b'\n') {
        assert!(
            line.len() <= MAX_REPLY_LINE,
            "reply line of {} octets",
            line.len()
        );
        assert!(line.ends_with(b"\r\n"));
        let body = &line[..line.len() - 2];
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'));
        assert!(body.starts_with(b"550-5.7.1") || body.starts_with(b"550 5.7.1"));
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    check_reply(data);
    let piece = 1 + usize::from(data.first().copied().unwrap_or(0) % 16);
    let whole = drive(data, data.len());
    let pieces = drive(data, piece);
    let bytes = drive(data, 1);
    assert_eq!(whole, pieces, "transcript depends on chunking");
    assert_eq!(whole, bytes, "transcript depends on chunking");
});
