//! The selected mailbox as one session's client knows it (RFC 3501 §2.3.1.2
//! sequence numbers, §7.4.1 EXPUNGE rules, §2.3.2 `\Recent`).
//!
//! Owns: the mapping between message sequence numbers and UIDs, the flags
//! last told to the client, and what is still to be told: messages that
//! arrived (`EXISTS`), vanished (`EXPUNGE`) or changed flags (`FETCH`),
//! whoever caused it — this session, another IMAP or POP3 session, an SMTP
//! delivery, another process.
//!
//! A message removed from the store stays in the view as a *ghost*, with
//! its sequence number, until the session may say `EXPUNGE`: never while
//! answering FETCH, STORE or SEARCH (RFC 3501 §7.4.1), so the numbers the
//! client uses in a pipeline keep meaning what it thinks. Messages that
//! arrived are kept *unannounced* until `EXISTS` is sent, and sequence
//! sets only reach announced ones.
//!
//! Must not: talk to the store or the wire. The session feeds it
//! [`FolderSnapshot`]s and turns its [`Update`]s into responses.

use std::collections::BTreeSet;
use std::time::SystemTime;

use crate::protocol::imap::{SeqNumber, SeqRange, SequenceSet};
use crate::store::{FlagChange, Flags, FolderSnapshot, MessageMeta};

/// One message of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// The UID.
    pub uid: u32,
    /// Flags as last told to the client (or about to be, see `dirty`).
    pub flags: Flags,
    /// RFC822.SIZE.
    pub size: u64,
    /// INTERNALDATE.
    pub internal_date: SystemTime,
    /// CONDSTORE mod-sequence.
    pub modseq: u64,
    /// `\Recent` in this session.
    pub recent: bool,
    /// Removed from the store; `EXPUNGE` not sent yet.
    pub ghost: bool,
    /// Flags changed by someone else; `FETCH` not sent yet.
    dirty: bool,
}

impl Msg {
    fn from_meta(m: MessageMeta) -> Msg {
        Msg {
            uid: m.uid,
            flags: m.flags,
            size: m.size,
            internal_date: m.internal_date,
            modseq: m.modseq,
            recent: false,
            ghost: false,
            dirty: false,
        }
    }
}

/// Something the client must be told, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]`: a keyword came
    /// into use (RFC 3501 §7.2.6); these are all the keywords in use.
    Keywords(Vec<String>),
    /// `* n EXPUNGE`.
    Expunge(u32),
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n RECENT`.
    Recent(u32),
    /// `* seq FETCH (FLAGS … UID … [MODSEQ …])`.
    Flags {
        /// Sequence number.
        seq: u32,
        /// The message's UID.
        uid: u32,
        /// Its flags.
        flags: Flags,
        /// Whether it is `\Recent` here.
        recent: bool,
        /// Its mod-sequence.
        modseq: u64,
    },
}

/// A sequence set named a message the client cannot know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid message sequence number")]
pub struct BadSequence;

/// How a snapshot changed the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Merged {
    /// The highest UID that arrived, if any did.
    pub new_up_to: Option<u32>,
    /// The UIDVALIDITY is not the one selected: the view is void.
    pub uidvalidity_changed: bool,
}

/// The selected mailbox of one session.
#[derive(Debug, Clone)]
pub struct MailboxView {
    uidvalidity: u32,
    uidnext: u32,
    highest_modseq: u64,
    msgs: Vec<Msg>,
    announced: usize,
    /// Keywords told in the last FLAGS response.
    keywords: BTreeSet<String>,
    /// A message carries a keyword not in `keywords`.
    new_keyword: bool,
}

impl MailboxView {
    /// A view of `snap`, every message announced (SELECT sends `EXISTS`).
    pub fn new(snap: FolderSnapshot) -> MailboxView {
        let msgs: Vec<Msg> = snap.messages.into_iter().map(Msg::from_meta).collect();
        let keywords = msgs
            .iter()
            .flat_map(|m| m.flags.keywords.iter().cloned())
            .collect();
        MailboxView {
            uidvalidity: snap.uidvalidity,
            uidnext: snap.uidnext,
            highest_modseq: snap.highest_modseq,
            announced: msgs.len(),
            msgs,
            keywords,
            new_keyword: false,
        }
    }

    /// The keywords in use, as SELECT's FLAGS response lists them.
    pub fn keywords(&self) -> &BTreeSet<String> {
        &self.keywords
    }

    fn note_keywords(&mut self, flags: &Flags) {
        if !flags.keywords.is_subset(&self.keywords) {
            self.new_keyword = true;
        }
    }

    /// UIDVALIDITY of the selected mailbox.
    pub fn uidvalidity(&self) -> u32 {
        self.uidvalidity
    }

    /// UIDNEXT as of the last snapshot.
    pub fn uidnext(&self) -> u32 {
        self.uidnext
    }

    /// HIGHESTMODSEQ as of the last snapshot.
    pub fn highest_modseq(&self) -> u64 {
        self.highest_modseq
    }

    /// The number of messages the client knows (its `EXISTS`).
    pub fn exists(&self) -> u32 {
        u32::try_from(self.announced).unwrap_or(u32::MAX)
    }

    /// Messages `\Recent` in this session.
    pub fn recent_count(&self) -> u32 {
        let n = self.msgs.iter().filter(|m| m.recent && !m.ghost).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The message with sequence number `seq` (1-based), ghosts included.
    pub fn get(&self, seq: u32) -> Option<&Msg> {
        let i = usize::try_from(seq).ok()?.checked_sub(1)?;
        self.msgs[..self.announced].get(i)
    }

    /// The announced messages in sequence order, with their numbers.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Msg)> {
        self.msgs[..self.announced]
            .iter()
            .enumerate()
            .map(|(i, m)| (seq_of(i), m))
    }

    /// The sequence number of `uid`, if announced.
    pub fn seq_of_uid(&self, uid: u32) -> Option<u32> {
        let known = &self.msgs[..self.announced];
        known.binary_search_by_key(&uid, |m| m.uid).ok().map(seq_of)
    }

    /// Marks the messages with UIDs in `above+1..=up_to` as `\Recent`:
    /// this session claimed them in the `\Recent` bookkeeping.
    pub fn mark_recent(&mut self, above: u32, up_to: u32) {
        for m in &mut self.msgs {
            if m.uid > above && m.uid <= up_to {
                m.recent = true;
            }
        }
    }

    /// Sequence numbers named by a set of sequence numbers, ascending.
    /// `*` is the last announced message. A number beyond it is an error
    /// (RFC 3501 §9 `seq-number`) unless it is one end of a range whose
    /// other end is `*` (`1:*` in an empty mailbox names nothing, as
    /// clients expect).
    ///
    /// # Errors
    /// [`BadSequence`] for a number the client cannot know.
    pub fn resolve_seq(&self, set: &SequenceSet) -> Result<Vec<u32>, BadSequence> {
        let largest = self.exists();
        let beyond = |n: SeqNumber| matches!(n, SeqNumber::Value(v) if v.get() > largest);
        for r in set.ranges() {
            let bad = match *r {
                SeqRange::Single(a) => beyond(a),
                SeqRange::Range(a, b) => {
                    let star = a == SeqNumber::Largest || b == SeqNumber::Largest;
                    !star && (beyond(a) || beyond(b))
                }
            };
            if bad {
                return Err(BadSequence);
            }
        }
        Ok(set
            .resolve(largest)
            .into_iter()
            .flat_map(|r| r.filter(|&n| n >= 1 && n <= largest))
            .collect())
    }

    /// Sequence numbers of the announced messages whose UIDs are in a UID
    /// set, ascending. Unknown UIDs are ignored (RFC 3501 §6.4.8); `*` is
    /// the highest announced UID.
    pub fn resolve_uid(&self, set: &SequenceSet) -> Vec<u32> {
        let known = &self.msgs[..self.announced];
        let Some(last) = known.last() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for range in set.resolve(last.uid) {
            let start = known.partition_point(|m| m.uid < *range.start());
            let end = known.partition_point(|m| m.uid <= *range.end());
            out.extend((start..end).map(seq_of));
        }
        out
    }

    /// Brings the view in step with the store: vanished messages become
    /// ghosts, changed flags are queued, new messages are appended
    /// unannounced.
    pub fn merge(&mut self, snap: FolderSnapshot) -> Merged {
        if snap.uidvalidity != self.uidvalidity {
            return Merged {
                new_up_to: None,
                uidvalidity_changed: true,
            };
        }
        self.uidnext = snap.uidnext;
        self.highest_modseq = snap.highest_modseq;
        let last_known = self.msgs.last().map_or(0, |m| m.uid);
        let mut incoming = snap.messages.into_iter().peekable();
        for m in &mut self.msgs {
            while incoming.peek().is_some_and(|x| x.uid < m.uid) {
                // A UID below one we know that we never saw: UIDs only
                // grow, so this cannot happen; skip it rather than
                // renumber what the client knows.
                incoming.next();
            }
            match incoming.next_if(|x| x.uid == m.uid) {
                Some(x) => {
                    if !m.ghost && (x.flags != m.flags || x.modseq != m.modseq) {
                        m.dirty |= x.flags != m.flags;
                        self.new_keyword |= !x.flags.keywords.is_subset(&self.keywords);
                        m.flags = x.flags;
                        m.modseq = x.modseq;
                    }
                }
                None => m.ghost = true,
            }
        }
        // Unannounced messages that vanished again are simply forgotten.
        let announced = self.announced;
        let mut i = 0;
        self.msgs.retain(|m| {
            i += 1;
            i <= announced || !m.ghost
        });
        let mut new_up_to = None;
        for x in incoming.filter(|x| x.uid > last_known) {
            new_up_to = Some(x.uid);
            self.note_keywords(&x.flags);
            self.msgs.push(Msg::from_meta(x));
        }
        Merged {
            new_up_to,
            uidvalidity_changed: false,
        }
    }

    /// Records flags this session changed (STORE); returns the sequence
    /// numbers of the messages concerned, for the FETCH responses.
    pub fn apply_flags(&mut self, changes: &[FlagChange]) -> Vec<u32> {
        let mut seqs = Vec::with_capacity(changes.len());
        for c in changes {
            self.note_keywords(&c.flags);
            if let Ok(i) = self.msgs.binary_search_by_key(&c.uid, |m| m.uid) {
                let m = &mut self.msgs[i];
                m.flags = c.flags.clone();
                m.modseq = c.modseq;
                m.dirty = false;
                self.highest_modseq = self.highest_modseq.max(c.modseq);
                if i < self.announced {
                    seqs.push(seq_of(i));
                }
            }
        }
        seqs
    }

    /// Marks messages this session removed (EXPUNGE, MOVE) as ghosts, so
    /// the next [`Self::drain`] that allows it reports them.
    pub fn mark_expunged(&mut self, uids: &[u32]) {
        for uid in uids {
            if let Ok(i) = self.msgs.binary_search_by_key(uid, |m| m.uid) {
                self.msgs[i].ghost = true;
            }
        }
    }

    /// Whether a message the client may name is a ghost.
    pub fn has_ghosts(&self) -> bool {
        self.msgs[..self.announced].iter().any(|m| m.ghost)
    }

    /// The FLAGS update due when a keyword came into use, if one is.
    pub fn take_keywords(&mut self) -> Option<Update> {
        if !std::mem::take(&mut self.new_keyword) {
            return None;
        }
        for m in &self.msgs {
            self.keywords.extend(m.flags.keywords.iter().cloned());
        }
        Some(Update::Keywords(self.keywords.iter().cloned().collect()))
    }

    /// Takes what the client must be told now. `expunge`: whether
    /// `EXPUNGE` responses are allowed at this point. Expunges are
    /// reported from the highest sequence number down, so no number
    /// shifts under the client while it reads them.
    pub fn drain(&mut self, expunge: bool) -> Vec<Update> {
        let mut out = Vec::new();
        if let Some(k) = self.take_keywords() {
            out.push(k);
        }
        if expunge {
            for i in (0..self.announced).rev() {
                if self.msgs[i].ghost {
                    self.msgs.remove(i);
                    self.announced -= 1;
                    out.push(Update::Expunge(seq_of(i)));
                }
            }
        }
        if self.msgs.len() > self.announced {
            self.announced = self.msgs.len();
            out.push(Update::Exists(self.exists()));
            out.push(Update::Recent(self.recent_count()));
        }
        for (i, m) in self.msgs.iter_mut().enumerate() {
            if m.dirty && !m.ghost {
                m.dirty = false;
                out.push(Update::Flags {
                    seq: seq_of(i),
                    uid: m.uid,
                    flags: m.flags.clone(),
                    recent: m.recent,
                    modseq: m.modseq,
                });
            }
        }
        out
    }
}

fn seq_of(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
