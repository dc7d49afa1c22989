use std::num::NonZeroU32;
use std::time::UNIX_EPOCH;

use super::*;

fn meta(uid: u32, seen: bool) -> MessageMeta {
    MessageMeta {
        uid,
        flags: Flags {
            seen,
            ..Flags::default()
        },
        size: 100,
        internal_date: UNIX_EPOCH,
        modseq: 1,
    }
}

fn snap(uids: &[u32]) -> FolderSnapshot {
    FolderSnapshot {
        uidvalidity: 7,
        uidnext: uids.last().map_or(1, |u| u + 1),
        highest_modseq: 1,
        messages: uids.iter().map(|&u| meta(u, false)).collect(),
    }
}

fn num(n: u32) -> SeqNumber {
    SeqNumber::Value(NonZeroU32::new(n).expect("non-zero"))
}

fn range(a: SeqNumber, b: SeqNumber) -> SequenceSet {
    SequenceSet::new(vec![SeqRange::Range(a, b)]).expect("set")
}

#[test]
fn ghosts_wait_until_expunge_is_allowed() {
    let mut v = MailboxView::new(snap(&[1, 2, 3, 4]));
    v.merge(snap(&[1, 3]));
    // During FETCH/STORE/SEARCH: nothing, numbers unchanged.
    assert_eq!(v.drain(false), vec![]);
    assert_eq!(v.exists(), 4);
    assert_eq!(v.get(4).map(|m| m.uid), Some(4));
    assert!(v.get(2).is_some_and(|m| m.ghost));
    // Allowed: from the top down.
    assert_eq!(v.drain(true), vec![Update::Expunge(4), Update::Expunge(2)]);
    assert_eq!(v.exists(), 2);
    assert_eq!(v.get(2).map(|m| m.uid), Some(3));
}

#[test]
fn new_messages_stay_unannounced_until_exists() {
    let mut v = MailboxView::new(snap(&[1, 2]));
    let m = v.merge(snap(&[1, 2, 5, 6]));
    assert_eq!(m.new_up_to, Some(6));
    assert_eq!(v.exists(), 2);
    assert_eq!(
        v.resolve_seq(&range(num(1), SeqNumber::Largest)),
        Ok(vec![1, 2])
    );
    assert_eq!(
        v.resolve_uid(&range(num(1), SeqNumber::Largest)),
        vec![1, 2]
    );
    assert_eq!(v.resolve_seq(&range(num(1), num(3))), Err(BadSequence));
    v.mark_recent(2, 6);
    assert_eq!(v.drain(false), vec![Update::Exists(4), Update::Recent(2)]);
    assert_eq!(
        v.resolve_uid(&range(num(5), SeqNumber::Largest)),
        vec![3, 4]
    );
}

#[test]
fn exists_after_ghosts_counts_them_until_expunged() {
    let mut v = MailboxView::new(snap(&[1, 2, 3]));
    v.merge(snap(&[1, 3, 4]));
    // New message numbered after the ghost, which the client still has.
    assert_eq!(v.drain(false), vec![Update::Exists(4), Update::Recent(0)]);
    assert_eq!(v.seq_of_uid(4), Some(4));
    assert_eq!(v.drain(true), vec![Update::Expunge(2)]);
    assert_eq!(v.seq_of_uid(4), Some(3));
}

#[test]
fn unannounced_message_that_vanishes_is_never_mentioned() {
    let mut v = MailboxView::new(snap(&[1]));
    v.merge(snap(&[1, 2]));
    v.merge(snap(&[1]));
    assert_eq!(v.drain(true), vec![]);
    assert_eq!(v.exists(), 1);
}

#[test]
fn flag_changes_by_others_are_fetched_once() {
    let mut v = MailboxView::new(snap(&[1, 2]));
    let mut s = snap(&[1, 2]);
    s.messages[1].flags.seen = true;
    s.messages[1].modseq = 9;
    v.merge(s.clone());
    let ups = v.drain(false);
    assert_eq!(ups.len(), 1);
    assert!(
        matches!(&ups[0], Update::Flags { seq: 2, uid: 2, flags, modseq: 9, .. } if flags.seen)
    );
    v.merge(s);
    assert_eq!(v.drain(false), vec![]);
}

#[test]
fn own_store_does_not_echo_as_unsolicited() {
    let mut v = MailboxView::new(snap(&[1, 2, 3]));
    let change = FlagChange {
        uid: 3,
        flags: Flags {
            flagged: true,
            ..Flags::default()
        },
        modseq: 4,
    };
    assert_eq!(v.apply_flags(std::slice::from_ref(&change)), vec![3]);
    let mut s = snap(&[1, 2, 3]);
    s.messages[2].flags = change.flags;
    s.messages[2].modseq = 4;
    v.merge(s);
    assert_eq!(v.drain(true), vec![]);
    assert_eq!(v.highest_modseq(), 1);
}

#[test]
fn sequence_numbers_beyond_exists_are_refused_star_is_clipped() {
    let v = MailboxView::new(snap(&[10, 20, 30]));
    assert_eq!(
        v.resolve_seq(&range(num(2), SeqNumber::Largest)),
        Ok(vec![2, 3])
    );
    assert_eq!(
        v.resolve_seq(&range(SeqNumber::Largest, num(3))),
        Ok(vec![3])
    );
    assert_eq!(v.resolve_seq(&range(num(4), num(4))), Err(BadSequence));
    assert_eq!(
        v.resolve_seq(&range(num(5), SeqNumber::Largest)),
        Ok(vec![3])
    );
    let empty = MailboxView::new(snap(&[]));
    let star = SequenceSet::new(vec![SeqRange::Single(SeqNumber::Largest)]).expect("set");
    assert_eq!(empty.resolve_seq(&star), Ok(vec![]));
    assert_eq!(empty.resolve_uid(&star), Vec::<u32>::new());
    assert_eq!(
        empty.resolve_seq(&range(num(1), SeqNumber::Largest)),
        Ok(vec![])
    );
    assert_eq!(empty.resolve_seq(&range(num(1), num(1))), Err(BadSequence));
}

#[test]
fn uid_sets_ignore_unknown_uids_and_star_means_highest() {
    let v = MailboxView::new(snap(&[10, 20, 30]));
    assert_eq!(v.resolve_uid(&range(num(15), num(25))), vec![2]);
    assert_eq!(v.resolve_uid(&range(num(31), SeqNumber::Largest)), vec![3]);
    assert_eq!(v.resolve_uid(&range(num(40), num(50))), Vec::<u32>::new());
}

#[test]
fn uidvalidity_change_voids_the_view() {
    let mut v = MailboxView::new(snap(&[1]));
    let mut s = snap(&[1]);
    s.uidvalidity = 8;
    assert!(v.merge(s).uidvalidity_changed);
}

#[test]
fn own_expunge_reports_through_drain() {
    let mut v = MailboxView::new(snap(&[1, 2, 3, 4, 5]));
    v.mark_expunged(&[2, 3, 5]);
    assert_eq!(
        v.drain(true),
        vec![Update::Expunge(5), Update::Expunge(3), Update::Expunge(2)]
    );
    assert_eq!(
        v.iter().map(|(s, m)| (s, m.uid)).collect::<Vec<_>>(),
        vec![(1, 1), (2, 4)]
    );
}

#[test]
fn a_new_keyword_is_announced_before_the_fetch_that_uses_it() {
    let mut v = MailboxView::new(snap(&[1, 2]));
    let mut s = snap(&[1, 2]);
    s.messages[0].flags.keywords.insert("$Label1".into());
    v.merge(s.clone());
    let ups = v.drain(false);
    assert_eq!(ups[0], Update::Keywords(vec!["$Label1".into()]));
    assert!(matches!(ups[1], Update::Flags { seq: 1, .. }));
    // Known now: not again.
    let change = FlagChange {
        uid: 2,
        flags: s.messages[0].flags.clone(),
        modseq: 5,
    };
    v.apply_flags(&[change]);
    assert_eq!(v.drain(false), vec![]);
    assert!(v.keywords().contains("$Label1"));
}
