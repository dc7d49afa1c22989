//! ENVELOPE, BODY, BODYSTRUCTURE and body sections of the fixtures in
//! `tests/fixtures/imap-mime/`, serialised with the protocol codec and
//! compared with what Dovecot 2.3 answered for the same messages (see
//! that folder's README for how the answers were recorded).
//!
//! Every FETCH response is compared byte for byte. Where the bytes
//! differ, the values must still be identical and the only differences
//! allowed are the codec's own choices of form, listed in
//! [`FORM_DIFFERENCES`] and explained in the README.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use postel::imap::mime::{ParsedMessage, body_structure, envelope};
use postel::protocol::imap::{
    CommandBody, FetchAttribute, FetchData, FetchEncoder, FetchItems, Limits, Parsed, Parser,
    Section,
};

/// Differences in form (not in value) between the codec's serialiser and
/// Dovecot's, tolerated by [`same_value`]:
/// - a string Dovecot writes as a literal and the codec quotes (or the
///   reverse);
/// - media types the codec writes in upper case (`"TEXT"`, `"MESSAGE"
///   "RFC822"`) where Dovecot keeps the header's case;
/// - one Content-Language written as a string by the codec and as a
///   one-element list by Dovecot;
/// - for sections, the case of header names echoed in
///   `BODY[HEADER.FIELDS (…)]` (the section data itself must be equal).
const FORM_DIFFERENCES: &str = "literal-vs-quoted, media-type case, one-language list, echo case";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imap-mime")
}

/// The fixtures in the order generate.py APPENDed them (name order), so
/// that index + 1 is the sequence number in Dovecot's answers.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_owned();
            (stem, std::fs::read(&p).expect("fixture"))
        })
        .collect()
}

fn expected(name: &str, item: &str) -> Vec<u8> {
    std::fs::read(dir().join("expected").join(format!("{name}.{item}.txt"))).expect("expected file")
}

fn fetch_line(seq: u32, item: &FetchData) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = FetchEncoder::begin(seq, &mut out);
    enc.item(item, &mut out);
    enc.finish(&mut out);
    out
}

/// An IMAP value, form forgotten.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Nil,
    Str(Vec<u8>),
    Atom(Vec<u8>),
    List(Vec<V>),
}

fn parse_values(input: &[u8]) -> Vec<V> {
    fn value(s: &[u8], i: &mut usize) -> Option<V> {
        while s.get(*i) == Some(&b' ') {
            *i += 1;
        }
        match *s.get(*i)? {
            b'(' => {
                *i += 1;
                let mut items = Vec::new();
                loop {
                    while s.get(*i) == Some(&b' ') {
                        *i += 1;
                    }
                    if s.get(*i) == Some(&b')') {
                        *i += 1;
                        return Some(V::List(items));
                    }
                    items.push(value(s, i)?);
                }
            }
            b'"' => {
                *i += 1;
                let mut out = Vec::new();
                loop {
                    let b = *s.get(*i)?;
                    *i += 1;
                    match b {
                        b'"' => return Some(V::Str(out)),
                        b'\\' => {
                            out.push(*s.get(*i)?);
                            *i += 1;
                        }
                        _ => out.push(b),
                    }
                }
            }
            b'{' => {
                let close = *i + s[*i..].iter().position(|&b| b == b'}')?;
                let n: usize = std::str::from_utf8(&s[*i + 1..close]).ok()?.parse().ok()?;
                let start = close + 3;
                *i = start + n;
                Some(V::Str(s.get(start..start + n)?.to_vec()))
            }
            b')' => None,
            _ => {
                let start = *i;
                while s
                    .get(*i)
                    .is_some_and(|&b| !matches!(b, b' ' | b'(' | b')' | b'\r'))
                {
                    *i += 1;
                }
                let atom = s[start..*i].to_vec();
                if atom.is_empty() {
                    return None;
                }
                Some(if atom == b"NIL" {
                    V::Nil
                } else {
                    V::Atom(atom)
                })
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(v) = value(input, &mut i) {
        out.push(v);
    }
    out
}

/// Equal values, allowing only the differences of [`FORM_DIFFERENCES`]
/// (`ours` is the codec's, `theirs` Dovecot's).
fn same_value(ours: &V, theirs: &V) -> bool {
    match (ours, theirs) {
        (V::Str(a), V::Str(b)) => {
            a == b
                || (matches!(a.as_slice(), b"TEXT" | b"MESSAGE" | b"RFC822")
                    && a.eq_ignore_ascii_case(b))
        }
        (V::Str(_), V::List(list)) if list.len() == 1 => same_value(ours, &list[0]),
        (V::List(a), V::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
        }
        _ => ours == theirs,
    }
}

struct Tally {
    exact: usize,
    form_only: Vec<String>,
}

fn compare(tally: &mut Tally, what: &str, ours: &[u8], theirs: &[u8]) {
    if ours == theirs {
        tally.exact += 1;
        return;
    }
    let (a, b) = (parse_values(ours), parse_values(theirs));
    assert!(
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_value(x, y)),
        "{what}: values differ\n ours:    {}\n dovecot: {}",
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(theirs)
    );
    tally.form_only.push(what.to_owned());
}

fn report(kind: &str, tally: &Tally) {
    eprintln!(
        "{kind}: {} byte-exact, {} equal in value ({FORM_DIFFERENCES}): {:?}",
        tally.exact,
        tally.form_only.len(),
        tally.form_only
    );
}

#[test]
fn envelope_body_and_bodystructure_match_dovecot() {
    let mut tally = Tally {
        exact: 0,
        form_only: Vec::new(),
    };
    for (i, (name, msg)) in fixtures().iter().enumerate() {
        let seq = u32::try_from(i + 1).expect("few fixtures");
        let items = [
            ("envelope", FetchData::Envelope(Box::new(envelope(msg)))),
            (
                "body",
                FetchData::Body(Box::new(body_structure(msg, false))),
            ),
            (
                "bodystructure",
                FetchData::BodyStructure(Box::new(body_structure(msg, true))),
            ),
        ];
        for (item, data) in items {
            compare(
                &mut tally,
                &format!("{name}.{item}"),
                &fetch_line(seq, &data),
                &expected(name, item),
            );
        }
    }
    report("ENVELOPE/BODY/BODYSTRUCTURE", &tally);
    assert!(tally.exact > 0);
}

/// Splits a `.sections.txt` file into (request item, untagged answer,
/// tagged line).
fn recorded_sections(data: &[u8]) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    let line = |i: &mut usize| -> Vec<u8> {
        let start = *i;
        let end = data[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(data.len(), |p| start + p + 2);
        *i = end;
        data[start..end].to_vec()
    };
    while i < data.len() {
        let request = line(&mut i);
        let item = String::from_utf8_lossy(&request[3..request.len() - 2]).into_owned();
        let mut untagged = Vec::new();
        loop {
            let mut l = line(&mut i);
            if l.starts_with(b"T ") {
                out.push((item, untagged, l));
                break;
            }
            // A line announcing a literal continues after the literal.
            while let Some(n) = literal_len(&l) {
                let start = i;
                i += n;
                l.extend_from_slice(&data[start..i]);
                l.extend_from_slice(&line(&mut i));
            }
            untagged.extend_from_slice(&l);
        }
    }
    out
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&body[open + 1..]).ok()?.parse().ok()
}

/// The section and partial range of `BODY.PEEK[…]<…>`, through the
/// codec's own command parser.
fn parse_item(item: &str) -> Option<(Section, Option<(u32, NonZeroU32)>)> {
    let mut parser = Parser::new(Limits::default());
    parser.feed(format!("a FETCH 1 ({item})\r\n").as_bytes());
    let Parsed::Complete(command) = parser.next_command() else {
        return None;
    };
    let CommandBody::Fetch(fetch) = command.body else {
        return None;
    };
    let FetchItems::Attributes(attrs) = fetch.items else {
        return None;
    };
    match attrs.into_iter().next()? {
        FetchAttribute::BodySection {
            section, partial, ..
        } => Some((section, partial.map(|p| (p.offset, p.length)))),
        _ => None,
    }
}

#[test]
fn body_sections_match_dovecot() {
    let mut tally = Tally {
        exact: 0,
        form_only: Vec::new(),
    };
    for (i, (name, msg)) in fixtures().iter().enumerate() {
        let seq = u32::try_from(i + 1).expect("few fixtures");
        let parsed = ParsedMessage::new(msg);
        for (item, untagged, tagged) in recorded_sections(&expected(name, "sections")) {
            let Some((section, partial)) = parse_item(&item) else {
                // Dovecot refused it too (BODY[MIME] without a part).
                assert!(
                    tagged.starts_with(b"T BAD"),
                    "{name} {item}: codec refused, Dovecot did not"
                );
                continue;
            };
            assert!(
                tagged.starts_with(b"T OK"),
                "{name} {item}: codec accepted, Dovecot did not"
            );
            let mut data = parsed.section(&section);
            if let Some((offset, length)) = partial {
                let start = (offset as usize).min(data.len());
                let end = start.saturating_add(length.get() as usize).min(data.len());
                data = data[start..end].to_vec();
            }
            let ours = fetch_line(
                seq,
                &FetchData::Section {
                    section,
                    origin: partial.map(|p| p.0),
                    data: Some(data),
                },
            );
            let what = format!("{name} {item}");
            if ours == untagged {
                tally.exact += 1;
            } else {
                assert_eq!(
                    same_but_echo_case(&ours, &untagged),
                    Some(true),
                    "{what}:\n ours:    {}\n dovecot: {}",
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&untagged)
                );
                tally.form_only.push(what);
            }
        }
    }
    report("sections", &tally);
}

/// Whether two FETCH section responses differ only in the case of the
/// echoed section name (Dovecot upper-cases `HEADER.FIELDS` names; the
/// codec echoes them as the client sent them). The data must be equal.
fn same_but_echo_case(ours: &[u8], theirs: &[u8]) -> Option<bool> {
    let split = |s: &[u8]| s.iter().position(|&b| b == b']').map(|p| p + 1);
    let (a, b) = (split(ours)?, split(theirs)?);
    Some(ours[..a].eq_ignore_ascii_case(&theirs[..b]) && ours[a..] == theirs[b..])
}
