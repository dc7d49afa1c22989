//! FETCH, STORE, COPY, MOVE and UID EXPUNGE, in the shapes Thunderbird,
//! mbsync, iOS, Outlook and Roundcube send.

use std::num::NonZeroU32;

use super::{body, reason};
use crate::protocol::imap::{
    CommandBody as B, Fetch, FetchAttribute as A, FetchItems, Flag, HeaderName, MailboxName,
    Partial, Section, SectionText, SequenceSet, Store, StoreAction,
};

fn fetch(line: &str) -> Fetch {
    match body(line) {
        B::Fetch(f) => f,
        other => panic!("{line}: {other:?}"),
    }
}

fn set(text: &str) -> SequenceSet {
    match body(&format!("a UID EXPUNGE {text}")) {
        B::UidExpunge(set) => set,
        other => panic!("{other:?}"),
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero")
}

fn section(part: &[u32], text: Option<SectionText>) -> Section {
    Section {
        part: part.iter().map(|&n| nz(n)).collect(),
        text,
    }
}

fn peek(section: Section) -> A {
    A::BodySection {
        peek: true,
        section,
        partial: None,
    }
}

#[test]
fn thunderbird_fetches() {
    let f = fetch("2 UID fetch 1:* (FLAGS)");
    assert!(f.uid);
    assert_eq!(f.set.to_string(), "1:*");
    assert_eq!(f.items, FetchItems::Attributes(vec![A::Flags]));
    let f = fetch(
        "5 UID FETCH 5 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])",
    );
    let FetchItems::Attributes(items) = f.items else {
        panic!("list expected")
    };
    assert_eq!(items[..3], [A::Uid, A::Rfc822Size, A::Flags]);
    let names = "From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To";
    let names = names.split(' ').map(HeaderName::from).collect();
    assert_eq!(
        items[3],
        peek(section(&[], Some(SectionText::HeaderFields(names))))
    );
    let f = fetch("14 UID fetch 5 (UID RFC822.SIZE BODY.PEEK[]<0.20480>)");
    let FetchItems::Attributes(items) = f.items else {
        panic!("list expected")
    };
    assert_eq!(
        items[2],
        A::BodySection {
            peek: true,
            section: Section::default(),
            partial: Some(Partial {
                offset: 0,
                length: nz(20480)
            })
        }
    );
}

#[test]
fn macros_single_items_and_modifiers() {
    assert_eq!(fetch("a FETCH 1:4 ALL").items, FetchItems::All);
    assert_eq!(fetch("a fetch 1 fast").items, FetchItems::Fast);
    assert_eq!(fetch("a FETCH 1 FULL").items, FetchItems::Full);
    assert_eq!(
        FetchItems::Fast.expand(),
        vec![A::Flags, A::InternalDate, A::Rfc822Size]
    );
    assert_eq!(FetchItems::Full.expand().len(), 5);
    assert_eq!(
        fetch("a FETCH 1 body[]").items,
        FetchItems::Attributes(vec![A::BodySection {
            peek: false,
            section: Section::default(),
            partial: None,
        }])
    );
    assert_eq!(
        fetch("a FETCH 2 BODYSTRUCTURE").items,
        FetchItems::Attributes(vec![A::BodyStructure])
    );
    let f = fetch("a UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 5)");
    assert_eq!(f.changed_since, Some(5));
    let f = fetch("a FETCH 1:* (FLAGS MODSEQ) (changedsince 12345678901234)");
    assert_eq!(f.changed_since, Some(12_345_678_901_234));
    let all = "a FETCH 1 (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ)";
    assert_eq!(
        fetch(all).items,
        FetchItems::Attributes(vec![
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
        ])
    );
    assert_eq!(reason("a FETCH 1 (FLAGS) (VANISHED)"), "expected a space");
    assert_eq!(
        reason("a FETCH 1 (FLAGS) (FOO 1)"),
        "unknown or repeated FETCH modifier"
    );
    assert_eq!(
        reason("a FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)"),
        "unknown or repeated FETCH modifier"
    );
    assert_eq!(reason("a FETCH 1 ()"), "empty list");
    assert_eq!(
        reason("a FETCH 1 (FLAGS BINARY[1])"),
        "unknown FETCH attribute"
    );
    assert_eq!(reason("a FETCH 1 BODY.PEEK"), "unknown FETCH attribute");
    assert_eq!(reason("a FETCH 0 FLAGS"), "invalid number in sequence set");
}

#[test]
fn sections() {
    let one = |s: &str| match fetch(&format!("a FETCH 1 BODY.PEEK[{s}]")).items {
        FetchItems::Attributes(items) => match &items[..] {
            [A::BodySection { section, .. }] => section.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(one(""), Section::default());
    assert_eq!(one("HEADER"), section(&[], Some(SectionText::Header)));
    assert_eq!(one("text"), section(&[], Some(SectionText::Text)));
    assert_eq!(one("1.2.3"), section(&[1, 2, 3], None));
    assert_eq!(one("1.MIME"), section(&[1], Some(SectionText::Mime)));
    assert_eq!(one("2.HEADER"), section(&[2], Some(SectionText::Header)));
    assert_eq!(one("4.2.TEXT"), section(&[4, 2], Some(SectionText::Text)));
    assert_eq!(
        one("HEADER.FIELDS.NOT (X-Spam \"Received\")"),
        section(
            &[],
            Some(SectionText::HeaderFieldsNot(vec![
                "X-Spam".into(),
                HeaderName::quoted("Received")
            ]))
        )
    );
    assert_eq!(
        one("1.header.fields (x-tuid)"),
        section(&[1], Some(SectionText::HeaderFields(vec!["x-tuid".into()])))
    );
    for bad in [
        "MIME",
        "0",
        "1.",
        ".1",
        "1..2",
        "HEADER.",
        "FOO",
        "1.FOO",
        "HEADER.FIELDS ()",
    ] {
        let line = format!("a FETCH 1 BODY[{bad}]");
        assert!(
            super::err(&line).error != crate::protocol::imap::ParseError::UnknownCommand,
            "{bad}"
        );
    }
    assert_eq!(reason("a FETCH 1 BODY[HEADER.FIELDS]"), "expected a space");
    assert_eq!(reason("a FETCH 1 BODY[]<0.0>"), "zero is not allowed here");
    assert_eq!(reason("a FETCH 1 BODY[1"), "expected ']' after the section");
}

#[test]
fn store_forms() {
    let store = |line: &str| match body(line) {
        B::Store(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        store("10 UID store 5 +FLAGS (\\Seen)"),
        Store {
            uid: true,
            set: set("5"),
            action: StoreAction::Add,
            silent: false,
            flags: vec![Flag::Seen],
            unchanged_since: None,
        }
    );
    let s = store("a STORE 2:4 -FLAGS.SILENT \\Deleted \\FLAGGED $Junk");
    assert_eq!((s.action, s.silent), (StoreAction::Remove, true));
    let junk = Flag::keyword("$Junk").expect("atom");
    assert_eq!(s.flags, vec![Flag::Deleted, Flag::Flagged, junk]);
    let s = store("a STORE 1 (UNCHANGEDSINCE 320162338) FLAGS.SILENT ()");
    assert_eq!(
        (s.action, s.unchanged_since, s.flags.len()),
        (StoreAction::Replace, Some(320_162_338), 0)
    );
    let s = store("a STORE 1 +FLAGS (\\Recent \\Custom)");
    assert_eq!(s.flags[0], Flag::Recent);
    assert!(matches!(&s.flags[1], Flag::Extension(a) if a.as_str() == "Custom"));
    assert_eq!(
        reason("a STORE 1 FLAGZ (\\Seen)"),
        "expected FLAGS, +FLAGS or -FLAGS"
    );
    assert_eq!(
        reason("a STORE 1 (FOO 1) FLAGS ()"),
        "unknown or repeated STORE modifier"
    );
    assert_eq!(reason("a STORE 1 +FLAGS (\\)"), "invalid flag");
}

#[test]
fn copy_move_expunge() {
    assert_eq!(
        body("12 UID copy 5 \"Trash\""),
        B::Copy {
            uid: true,
            set: set("5"),
            mailbox: MailboxName::new("Trash")
        }
    );
    assert_eq!(
        body("a MOVE 1:3,7 Archive"),
        B::Move {
            uid: false,
            set: set("1:3,7"),
            mailbox: MailboxName::new("Archive")
        }
    );
    assert_eq!(
        body("a uid move 4:2 INBOX"),
        B::Move {
            uid: true,
            set: set("4:2"),
            mailbox: MailboxName::inbox()
        }
    );
    assert_eq!(set("3000:3020,*").to_string(), "3000:3020,*");
    assert_eq!(
        body("a UID EXPUNGE $"),
        B::UidExpunge(SequenceSet::last_result())
    );
    assert_eq!(reason("a COPY 1"), "expected a space");
    assert_eq!(reason("a UID EXPUNGE 1:"), "invalid sequence set");
    assert_eq!(reason("a UID EXPUNGE 1,,2"), "invalid sequence set");
    assert_eq!(
        reason("a UID EXPUNGE 99999999999"),
        "invalid number in sequence set"
    );
}
