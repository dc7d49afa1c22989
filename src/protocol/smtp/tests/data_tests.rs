//! The DATA receiver: terminator, unstuffing, smuggling, limits — each
//! under every chunking.

use super::{Rng, chunkings};
use crate::protocol::smtp::{DataLimits, DataOutcome, DataReceiver};

#[derive(Debug, PartialEq, Eq)]
struct Run {
    message: Vec<u8>,
    consumed: usize,
    outcome: Option<DataOutcome>,
}

fn run_chunks(chunks: &[&[u8]], limits: DataLimits) -> Run {
    let mut rx = DataReceiver::new(limits);
    let mut message = Vec::new();
    let mut offset = 0;
    for chunk in chunks {
        let progress = rx.feed(chunk, &mut message);
        if let Some(outcome) = progress.outcome {
            assert_eq!(rx.outcome(), Some(outcome));
            let again = rx.feed(b".\r\n", &mut message);
            assert_eq!((again.consumed, again.outcome), (0, Some(outcome)));
            return Run {
                message,
                consumed: offset + progress.consumed,
                outcome: Some(outcome),
            };
        }
        assert_eq!(progress.consumed, chunk.len());
        offset += chunk.len();
    }
    Run {
        message,
        consumed: offset,
        outcome: None,
    }
}

/// Receives `input` under every chunking; all must agree.
fn receive(input: &[u8], limits: DataLimits) -> Run {
    let mut runs = chunkings(input).into_iter().map(|c| run_chunks(&c, limits));
    let first = runs.next().expect("at least one chunking");
    for (i, run) in runs.enumerate() {
        assert_eq!(run, first, "chunking #{} disagrees", i + 1);
    }
    first
}

fn complete(input: &[u8]) -> (Vec<u8>, usize) {
    let run = receive(input, DataLimits::default());
    let size = run.message.len() as u64;
    assert_eq!(
        run.outcome,
        Some(DataOutcome::Complete { size }),
        "{input:?}"
    );
    (run.message, run.consumed)
}

#[test]
fn normal_message() {
    let input = b"Subject: hi\r\n\r\nHello\r\n.\r\n";
    let (message, consumed) = complete(input);
    assert_eq!(message, b"Subject: hi\r\n\r\nHello\r\n");
    assert_eq!(consumed, input.len());
}

#[test]
fn dot_unstuffing() {
    let input = b"a\r\n..b\r\n...\r\n.x\r\n..\r\nc.d\r\n.\r\n";
    let (message, _) = complete(input);
    assert_eq!(message, b"a\r\n.b\r\n..\r\nx\r\n.\r\nc.d\r\n");
}

#[test]
fn empty_message() {
    let (message, consumed) = complete(b".\r\nQUIT\r\n");
    assert!(message.is_empty());
    assert_eq!(consumed, 3);
    let (message, _) = complete(b"\r\n.\r\n");
    assert_eq!(message, b"\r\n");
}

#[test]
fn pipelined_command_after_terminator_is_left() {
    let input = b"body\r\n.\r\nQUIT\r\n";
    let (message, consumed) = complete(input);
    assert_eq!(message, b"body\r\n");
    assert_eq!(&input[consumed..], b"QUIT\r\n");
}

#[test]
fn terminator_split_at_every_position() {
    let input = b"x\r\n.\r\nQUIT\r\n";
    for a in 0..=input.len() {
        for b in a..=input.len() {
            let chunks = [&input[..a], &input[a..b], &input[b..]];
            let run = run_chunks(&chunks, DataLimits::default());
            assert_eq!(
                run.outcome,
                Some(DataOutcome::Complete { size: 3 }),
                "{a} {b}"
            );
            assert_eq!(
                (run.message.as_slice(), run.consumed),
                (&b"x\r\n"[..], 6),
                "{a} {b}"
            );
        }
    }
}

/// `first<sep>MAIL…DATA\r\nsmuggled\r\n.\r\nQUIT\r\n`: one refused
/// message, the smuggled commands consumed as its data, QUIT left over.
fn assert_smuggling_refused(separator: &[u8]) {
    let mut input = b"Subject: a\r\n\r\nfirst".to_vec();
    input.extend_from_slice(separator);
    input.extend_from_slice(b"MAIL FROM:<x@y.z>\r\nRCPT TO:<v@y.z>\r\nDATA\r\nsmuggled\r\n.\r\n");
    let end = input.len();
    input.extend_from_slice(b"QUIT\r\n");
    let run = receive(&input, DataLimits::default());
    assert_eq!(run.outcome, Some(DataOutcome::BareNewline), "{separator:?}");
    assert_eq!(run.consumed, end, "{separator:?}");
    assert!(
        run.message.windows(8).any(|w| w == b"smuggled"),
        "stays inside the first"
    );
}

#[test]
fn smuggling_variants_never_end_data() {
    for separator in [
        &b"\n.\r\n"[..],
        b"\r\n.\n",
        b"\r.\r\n",
        b"\n.\n",
        b"\r\n.\r",
        b"\r\n.\rX\r\n",
        b"\r.\n",
        b"\n\r.\r\n",
    ] {
        assert_smuggling_refused(separator);
    }
}

#[test]
fn bare_cr_and_lf_anywhere_are_refused() {
    for input in [
        &b"a\rb\r\n.\r\n"[..],
        b"a\nb\r\n.\r\n",
        b"\n.\r\n.\r\n",
        b"\r\r\n.\r\n",
        b".\n.\r\n.\r\n",
    ] {
        let run = receive(input, DataLimits::default());
        assert_eq!(run.outcome, Some(DataOutcome::BareNewline), "{input:?}");
        assert_eq!(run.consumed, input.len(), "{input:?}");
    }
}

#[test]
fn oversized_message_is_drained_and_stays_in_sync() {
    let limits = DataLimits {
        max_size: 100,
        ..DataLimits::default()
    };
    let mut input = b"line of text\r\n".repeat(100);
    input.extend_from_slice(b".\r\nQUIT\r\n");
    let run = receive(&input, limits);
    assert_eq!(run.outcome, Some(DataOutcome::TooBig));
    assert_eq!(&input[run.consumed..], b"QUIT\r\n");
    assert!(run.message.len() <= 100, "buffered {}", run.message.len());
    let exact = [b"x".repeat(98), b"\r\n.\r\n".to_vec()].concat();
    assert_eq!(
        receive(&exact, limits).outcome,
        Some(DataOutcome::Complete { size: 100 })
    );
    let over = [b"x".repeat(99), b"\r\n.\r\n".to_vec()].concat();
    assert_eq!(receive(&over, limits).outcome, Some(DataOutcome::TooBig));
}

#[test]
fn line_length_limit() {
    let ok = [b"y".repeat(998), b"\r\n.\r\n".to_vec()].concat();
    assert_eq!(
        receive(&ok, DataLimits::default()).outcome,
        Some(DataOutcome::Complete { size: 1000 })
    );
    let stuffed = [b"..".to_vec(), b"y".repeat(997), b"\r\n.\r\n".to_vec()].concat();
    assert!(matches!(
        receive(&stuffed, DataLimits::default()).outcome,
        Some(DataOutcome::Complete { .. })
    ));
    let long = [
        b"a\r\n".to_vec(),
        b"y".repeat(999),
        b"\r\nb\r\n.\r\nNOOP\r\n".to_vec(),
    ]
    .concat();
    let run = receive(&long, DataLimits::default());
    assert_eq!(run.outcome, Some(DataOutcome::LineTooLong));
    assert_eq!(&long[run.consumed..], b"NOOP\r\n");
}

#[test]
fn outcome_priority() {
    let limits = DataLimits {
        max_size: 10,
        max_line: 5,
    };
    let both = b"0123456789abc\nx\r\n.\r\n";
    assert_eq!(
        receive(both, limits).outcome,
        Some(DataOutcome::BareNewline)
    );
    let big_and_long = b"0123456789abc\r\n.\r\n";
    assert_eq!(
        receive(big_and_long, limits).outcome,
        Some(DataOutcome::TooBig)
    );
    let reply = DataOutcome::BareNewline.reply().expect("refusal");
    assert_eq!(
        (reply.code, reply.status.map(|s| s.to_string())),
        (550, Some("5.5.2".into()))
    );
    assert_eq!(DataOutcome::TooBig.reply().map(|r| r.code), Some(552));
    assert_eq!(DataOutcome::LineTooLong.reply().map(|r| r.code), Some(554));
    assert_eq!(DataOutcome::Complete { size: 0 }.reply(), None);
}

#[test]
fn unterminated_data_consumes_everything_and_waits() {
    let run = receive(b"no end\r\n.\r", DataLimits::default());
    assert_eq!(run.outcome, None);
    assert_eq!(run.consumed, 10);
}

/// Random messages (lines with leading dots, binary bytes, empty lines)
/// are dot-stuffed, received and must come out unchanged.
#[test]
fn random_messages_round_trip_through_stuffing() {
    let mut rng = Rng::new(42);
    let alphabet: &[u8] = b"..ab \t:\x00\xff\xc3\xa9-";
    for _ in 0..200 {
        let mut original = Vec::new();
        for _ in 0..rng.below(12) {
            for _ in 0..rng.below(30) {
                original.push(*rng.pick(alphabet));
            }
            original.extend_from_slice(b"\r\n");
        }
        let mut wire = Vec::new();
        for line in original.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&b'.') {
                wire.push(b'.');
            }
            wire.extend_from_slice(line);
        }
        wire.extend_from_slice(b".\r\nRSET\r\n");
        let run = receive(&wire, DataLimits::default());
        let size = original.len() as u64;
        assert_eq!(run.outcome, Some(DataOutcome::Complete { size }));
        assert_eq!(run.message, original);
        assert_eq!(&wire[run.consumed..], b"RSET\r\n");
    }
}
