//! SEARCH (every RFC 3501 key, groups, NOT/OR nesting, MODSEQ, ESEARCH
//! RETURN, SAVE and `$`) and SORT.

use time::macros::date;

use super::{body, err, reason};
use crate::protocol::imap::{
    Atom, CommandBody as B, EntryType, MAX_NESTING, ParseError, Search, SearchKey as K,
    SearchReturn, SequenceSet, Sort, SortCriterion, SortKey,
};

fn search(line: &str) -> Search {
    match body(line) {
        B::Search(s) => s,
        other => panic!("{line}: {other:?}"),
    }
}

fn keys(line: &str) -> Vec<K> {
    search(line).criteria
}

fn seq(n: u32) -> SequenceSet {
    SequenceSet::single(n).expect("non-zero")
}

#[test]
fn every_flag_key() {
    let line = "a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN";
    assert_eq!(
        keys(line),
        vec![
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
        ]
    );
    assert_eq!(keys("a search all"), vec![K::All]);
}

#[test]
fn string_date_and_number_keys() {
    let line = r#"a SEARCH BCC b BODY "two words" CC c FROM {3}"#;
    let line = format!(
        "{line}\r\nf\u{f6} SUBJECT s TEXT t TO to@x HEADER Message-ID <id@x> HEADER X-Empty \"\""
    );
    assert_eq!(
        keys(&line),
        vec![
            K::Bcc(b"b".to_vec()),
            K::Body(b"two words".to_vec()),
            K::Cc(b"c".to_vec()),
            K::From("fö".as_bytes().to_vec()),
            K::Subject(b"s".to_vec()),
            K::Text(b"t".to_vec()),
            K::To(b"to@x".to_vec()),
            K::Header("Message-ID".into(), b"<id@x>".to_vec()),
            K::Header("X-Empty".into(), Vec::new()),
        ]
    );
    let line = r#"a SEARCH BEFORE 1-Feb-1994 ON "01-Jan-2024" SINCE 31-dec-1999 SENTBEFORE 2-Mar-2000 SENTON 29-Feb-2024 SENTSINCE 9-Sep-2009"#;
    assert_eq!(
        keys(line),
        vec![
            K::Before(date!(1994 - 02 - 01)),
            K::On(date!(2024 - 01 - 01)),
            K::Since(date!(1999 - 12 - 31)),
            K::SentBefore(date!(2000 - 03 - 02)),
            K::SentOn(date!(2024 - 02 - 29)),
            K::SentSince(date!(2009 - 09 - 09)),
        ]
    );
    let junk = Atom::new("$Junk").expect("atom");
    assert_eq!(
        keys("a SEARCH KEYWORD $Junk UNKEYWORD $Junk LARGER 1024 SMALLER 5000000000"),
        vec![
            K::Keyword(junk.clone()),
            K::Unkeyword(junk),
            K::Larger(1024),
            K::Smaller(5_000_000_000),
        ]
    );
    assert_eq!(reason("a SEARCH SINCE 30-Feb-2024"), "invalid date");
    assert_eq!(reason("a SEARCH SINCE 1-Foo-2024"), "invalid date");
    assert_eq!(reason("a SEARCH SINCE 1-Jan-24"), "invalid date");
    assert_eq!(reason("a SEARCH LARGER x"), "expected a number");
    assert_eq!(reason("a SEARCH FOO"), "unknown search key");
    assert_eq!(reason("a SEARCH"), "expected a space");
    assert_eq!(reason("a SEARCH SUBJECT"), "expected a space");
}

#[test]
fn sets_groups_not_or() {
    assert_eq!(
        keys("a SEARCH 1:5 UID 3,7:*"),
        vec![
            K::SequenceSet(search("a SEARCH 1:5").criteria[0].clone().seq()),
            K::Uid(search("a SEARCH 3,7:*").criteria[0].clone().seq()),
        ]
    );
    assert_eq!(
        keys("a UID SEARCH 1:* NOT DELETED"),
        vec![
            K::SequenceSet(search("a SEARCH 1:*").criteria[0].clone().seq()),
            K::Not(Box::new(K::Deleted)),
        ]
    );
    assert_eq!(
        keys("a SEARCH OR OR FROM a TO a CC a"),
        vec![K::Or(
            Box::new(K::Or(
                Box::new(K::From(b"a".to_vec())),
                Box::new(K::To(b"a".to_vec()))
            )),
            Box::new(K::Cc(b"a".to_vec())),
        )]
    );
    assert_eq!(
        keys("a SEARCH (SEEN (FLAGGED 4)) NOT (OR 1 2)"),
        vec![
            K::And(vec![
                K::Seen,
                K::And(vec![K::Flagged, K::SequenceSet(seq(4))])
            ]),
            K::Not(Box::new(K::And(vec![K::Or(
                Box::new(K::SequenceSet(seq(1))),
                Box::new(K::SequenceSet(seq(2))),
            )]))),
        ]
    );
    assert_eq!(
        keys("a SEARCH $"),
        vec![K::SequenceSet(SequenceSet::last_result())]
    );
    assert_eq!(reason("a SEARCH ()"), "empty list");
    assert_eq!(reason("a SEARCH (SEEN"), "expected a space");
    assert_eq!(reason("a SEARCH SEEN)"), "expected a space");
    assert_eq!(reason("a SEARCH OR SEEN"), "expected a space");
}

trait Seq {
    fn seq(self) -> SequenceSet;
}

impl Seq for K {
    fn seq(self) -> SequenceSet {
        match self {
            K::SequenceSet(s) | K::Uid(s) => s,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn charset_return_and_modseq() {
    let s = search("a UID SEARCH CHARSET UTF-8 SUBJECT {4}\r\n\u{fc}\u{df}");
    assert_eq!(s.charset.as_deref(), Some("UTF-8"));
    assert_eq!(s.criteria, vec![K::Subject("üß".as_bytes().to_vec())]);
    let s = search("a UID SEARCH RETURN (MIN MAX COUNT ALL) CHARSET US-ASCII UNDELETED");
    let all = [
        SearchReturn::Min,
        SearchReturn::Max,
        SearchReturn::Count,
        SearchReturn::All,
    ];
    assert_eq!((s.uid, s.returns), (true, Some(all.to_vec())));
    let s = search("a SEARCH RETURN () ALL");
    assert_eq!(s.returns, Some(vec![]));
    let s = search("a SEARCH RETURN (SAVE) FLAGGED");
    assert_eq!(s.returns, Some(vec![SearchReturn::Save]));
    assert_eq!(
        keys("a SEARCH MODSEQ 620162338"),
        vec![K::ModSeq {
            entry: None,
            modseq: 620_162_338
        }]
    );
    assert_eq!(
        keys(r#"a SEARCH MODSEQ "/flags/\\draft" all 620162338"#),
        vec![K::ModSeq {
            entry: Some(("/flags/\\draft".into(), EntryType::All)),
            modseq: 620_162_338,
        }]
    );
    assert_eq!(
        reason(r#"a SEARCH MODSEQ "/flags/\\draft" every 5"#),
        "invalid entry type"
    );
    assert_eq!(
        reason("a SEARCH RETURN (PARTIAL 1:5) ALL"),
        "unknown RETURN option"
    );
}

#[test]
fn nesting_limit() {
    let ok = format!(
        "a SEARCH {}SEEN{}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert!(matches!(body(&ok), B::Search(_)));
    let deep = format!(
        "a SEARCH {}SEEN{}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert_eq!(err(&deep).error, ParseError::TooDeep { command: "SEARCH" });
    let nots = format!("a SEARCH {}SEEN", "NOT ".repeat(10_000));
    assert_eq!(err(&nots).error, ParseError::TooDeep { command: "SEARCH" });
    let ors = format!("a UID SORT (DATE) UTF-8 {}", "OR SEEN ".repeat(10_000));
    assert_eq!(
        err(&ors).error,
        ParseError::TooDeep {
            command: "UID SORT"
        }
    );
}

#[test]
fn sort() {
    let sort = |line: &str| match body(line) {
        B::Sort(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        sort("a UID SORT (REVERSE DATE) UTF-8 ALL"),
        Sort {
            uid: true,
            criteria: vec![SortCriterion {
                reverse: true,
                key: SortKey::Date
            }],
            charset: "UTF-8".into(),
            search: vec![K::All],
        }
    );
    let s = sort(
        "a SORT (ARRIVAL CC FROM SIZE SUBJECT TO DISPLAYFROM REVERSE DISPLAYTO) US-ASCII UNSEEN SINCE 1-Jan-2024",
    );
    assert_eq!(s.criteria.len(), 8);
    assert_eq!(
        s.criteria[7],
        SortCriterion {
            reverse: true,
            key: SortKey::DisplayTo
        }
    );
    assert_eq!(s.search, vec![K::Unseen, K::Since(date!(2024 - 01 - 01))]);
    assert_eq!(reason("a SORT (DATE) ALL"), "expected a space");
    assert_eq!(reason("a SORT () UTF-8 ALL"), "empty list");
    assert_eq!(reason("a SORT (REVERSE) UTF-8 ALL"), "expected a space");
    assert_eq!(reason("a SORT (THREAD) UTF-8 ALL"), "unknown sort key");
}
