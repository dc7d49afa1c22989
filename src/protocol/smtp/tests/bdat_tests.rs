//! The BDAT receiver and chunk skipper under every chunking.

use super::chunkings;
use crate::protocol::smtp::{BdatReceiver, ChunkOutcome, ChunkSkipper};

/// Feeds `input` in `chunks` into an already begun chunk; returns the
/// outcome and how many bytes of `input` were consumed.
fn feed_chunk(
    rx: &mut BdatReceiver,
    chunks: &[&[u8]],
    sink: &mut Vec<u8>,
) -> (Option<ChunkOutcome>, usize) {
    let mut offset = 0;
    for chunk in chunks {
        let progress = rx.feed(chunk, sink);
        if progress.outcome.is_some() {
            return (progress.outcome, offset + progress.consumed);
        }
        assert_eq!(progress.consumed, chunk.len());
        offset += chunk.len();
    }
    (None, offset)
}

#[test]
fn chunk_across_feeds_leaves_pipelined_command() {
    let input = b"hello\r\n.\r\nworld\nQUIT\r\n";
    for chunks in chunkings(input) {
        let mut rx = BdatReceiver::new(1000);
        let mut sink = Vec::new();
        rx.begin_chunk(16, false);
        assert!(rx.in_chunk());
        let (outcome, consumed) = feed_chunk(&mut rx, &chunks, &mut sink);
        assert_eq!(outcome, Some(ChunkOutcome::Accepted { size: 16 }));
        assert_eq!(&input[consumed..], b"QUIT\r\n");
        assert_eq!(
            sink, b"hello\r\n.\r\nworld\n",
            "no unstuffing, no terminator"
        );
        assert!(!rx.in_chunk());
    }
}

#[test]
fn last_chunk_completes_the_message() {
    let mut rx = BdatReceiver::new(1000);
    let mut sink = Vec::new();
    rx.begin_chunk(5, false);
    assert_eq!(
        feed_chunk(&mut rx, &[b"ab", b"\r\ncBDAT"], &mut sink),
        (Some(ChunkOutcome::Accepted { size: 5 }), 5)
    );
    rx.begin_chunk(3, true);
    assert_eq!(
        feed_chunk(&mut rx, &[b"d.\n"], &mut sink),
        (Some(ChunkOutcome::Complete { size: 8 }), 3)
    );
    assert_eq!(sink, b"ab\r\ncd.\n");
    assert_eq!(rx.total(), 8);
}

#[test]
fn zero_size_chunks() {
    let mut rx = BdatReceiver::new(10);
    let mut sink = Vec::new();
    rx.begin_chunk(0, false);
    let progress = rx.feed(b"QUIT\r\n", &mut sink);
    assert_eq!(
        (progress.consumed, progress.outcome),
        (0, Some(ChunkOutcome::Accepted { size: 0 }))
    );
    rx.begin_chunk(0, true);
    let progress = rx.feed(&[], &mut sink);
    assert_eq!(progress.outcome, Some(ChunkOutcome::Complete { size: 0 }));
    let idle = rx.feed(b"QUIT\r\n", &mut sink);
    assert_eq!(
        (idle.consumed, idle.outcome),
        (0, None),
        "no chunk in progress"
    );
}

#[test]
fn cumulative_size_limit_drains_and_refuses() {
    for chunking in [1usize, 3, 100] {
        let mut rx = BdatReceiver::new(10);
        let mut sink = Vec::new();
        let first: Vec<&[u8]> = b"123456".chunks(chunking).collect();
        rx.begin_chunk(6, false);
        assert_eq!(
            feed_chunk(&mut rx, &first, &mut sink).0,
            Some(ChunkOutcome::Accepted { size: 6 })
        );
        let stream = b"abcdefNOOP\r\n";
        let second: Vec<&[u8]> = stream.chunks(chunking).collect();
        rx.begin_chunk(6, false);
        let (outcome, consumed) = feed_chunk(&mut rx, &second, &mut sink);
        assert_eq!(outcome, Some(ChunkOutcome::TooBig));
        assert_eq!(&stream[consumed..], b"NOOP\r\n", "stays in sync");
        assert_eq!(sink, b"123456", "nothing of the big chunk is kept");
        rx.begin_chunk(1, true);
        assert_eq!(
            feed_chunk(&mut rx, &[b"z"], &mut sink).0,
            Some(ChunkOutcome::TooBig)
        );
        assert_eq!(sink, b"123456");
    }
    assert_eq!(ChunkOutcome::TooBig.reply().map(|r| r.code), Some(552));
    assert_eq!(ChunkOutcome::Accepted { size: 1 }.reply(), None);
}

#[test]
fn exact_limit_is_accepted() {
    let mut rx = BdatReceiver::new(4);
    let mut sink = Vec::new();
    rx.begin_chunk(4, true);
    assert_eq!(
        feed_chunk(&mut rx, &[b"abcd"], &mut sink).0,
        Some(ChunkOutcome::Complete { size: 4 })
    );
}

#[test]
fn huge_declared_chunk_is_refused_without_buffering() {
    let mut rx = BdatReceiver::new(1 << 20);
    let mut sink = Vec::new();
    rx.begin_chunk(u64::MAX, true);
    let progress = rx.feed(&[0u8; 4096], &mut sink);
    assert_eq!((progress.consumed, progress.outcome), (4096, None));
    assert!(sink.is_empty());
}

#[test]
fn skipper_drains_refused_chunks() {
    let input = b"0123456789RSET\r\n";
    for chunks in chunkings(input) {
        let mut skip = ChunkSkipper::new(10);
        let mut offset = 0;
        let mut done_at = None;
        for chunk in chunks {
            let progress = skip.feed(chunk);
            if progress.outcome.is_some() {
                done_at = Some(offset + progress.consumed);
                break;
            }
            offset += progress.consumed;
        }
        assert_eq!(done_at, Some(10));
    }
    assert_eq!(ChunkSkipper::new(0).feed(b"x").outcome, Some(()));
}
