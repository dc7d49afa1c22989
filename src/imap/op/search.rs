//! SEARCH and UID SEARCH (RFC 3501 §6.4.4: every search key; CHARSET
//! US-ASCII and UTF-8), ESEARCH results (RFC 4731 §3.1: MIN, MAX, COUNT,
//! ALL) and CONDSTORE's MODSEQ key (RFC 7162 §3.1.5).
//!
//! Flags, sizes, dates and sequence/UID sets come from the view. Header,
//! body and sent-date keys read each candidate message once (one at a
//! time) and compare decoded text (RFC 2047 words, transfer encodings,
//! charsets; through [`super::super::mime`]) case-insensitively. Ghosts
//! of expunged messages never match.

use time::{Date, OffsetDateTime};

use super::super::error::{ImapError, Result};
use super::super::mime;
use super::super::session::Session;
use super::super::view::Msg;
use crate::net::Transport;
use crate::protocol::imap::{
    Code, Data, ESearchItem, RespText, Response, Search, SearchKey, SearchReturn, SequenceSet, Tag,
};

/// A match: sequence number, UID, mod-sequence.
pub(super) type Hit = (u32, u32, u64);

/// Refuses charsets other than UTF-8 and its subset US-ASCII.
pub(super) fn check_charset(charset: Option<&str>) -> Result<()> {
    match charset {
        None => Ok(()),
        Some(c) if c.eq_ignore_ascii_case("UTF-8") || c.eq_ignore_ascii_case("US-ASCII") => Ok(()),
        Some(_) => Err(ImapError::no_code(
            Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]),
            "Unsupported charset",
        )),
    }
}

fn needs_content(key: &SearchKey) -> bool {
    use SearchKey as K;
    match key {
        K::Bcc(_) | K::Body(_) | K::Cc(_) | K::From(_) | K::Subject(_) | K::Text(_) | K::To(_) => {
            true
        }
        K::Header(..) | K::SentBefore(_) | K::SentOn(_) | K::SentSince(_) => true,
        K::Not(k) => needs_content(k),
        K::Or(a, b) => needs_content(a) || needs_content(b),
        K::And(keys) => keys.iter().any(needs_content),
        _ => false,
    }
}

fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq { .. } => true,
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}

fn uses_saved(key: &SearchKey) -> bool {
    match key {
        SearchKey::Uid(s) | SearchKey::SequenceSet(s) => s.is_last_result(),
        SearchKey::Not(k) => uses_saved(k),
        SearchKey::Or(a, b) => uses_saved(a) || uses_saved(b),
        SearchKey::And(keys) => keys.iter().any(uses_saved),
        _ => false,
    }
}

/// Seconds since the epoch (0 before it).
pub(super) fn unix_secs(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Case-insensitive substring test of decoded text.
fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.to_lowercase().contains(needle)
}

/// What one message is matched against.
struct Candidate<'a> {
    seq: u32,
    msg: &'a Msg,
    bytes: &'a [u8],
    exists: u32,
    last_uid: u32,
}

impl Candidate<'_> {
    fn header_has(&self, name: &str, needle: &[u8]) -> bool {
        let needle = String::from_utf8_lossy(needle).to_lowercase();
        let values = mime::header_values(self.bytes, name);
        match needle.is_empty() {
            true => !values.is_empty(),
            false => values.iter().any(|v| contains(v, &needle)),
        }
    }

    fn body_has(&self, needle: &[u8]) -> bool {
        let needle = String::from_utf8_lossy(needle).to_lowercase();
        mime::body_text(self.bytes)
            .iter()
            .any(|t| contains(t, &needle))
    }

    fn internal_day(&self) -> Date {
        OffsetDateTime::from(self.msg.internal_date).date()
    }

    fn sent_day(&self) -> Date {
        let fallback = unix_secs(self.msg.internal_date);
        let secs = mime::sort_date(self.bytes, fallback);
        OffsetDateTime::from_unix_timestamp(secs)
            .map(|t| t.date())
            .unwrap_or_else(|_| self.internal_day())
    }

    fn matches(&self, key: &SearchKey) -> bool {
        use SearchKey as K;
        let f = &self.msg.flags;
        match key {
            K::All => true,
            K::Answered => f.answered,
            K::Deleted => f.deleted,
            K::Draft => f.draft,
            K::Flagged => f.flagged,
            K::Seen => f.seen,
            K::New => self.msg.recent && !f.seen,
            K::Old => !self.msg.recent,
            K::Recent => self.msg.recent,
            K::Unanswered => !f.answered,
            K::Undeleted => !f.deleted,
            K::Undraft => !f.draft,
            K::Unflagged => !f.flagged,
            K::Unseen => !f.seen,
            K::Keyword(k) => f
                .keywords
                .iter()
                .any(|x| x.eq_ignore_ascii_case(k.as_str())),
            K::Unkeyword(k) => !f
                .keywords
                .iter()
                .any(|x| x.eq_ignore_ascii_case(k.as_str())),
            K::Larger(n) => self.msg.size > *n,
            K::Smaller(n) => self.msg.size < *n,
            K::Before(d) => self.internal_day() < *d,
            K::On(d) => self.internal_day() == *d,
            K::Since(d) => self.internal_day() >= *d,
            K::SentBefore(d) => self.sent_day() < *d,
            K::SentOn(d) => self.sent_day() == *d,
            K::SentSince(d) => self.sent_day() >= *d,
            K::Uid(set) => set.contains(self.msg.uid, self.last_uid),
            K::SequenceSet(set) => set.contains(self.seq, self.exists),
            K::ModSeq { modseq, .. } => self.msg.modseq >= *modseq,
            K::Bcc(s) => self.header_has("bcc", s),
            K::Cc(s) => self.header_has("cc", s),
            K::From(s) => self.header_has("from", s),
            K::To(s) => self.header_has("to", s),
            K::Subject(s) => self.header_has("subject", s),
            K::Header(name, s) => self.header_has(name, s),
            K::Body(s) => self.body_has(s),
            K::Text(s) => {
                let needle = String::from_utf8_lossy(s).to_lowercase();
                contains(&mime::header_text(self.bytes), &needle) || self.body_has(s)
            }
            K::Not(k) => !self.matches(k),
            K::Or(a, b) => self.matches(a) || self.matches(b),
            K::And(keys) => keys.iter().all(|k| self.matches(k)),
        }
    }
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_search(&mut self, tag: &Tag, search: Search) -> Result<RespText> {
        check_charset(search.charset.as_deref())?;
        if search
            .returns
            .as_ref()
            .is_some_and(|r| r.contains(&SearchReturn::Save))
        {
            return Err(ImapError::bad("SEARCHRES is not supported"));
        }
        let hits = self.run_search(&search.criteria).await?;
        let modseq = match search.criteria.iter().any(uses_modseq) {
            true => {
                self.condstore = true;
                hits.iter().map(|h| h.2).max()
            }
            false => None,
        };
        let numbers: Vec<u32> = hits
            .iter()
            .map(|h| if search.uid { h.1 } else { h.0 })
            .collect();
        let data = match search.returns {
            None => Data::Search { numbers, modseq },
            Some(returns) => esearch(tag, search.uid, &returns, numbers, modseq),
        };
        self.push(&Response::Data(data));
        Ok(Self::done("SEARCH completed"))
    }

    /// The messages matching every key, in sequence order.
    pub(super) async fn run_search(&mut self, criteria: &[SearchKey]) -> Result<Vec<Hit>> {
        if criteria.iter().any(uses_saved) {
            return Err(ImapError::bad("No saved search result"));
        }
        let content = criteria.iter().any(needs_content);
        let (name, msgs, exists) = match self.selected() {
            Some(sel) => {
                let msgs: Vec<(u32, Msg)> = sel
                    .view
                    .iter()
                    .filter(|(_, m)| !m.ghost)
                    .map(|(s, m)| (s, m.clone()))
                    .collect();
                (sel.name.clone(), msgs, sel.view.exists())
            }
            None => return Err(ImapError::bad("No mailbox selected")),
        };
        let last_uid = msgs.last().map_or(0, |(_, m)| m.uid);
        let address = self.address()?;
        let mut hits = Vec::new();
        for (seq, msg) in &msgs {
            let bytes = match content {
                true => match self.services.store.read(&address, &name, msg.uid).await {
                    Ok(b) => b,
                    Err(crate::store::StoreError::NotFound) => continue,
                    Err(e) => return Err(e.into()),
                },
                false => Vec::new(),
            };
            let c = Candidate {
                seq: *seq,
                msg,
                bytes: &bytes,
                exists,
                last_uid,
            };
            if criteria.iter().all(|k| c.matches(k)) {
                hits.push((*seq, msg.uid, msg.modseq));
            }
        }
        Ok(hits)
    }
}

/// The ESEARCH response (RFC 4731 §3.1): `RETURN ()` means ALL.
fn esearch(
    tag: &Tag,
    uid: bool,
    returns: &[SearchReturn],
    numbers: Vec<u32>,
    modseq: Option<u64>,
) -> Data {
    let all = returns.is_empty() || returns.contains(&SearchReturn::All);
    let mut items = Vec::new();
    if returns.contains(&SearchReturn::Min)
        && let Some(&n) = numbers.first()
    {
        items.push(ESearchItem::Min(n));
    }
    if returns.contains(&SearchReturn::Max)
        && let Some(&n) = numbers.last()
    {
        items.push(ESearchItem::Max(n));
    }
    if returns.contains(&SearchReturn::Count) {
        items.push(ESearchItem::Count(
            u32::try_from(numbers.len()).unwrap_or(u32::MAX),
        ));
    }
    let any = !numbers.is_empty();
    if all && let Some(set) = SequenceSet::from_numbers(numbers) {
        items.push(ESearchItem::All(set));
    }
    if let Some(m) = modseq.filter(|_| any) {
        items.push(ESearchItem::ModSeq(m));
    }
    Data::ESearch {
        tag: Some(tag.clone()),
        uid,
        items,
    }
}
