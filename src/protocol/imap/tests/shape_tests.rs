//! The response serialiser never emits what a client cannot read:
//! generated data responses full of hostile strings (quotes,
//! backslashes, CR, LF, 8-bit, `NIL`) are checked with a small reader
//! that follows quoted strings and literals and demands balanced
//! parentheses and exactly one CRLF-terminated response.

use super::Rng;
use super::generate::{flag, mailbox, set, text};
use crate::protocol::imap::{
    Address, BodyFields, BodyStructure, Data, Disposition, ESearchItem, Envelope, FetchData,
    ListItem, MailboxAttribute, MultipartExtension, Namespace, QuotaResource, Response, Section,
    SinglePartExtension, StatusValue, Tag,
};

/// Reads one response: quoted strings, literals, balanced parentheses,
/// a single final CRLF.
fn check(wire: &[u8]) -> Result<(), String> {
    let (mut i, mut depth) = (0, 0i32);
    while i < wire.len() {
        match wire[i] {
            b'"' => {
                i += 1;
                loop {
                    match wire.get(i) {
                        Some(b'\\') if matches!(wire.get(i + 1), Some(b'"' | b'\\')) => i += 2,
                        Some(b'"') => break,
                        Some(b'\r' | b'\n' | b'\\') | None => {
                            return Err(format!("bad quoted at {i}"));
                        }
                        Some(b) if *b >= 0x80 => return Err(format!("8-bit quoted at {i}")),
                        Some(_) => i += 1,
                    }
                }
            }
            b'{' => {
                let close = wire[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or("open literal")?;
                let n: usize = std::str::from_utf8(&wire[i + 1..i + close])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or("bad literal size")?;
                if wire.get(i + close + 1..i + close + 3) != Some(b"\r\n") {
                    return Err(format!("literal size not followed by CRLF at {i}"));
                }
                i += close + 2 + n;
                if i >= wire.len() {
                    return Err("literal runs past the end".into());
                }
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'\r' if wire.get(i + 1) == Some(&b'\n') && i + 2 == wire.len() => {
                return if depth == 0 {
                    Ok(())
                } else {
                    Err(format!("depth {depth} at end"))
                };
            }
            b'\r' | b'\n' | 0 => return Err(format!("stray control octet at {i}")),
            _ => {}
        }
        if depth < 0 {
            return Err(format!("unbalanced ')' at {i}"));
        }
        i += 1;
    }
    Err("no final CRLF".into())
}

fn opt(rng: &mut Rng) -> Option<String> {
    rng.chance(3).then(|| text(rng, 0, 6))
}

fn nbytes(rng: &mut Rng) -> Option<Vec<u8>> {
    opt(rng).map(String::into_bytes)
}

fn params(rng: &mut Rng) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..rng.below(3))
        .map(|_| (text(rng, 1, 4).into(), text(rng, 0, 6).into()))
        .collect()
}

fn envelope(rng: &mut Rng) -> Envelope {
    let addresses = |rng: &mut Rng| {
        (0..rng.below(3))
            .map(|_| Address {
                name: nbytes(rng),
                adl: nbytes(rng),
                mailbox: nbytes(rng),
                host: nbytes(rng),
            })
            .collect()
    };
    Envelope {
        date: nbytes(rng),
        subject: nbytes(rng),
        from: addresses(rng),
        sender: addresses(rng),
        reply_to: addresses(rng),
        to: addresses(rng),
        cc: addresses(rng),
        bcc: addresses(rng),
        in_reply_to: nbytes(rng),
        message_id: nbytes(rng),
    }
}

fn body(rng: &mut Rng, depth: usize) -> BodyStructure {
    let fields = |rng: &mut Rng| BodyFields {
        params: params(rng),
        id: nbytes(rng),
        description: nbytes(rng),
        encoding: text(rng, 0, 5).into(),
        octets: rng.next() as u32,
    };
    let ext = |rng: &mut Rng| {
        rng.chance(2).then(|| SinglePartExtension {
            md5: nbytes(rng),
            disposition: rng.chance(2).then(|| Disposition {
                kind: text(rng, 0, 5).into(),
                params: params(rng),
            }),
            language: (0..rng.below(3)).map(|_| text(rng, 0, 3).into()).collect(),
            location: nbytes(rng),
        })
    };
    match if depth > 2 {
        rng.below(2)
    } else {
        rng.below(4)
    } {
        0 => BodyStructure::Basic {
            media_type: text(rng, 0, 5).into(),
            subtype: text(rng, 0, 5).into(),
            fields: fields(rng),
            extension: ext(rng),
        },
        1 => BodyStructure::Text {
            media_type: text(rng, 0, 5).into(),
            subtype: text(rng, 0, 5).into(),
            fields: fields(rng),
            lines: rng.next() as u32,
            extension: ext(rng),
        },
        2 => BodyStructure::Message {
            fields: fields(rng),
            envelope: Box::new(envelope(rng)),
            body: Box::new(body(rng, depth + 1)),
            lines: 3,
            extension: ext(rng),
        },
        _ => BodyStructure::Multipart {
            parts: (0..1 + rng.below(3))
                .map(|_| body(rng, depth + 1))
                .collect(),
            subtype: text(rng, 0, 5).into(),
            extension: rng.chance(2).then(|| MultipartExtension {
                params: params(rng),
                disposition: None,
                language: vec![text(rng, 0, 3).into()],
                location: nbytes(rng),
            }),
        },
    }
}

fn fetch_item(rng: &mut Rng) -> FetchData {
    match rng.below(7) {
        0 => FetchData::Flags((0..rng.below(4)).map(|_| flag(rng)).collect()),
        1 => FetchData::Envelope(Box::new(envelope(rng))),
        2 => FetchData::Body(Box::new(body(rng, 0))),
        3 => FetchData::BodyStructure(Box::new(body(rng, 0))),
        4 => FetchData::Section {
            section: Section::default(),
            origin: rng.chance(2).then_some(7),
            data: nbytes(rng),
        },
        5 => FetchData::Rfc822Header(nbytes(rng)),
        _ => FetchData::ModSeq(rng.next()),
    }
}

fn data(rng: &mut Rng) -> Data {
    let list = |rng: &mut Rng| ListItem {
        attributes: vec![MailboxAttribute::Marked, MailboxAttribute::Trash],
        delimiter: *rng.pick(&[Some('/'), Some('.'), Some('"'), Some('\\'), Some('é'), None]),
        mailbox: mailbox(rng),
        child_info: (0..rng.below(2)).map(|_| text(rng, 0, 4)).collect(),
    };
    match rng.below(8) {
        0 => Data::List(list(rng)),
        1 => Data::Lsub(list(rng)),
        2 => Data::Status {
            mailbox: mailbox(rng),
            items: vec![StatusValue::Unseen(3), StatusValue::Size(rng.next())],
        },
        3 => Data::ESearch {
            tag: Tag::new("A1"),
            uid: rng.chance(2),
            items: vec![ESearchItem::All(set(rng)), ESearchItem::Count(2)],
        },
        4 => Data::Namespace {
            personal: vec![Namespace {
                prefix: text(rng, 0, 5),
                delimiter: Some('/'),
            }],
            other: vec![],
            shared: vec![Namespace {
                prefix: text(rng, 0, 5),
                delimiter: None,
            }],
        },
        5 => Data::Id(rng.chance(2).then(|| vec![(text(rng, 0, 5), opt(rng))])),
        6 => Data::Quota {
            root: text(rng, 0, 5),
            resources: vec![QuotaResource {
                name: "STORAGE".into(),
                usage: 1,
                limit: 2,
            }],
        },
        _ => Data::Fetch {
            seq: 1 + rng.below(100) as u32,
            items: (0..1 + rng.below(4)).map(|_| fetch_item(rng)).collect(),
        },
    }
}

#[test]
fn generated_data_responses_are_well_formed() {
    let mut rng = Rng::new(5);
    for _ in 0..3000 {
        let wire = Response::Data(data(&mut rng)).to_bytes();
        if let Err(e) = check(&wire) {
            panic!("{e}: {}", String::from_utf8_lossy(&wire));
        }
    }
}

#[test]
fn the_checker_rejects_broken_output() {
    for bad in [
        &b"* X (a\r\n"[..],
        b"* X a)\r\n",
        b"* X \"a\r\n",
        b"* X {5}\r\nab\r\n",
        b"* X a\nb\r\n",
        b"* X a",
    ] {
        assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(check(b"* X (\"a\\\"\" {3}\r\n)\r\n NIL)\r\n"), Ok(()));
}
