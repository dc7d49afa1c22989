//! Random SEARCH, SORT, FETCH and STORE commands for the
//! property-style tests: nested search keys (depth-limited), every
//! section form, partial ranges and modifiers.

use std::num::NonZeroU32;

use time::Date;

use super::Rng;
use super::generate::{atom, bytes, date, flag, number, set, utf8};
use crate::protocol::imap::{
    EntryType, Fetch, FetchAttribute as A, FetchItems, HeaderName, Partial, Search, SearchKey as K,
    SearchReturn, Section, SectionText, Sort, SortCriterion, SortKey, Store, StoreAction,
};

fn search_key(rng: &mut Rng, depth: usize) -> K {
    let leaf = depth > 3 || rng.chance(2);
    if !leaf {
        return match rng.below(3) {
            0 => K::Not(Box::new(search_key(rng, depth + 1))),
            1 => K::Or(
                Box::new(search_key(rng, depth + 1)),
                Box::new(search_key(rng, depth + 1)),
            ),
            _ => K::And(
                (0..1 + rng.below(3))
                    .map(|_| search_key(rng, depth + 1))
                    .collect(),
            ),
        };
    }
    let flags = [
        K::All,
        K::Answered,
        K::Deleted,
        K::Draft,
        K::Flagged,
        K::New,
        K::Old,
        K::Recent,
        K::Seen,
        K::Unanswered,
        K::Undeleted,
        K::Undraft,
        K::Unflagged,
        K::Unseen,
    ];
    let strings: [fn(Vec<u8>) -> K; 7] =
        [K::Bcc, K::Body, K::Cc, K::From, K::Subject, K::Text, K::To];
    let dates: [fn(Date) -> K; 6] = [
        K::Before,
        K::On,
        K::Since,
        K::SentBefore,
        K::SentOn,
        K::SentSince,
    ];
    match rng.below(12) {
        0..=2 => rng.pick(&flags).clone(),
        3 | 4 => rng.pick(&strings)(bytes(rng)),
        5 => rng.pick(&dates)(date(rng)),
        6 => K::Header(format!("X-{}", atom(rng)), bytes(rng)),
        7 => {
            if rng.chance(2) {
                K::Keyword(atom(rng))
            } else {
                K::Unkeyword(atom(rng))
            }
        }
        8 => {
            if rng.chance(2) {
                K::Larger(rng.next())
            } else {
                K::Smaller(u64::from(number(rng)))
            }
        }
        9 => {
            if rng.chance(2) {
                K::Uid(set(rng))
            } else {
                K::SequenceSet(set(rng))
            }
        }
        10 => K::ModSeq {
            entry: rng.chance(2).then(|| {
                (
                    "/flags/\\Seen".to_string(),
                    *rng.pick(&[EntryType::Private, EntryType::Shared, EntryType::All]),
                )
            }),
            modseq: rng.next(),
        },
        _ => K::All,
    }
}

fn keys(rng: &mut Rng) -> Vec<K> {
    (0..1 + rng.below(3)).map(|_| search_key(rng, 0)).collect()
}

fn section(rng: &mut Rng) -> Section {
    let part: Vec<NonZeroU32> = (0..rng.below(3))
        .map(|_| NonZeroU32::new(number(rng)).expect("nz"))
        .collect();
    let names = |rng: &mut Rng| {
        (0..1 + rng.below(3))
            .map(|_| {
                let name = atom(rng).to_string();
                if rng.chance(4) {
                    HeaderName::quoted(name)
                } else {
                    HeaderName::from(name)
                }
            })
            .collect()
    };
    let text = match rng.below(6) {
        0 => None,
        1 => Some(SectionText::Header),
        2 => Some(SectionText::HeaderFields(names(rng))),
        3 => Some(SectionText::HeaderFieldsNot(names(rng))),
        4 => Some(SectionText::Text),
        _ if !part.is_empty() => Some(SectionText::Mime),
        _ => None,
    };
    Section { part, text }
}

fn fetch_attribute(rng: &mut Rng) -> A {
    let simple = [
        A::Envelope,
        A::Flags,
        A::InternalDate,
        A::Rfc822,
        A::Rfc822Header,
        A::Rfc822Size,
        A::Rfc822Text,
        A::Body,
        A::BodyStructure,
        A::Uid,
        A::ModSeq,
    ];
    if rng.chance(2) {
        return rng.pick(&simple).clone();
    }
    A::BodySection {
        peek: rng.chance(2),
        section: section(rng),
        partial: rng.chance(2).then(|| Partial {
            offset: rng.below(100_000) as u32,
            length: NonZeroU32::new(number(rng)).expect("nz"),
        }),
    }
}

pub(super) fn search(rng: &mut Rng, uid: bool) -> Search {
    Search {
        uid,
        returns: rng.chance(2).then(|| {
            (0..rng.below(4))
                .map(|_| {
                    *rng.pick(&[
                        SearchReturn::Min,
                        SearchReturn::Max,
                        SearchReturn::All,
                        SearchReturn::Count,
                        SearchReturn::Save,
                    ])
                })
                .collect()
        }),
        charset: rng.chance(2).then(|| utf8(rng)),
        criteria: keys(rng),
    }
}

pub(super) fn fetch(rng: &mut Rng, uid: bool) -> Fetch {
    Fetch {
        uid,
        set: set(rng),
        items: match rng.below(5) {
            0 => FetchItems::All,
            1 => FetchItems::Fast,
            2 => FetchItems::Full,
            _ => FetchItems::Attributes(
                (0..1 + rng.below(4))
                    .map(|_| fetch_attribute(rng))
                    .collect(),
            ),
        },
        changed_since: rng.chance(2).then(|| rng.next()),
    }
}

pub(super) fn store(rng: &mut Rng, uid: bool) -> Store {
    Store {
        uid,
        set: set(rng),
        action: *rng.pick(&[StoreAction::Replace, StoreAction::Add, StoreAction::Remove]),
        silent: rng.chance(2),
        flags: (0..rng.below(4)).map(|_| flag(rng)).collect(),
        unchanged_since: rng.chance(2).then(|| rng.next()),
    }
}

pub(super) fn sort(rng: &mut Rng, uid: bool) -> Sort {
    Sort {
        uid,
        criteria: (0..1 + rng.below(3))
            .map(|_| SortCriterion {
                reverse: rng.chance(2),
                key: *rng.pick(&[
                    SortKey::Arrival,
                    SortKey::Cc,
                    SortKey::Date,
                    SortKey::From,
                    SortKey::Size,
                    SortKey::Subject,
                    SortKey::To,
                    SortKey::DisplayFrom,
                    SortKey::DisplayTo,
                ]),
            })
            .collect(),
        charset: utf8(rng),
        search: keys(rng),
    }
}
