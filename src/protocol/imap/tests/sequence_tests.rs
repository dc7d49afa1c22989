//! Sequence sets, flags, mailbox names and dates as values: resolving,
//! compressing, printing, modified UTF-7 and INBOX handling.

use std::num::NonZeroU32;

use time::macros::{date, datetime};

use crate::protocol::imap::{
    Flag, MailboxName, SeqNumber, SeqRange, SequenceSet, format_date, format_date_time,
};

fn v(n: u32) -> SeqNumber {
    SeqNumber::Value(NonZeroU32::new(n).expect("non-zero"))
}

#[test]
fn resolve_sorts_merges_and_handles_star() {
    let set = SequenceSet::new(vec![
        SeqRange::Range(v(9), v(7)),
        SeqRange::Single(v(1)),
        SeqRange::Range(v(2), v(3)),
        SeqRange::Single(SeqNumber::Largest),
        SeqRange::Range(v(8), v(12)),
    ])
    .expect("non-empty");
    assert_eq!(set.to_string(), "9:7,1,2:3,*,8:12");
    assert_eq!(set.resolve(20), vec![1..=3, 7..=12, 20..=20]);
    assert!(set.contains(8, 20) && set.contains(20, 20) && !set.contains(5, 20));
    let tail = SequenceSet::new(vec![SeqRange::Range(v(5), SeqNumber::Largest)]).expect("set");
    assert_eq!(tail.resolve(3), vec![3..=5]);
    assert_eq!(tail.resolve(0), vec![0..=5]);
    assert!(SequenceSet::last_result().resolve(10).is_empty());
    assert!(SequenceSet::last_result().is_last_result());
    assert_eq!(SequenceSet::last_result().to_string(), "$");
    assert_eq!(SequenceSet::new(vec![]), None);
    assert_eq!(SequenceSet::single(0), None);
    let max = SequenceSet::new(vec![SeqRange::Range(v(u32::MAX - 1), v(u32::MAX))]).expect("set");
    assert_eq!(max.resolve(1), vec![u32::MAX - 1..=u32::MAX]);
}

#[test]
fn from_numbers_compresses_runs_in_order() {
    let set = SequenceSet::from_numbers([1, 2, 3, 5, 7, 8, 4, 0, u32::MAX]).expect("set");
    assert_eq!(set.to_string(), "1:3,5,7:8,4,4294967295");
    assert_eq!(SequenceSet::from_numbers([]), None);
    assert_eq!(SequenceSet::from_numbers([0]), None);
    assert_eq!(
        SequenceSet::from_numbers([42])
            .map(|s| s.to_string())
            .as_deref(),
        Some("42")
    );
}

#[test]
fn flags_parse_case_insensitively_and_print() {
    assert_eq!(Flag::parse("\\SEEN"), Some(Flag::Seen));
    assert_eq!(Flag::parse("\\answered"), Some(Flag::Answered));
    assert_eq!(Flag::parse("\\Recent"), Some(Flag::Recent));
    assert_eq!(Flag::parse("\\"), None);
    assert_eq!(Flag::parse("a b"), None);
    assert_eq!(
        Flag::parse("$Forwarded").map(|f| f.to_string()).as_deref(),
        Some("$Forwarded")
    );
    assert_eq!(
        Flag::parse("\\X-Custom").map(|f| f.to_string()).as_deref(),
        Some("\\X-Custom")
    );
    assert_eq!(Flag::Draft.to_string(), "\\Draft");
    assert!(Flag::Seen.is_system() && !Flag::parse("NonJunk").is_some_and(|f| f.is_system()));
}

#[test]
fn mailbox_names() {
    assert!(MailboxName::new("inbox").is_inbox());
    assert!(MailboxName::from_wire(b"InBox").is_inbox());
    assert!(!MailboxName::new("INBOX/Sub").is_inbox());
    assert_eq!(MailboxName::inbox().as_str(), Some("INBOX"));
    for name in [
        "Entwürfe",
        "日本語/メール",
        "a&b",
        "&",
        "😀 Emoji",
        "",
        "Tab\tName",
        "~peter/mail/台北",
    ] {
        let m = MailboxName::new(name);
        assert_eq!(MailboxName::from_wire(&m.to_wire()), m, "{name}");
        assert_eq!(m.as_str(), Some(name));
        assert!(
            m.to_wire()
                .iter()
                .all(|b| (0x20..0x7f).contains(b) || *b == b'\t')
        );
    }
    assert_eq!(MailboxName::new("Entwürfe").to_wire(), b"Entw&APw-rfe");
    let bad = MailboxName::from_wire(b"&Jjo!");
    assert!(!bad.is_valid());
    assert_eq!(bad.to_wire(), b"&Jjo!");
    assert_eq!(bad.to_string(), "&Jjo!");
    assert!(!MailboxName::from_wire(b"\xff").is_valid());
}

#[test]
fn dates_print_in_imap_form() {
    assert_eq!(format_date(date!(1994 - 02 - 01)), "1-Feb-1994");
    assert_eq!(format_date(date!(2024 - 12 - 31)), "31-Dec-2024");
    assert_eq!(
        format_date_time(datetime!(1996-07-17 02:44:25 -7)),
        "17-Jul-1996 02:44:25 -0700"
    );
    assert_eq!(
        format_date_time(datetime!(2024-01-05 23:00:00 +5:30)),
        "05-Jan-2024 23:00:00 +0530"
    );
    assert_eq!(
        format_date_time(datetime!(2024-01-05 23:00:00 -0:30)),
        "05-Jan-2024 23:00:00 -0030"
    );
}
