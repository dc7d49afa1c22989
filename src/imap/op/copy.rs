//! COPY and UID COPY (RFC 3501 §6.4.7), MOVE and UID MOVE (RFC 6851),
//! with COPYUID (UIDPLUS, RFC 4315 §3) and TRYCREATE.
//!
//! MOVE is atomic in the store (rename of the files, rows moved in one
//! transaction). Its COPYUID goes in an untagged OK before the EXPUNGE
//! responses (RFC 6851 §4.3), which the view's drain sends before the
//! tagged OK.

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use super::store_name;
use crate::net::Transport;
use crate::protocol::imap::{Code, Condition, MailboxName, RespText, Response, SequenceSet};

impl<S: Transport> Session<S> {
    pub(super) async fn handle_copy(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        mailbox: &MailboxName,
        moving: bool,
    ) -> Result<RespText> {
        let dest = store_name(mailbox)?;
        let seqs = self.resolve(uid, set)?;
        let Some(sel) = self.selected() else {
            return Err(ImapError::bad("No mailbox selected"));
        };
        if moving && sel.read_only {
            return Err(ImapError::no("Mailbox is read-only"));
        }
        let source = sel.name.clone();
        let uids: Vec<u32> = seqs
            .iter()
            .filter_map(|&s| sel.view.get(s).filter(|m| !m.ghost).map(|m| m.uid))
            .collect();
        let verb = if moving { "MOVE" } else { "COPY" };
        if uids.is_empty() {
            if !uid && !seqs.is_empty() {
                return Err(ImapError::no_code(
                    Code::ExpungeIssued,
                    "Some of the requested messages no longer exist",
                ));
            }
            return Ok(Self::done(format!("No messages; {verb} completed")));
        }
        let address = self.address()?;
        let store = &self.services.store;
        let result = match moving {
            true => store.move_messages(&address, &source, &uids, &dest).await,
            false => store.copy(&address, &source, &uids, &dest).await,
        }
        .map_err(|e| ImapError::from(e).try_create())?;
        if let State::Selected(_, sel) = &mut self.state {
            if moving {
                let moved: Vec<u32> = result.pairs.iter().map(|p| p.0).collect();
                sel.view.mark_expunged(&moved);
            }
            if sel.name == dest {
                sel.dirty = true;
            }
        }
        let from = SequenceSet::from_numbers(result.pairs.iter().map(|p| p.0));
        let to = SequenceSet::from_numbers(result.pairs.iter().map(|p| p.1));
        let code = match (from, to) {
            (Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity: result.uidvalidity,
                source,
                destination,
            }),
            _ => None,
        };
        let text = format!("{verb} completed");
        match (code, moving) {
            (Some(code), true) => {
                self.push(&Response::status(Condition::Ok, Some(code), "Moved UIDs"));
                Ok(Self::done(text))
            }
            (Some(code), false) => Ok(RespText::with_code(code, text)),
            (None, _) => Ok(Self::done(text)),
        }
    }
}
