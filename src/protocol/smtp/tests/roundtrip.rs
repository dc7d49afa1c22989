//! Property-style round trips: generated commands print and parse back
//! to themselves; mutated command lines that parse print to a line that
//! parses to the same value; nothing panics on hostile bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Rng;
use crate::protocol::smtp::{
    AddressLiteral, Body, Command, Domain, EsmtpParam, ForwardPath, LineReader, MailParams,
    Mailbox, RcptParams, ReversePath, SaslResponse,
};

fn string(rng: &mut Rng, alphabet: &[&str], min: usize, max: usize) -> String {
    let len = min + rng.below(max - min + 1);
    (0..len).map(|_| *rng.pick(alphabet)).collect()
}

const WORD: &[&str] = &[
    "a", "Z", "0", "9", "-", "_", ".", "é", "例", "[", "]", ":", "<", ">", "!",
];
const ATEXT: &[&str] = &["a", "b", "X", "7", "+", "=", "!", "#", "'", "~", "ü", "/"];
const QTEXT: &[&str] = &["a", " ", "\"", "\\", "@", ".", "<", ">", "(", "é", ",", ":"];
const LABEL: &[&str] = &["a", "b", "z", "0", "5", "ß", "例"];
const VALUE: &[&str] = &["a", "Z", "1", "+", "<", ">", "/", ";", "@", "é"];

fn label(rng: &mut Rng) -> String {
    let mut label = string(rng, LABEL, 1, 6);
    if rng.below(3) == 0 {
        label = format!("{label}-{}", string(rng, LABEL, 1, 3));
    }
    label
}

fn domain(rng: &mut Rng) -> Domain {
    match rng.below(6) {
        0 => Domain::Literal(AddressLiteral::Ipv4(Ipv4Addr::from(rng.next() as u32))),
        1 => Domain::Literal(AddressLiteral::Ipv6(Ipv6Addr::from(
            u128::from(rng.next()) << rng.below(64),
        ))),
        2 => Domain::Literal(AddressLiteral::General {
            tag: format!("x{}", string(rng, &["a", "1", "-", "b"], 0, 4))
                .trim_end_matches('-')
                .to_string(),
            content: string(rng, &["a", ">", "~", "!", "Z", ":"], 1, 8),
        }),
        _ => Domain::Name(
            (0..1 + rng.below(3))
                .map(|_| label(rng))
                .collect::<Vec<_>>()
                .join("."),
        ),
    }
}

fn mailbox(rng: &mut Rng) -> Mailbox {
    loop {
        let local = match rng.below(3) {
            0 => string(rng, QTEXT, 0, 10),
            _ => (0..1 + rng.below(3))
                .map(|_| string(rng, ATEXT, 1, 6))
                .collect::<Vec<_>>()
                .join("."),
        };
        if let Ok(m) = Mailbox::new(local, domain(rng)) {
            return m;
        }
    }
}

fn param(rng: &mut Rng) -> EsmtpParam {
    EsmtpParam {
        keyword: format!("X-{}", string(rng, &["A", "b", "9", "-"], 1, 5)),
        value: (rng.below(2) == 0).then(|| string(rng, VALUE, 1, 6)),
    }
}

fn mail_params(rng: &mut Rng) -> MailParams {
    MailParams {
        size: match rng.below(3) {
            0 => None,
            1 => Some(u64::MAX),
            _ => Some(rng.next() >> rng.below(64)),
        },
        body: *rng.pick(&[Body::SevenBit, Body::EightBitMime, Body::BinaryMime]),
        smtputf8: rng.below(2) == 0,
        auth: (rng.below(3) == 0)
            .then(|| string(rng, &["a", "+", "=", " ", "é", "<", ">", "@"], 1, 8)),
        other: (0..rng.below(3)).map(|_| param(rng)).collect(),
    }
}

fn command(rng: &mut Rng) -> Command {
    match rng.below(16) {
        0 => Command::Helo(string(rng, WORD, 1, 12)),
        1 => Command::Ehlo(string(rng, WORD, 1, 12)),
        2 | 3 => Command::Mail {
            from: if rng.below(4) == 0 {
                ReversePath::Null
            } else {
                ReversePath::Mailbox(mailbox(rng))
            },
            params: mail_params(rng),
        },
        4 | 5 => Command::Rcpt {
            to: if rng.below(4) == 0 {
                ForwardPath::Postmaster
            } else {
                ForwardPath::Mailbox(mailbox(rng))
            },
            params: RcptParams {
                other: (0..rng.below(3)).map(|_| param(rng)).collect(),
            },
        },
        6 => Command::Bdat {
            size: rng.next() >> rng.below(64),
            last: rng.below(2) == 0,
        },
        7 => {
            let text = format!("{} {}", string(rng, WORD, 1, 5), string(rng, WORD, 1, 5));
            if rng.below(2) == 0 {
                Command::Vrfy(text)
            } else {
                Command::Expn(text)
            }
        }
        8 => Command::Auth {
            mechanism: string(rng, &["A", "Z", "5", "-", "_"], 1, 20),
            initial_response: (rng.below(2) == 0)
                .then(|| SaslResponse::new(&string(rng, &["Q", "=", "+", "/", "9"], 1, 30)))
                .flatten(),
        },
        9 => Command::Data,
        10 => Command::Rset,
        11 => Command::Noop,
        12 => Command::Quit,
        13 => Command::Help,
        _ => Command::StartTls,
    }
}

#[test]
fn generated_commands_round_trip() {
    let mut rng = Rng::new(7);
    let mut pipelined = Vec::new();
    let mut wire = Vec::new();
    for _ in 0..5000 {
        let cmd = command(&mut rng);
        let line = cmd.to_line();
        let body = line.strip_suffix("\r\n").expect("CRLF");
        assert!(!body.contains(['\r', '\n']), "{line:?}");
        assert_eq!(Command::parse(body.as_bytes()), Ok(cmd.clone()), "{line:?}");
        wire.extend_from_slice(line.as_bytes());
        pipelined.push(cmd);
    }
    let mut reader = LineReader::default();
    reader.feed(&wire);
    for want in pipelined {
        let line = reader.next_line().expect("a line").expect("within limits");
        assert!(!line.bare_lf);
        assert_eq!(Command::parse(&line.bytes), Ok(want));
    }
    assert_eq!(reader.next_line(), None);
}

const SEEDS: &[&str] = &[
    "MAIL FROM:<a@b.c> SIZE=10 BODY=8BITMIME SMTPUTF8 AUTH=x+2Bz",
    "RCPT TO:<\"q\\\"x\"@[IPv6:::1]> X=1",
    "RCPT TO:<@r.s,@t.u:p@[1.2.3.4]>",
    "EHLO [IPv6:2001:db8::1]",
    "BDAT 1000 LAST",
    "AUTH PLAIN dGVzdA==",
    "VRFY <postmaster>",
    "mail from:<>",
    "rcpt to:<Postmaster>",
];

/// Mutates seed lines (byte flips, insertions of hostile bytes, cuts)
/// and checks: no panic, and `parse(print(parse(x))) == parse(x)`.
#[test]
fn mutated_lines_never_panic_and_reparse() {
    let mut rng = Rng::new(99);
    let hostile: &[u8] = b"\0\r\n \t<>\"\\@:.,[]=+\xff\xc3\xa9";
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut line = rng.pick(SEEDS).as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(line.len() + 1);
            match rng.below(3) {
                0 if at < line.len() => line[at] = *rng.pick(hostile),
                1 => line.insert(at, *rng.pick(hostile)),
                _ => line.truncate(at.max(1)),
            }
        }
        if let Ok(cmd) = Command::parse(&line) {
            parsed += 1;
            let again = cmd.to_line();
            assert_eq!(
                Command::parse(again.strip_suffix("\r\n").unwrap_or_default().as_bytes()),
                Ok(cmd),
                "{line:?}"
            );
        }
    }
    assert!(parsed > 1000, "mutations too destructive: {parsed}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(5);
    for _ in 0..20_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Ok(cmd) = Command::parse(&bytes) {
            assert_eq!(Command::parse(cmd.to_string().as_bytes()), Ok(cmd));
        }
    }
}
