//! Random commands of every kind for the property-style tests: valid
//! values only (tags, atoms and sets from their alphabets), with
//! strings that force every wire form (atom, quoted, literal).

use std::num::NonZeroU32;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::Rng;
use super::generate_query::{fetch, search, sort, store};
use crate::protocol::imap::{
    Append, Atom, Command, CommandBody as B, Flag, List, ListReturn, ListSelect, MailboxName,
    Secret, SeqNumber, SeqRange, SequenceSet, StatusItem, Tag,
};

const TEXT: &[&str] = &[
    "a", "Z", "0", " ", "\"", "\\", "]", "(", ")", "{", "}", "%", "*", "ü", "日", "\r\n", "\t",
    "&", "-", ".", "NIL", "+", "~",
];
const ATOM: &[&str] = &["a", "B", "7", "$", "-", ".", "_", "[", "=", "+", "'"];

pub(super) fn text(rng: &mut Rng, min: usize, max: usize) -> String {
    let len = min + rng.below(max - min + 1);
    (0..len).map(|_| *rng.pick(TEXT)).collect()
}

pub(super) fn atom(rng: &mut Rng) -> Atom {
    let s: String = (0..1 + rng.below(6)).map(|_| *rng.pick(ATOM)).collect();
    Atom::new(&s).expect("atom alphabet")
}

pub(super) fn mailbox(rng: &mut Rng) -> MailboxName {
    match rng.below(8) {
        0 => MailboxName::inbox(),
        1 => MailboxName::from_wire(b"&Jjo"),
        2 => MailboxName::from_wire("caf\u{e9}".as_bytes()),
        _ => MailboxName::new(&text(rng, 0, 8)),
    }
}

pub(super) fn number(rng: &mut Rng) -> u32 {
    match rng.below(4) {
        0 => u32::MAX,
        _ => 1 + rng.below(5000) as u32,
    }
}

pub(super) fn set(rng: &mut Rng) -> SequenceSet {
    if rng.chance(10) {
        return SequenceSet::last_result();
    }
    let seq = |rng: &mut Rng| match rng.chance(5) {
        true => SeqNumber::Largest,
        false => SeqNumber::Value(NonZeroU32::new(number(rng)).expect("non-zero")),
    };
    let ranges = (0..1 + rng.below(4))
        .map(|_| match rng.chance(2) {
            true => SeqRange::Single(seq(rng)),
            false => SeqRange::Range(seq(rng), seq(rng)),
        })
        .collect();
    SequenceSet::new(ranges).expect("non-empty")
}

pub(super) fn flag(rng: &mut Rng) -> Flag {
    match rng.below(8) {
        0 => Flag::Seen,
        1 => Flag::Answered,
        2 => Flag::Flagged,
        3 => Flag::Deleted,
        4 => Flag::Draft,
        5 => Flag::Recent,
        6 => Flag::Extension(Atom::new(&format!("X{}", atom(rng))).expect("atom")),
        _ => Flag::Keyword(atom(rng)),
    }
}

pub(super) fn date(rng: &mut Rng) -> Date {
    let month = Month::try_from(1 + rng.below(12) as u8).expect("month");
    Date::from_calendar_date(1900 + rng.below(200) as i32, month, 1 + rng.below(28) as u8)
        .expect("date")
}

pub(super) fn date_time(rng: &mut Rng) -> OffsetDateTime {
    let time = Time::from_hms(
        rng.below(24) as u8,
        rng.below(60) as u8,
        rng.below(60) as u8,
    )
    .expect("time");
    let offset = UtcOffset::from_hms(
        rng.below(27) as i8 - 13,
        rng.below(60) as i8 * if rng.chance(2) { 1 } else { 0 },
        0,
    );
    let offset = offset.unwrap_or(UtcOffset::UTC);
    PrimitiveDateTime::new(date(rng), time).assume_offset(offset)
}

pub(super) fn bytes(rng: &mut Rng) -> Vec<u8> {
    text(rng, 0, 6).into_bytes()
}

fn list(rng: &mut Rng) -> List {
    let selects = [
        ListSelect::Subscribed,
        ListSelect::Remote,
        ListSelect::SpecialUse,
    ];
    let status = [StatusItem::Messages, StatusItem::Unseen, StatusItem::Size];
    List {
        selection: rng.chance(2).then(|| {
            let mut s: Vec<ListSelect> = (0..rng.below(3)).map(|_| *rng.pick(&selects)).collect();
            if !s.is_empty() && rng.chance(2) {
                s.push(ListSelect::RecursiveMatch);
            }
            s
        }),
        reference: mailbox(rng),
        patterns: (0..1 + rng.below(3)).map(|_| mailbox(rng)).collect(),
        returns: rng.chance(2).then(|| {
            (0..rng.below(4))
                .map(|_| match rng.below(4) {
                    0 => ListReturn::Children,
                    1 => ListReturn::Subscribed,
                    2 => ListReturn::SpecialUse,
                    _ => ListReturn::Status(vec![*rng.pick(&status)]),
                })
                .collect()
        }),
    }
}

pub(super) fn utf8(rng: &mut Rng) -> String {
    text(rng, 1, 8)
}

fn append(rng: &mut Rng) -> Append {
    Append {
        mailbox: mailbox(rng),
        flags: (0..rng.below(3)).map(|_| flag(rng)).collect(),
        date: rng.chance(2).then(|| date_time(rng)),
        message: (0..rng.below(40)).map(|_| rng.next() as u8).collect(),
    }
}

/// A command naming mailboxes.
fn mailbox_body(rng: &mut Rng) -> B {
    match rng.below(11) {
        0 => B::Select {
            mailbox: mailbox(rng),
            condstore: rng.chance(2),
        },
        1 => B::Examine {
            mailbox: mailbox(rng),
            condstore: rng.chance(2),
        },
        2 => B::Create {
            mailbox: mailbox(rng),
        },
        3 => B::Delete {
            mailbox: mailbox(rng),
        },
        4 => B::Rename {
            from: mailbox(rng),
            to: mailbox(rng),
        },
        5 => B::Subscribe {
            mailbox: mailbox(rng),
        },
        6 => B::Unsubscribe {
            mailbox: mailbox(rng),
        },
        7 => B::Lsub {
            reference: mailbox(rng),
            pattern: mailbox(rng),
        },
        8 => B::Status {
            mailbox: mailbox(rng),
            items: vec![
                StatusItem::Messages,
                StatusItem::HighestModSeq,
                StatusItem::UidValidity,
            ],
        },
        9 => B::GetQuotaRoot {
            mailbox: mailbox(rng),
        },
        _ => B::List(list(rng)),
    }
}

/// A command without a mailbox or message set.
fn session_body(rng: &mut Rng) -> B {
    match rng.below(6) {
        0 => rng
            .pick(&[
                B::Capability,
                B::Noop,
                B::Logout,
                B::StartTls,
                B::Check,
                B::Close,
                B::Expunge,
                B::Unselect,
                B::Idle,
                B::Namespace,
            ])
            .clone(),
        1 => B::Authenticate {
            mechanism: atom(rng).to_string(),
            initial: rng
                .chance(2)
                .then(|| Secret::new(*rng.pick(&["=", "AGFsaWNlAHB3", "dGVzdA=="]))),
        },
        2 => B::Login {
            username: utf8(rng),
            password: Secret::new(utf8(rng)),
        },
        3 => B::Id(rng.chance(4).then(|| {
            (0..rng.below(4))
                .map(|_| (utf8(rng), rng.chance(2).then(|| text(rng, 0, 8))))
                .collect()
        })),
        4 => B::Enable((0..1 + rng.below(3)).map(|_| atom(rng)).collect()),
        _ => B::GetQuota {
            root: text(rng, 0, 6),
        },
    }
}

fn body(rng: &mut Rng) -> B {
    let uid = rng.chance(2);
    match rng.below(14) {
        0..=2 => session_body(rng),
        3..=5 => mailbox_body(rng),
        6 => B::Append(append(rng)),
        7 => B::UidExpunge(set(rng)),
        8 => B::Search(search(rng, uid)),
        9 => B::Fetch(fetch(rng, uid)),
        10 => B::Store(store(rng, uid)),
        11 => B::Copy {
            uid,
            set: set(rng),
            mailbox: mailbox(rng),
        },
        12 => B::Move {
            uid,
            set: set(rng),
            mailbox: mailbox(rng),
        },
        _ => B::Sort(sort(rng, uid)),
    }
}

fn tag(rng: &mut Rng) -> Tag {
    let s: String = (0..1 + rng.below(6))
        .map(|_| *rng.pick(&["a", "Z", "0", "9", "]", ".", "-", "$"]))
        .collect();
    Tag::new(&s).expect("tag alphabet")
}

/// A random command.
pub(super) fn command(rng: &mut Rng) -> Command {
    Command {
        tag: tag(rng),
        body: body(rng),
    }
}
