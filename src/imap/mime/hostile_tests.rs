//! Hostile input: nothing panics, nesting and part counts are capped,
//! and the work stays linear.

use super::*;
use crate::protocol::imap::{Section, SectionText};
use std::num::NonZeroU32;

fn exercise(msg: &[u8]) {
    let parsed = ParsedMessage::new(msg);
    let _ = parsed.envelope();
    let _ = parsed.body_structure(true);
    let _ = parsed.body_structure(false);
    let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    let texts = [
        None,
        Some(SectionText::Header),
        Some(SectionText::Text),
        Some(SectionText::Mime),
        Some(SectionText::HeaderFields(vec![
            "from".into(),
            "subject".into(),
        ])),
        Some(SectionText::HeaderFieldsNot(vec!["received".into()])),
    ];
    for path in [
        vec![],
        vec![n(1)],
        vec![n(2), n(1)],
        vec![n(1), n(1), n(1)],
        vec![n(u32::MAX)],
    ] {
        for text in &texts {
            let s = Section {
                part: path.clone(),
                text: text.clone(),
            };
            let _ = parsed.section(&s);
        }
    }
    let _ = header_values(msg, "subject");
    let _ = header_text(msg);
    let _ = body_text(msg);
    let _ = sort_subject(msg);
    let _ = sort_mailbox(msg, "from");
    let _ = sort_date(msg, 0);
}

/// A small deterministic generator (no extra dependency).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn garbage_never_panics() {
    let alphabet = b"--b\r\n:;<>\"\\()@,[]=?* \tQBa\x00\xff\xc3Content-Type: multipart/mixed; boundary=b\r\nmessage/rfc822\r\n";
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..400 {
        let len = (next(&mut seed) % 600) as usize;
        let msg: Vec<u8> = (0..len)
            .map(|_| alphabet[(next(&mut seed) % alphabet.len() as u64) as usize])
            .collect();
        exercise(&msg);
    }
    for msg in [
        &b""[..],
        b"\r\n",
        b"\n",
        b"\r",
        b":",
        b"--",
        b"\x00\x00",
        b"From: <",
        b"To: \"\\",
    ] {
        exercise(msg);
    }
}

#[test]
fn deep_nesting_is_capped() {
    let mut msg = Vec::new();
    for i in 0..(MAX_DEPTH + 50) {
        msg.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    msg.extend_from_slice(b"\r\ndeep\r\n");
    exercise(&msg);
    let mut depth = 0;
    let mut s = ParsedMessage::new(&msg).body_structure(false);
    while let crate::protocol::imap::BodyStructure::Multipart { mut parts, .. } = s {
        depth += 1;
        s = parts.remove(0);
    }
    assert_eq!(depth, MAX_DEPTH - 1);

    let mut msg = Vec::new();
    for _ in 0..(MAX_DEPTH + 50) {
        msg.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
    }
    exercise(&msg);
}

#[test]
fn huge_header_and_part_counts() {
    let mut msg = Vec::new();
    for i in 0..50_000 {
        msg.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    msg.extend_from_slice(b"Content-Type: multipart/mixed; boundary=z\r\n\r\n");
    for _ in 0..20_000 {
        msg.extend_from_slice(b"--z\r\n\r\nx\r\n");
    }
    let parsed = ParsedMessage::new(&msg);
    let _ = parsed.envelope();
    let _ = parsed.body_structure(true);
    let s = Section {
        part: vec![NonZeroU32::new(19_999).unwrap_or(NonZeroU32::MIN)],
        text: None,
    };
    assert_eq!(parsed.section(&s), b"x");
}
