//! FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8), with CONDSTORE's MODSEQ
//! item and CHANGEDSINCE modifier (RFC 7162 §3.1.4).
//!
//! Flags, size, dates and UIDs come from the view (the index); a message
//! is read, one at a time, only for ENVELOPE, BODY/BODYSTRUCTURE and
//! body sections. A non-PEEK body item sets `\Seen` first, through the
//! same store path as STORE, and the changed flags ride along in that
//! message's response (§6.4.5).
//!
//! A message expunged by someone else is answered from the view when
//! only index items are asked for; when its body is needed it is left
//! out and FETCH ends `NO [EXPUNGEISSUED]` (RFC 2180 §4.1.2, as Dovecot
//! does), or `OK` for UID FETCH, which never names a vanished UID.

use std::collections::HashSet;

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use crate::net::Transport;
use crate::protocol::imap::{Code, Fetch, FetchAttribute, RespText};
use crate::store::{FlagMode, Flags, StoreError};

/// What a FETCH asks for, once expanded.
pub(super) struct Plan {
    /// The items, in the order of the response.
    pub attrs: Vec<FetchAttribute>,
    /// Some item needs the message itself.
    pub needs_body: bool,
}

fn needs_body(a: &FetchAttribute) -> bool {
    use FetchAttribute as A;
    matches!(
        a,
        A::Envelope
            | A::Body
            | A::BodyStructure
            | A::Rfc822
            | A::Rfc822Header
            | A::Rfc822Text
            | A::BodySection { .. }
    )
}

fn sets_seen(a: &FetchAttribute) -> bool {
    use FetchAttribute as A;
    matches!(
        a,
        A::Rfc822 | A::Rfc822Text | A::BodySection { peek: false, .. }
    )
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_fetch(&mut self, fetch: Fetch) -> Result<RespText> {
        let seqs = self.resolve(fetch.uid, &fetch.set)?;
        let mut attrs = fetch.items.expand();
        if fetch.uid && !attrs.contains(&FetchAttribute::Uid) {
            attrs.insert(0, FetchAttribute::Uid);
        }
        if fetch.changed_since.is_some() || attrs.contains(&FetchAttribute::ModSeq) {
            self.condstore = true;
        }
        let modseq_auto = fetch.changed_since.is_some()
            || (self.condstore && attrs.contains(&FetchAttribute::Flags));
        if modseq_auto && !attrs.contains(&FetchAttribute::ModSeq) {
            attrs.push(FetchAttribute::ModSeq);
        }
        let plan = Plan {
            needs_body: attrs.iter().any(needs_body),
            attrs,
        };
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        let seqs: Vec<u32> = match fetch.changed_since {
            Some(since) => seqs
                .into_iter()
                .filter(|&s| sel.view.get(s).is_some_and(|m| m.modseq > since))
                .collect(),
            None => seqs,
        };
        let seen_now = match !sel.read_only && plan.attrs.iter().any(sets_seen) {
            true => self.mark_seen(&seqs).await?,
            false => HashSet::new(),
        };
        let mut missing = false;
        for seq in seqs {
            let Some(msg) = self.selected().and_then(|s| s.view.get(seq)).cloned() else {
                continue;
            };
            let bytes = match plan.needs_body {
                true if msg.ghost => None,
                true => self.read_message(msg.uid).await?,
                false => Some(Vec::new()),
            };
            let Some(bytes) = bytes else {
                missing = true;
                continue;
            };
            let flags_too = seen_now.contains(&msg.uid);
            self.write_fetch(seq, &msg, &plan, &bytes, flags_too)
                .await?;
        }
        if missing && !fetch.uid {
            return Err(ImapError::no_code(
                Code::ExpungeIssued,
                "Some of the requested messages no longer exist",
            ));
        }
        Ok(Self::done("FETCH completed"))
    }

    /// The message with `uid` in the selected mailbox; `None` if it is
    /// gone.
    async fn read_message(&mut self, uid: u32) -> Result<Option<Vec<u8>>> {
        let name = self
            .selected()
            .map(|s| s.name.clone())
            .ok_or_else(|| ImapError::bad("No mailbox selected"))?;
        let address = self.address()?;
        match self.services.store.read(&address, &name, uid).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets `\Seen` on the messages among `seqs` that lack it; returns
    /// the UIDs whose flags changed.
    async fn mark_seen(&mut self, seqs: &[u32]) -> Result<HashSet<u32>> {
        let Some(sel) = self.selected() else {
            return Ok(HashSet::new());
        };
        let uids: Vec<u32> = seqs
            .iter()
            .filter_map(|&s| sel.view.get(s))
            .filter(|m| !m.ghost && !m.flags.seen)
            .map(|m| m.uid)
            .collect();
        if uids.is_empty() {
            return Ok(HashSet::new());
        }
        let name = sel.name.clone();
        let address = self.address()?;
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        let changes = self
            .services
            .store
            .set_flags(&address, &name, &uids, FlagMode::Add, &seen, None)
            .await?;
        if let State::Selected(_, sel) = &mut self.state {
            sel.view.apply_flags(&changes);
        }
        Ok(changes.iter().map(|c| c.uid).collect())
    }
}
