//! Selected-state housekeeping (RFC 3501 §6.4.1–6.4.3): CHECK, CLOSE,
//! EXPUNGE; UNSELECT (RFC 3691); UID EXPUNGE (UIDPLUS, RFC 4315 §2.1).
//!
//! EXPUNGE looks at the store's current flags (after a sync), not the
//! view's, so a `\Deleted` another session just cleared is honoured.
//! The EXPUNGE responses come from the view's drain before the tagged
//! OK, like everyone else's expunges.

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use crate::net::Transport;
use crate::protocol::imap::{RespText, SequenceSet};

impl<S: Transport> Session<S> {
    /// CHECK: a sync point.
    pub(super) async fn handle_check(&mut self) -> Result<RespText> {
        self.refresh(true).await?;
        Ok(Self::done("CHECK completed"))
    }

    /// CLOSE: expunge silently (unless read-only), then deselect.
    pub(super) async fn handle_close(&mut self) -> Result<RespText> {
        if let Some(sel) = self.selected()
            && !sel.read_only
        {
            let name = sel.name.clone();
            let uids = self.deleted_uids(None).await?;
            if !uids.is_empty() {
                let address = self.address()?;
                self.services.store.expunge(&address, &name, &uids).await?;
            }
        }
        self.deselect();
        Ok(Self::done("CLOSE completed"))
    }

    /// UNSELECT: deselect without expunging.
    pub(super) fn handle_unselect(&mut self) -> Result<RespText> {
        self.deselect();
        Ok(Self::done("UNSELECT completed"))
    }

    /// EXPUNGE, or UID EXPUNGE with `set`.
    pub(super) async fn handle_expunge(&mut self, set: Option<&SequenceSet>) -> Result<RespText> {
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        if sel.read_only {
            return Err(ImapError::no("Mailbox is read-only"));
        }
        let name = sel.name.clone();
        let uids = self.deleted_uids(set).await?;
        if !uids.is_empty() {
            let address = self.address()?;
            let removed = self.services.store.expunge(&address, &name, &uids).await?;
            if let State::Selected(_, sel) = &mut self.state {
                sel.view.mark_expunged(&removed);
            }
        }
        Ok(Self::done("EXPUNGE completed"))
    }

    /// UIDs of the client-visible messages marked `\Deleted` now
    /// (optionally only those in a UID set).
    async fn deleted_uids(&mut self, set: Option<&SequenceSet>) -> Result<Vec<u32>> {
        self.refresh(true).await?;
        let Some(sel) = self.selected() else {
            return Ok(Vec::new());
        };
        let view = &sel.view;
        let allowed: Option<Vec<u32>> = set.map(|s| {
            view.resolve_uid(s)
                .into_iter()
                .filter_map(|seq| view.get(seq).map(|m| m.uid))
                .collect()
        });
        Ok(view
            .iter()
            .filter(|(_, m)| m.flags.deleted && !m.ghost)
            .map(|(_, m)| m.uid)
            .filter(|u| allowed.as_ref().is_none_or(|a| a.binary_search(u).is_ok()))
            .collect())
    }
}
