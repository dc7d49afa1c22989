//! STORE and UID STORE (RFC 3501 §6.4.6), with `.SILENT` and CONDSTORE's
//! UNCHANGEDSINCE / `[MODIFIED]` (RFC 7162 §3.1.3).
//!
//! The change goes through `Store::set_flags` (file renames and index
//! rows under the folder lock); the FETCH responses show each message's
//! flags after the change, including changes other sessions made.

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use super::flags_from_wire;
use crate::net::Transport;
use crate::protocol::imap::{
    Code, Data, FetchData, RespText, Response, SequenceSet, Store, StoreAction,
};
use crate::store::FlagMode;

impl<S: Transport> Session<S> {
    pub(super) async fn handle_store(&mut self, store: Store) -> Result<RespText> {
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        if sel.read_only {
            return Err(ImapError::no("Mailbox is read-only"));
        }
        let flags = flags_from_wire(&store.flags)?;
        let seqs = self.resolve(store.uid, &store.set)?;
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        let targets: Vec<(u32, u32)> = seqs
            .iter()
            .filter_map(|&s| sel.view.get(s).filter(|m| !m.ghost).map(|m| (s, m.uid)))
            .collect();
        let name = sel.name.clone();
        if store.unchanged_since.is_some() {
            self.condstore = true;
        }
        let mode = match store.action {
            StoreAction::Replace => FlagMode::Replace,
            StoreAction::Add => FlagMode::Add,
            StoreAction::Remove => FlagMode::Remove,
        };
        let uids: Vec<u32> = targets.iter().map(|t| t.1).collect();
        let address = self.address()?;
        let changes = self
            .services
            .store
            .set_flags(&address, &name, &uids, mode, &flags, store.unchanged_since)
            .await?;
        let State::Selected(_, sel) = &mut self.state else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        sel.view.apply_flags(&changes);
        if let Some(update) = sel.view.take_keywords() {
            for r in self.update_responses(update) {
                self.push(&r);
            }
        }
        let State::Selected(_, sel) = &mut self.state else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        let mut modified = Vec::new();
        if store.unchanged_since.is_some() {
            for &(seq, uid) in &targets {
                if changes.binary_search_by_key(&uid, |c| c.uid).is_err() {
                    modified.push(if store.uid { uid } else { seq });
                }
            }
        }
        if !store.silent {
            for c in &changes {
                let Some(seq) = sel.view.seq_of_uid(c.uid) else {
                    continue;
                };
                let recent = sel.view.get(seq).is_some_and(|m| m.recent);
                let mut items = vec![FetchData::Flags(super::flags_to_wire(&c.flags, recent))];
                if store.uid {
                    items.push(FetchData::Uid(c.uid));
                }
                if self.condstore {
                    items.push(FetchData::ModSeq(c.modseq));
                }
                response_into(&mut self.out, Data::Fetch { seq, items });
            }
        }
        self.maybe_flush().await?;
        match SequenceSet::from_numbers(modified) {
            Some(set) => Ok(RespText::with_code(
                Code::Modified(set),
                "Conditional STORE failed",
            )),
            None => Ok(Self::done("STORE completed")),
        }
    }

    /// Sequence numbers named by a set: of sequence numbers, or of UIDs.
    ///
    /// # Errors
    /// `BAD` for a sequence number beyond EXISTS, or outside the
    /// selected state.
    pub(super) fn resolve(&self, uid: bool, set: &SequenceSet) -> Result<Vec<u32>> {
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        if set.is_last_result() {
            return Err(ImapError::bad("No saved search result"));
        }
        match uid {
            true => Ok(sel.view.resolve_uid(set)),
            false => sel
                .view
                .resolve_seq(set)
                .map_err(|_| ImapError::bad("Invalid message sequence number")),
        }
    }
}

fn response_into(out: &mut Vec<u8>, data: Data) {
    Response::Data(data).write_to(out);
}
