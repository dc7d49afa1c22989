//! Telling the client what changed in the selected mailbox (RFC 3501
//! §7.3.1 EXISTS, §7.4.1 EXPUNGE, §7.4.2 unsolicited FETCH; RFC 7162
//! §3.1.4 MODSEQ in them).
//!
//! The store broadcasts an event for every change this process makes;
//! the session drains them between commands and marks its mailbox
//! dirty. Before a tagged response the view is synced with the store
//! when dirty, or when [`SYNC_EVERY`] passed (changes by other processes
//! send no event), new messages are claimed for `\Recent`, and the
//! view's updates are written — EXPUNGE only where the command allows.

use std::time::Instant;

use tokio::sync::broadcast::error::TryRecvError;

use super::error::{ImapError, Result};
use super::session::{SYNC_EVERY, Session, State};
use super::view::Update;
use crate::net::Transport;
use crate::protocol::imap::{Data, FetchData, Response};
use crate::store::StoreError;

impl<S: Transport> Session<S> {
    /// Reads the store events that arrived; marks the selected mailbox
    /// dirty when one concerns it.
    pub(super) fn drain_events(&mut self) {
        let (account, selected) = match &mut self.state {
            State::Selected(a, s) => (a, Some(s)),
            State::Authenticated(a) => (a, None),
            _ => return,
        };
        let mut dirty = false;
        loop {
            match account.events.try_recv() {
                Ok(ev) => {
                    dirty |= selected.as_ref().is_some_and(|s| ev.folder == s.name)
                        || ev.folder.is_empty();
                }
                Err(TryRecvError::Lagged(_)) => dirty = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if let Some(s) = selected {
            s.dirty |= dirty;
        }
    }

    /// Syncs the selected mailbox's view with the store when an event
    /// arrived, the last sync is older than [`SYNC_EVERY`], or `force`.
    /// New messages are claimed for `\Recent` (not by EXAMINE).
    ///
    /// # Errors
    /// [`ImapError::Bye`] when the mailbox was deleted or its UIDVALIDITY
    /// changed; store and database errors.
    pub(super) async fn refresh(&mut self, force: bool) -> Result<()> {
        self.drain_events();
        let State::Selected(account, sel) = &mut self.state else {
            return Ok(());
        };
        if !force && !sel.dirty && sel.synced_at.elapsed() < SYNC_EVERY {
            return Ok(());
        }
        let address = account.user.address.clone();
        let snap = match self.services.store.sync(&address, &sel.name).await {
            Ok(s) => s,
            Err(StoreError::NoSuchFolder(_)) => {
                return Err(ImapError::Bye("Selected mailbox was deleted".into()));
            }
            Err(e) => return Err(e.into()),
        };
        sel.dirty = false;
        sel.synced_at = Instant::now();
        let merged = sel.view.merge(snap);
        if merged.uidvalidity_changed {
            return Err(ImapError::Bye("Mailbox UIDVALIDITY changed".into()));
        }
        if let Some(up_to) = merged.new_up_to
            && !sel.read_only
        {
            let db = &self.services.db;
            let uv = sel.view.uidvalidity();
            let before = super::tables::claim_recent(db, &address, &sel.name, uv, up_to).await?;
            sel.view.mark_recent(before, up_to);
        }
        Ok(())
    }

    /// Tells the client what changed in the selected mailbox; `expunge`:
    /// whether EXPUNGE responses are allowed now.
    pub(super) async fn announce(&mut self, expunge: bool) -> Result<()> {
        self.refresh(false).await?;
        let updates = match &mut self.state {
            State::Selected(_, sel) => sel.view.drain(expunge),
            _ => return Ok(()),
        };
        for update in updates {
            for response in self.update_responses(update) {
                self.send(&response).await?;
            }
        }
        Ok(())
    }

    /// The responses telling one update.
    pub(super) fn update_responses(&self, update: Update) -> Vec<Response> {
        let data = match update {
            Update::Keywords(keywords) => {
                let read_only = self.selected().is_some_and(|s| s.read_only);
                return super::op::flag_responses(keywords.iter(), read_only).to_vec();
            }
            Update::Expunge(n) => Data::Expunge(n),
            Update::Exists(n) => Data::Exists(n),
            Update::Recent(n) => Data::Recent(n),
            Update::Flags {
                seq,
                uid,
                flags,
                recent,
                modseq,
            } => {
                let mut items = vec![
                    FetchData::Uid(uid),
                    FetchData::Flags(super::op::flags_to_wire(&flags, recent)),
                ];
                if self.condstore {
                    items.push(FetchData::ModSeq(modseq));
                }
                Data::Fetch { seq, items }
            }
        };
        vec![Response::Data(data)]
    }
}
