//! Fuzzes the client side of the SMTP codec (what the outbound queue
//! reads from remote servers) with arbitrary bytes:
//! - the input as server output, whole and one byte at a time: no panic,
//!   the same replies (or error) both ways, every reply's code 200–599;
//! - every reply that parsed and whose lines are short enough not to be
//!   wrapped writes (`Reply::write_to`) and parses back to the same value;
//! - the input as an EHLO reply's lines: capabilities never panic;
//! - the input as a message: dot-stuffing is received back unchanged by
//!   the server's DATA receiver (after CRLF normalisation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use postel::protocol::smtp::{
    DataLimits, DataOutcome, DataReceiver, Reply, ReplyParser, dot_stuff, server_capabilities,
};

fn parse_all(chunks: &[&[u8]]) -> Vec<Result<Reply, String>> {
    let mut p = ReplyParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c);
        while let Some(r) = p.next_reply() {
            let stop = r.is_err();
            out.push(r.map_err(|e| e.to_string()));
            if stop {
                return out;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let whole = parse_all(&[data]);
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    assert_eq!(parse_all(&bytes), whole);
    for reply in whole.iter().flatten() {
        assert!((200..600).contains(&reply.code));
        let _ = server_capabilities(reply);
        if reply.lines.iter().all(|l| l.len() < 400) {
            let again = parse_all(&[&reply.to_bytes()]);
            assert_eq!(again, vec![Ok(reply.clone())]);
        }
    }
    let stuffed = dot_stuff(data);
    let mut rx = DataReceiver::new(DataLimits {
        max_size: u64::MAX,
        max_line: usize::MAX,
    });
    let mut out = Vec::new();
    let progress = rx.feed(&stuffed, &mut out);
    if !data.contains(&b'\r') {
        assert!(matches!(
            progress.outcome,
            Some(DataOutcome::Complete { .. })
        ));
        let mut want = Vec::new();
        for &b in data {
            if b == b'\n' {
                want.push(b'\r');
            }
            want.push(b);
        }
        if !want.is_empty() && !want.ends_with(b"\r\n") {
            want.extend_from_slice(b"\r\n");
        }
        assert_eq!(out, want);
    }
});
