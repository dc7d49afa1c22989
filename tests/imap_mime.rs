//! ENVELOPE, BODY, BODYSTRUCTURE and body sections of the fixtures in
//! `tests/fixtures/imap-mime/`, serialised with the protocol codec and
//! compared with what Dovecot 2.3 answered for the same messages (see
//! that folder's README for how the answers were recorded).
//!
//! Every FETCH response must be byte-identical to Dovecot's: the values
//! and their form (quoted or literal, the case of media types and of
//! echoed header names, list or string). A failure lists every response
//! that differs, with both versions. The same answers are also asked of
//! a real IMAP session over the store
//! ([`a_session_answers_every_fetch_as_dovecot_did`]).

mod common;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::server::builder;
use postel::imap::mime::{ParsedMessage, body_structure, envelope};
use postel::imap::{ImapSettings, Session};
use postel::protocol::imap::{
    CommandBody, FetchAttribute, FetchData, FetchEncoder, FetchItems, Limits, Parsed, Parser,
    Section,
};
use postel::server::{ShutdownTrigger, shutdown_channel};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

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

/// The responses that differ from Dovecot's, each with both versions.
#[derive(Default)]
struct Mismatches {
    checked: usize,
    found: Vec<String>,
}

impl Mismatches {
    fn compare(&mut self, what: &str, ours: &[u8], theirs: &[u8]) {
        self.checked += 1;
        if ours == theirs {
            return;
        }
        let at = ours
            .iter()
            .zip(theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        self.found.push(format!(
            "{what} (first difference at octet {at})\n ours:    {:?}\n dovecot: {:?}",
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(theirs)
        ));
    }

    #[track_caller]
    fn assert_none(&self, kind: &str) {
        assert!(self.checked > 0, "no {kind} compared");
        assert!(
            self.found.is_empty(),
            "{} of {} {kind} responses differ from Dovecot's:\n{}",
            self.found.len(),
            self.checked,
            self.found.join("\n")
        );
        eprintln!(
            "{kind}: {} responses byte-identical to Dovecot's",
            self.checked
        );
    }
}

#[test]
fn envelope_body_and_bodystructure_match_dovecot() {
    let mut mismatches = Mismatches::default();
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
            mismatches.compare(
                &format!("{name}.{item}"),
                &fetch_line(seq, &data),
                &expected(name, item),
            );
        }
    }
    mismatches.assert_none("ENVELOPE/BODY/BODYSTRUCTURE");
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

/// Whether `item` is a single `BODY[…]` fetch; the others
/// (`RFC822.HEADER`, several items at once) are compared by the session
/// test only.
fn is_one_section(item: &str) -> bool {
    item.starts_with("BODY") && item.matches("BODY").count() == 1
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
    let mut mismatches = Mismatches::default();
    for (i, (name, msg)) in fixtures().iter().enumerate() {
        let seq = u32::try_from(i + 1).expect("few fixtures");
        let parsed = ParsedMessage::new(msg);
        for (item, untagged, tagged) in recorded_sections(&expected(name, "sections")) {
            if !is_one_section(&item) {
                continue;
            }
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
            mismatches.compare(&format!("{name} {item}"), &ours, &untagged);
        }
    }
    mismatches.assert_none("section");
}

/// A client over a pipe to a real [`Session`] that keeps the server's
/// exact bytes (like generate.py's client for Dovecot).
struct Wire {
    io: BufReader<DuplexStream>,
    tag: u32,
    _stop: ShutdownTrigger,
}

impl Wire {
    async fn line(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        let read = self.io.read_until(b'\n', &mut buf);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("timely")
            .expect("read");
        assert!(!buf.is_empty(), "connection closed");
        buf
    }

    /// One response: a line with the literals it announces.
    async fn response(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let line = self.line().await;
            out.extend_from_slice(&line);
            let Some(n) = literal_len(&line) else {
                return out;
            };
            let mut literal = vec![0; n];
            self.io.read_exact(&mut literal).await.expect("literal");
            out.extend_from_slice(&literal);
        }
    }

    /// Sends a command; returns the untagged responses and the tagged
    /// line, its tag written `T`.
    async fn command(&mut self, text: &str) -> (Vec<u8>, Vec<u8>) {
        self.tag += 1;
        let tag = format!("a{} ", self.tag);
        let line = format!("{tag}{text}\r\n");
        self.io
            .get_mut()
            .write_all(line.as_bytes())
            .await
            .expect("write");
        let mut untagged = Vec::new();
        loop {
            let r = self.response().await;
            if let Some(rest) = r.strip_prefix(tag.as_bytes()) {
                return (untagged, [&b"T "[..], rest].concat());
            }
            untagged.extend_from_slice(&r);
        }
    }
}

#[tokio::test]
async fn a_session_answers_every_fetch_as_dovecot_did() {
    let s = builder()
        .config("[imap]\nallow_plaintext_auth_on_loopback = true\n")
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    let fixtures = fixtures();
    for (_, msg) in &fixtures {
        s.services
            .store
            .deliver("alice@example.org", "INBOX", msg, 0)
            .await
            .expect("deliver");
    }
    let (mine, theirs) = tokio::io::duplex(1 << 20);
    let (trigger, shutdown) = shutdown_channel();
    let settings = Arc::new(ImapSettings::from_config(&s.services.config));
    let peer = "127.0.0.1:40000".parse().expect("addr");
    tokio::spawn(Session::new(theirs, peer, s.services.clone(), settings, shutdown).run());
    let mut c = Wire {
        io: BufReader::new(mine),
        tag: 0,
        _stop: trigger,
    };
    assert!(c.line().await.starts_with(b"* OK"));
    let (_, ok) = c.command("LOGIN alice@example.org password").await;
    assert!(ok.starts_with(b"T OK"), "{}", String::from_utf8_lossy(&ok));
    let (_, ok) = c.command("EXAMINE INBOX").await;
    assert!(ok.starts_with(b"T OK"), "{}", String::from_utf8_lossy(&ok));

    let mut mismatches = Mismatches::default();
    let status = |tagged: &[u8]| tagged.get(..4).map(<[u8]>::to_vec);
    for (i, (name, _)) in fixtures.iter().enumerate() {
        let seq = i + 1;
        for item in ["envelope", "body", "bodystructure"] {
            let (untagged, tagged) = c
                .command(&format!("FETCH {seq} ({})", item.to_ascii_uppercase()))
                .await;
            assert!(tagged.starts_with(b"T OK"), "{name} {item}");
            mismatches.compare(&format!("{name}.{item}"), &untagged, &expected(name, item));
        }
        for (item, theirs, their_tagged) in recorded_sections(&expected(name, "sections")) {
            let (ours, tagged) = c.command(&format!("FETCH {seq} ({item})")).await;
            let what = format!("{name} {item}");
            assert_eq!(status(&tagged), status(&their_tagged), "{what}");
            mismatches.compare(&what, &ours, &theirs);
        }
    }
    mismatches.assert_none("session FETCH");
    c.command("LOGOUT").await;
    s.stop().await;
}
